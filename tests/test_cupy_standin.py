"""The CuPy stand-in itself: what it refuses, what it counts and locates, its capture emulation and kernels."""
import numpy as np
import pytest

from minigrad.testing import cupy_standin as cp


def test_arrays_refuse_numpy_and_implicit_conversion():
    x = cp.arange(4, dtype=np.float32)
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array"):
        np.asarray(x)
    with pytest.raises(TypeError, match="numpy.exp applied to a CUDA array"):
        np.exp(x)
    with pytest.raises(TypeError, match="numpy.sum applied to a CUDA array"):
        np.sum(x)
    with pytest.raises(TypeError, match="Unsupported type <class 'numpy.ndarray'>"):
        cp.exp(np.ones(3))
    with pytest.raises(TypeError, match="Unsupported type"):
        x + np.ones(4)
    with pytest.raises(TypeError, match="numpy.add applied to a CUDA array"):
        np.ones(4) + x


def test_syncs_and_copies_are_counted_and_located():
    with cp.record() as rec:
        x = cp.asarray(np.arange(3.0))                        # copy
        y = (x * 2).sum()
        values = [float(y), int(y), bool(y), y.item(), x.tolist()]  # five syncs
        host = x.get()                                         # one more
        x[...] = np.zeros(3)                                   # copy
    assert values[0] == 6.0 and host.tolist() == [0.0, 1.0, 2.0]
    assert [e.what for e in rec.syncs] == ["float", "int", "bool", "item", "tolist", "get"]
    assert [e.what for e in rec.copies] == ["asarray", "asarray"]
    assert all(e.where.startswith("tests/test_cupy_standin.py:") for e in rec.syncs + rec.copies)
    assert rec.launches["mul"] == 1 and rec.launches["sum"] == 1 and rec.launches["setitem"] == 1


def test_views_and_empty_launch_nothing():
    x = cp.zeros((4, 6), np.float32)
    with cp.record() as rec:
        x.reshape(6, 4).T[1:3]
        cp.broadcast_to(x[:1], (4, 6))
        cp.empty((3,), np.float32)
        x.T.reshape(-1)  # not contiguous: a copy
    assert dict(rec.launches) == {"reshape": 1}


def test_capture_refuses_syncs_copies_and_curand_and_is_then_invalid():
    x = cp.ones(3, np.float32)
    for bad in (lambda: float(x.sum()), lambda: cp.asarray(np.ones(3)), lambda: cp.random.default_rng(0).random(3)):
        stream = cp.cuda.Stream()
        stream.begin_capture()
        with pytest.raises(cp.cuda.runtime.CUDARuntimeError, match="not permitted when stream is capturing|cannot run"):
            bad()
        with pytest.raises(cp.cuda.runtime.CUDARuntimeError, match="invalidated"):
            stream.end_capture()


def test_capture_executes_nothing_and_replays_with_frozen_python_values():
    w = cp.ones(3, np.float32)
    step = [0]

    def update():
        step[0] += 1
        w[...] = w * 2 + step[0]  # step[0] is a Python number: frozen at capture

    stream = cp.cuda.Stream()
    stream.begin_capture()
    update()
    graph = stream.end_capture()
    np.testing.assert_array_equal(w.get(), [1, 1, 1])  # capture ran nothing
    graph.launch()
    graph.launch()
    np.testing.assert_array_equal(w.get(), [7, 7, 7])  # (1*2+1)*2+1: the capture-time step, twice
    assert graph.num_nodes == 3  # mul, add, setitem


def test_replay_recomputes_from_the_current_inputs():
    x, y = cp.zeros(2, np.float32), cp.zeros(2, np.float32)
    stream = cp.cuda.Stream()
    stream.begin_capture()
    tmp = cp.exp(x)
    y[...] = tmp + x.reshape(1, 2)[0]
    graph = stream.end_capture()
    assert np.isnan(tmp.get()).all()  # allocated during capture: holds nothing until a launch
    x[...] = cp.full(2, 1.0, np.float32)
    graph.launch()
    np.testing.assert_allclose(y.get(), np.exp(1.0) + 1.0, rtol=1e-6)


def test_elementwise_kernel_runs_its_c_body():
    kernel = cp.ElementwiseKernel(
        "T x, T slope", "T y, bool mask",
        "mask = x > 0; T scaled = x * slope; y = mask ? x : (x < -1.0f ? -1.0f : scaled)", "leaky")
    x = cp.asarray(np.array([-3.0, -0.5, 0.0, 2.0], np.float32))
    with cp.record() as rec:
        y, mask = kernel(x, np.float32(0.1))
    np.testing.assert_allclose(y.get(), [-1.0, -0.05, 0.0, 2.0], rtol=1e-6)
    assert mask.get().tolist() == [False, False, False, True] and y.dtype == np.float32
    assert rec.n_launches == 1
    p = cp.ones(2, np.float32)
    update = cp.ElementwiseKernel("T g, float32 lr", "T p", "p -= lr * sqrt(fabs(g))", "sgd_like")
    update(cp.full(2, 4.0, np.float32), 0.5, p)
    np.testing.assert_allclose(p.get(), [0.0, 0.0])


def test_fuse_is_one_launch():
    @cp.fuse
    def relu_grad(x, g):
        return cp.where(x > 0, g, 0)

    x = cp.asarray(np.array([-1.0, 2.0], np.float32))
    with cp.record() as rec:
        out = relu_grad(x, x * 3)
    np.testing.assert_array_equal(out.get(), [0.0, 6.0])
    assert dict(rec.launches) == {"mul": 1, "fuse:relu_grad": 1}
