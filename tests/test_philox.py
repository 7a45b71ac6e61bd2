"""Philox4x32-10: Random123's known answers, the stream's bookkeeping, its distributions."""
import hashlib

import numpy as np
import pytest
from scipy import stats

import minigrad
from minigrad import backend
from minigrad.philox import Philox, philox4x32

# Random123 tests/kat_vectors, the "philox4x32 10" lines: counter (c0..c3), key (k0, k1) -> output.
KAT = [
    ((0x00000000, 0x00000000, 0x00000000, 0x00000000), (0x00000000, 0x00000000),
     (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
    ((0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff), (0xffffffff, 0xffffffff),
     (0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
    ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0),
     (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1)),
]


def u32(words):
    return np.array(words, dtype=np.uint32)


def on_cpu(array):
    return backend.to_device(array, "cpu")


@pytest.mark.parametrize("counter,key,expected", KAT)
def test_known_answers(counter, key, expected, device):
    xp = backend.xp_for(device)
    out = philox4x32(xp.asarray(u32(counter)), xp.asarray(u32(key)))
    np.testing.assert_array_equal(on_cpu(out), u32(expected))


def test_known_answers_batched():
    counters = u32([[0, 0, 0, 0], [0xffffffff] * 4, [1, 2, 3, 4]])
    out = philox4x32(counters, u32([0, 0]))
    for row, counter in zip(out, counters):
        np.testing.assert_array_equal(row, philox4x32(counter, u32([0, 0])))
    np.testing.assert_array_equal(out[0], u32(KAT[0][2]))


def test_philox4x32_rejects_bad_input():
    with pytest.raises(TypeError, match="philox4x32: expected uint32 counter"):
        philox4x32(np.zeros(4, np.int64), u32([0, 0]))
    with pytest.raises(TypeError, match=r"key uint32 \(3,\)"):
        philox4x32(u32([0, 0, 0, 0]), u32([0, 0, 0]))


@pytest.mark.parametrize("counter,key,expected", KAT)
def test_generator_draws_the_known_answer_blocks(counter, key, expected, device):
    """A generator at (counter, key) uses that block first: float32 is word >> 8 over 2^24,
    float64 takes the top 27 and 26 bits of a word pair."""
    gen = Philox(0, device)
    gen.load_state_dict({"key": u32(key), "counter": u32(counter)})
    got32 = on_cpu(gen.random(4, dtype=np.float32))
    np.testing.assert_array_equal(got32 * 2.0**24, (u32(expected) >> 8).astype(np.float64))
    gen.load_state_dict({"key": u32(key), "counter": u32(counter)})
    got64 = on_cpu(gen.random(2, dtype=np.float64))
    w = u32(expected).astype(np.float64)
    want = (np.floor(w[0::2] / 32) * 2.0**26 + np.floor(w[1::2] / 64)) * 2.0**-53
    np.testing.assert_array_equal(got64, want)


def test_seed_is_the_key_and_counter_starts_at_zero():
    gen = Philox(0x299f31d0_a4093822)
    state = gen.state_dict()
    np.testing.assert_array_equal(state["key"], u32([0xa4093822, 0x299f31d0]))
    np.testing.assert_array_equal(state["counter"], u32([0, 0, 0, 0]))
    first = gen.random(4, dtype=np.float32) * 2.0**24
    np.testing.assert_array_equal(first, philox4x32(u32([0, 0, 0, 0]), state["key"]) >> 8)


def test_counter_advances_by_blocks_with_carry():
    gen = Philox(5)
    gen.random(10, dtype=np.float32)  # 10 words: 3 blocks
    np.testing.assert_array_equal(gen.state_dict()["counter"], u32([3, 0, 0, 0]))
    gen.random(3, dtype=np.float64)  # 6 words: 2 blocks
    np.testing.assert_array_equal(gen.state_dict()["counter"], u32([5, 0, 0, 0]))
    gen.standard_normal(5, dtype=np.float32)  # 3 pairs, 6 uniforms: 2 blocks
    np.testing.assert_array_equal(gen.state_dict()["counter"], u32([7, 0, 0, 0]))

    key = gen.state_dict()["key"]
    gen.load_state_dict({"key": key, "counter": u32([0xffffffff, 0xffffffff, 7, 0])})
    got = gen.random(8, dtype=np.float32) * 2.0**24  # blocks 2^64 - 1 and 2^64: the carry reaches c2
    want = np.concatenate([philox4x32(u32([0xffffffff, 0xffffffff, 7, 0]), key),
                           philox4x32(u32([0, 0, 8, 0]), key)]) >> 8
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(gen.state_dict()["counter"], u32([1, 0, 8, 0]))

    gen.load_state_dict({"key": key, "counter": u32([0xffffffff] * 4)})
    gen.random(4, dtype=np.float32)  # the 128-bit counter wraps to zero
    np.testing.assert_array_equal(gen.state_dict()["counter"], u32([0, 0, 0, 0]))


def test_reproducible_and_successive_draws_differ(device):
    a, b = Philox(42, device), Philox(42, device)
    first, second = on_cpu(a.random((3, 5))), on_cpu(a.random((3, 5)))
    np.testing.assert_array_equal(first, on_cpu(b.random((3, 5))))
    np.testing.assert_array_equal(second, on_cpu(b.random((3, 5))))
    assert not np.any(first == second)
    assert not np.any(on_cpu(Philox(43, device).random((3, 5))) == first)
    n1, n2 = on_cpu(a.standard_normal(6, np.float32)), on_cpu(a.standard_normal(6, np.float32))
    assert not np.any(n1 == n2)
    a.manual_seed(42)
    np.testing.assert_array_equal(on_cpu(a.random((3, 5))), first)


def test_draws_split_on_block_boundaries_concatenate():
    whole = Philox(9).random(16, dtype=np.float32)
    parts = Philox(9)
    np.testing.assert_array_equal(np.concatenate([parts.random(8, np.float32), parts.random(8, np.float32)]), whole)


def test_same_stream_on_every_device(device):
    """NumPy and CuPy compute bit-identical words; the floats agree to rounding of log/sin/cos."""
    ours, ref = Philox(1234, device), Philox(1234, "cpu")
    np.testing.assert_array_equal(on_cpu(ours.random(1001, np.float64)), ref.random(1001, np.float64))
    np.testing.assert_array_equal(on_cpu(ours.random(1001, np.float32)), ref.random(1001, np.float32))
    np.testing.assert_allclose(on_cpu(ours.standard_normal(1001, np.float32)),
                               ref.standard_normal(1001, np.float32), rtol=1e-5, atol=1e-5)


def test_state_dict_round_trip(device):
    gen = Philox(2024, device)
    gen.random(37)
    state = gen.state_dict()
    want = on_cpu(gen.standard_normal((4, 4), np.float32))
    other = Philox(1, device)
    other.load_state_dict(state)
    np.testing.assert_array_equal(on_cpu(other.standard_normal((4, 4), np.float32)), want)
    gen.load_state_dict(state)
    np.testing.assert_array_equal(on_cpu(gen.standard_normal((4, 4), np.float32)), want)
    assert repr(other) == repr(gen) and "seed=2024" in repr(gen)


def test_shapes_dtypes_and_range(device):
    gen = Philox(3, device)
    assert gen.random().shape == () and gen.random(4).shape == (4,)
    assert gen.random((2, 0, 3)).shape == (2, 0, 3)
    for dtype in (np.float32, np.float64):
        u = on_cpu(gen.random((50, 40), dtype=dtype))
        z = on_cpu(gen.standard_normal((7, 3), dtype=dtype))
        assert u.dtype == dtype and z.dtype == dtype and z.shape == (7, 3)
        assert u.min() >= 0 and u.max() < 1
    assert gen.random(3).dtype == np.float64  # NumPy's default, as numpy.random.Generator


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_uniform_distribution(dtype):
    u = Philox(11).random(200_000, dtype=dtype).astype(np.float64)
    assert abs(u.mean() - 0.5) < 4 * np.sqrt(1 / 12 / u.size)
    assert abs(u.var() - 1 / 12) < 0.003
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    assert np.mean(np.abs(np.diff(u)) < 0.5) == pytest.approx(0.75, abs=0.01)  # consecutive draws independent


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normal_distribution(dtype):
    z = Philox(12).standard_normal(200_000, dtype=dtype).astype(np.float64)
    assert abs(z.mean()) < 4 / np.sqrt(z.size)
    assert abs(z.std() - 1) < 0.01
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert abs(np.corrcoef(z[0::2], z[1::2])[0, 1]) < 0.01  # the Box-Muller pair is uncorrelated
    assert stats.kurtosis(z) == pytest.approx(0.0, abs=0.05)


def test_independent_of_the_global_generator():
    minigrad.manual_seed(0)
    a = minigrad.randn(8).numpy()
    minigrad.manual_seed(0)
    Philox(3).random(100)
    np.testing.assert_array_equal(minigrad.randn(8).numpy(), a)
    minigrad.manual_seed(1)
    x = Philox(5).random(4)
    minigrad.manual_seed(2)
    np.testing.assert_array_equal(Philox(5).random(4), x)


def test_bad_arguments():
    with pytest.raises(ValueError, match="seed must be an int"):
        Philox(-1)
    with pytest.raises(ValueError, match="seed must be an int"):
        Philox(2**64)
    with pytest.raises(ValueError, match="seed must be an int"):
        Philox(1.5)
    with pytest.raises(ValueError, match="unknown device"):
        Philox(0, device="tpu")
    gen = Philox(0)
    with pytest.raises(TypeError, match="Philox.random: unsupported dtype float16"):
        gen.random(3, dtype=np.float16)
    with pytest.raises(TypeError, match="Philox.standard_normal: unsupported dtype int32"):
        gen.standard_normal(3, dtype=np.int32)
    with pytest.raises(ValueError, match="invalid size"):
        gen.random((2, -1))
    with pytest.raises(ValueError, match="load_state_dict: expected integer key"):
        gen.load_state_dict({"key": u32([1, 2, 3]), "counter": u32([0, 0, 0, 0])})


# ----------------------------------------------------------------------------- the draw kernels
def _stream_digest(device):
    """sha256 of a fixed sequence of draws of every kind, dtype and awkward size, and the final counter."""
    h = hashlib.sha256()
    gen = Philox(0x0123456789ABCDEF, device)
    for n in (0, 1, 2, 3, 4, 5, 7, 8, 9, 33, 1001):
        for dtype in (np.float32, np.float64):
            h.update(on_cpu(gen.random(n, dtype)).tobytes())
            h.update(on_cpu(gen.standard_normal(n, dtype)).tobytes())
    h.update(gen.state_dict()["counter"].tobytes())
    return h.hexdigest()


#: the digest of the stream as the array-op implementation drew it before the draw kernels existed
STREAM_DIGEST = "39e8d24cae8706e06be65a6fc86432830cd46d03980fe27ca5d270b8e0da3f23"


def test_the_stream_is_bit_identical_to_the_array_op_implementation():
    assert _stream_digest("cpu") == STREAM_DIGEST


@pytest.mark.cuda
def test_a_device_draw_is_one_kernel_and_a_counter_advance(standin):
    """On the device the whole draw is one launch (the stand-in runs the kernel's twin in its place) plus the
    one-thread advance, with no sync and no copy, and the stream is the CPU's, bit for bit."""
    assert _stream_digest("cuda") == STREAM_DIGEST
    gen = Philox(7, "cuda")
    for draw, dtype in ((gen.random, np.float32), (gen.standard_normal, np.float32),
                        (gen.random, np.float64), (gen.standard_normal, np.float64)):
        with standin.record() as rec:
            draw((256, 2), dtype)
        kind = "uniform" if draw == gen.random else "normal"
        assert rec.launches == {f"kernel:minigrad_philox_{kind}_{np.dtype(dtype).name}": 1,
                                "kernel:minigrad_philox_advance": 1}, rec.launches
        assert not rec.syncs and not rec.copies


@pytest.mark.cuda
def test_draw_kernels_replay_fresh_numbers_in_a_captured_graph(standin):
    """Captured, the kernels advance the device counter on every replay: replays continue the eager stream."""
    gen, ref = Philox(21, "cuda"), Philox(21, "cpu")
    out = minigrad.backend.xp_for("cuda").zeros((3, 5), np.float32)
    stream = standin.cuda.Stream()
    with stream:
        stream.begin_capture()
        out[...] = gen.standard_normal((3, 5), np.float32)
        graph = stream.end_capture()
    for _ in range(3):
        graph.launch()
        np.testing.assert_array_equal(on_cpu(out), ref.standard_normal((3, 5), np.float32))


def _compiled_device_code(tmp_path):
    """The draw kernels' C (philox.DEVICE_CODE) compiled by the host C compiler, one block per call in a loop."""
    import ctypes
    import shutil
    import subprocess

    from minigrad import philox

    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        pytest.skip("no host C compiler to check the kernels' C code with")
    drivers = []
    for (kind, dtype), ctype in philox.DRAWS.items():
        drivers.append(f"void {kind}_{dtype}(const unsigned int* key, const unsigned long long* counter, {ctype}* out, "
                       f"unsigned long long n, unsigned long long n_blocks) {{ for (unsigned long long i = 0; "
                       f"i < n_blocks; ++i) minigrad_philox_{kind}_{dtype}_at(key, counter, out, n, i); }}")
    drivers.append("void advance(unsigned long long* counter, unsigned long long step) "
                   "{ minigrad_philox_advance_at(counter, step); }")
    source = tmp_path / "philox.c"
    source.write_text("#include <math.h>\n#define __device__ static\n" + philox.DEVICE_CODE + "\n".join(drivers))
    library = tmp_path / "philox.so"
    # -ffp-contract=off: no fused multiply-adds (the C code has none that change a result; NVRTC may contract)
    subprocess.run([compiler, "-O2", "-std=c99", "-ffp-contract=off", "-shared", "-fPIC", str(source), "-o",
                    str(library), "-lm"], check=True, capture_output=True)
    lib = ctypes.CDLL(str(library))
    pointer, u64 = ctypes.c_void_p, ctypes.c_ulonglong
    for kind, dtype in philox.DRAWS:
        getattr(lib, f"{kind}_{dtype}").argtypes = [pointer, pointer, pointer, u64, u64]
    lib.advance.argtypes = [pointer, u64]
    return lib


def test_the_kernels_whole_cuda_source_compiles_as_cxx(tmp_path):
    """The module the kernels are compiled from (device code and ``__global__`` entry points), checked by a
    host C++ compiler with CUDA's built-in names declared: a syntax or type error shows up without a GPU."""
    import shutil
    import subprocess

    from minigrad import philox

    compiler = shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    if compiler is None:
        pytest.skip("no host C++ compiler")
    prelude = ("#include <math.h>\n#define __device__ static\n#define __global__\n"
               "struct minigrad_dim3 { unsigned int x, y, z; };\n"
               "static minigrad_dim3 blockIdx, blockDim, threadIdx;\n")
    source = tmp_path / "module.cu.cc"
    source.write_text(prelude + philox._MODULE.source)
    result = subprocess.run([compiler, "-fsyntax-only", "-Wall", "-Werror", "-Wno-unused-function", str(source)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_kernels_c_code_computes_what_their_twins_compute(tmp_path):
    """The CUDA C of the draw kernels, compiled on the host, against the array-op twins: words and uniforms
    bit for bit, normals to the rounding of the C library's log/sin/cos against NumPy's; the advance and its carry."""
    import ctypes

    from minigrad import philox

    lib = _compiled_device_code(tmp_path)
    u64 = ctypes.c_ulonglong
    cases = [(u32([0x243f6a88, 0x85a308d3]), np.array([0, 0], np.uint64)),
             (u32([0xffffffff, 0xffffffff]), np.array([2**64 - 3, 7], np.uint64))]  # carries into the high word
    for key, counter in cases:
        for (kind, dtype), _ in philox.DRAWS.items():
            for n in (1, 3, 4, 5, 10, 1001):
                n_blocks = philox._blocks_for(kind, np.dtype(dtype), n)
                got = np.full(n, np.nan, dtype)
                getattr(lib, f"{kind}_{dtype}")(key.ctypes.data, counter.ctypes.data, got.ctypes.data, u64(n),
                                                u64(n_blocks))
                want = np.empty(n, dtype)
                philox._DRAW_KERNELS[kind, np.dtype(dtype)].twin(key, counter, want, np.uint64(n), np.uint64(n_blocks))
                if kind == "uniform":
                    np.testing.assert_array_equal(got, want, err_msg=f"{kind} {dtype} n={n}")
                else:
                    np.testing.assert_allclose(got, want, rtol=4 * np.finfo(dtype).eps, atol=4 * np.finfo(dtype).eps,
                                               err_msg=f"{kind} {dtype} n={n}")
    for counter, step in (([5, 0], 3), ([2**64 - 2, 9], 5)):
        got, want = np.array(counter, np.uint64), np.array(counter, np.uint64)
        lib.advance(got.ctypes.data, u64(step))
        philox._ADVANCE.twin(want, np.uint64(step))
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(want, np.array([3, 10], np.uint64))
