"""Philox4x32-10, a counter-based random generator whose state lives on the device.

Philox (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3",
SC 2011) maps a 128-bit counter c = (c0, c1, c2, c3) and a 64-bit key k = (k0, k1)
to four independent 32-bit words with ten rounds of::

    (hi0, lo0) = M0 * c0            # 32x32 -> 64-bit products, M0 = 0xD2511F53
    (hi1, lo1) = M1 * c2            #                           M1 = 0xCD9E8D57
    c = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
    k = (k0 + W0, k1 + W1) mod 2^32 # between rounds, W = (0x9E3779B9, 0xBB67AE85)

Every step is an elementwise array op on uint32 lanes (the products go through
uint64), written against the array module that owns the state, so the same code
runs on NumPy and CuPy and gives bit-identical words on both.

`Philox` keeps its key and counter in small device arrays and advances the counter
with an in-place device op. On CUDA a draw is two kernel launches: one `RawKernel`
(minigrad.kernels) in which each thread computes one block's ten rounds and turns its
four words into uniforms or normals, and a one-thread kernel advancing the counter;
their twins, the array-op code below, are what NumPy runs, what the CuPy stand-in runs
in the kernels' place, and the reference the tests compare the C code with. A draw
therefore reads no host state and makes no host call: inside a captured CUDA graph
(`minigrad.cuda.graphed`) each replay draws fresh numbers, and re-seeding writes the same
arrays in place so a captured graph sees it.
It does not touch the global generators behind `minigrad.manual_seed`.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad import backend, kernels

PHILOX_M0, PHILOX_M1 = 0xD2511F53, 0xCD9E8D57
PHILOX_W0, PHILOX_W1 = 0x9E3779B9, 0xBB67AE85
ROUNDS = 10
_MASK32 = 0xFFFFFFFF
_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _rounds(xp, c0, c1, c2, c3, k0, k1):
    """Ten Philox rounds on uint32 arrays (c_i broadcast with k_i); returns the four output words."""
    m0, m1 = xp.uint64(PHILOX_M0), xp.uint64(PHILOX_M1)
    w0, w1 = xp.uint32(PHILOX_W0), xp.uint32(PHILOX_W1)
    for r in range(ROUNDS):
        if r:
            k0, k1 = k0 + w0, k1 + w1  # uint32 array + uint32 scalar wraps mod 2^32
        p0 = c0.astype(xp.uint64) * m0
        p1 = c2.astype(xp.uint64) * m1
        c0, c1, c2, c3 = ((p1 >> 32).astype(xp.uint32) ^ c1 ^ k0, p1.astype(xp.uint32),
                          (p0 >> 32).astype(xp.uint32) ^ c3 ^ k1, p0.astype(xp.uint32))
    return c0, c1, c2, c3


def _interleave(xp, columns, dtype):
    """Columns (each of length n) as one flat array c0[0], c1[0], ..., c0[1], ...: written into
    preallocated memory by elementwise copies (no host-side pointer table, so capturable)."""
    out = xp.empty((columns[0].shape[0], len(columns)), dtype=dtype)
    for i, column in enumerate(columns):
        out[:, i] = column
    return out.reshape(-1)


def philox4x32(counter, key):
    """Philox4x32-10 of uint32 `counter` (..., 4) under uint32 `key` (2,): uint32 words (..., 4).

    Word order follows Random123: ``counter[..., 0]`` is c0 and ``key[0]`` is k0.
    """
    xp = np if isinstance(counter, (list, tuple)) else backend.array_module(counter)
    counter, key = xp.asarray(counter), xp.asarray(key)
    if counter.dtype != np.uint32 or key.dtype != np.uint32 or counter.shape[-1:] != (4,) or key.shape != (2,):
        raise TypeError(f"philox4x32: expected uint32 counter (..., 4) and uint32 key (2,), got counter "
                        f"{counter.dtype} {counter.shape} and key {key.dtype} {key.shape}")
    flat = counter.reshape(-1, 4)
    words = _rounds(xp, flat[:, 0], flat[:, 1], flat[:, 2], flat[:, 3], key[0:1], key[1:2])
    return _interleave(xp, words, np.uint32).reshape(counter.shape)


def _size_tuple(size) -> tuple:
    if size is None:
        return ()
    size = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    if any(not isinstance(s, (int, np.integer)) or s < 0 for s in size):
        raise ValueError(f"invalid size {size}: sizes must be non-negative ints")
    return tuple(int(s) for s in size)


# ----------------------------------------------------------------------------- one draw, as array ops (the twins)
def _counter_blocks(xp, key, counter, n_blocks: int):
    """Philox outputs of blocks counter, counter + 1, ..., counter + n_blocks - 1 (128-bit counter
    given as uint64 (low, high)): four uint32 arrays of length n_blocks."""
    index = xp.arange(n_blocks, dtype=xp.uint64)
    lo = index + counter[0:1]
    hi = counter[1:2] + (lo < index)  # carry out of the low 64 bits
    c0, c1 = lo.astype(xp.uint32), (lo >> 32).astype(xp.uint32)
    c2, c3 = hi.astype(xp.uint32), (hi >> 32).astype(xp.uint32)
    return _rounds(xp, c0, c1, c2, c3, key[0:1], key[1:2])


def _stream_words(xp, key, counter, n: int):
    """The first `n` uint32 words from the counter on, block by block (c0's four outputs first)."""
    return _interleave(xp, _counter_blocks(xp, key, counter, -(-n // 4)), np.uint32)[:n]


def _uniforms(xp, key, counter, n: int, dtype: np.dtype, open_at_zero: bool = False):
    """n uniforms of `dtype`: k/2^24 from a word's top 24 bits (float32) or k/2^53 from the
    top 27 and 26 bits of two words (float64); (k + 1)/2^b in (0, 1] with `open_at_zero`."""
    if dtype == np.float32:
        k = (_stream_words(xp, key, counter, n) >> 8).astype(np.float32)
        scale: np.floating = np.float32(2.0 ** -24)
    else:
        w = _stream_words(xp, key, counter, 2 * n).reshape(n, 2)
        k = (w[:, 0] >> 5).astype(np.float64) * 67108864.0 + (w[:, 1] >> 6).astype(np.float64)
        scale = np.float64(2.0 ** -53)
    if open_at_zero:
        k += 1
    return xp.multiply(k, scale, out=k)


def _normals(xp, key, counter, n: int, dtype: np.dtype):
    """n N(0, 1) samples by Box–Muller on pairs of uniforms in (0, 1] (see `Philox.standard_normal`)."""
    pairs = -(-n // 2)
    u = _uniforms(xp, key, counter, 2 * pairs, dtype, open_at_zero=True).reshape(pairs, 2)
    radius = xp.sqrt(-2 * xp.log(u[:, 0]))
    theta = (2 * np.pi) * u[:, 1]
    return _interleave(xp, (radius * xp.cos(theta), radius * xp.sin(theta)), dtype)[:n]


def _advance(counter, n_blocks) -> None:
    """counter += n_blocks (128 bits as uint64 (low, high)), in place."""
    counter[0:1] += n_blocks
    counter[1:2] += counter[0:1] < n_blocks


def _draw_twin(draw, dtype):
    """The twin of a draw kernel: ``twin(key, counter, out, n, n_blocks)`` writes `draw`'s n values into out."""
    def twin(key, counter, out, n, n_blocks) -> None:
        out[...] = draw(backend.array_module(out), key, counter, int(n), dtype)
    twin.__name__ = f"{draw.__name__.lstrip('_')}_{dtype.name}_twin"
    return twin


def _blocks_for(kind: str, dtype: np.dtype, n: int) -> int:
    """Philox blocks a draw of n values uses: 4 words per block, 1 (float32) or 2 (float64) per
    uniform, normals in pairs."""
    words_per_value = 1 if dtype == np.float32 else 2
    values = n if kind == "uniform" else 2 * -(-n // 2)
    return -(-values * words_per_value // 4)


# ----------------------------------------------------------------------------- one draw, as CUDA kernels
#: Portable C (the tests compile it with a host C compiler against the twins): one block per call.
DEVICE_CODE = r"""
#define MINIGRAD_PHILOX_M0 0xD2511F53u
#define MINIGRAD_PHILOX_M1 0xCD9E8D57u
#define MINIGRAD_PHILOX_W0 0x9E3779B9u
#define MINIGRAD_PHILOX_W1 0xBB67AE85u
#define MINIGRAD_TWO_TO_MINUS_24 5.9604644775390625e-08f
#define MINIGRAD_TWO_TO_MINUS_53 1.1102230246251565404236316680908203125e-16
#define MINIGRAD_TWO_PI_F 6.283185482025146484375f
#define MINIGRAD_TWO_PI 6.283185307179586

/* Philox4x32-10 of block counter + i (counter: uint64 low, high) under key (k0, k1): words c[0..3]. */
__device__ void minigrad_philox_block(const unsigned int* key, const unsigned long long* counter,
                                      unsigned long long i, unsigned int* c) {
    unsigned long long lo = counter[0] + i;
    unsigned long long hi = counter[1] + (lo < i ? 1ull : 0ull);
    unsigned int k0 = key[0], k1 = key[1];
    c[0] = (unsigned int)lo;
    c[1] = (unsigned int)(lo >> 32);
    c[2] = (unsigned int)hi;
    c[3] = (unsigned int)(hi >> 32);
    for (int r = 0; r < 10; ++r) {
        if (r) {
            k0 += MINIGRAD_PHILOX_W0;
            k1 += MINIGRAD_PHILOX_W1;
        }
        unsigned long long p0 = (unsigned long long)c[0] * MINIGRAD_PHILOX_M0;
        unsigned long long p1 = (unsigned long long)c[2] * MINIGRAD_PHILOX_M1;
        unsigned int n0 = (unsigned int)(p1 >> 32) ^ c[1] ^ k0;
        unsigned int n2 = (unsigned int)(p0 >> 32) ^ c[3] ^ k1;
        c[0] = n0;
        c[1] = (unsigned int)p1;
        c[2] = n2;
        c[3] = (unsigned int)p0;
    }
}

/* float32 uniforms 4i..4i+3: word >> 8 over 2^24. */
__device__ void minigrad_philox_uniform_float32_at(const unsigned int* key, const unsigned long long* counter,
                                                   float* out, unsigned long long n, unsigned long long i) {
    unsigned int c[4];
    minigrad_philox_block(key, counter, i, c);
    for (int w = 0; w < 4; ++w) {
        unsigned long long j = 4 * i + w;
        if (j < n) out[j] = (float)(c[w] >> 8) * MINIGRAD_TWO_TO_MINUS_24;
    }
}

/* float64 uniforms 2i, 2i + 1: the top 27 and 26 bits of a word pair over 2^53. */
__device__ void minigrad_philox_uniform_float64_at(const unsigned int* key, const unsigned long long* counter,
                                                   double* out, unsigned long long n, unsigned long long i) {
    unsigned int c[4];
    minigrad_philox_block(key, counter, i, c);
    for (int h = 0; h < 2; ++h) {
        unsigned long long j = 2 * i + h;
        double k = (double)(c[2 * h] >> 5) * 67108864.0 + (double)(c[2 * h + 1] >> 6);
        if (j < n) out[j] = k * MINIGRAD_TWO_TO_MINUS_53;
    }
}

/* float32 normals 4i..4i+3: Box-Muller on the word pairs (0, 1) and (2, 3), uniforms in (0, 1]. */
__device__ void minigrad_philox_normal_float32_at(const unsigned int* key, const unsigned long long* counter,
                                                  float* out, unsigned long long n, unsigned long long i) {
    unsigned int c[4];
    minigrad_philox_block(key, counter, i, c);
    for (int h = 0; h < 2; ++h) {
        float u1 = ((float)(c[2 * h] >> 8) + 1.0f) * MINIGRAD_TWO_TO_MINUS_24;
        float u2 = ((float)(c[2 * h + 1] >> 8) + 1.0f) * MINIGRAD_TWO_TO_MINUS_24;
        float radius = sqrtf(-2.0f * logf(u1));
        float theta = MINIGRAD_TWO_PI_F * u2;
        unsigned long long j = 4 * i + 2 * h;
        if (j < n) out[j] = radius * cosf(theta);
        if (j + 1 < n) out[j + 1] = radius * sinf(theta);
    }
}

/* float64 normals 2i, 2i + 1: Box-Muller on the uniforms of the word pairs (0, 1) and (2, 3). */
__device__ void minigrad_philox_normal_float64_at(const unsigned int* key, const unsigned long long* counter,
                                                  double* out, unsigned long long n, unsigned long long i) {
    unsigned int c[4];
    double u[2];
    minigrad_philox_block(key, counter, i, c);
    for (int h = 0; h < 2; ++h) {
        double k = (double)(c[2 * h] >> 5) * 67108864.0 + (double)(c[2 * h + 1] >> 6);
        u[h] = (k + 1.0) * MINIGRAD_TWO_TO_MINUS_53;
    }
    double radius = sqrt(-2.0 * log(u[0]));
    double theta = MINIGRAD_TWO_PI * u[1];
    unsigned long long j = 2 * i;
    if (j < n) out[j] = radius * cos(theta);
    if (j + 1 < n) out[j + 1] = radius * sin(theta);
}

/* counter += step (128 bits as uint64 low, high). */
__device__ void minigrad_philox_advance_at(unsigned long long* counter, unsigned long long step) {
    unsigned long long lo = counter[0] + step;
    counter[1] += lo < step ? 1ull : 0ull;
    counter[0] = lo;
}
"""

#: (kind, dtype name) of every draw kernel, and its C element type
DRAWS = {("uniform", "float32"): "float", ("uniform", "float64"): "double",
         ("normal", "float32"): "float", ("normal", "float64"): "double"}


def _global_code() -> str:
    """The ``__global__`` entry points: thread i computes block i (or, for the advance, thread 0 the counter)."""
    index = "unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;"
    out = []
    for (kind, dtype), ctype in DRAWS.items():
        out.append(f'extern "C" __global__ void minigrad_philox_{kind}_{dtype}(const unsigned int* key, '
                   f"const unsigned long long* counter, {ctype}* out, unsigned long long n, "
                   f"unsigned long long n_blocks) {{\n    {index}\n"
                   f"    if (i < n_blocks) minigrad_philox_{kind}_{dtype}_at(key, counter, out, n, i);\n}}\n")
    out.append('extern "C" __global__ void minigrad_philox_advance(unsigned long long* counter, '
               f"unsigned long long step) {{\n    {index}\n"
               "    if (i == 0) minigrad_philox_advance_at(counter, step);\n}\n")
    return "\n".join(out)


_MODULE = kernels.RawModule("minigrad_philox", DEVICE_CODE + _global_code())
_DRAW_KERNELS = {
    (kind, np.dtype(dtype)): kernels.RawKernel(_MODULE, f"minigrad_philox_{kind}_{dtype}",
                                               _draw_twin(_uniforms if kind == "uniform" else _normals,
                                                          np.dtype(dtype)))
    for kind, dtype in DRAWS}
_ADVANCE = kernels.RawKernel(_MODULE, "minigrad_philox_advance", _advance)


class Philox:
    """A Philox4x32-10 stream: ``Philox(seed, device)``, with NumPy Generator's draw methods.

    The 64-bit seed is the key (k0 = low word, k1 = high word); the 128-bit counter
    starts at 0 and advances by the number of 4-word blocks each draw uses, so
    successive draws never reuse a block and a seed reproduces the whole stream.
    ``random`` and ``standard_normal`` take NumPy's ``(size, dtype)`` and return an
    array of ``dtype`` on the generator's device (numpy or cupy), so a Philox can
    stand in for ``minigrad.backend.generator(device)``.

    State: ``key`` (uint32, (2,)) and ``counter`` (uint64, (2,): the low and high
    64 bits of the block counter), both arrays on ``device``. Draws only launch
    device work; ``manual_seed``, ``state_dict`` and ``load_state_dict`` copy between
    host and device, so call them outside a captured step.
    """

    def __init__(self, seed: int, device: str = "cpu"):
        self.device = backend.normalize_device(device)
        xp = backend.xp_for(self.device)
        self._xp = xp
        self.key = xp.zeros(2, dtype=xp.uint32)
        self.counter = xp.zeros(2, dtype=xp.uint64)
        self.manual_seed(seed)

    def manual_seed(self, seed: int) -> Philox:
        """Restart the stream of `seed` (an int in [0, 2^64)), writing the state arrays in place."""
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or not 0 <= seed < 2**64:
            raise ValueError(f"Philox: seed must be an int in [0, 2**64), got {seed!r}")
        seed = int(seed)
        self.key[...] = self._xp.asarray(np.array([seed & _MASK32, seed >> 32], dtype=np.uint32))
        self.counter[...] = 0
        return self

    # ------------------------------------------------------------------ draws
    def _draw(self, kind: str, n: int, dtype: np.dtype):
        """n values of `kind` ("uniform" or "normal") and `dtype`, flat; advances the counter past the
        blocks used. NumPy runs the array ops; CUDA one draw kernel and the one-thread advance."""
        xp, n_blocks = self._xp, _blocks_for(kind, dtype, n)
        if xp is np:
            values = (_uniforms if kind == "uniform" else _normals)(xp, self.key, self.counter, n, dtype)
            _advance(self.counter, np.uint64(n_blocks))
            return values
        out = xp.empty(n, dtype=dtype)
        if n_blocks:
            _DRAW_KERNELS[kind, dtype](n_blocks, self.key, self.counter, out, np.uint64(n), np.uint64(n_blocks))
            _ADVANCE(1, self.counter, np.uint64(n_blocks))
        return out

    def random(self, size=None, dtype=np.float64):
        """Uniform samples on [0, 1) of shape `size` (float32: multiples of 2^-24; float64: of 2^-53)."""
        dtype = self._float_dtype("random", dtype)
        shape = _size_tuple(size)
        return self._draw("uniform", math.prod(shape), dtype).reshape(shape)

    def standard_normal(self, size=None, dtype=np.float64):
        """N(0, 1) samples of shape `size` by Box–Muller on pairs of uniforms in (0, 1]::

            r = sqrt(-2 log u1),  z = (r cos 2πu2, r sin 2πu2)

        With float32's 24-bit uniforms |z| is at most sqrt(2·24·log 2) ≈ 5.77.
        """
        dtype = self._float_dtype("standard_normal", dtype)
        shape = _size_tuple(size)
        return self._draw("normal", math.prod(shape), dtype).reshape(shape)

    @staticmethod
    def _float_dtype(op: str, dtype) -> np.dtype:
        dtype = np.dtype(dtype)
        if dtype not in _FLOAT_DTYPES:
            raise TypeError(f"Philox.{op}: unsupported dtype {dtype} (expected float32 or float64)")
        return dtype

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """The key (uint32, (2,)) and the counter as four uint32 words (c0..c3), as NumPy arrays."""
        counter = backend.to_device(self.counter, "cpu")
        words = np.array([counter[0] & _MASK32, counter[0] >> 32, counter[1] & _MASK32, counter[1] >> 32],
                         dtype=np.uint32)
        return {"key": backend.to_device(self.key, "cpu").copy(), "counter": words}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a `state_dict`, writing the device arrays in place."""
        key = np.asarray(state["key"])
        words = np.asarray(state["counter"])
        if key.shape != (2,) or words.shape != (4,) or key.dtype.kind not in "ui" or words.dtype.kind not in "ui":
            raise ValueError(f"Philox.load_state_dict: expected integer key (2,) and counter (4,), got key "
                             f"{key.dtype} {key.shape} and counter {words.dtype} {words.shape}")
        words = words.astype(np.uint64)
        counter = np.array([words[0] | words[1] << np.uint64(32), words[2] | words[3] << np.uint64(32)],
                           dtype=np.uint64)
        self.key[...] = self._xp.asarray(key.astype(np.uint32))
        self.counter[...] = self._xp.asarray(counter)

    def __repr__(self) -> str:
        state = self.state_dict()
        key = int(state["key"][0]) | int(state["key"][1]) << 32
        counter = sum(int(w) << (32 * i) for i, w in enumerate(state["counter"]))
        return f"Philox(seed={key}, device={self.device!r}, counter={counter})"
