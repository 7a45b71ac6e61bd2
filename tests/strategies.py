"""Hypothesis strategies for minigrad's property tests (in the style of MyGrad's).

Everything is small (at most `MAX_ELEMENTS` elements per array) so that the float64
central differences of `gradcheck`/`gradgradcheck` stay cheap, and values are kept away
from the points where an op is not differentiable (relu/abs/clamp kinks, max/min ties),
where a finite difference and any analytic derivative would legitimately disagree.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

MAX_ELEMENTS = 24
MAX_SIDE = 4
#: how far values stay from a kink (or from each other, for max/min); finite differences
#: use eps = 1e-6, so 1e-3 leaves a wide margin.
KINK_GAP = 1e-3


def _small(shape: tuple) -> bool:
    return math.prod(shape) <= MAX_ELEMENTS


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = MAX_SIDE) -> st.SearchStrategy:
    """Array shapes, 0-d and size-1 axes included, with at most MAX_ELEMENTS elements."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side).filter(_small)


def broadcastable_shapes(num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3) -> st.SearchStrategy:
    """Tuples of `num_shapes` mutually broadcastable shapes (each and their broadcast small)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=3
    ).map(lambda r: r.input_shapes).filter(lambda ss: _small(np.broadcast_shapes(*ss)))


def floats(low: float = -3.0, high: float = 3.0, kinks: Sequence[float] = ()) -> st.SearchStrategy:
    """float64 values in [low, high], at least KINK_GAP away from every point in `kinks`."""
    values = st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False, width=64)
    if kinks:
        values = values.filter(lambda v: all(abs(v - k) > KINK_GAP for k in kinks))
    return values


def arrays(shape, low: float = -3.0, high: float = 3.0, kinks: Sequence[float] = (),
           distinct: bool = False) -> st.SearchStrategy:
    """float64 arrays of `shape` (a shape or a strategy of shapes).

    `kinks`: points every value keeps away from. `distinct`: values pairwise at least
    KINK_GAP apart (for max/min, whose gradient jumps at ties).
    """
    strategy = hnp.arrays(np.float64, shape, elements=floats(low, high, kinks), unique=distinct)
    if distinct:
        strategy = strategy.filter(_well_separated)
    return strategy


def positive_arrays(shape, low: float = 0.2, high: float = 3.0) -> st.SearchStrategy:
    """Arrays in a positive domain (for log, sqrt, the base of a power, divisors)."""
    return arrays(shape, low, high)


def nonzero_arrays(shape, gap: float = 0.3, high: float = 3.0) -> st.SearchStrategy:
    """Arrays with |x| >= gap (for divisors that may be negative)."""
    sign = st.sampled_from([-1.0, 1.0])
    values = st.tuples(sign, st.floats(gap, high, allow_nan=False, allow_subnormal=False)).map(lambda p: p[0] * p[1])
    return hnp.arrays(np.float64, shape, elements=values)


def _well_separated(a: np.ndarray) -> bool:
    flat = np.sort(a.ravel())
    return bool(np.all(np.diff(flat) > KINK_GAP))


def apart(a: np.ndarray, b: np.ndarray, gap: float = KINK_GAP) -> None:
    """`assume` that a and b differ by more than `gap` everywhere once broadcast (no ties)."""
    assume(bool(np.all(np.abs(a - b) > gap)))


def upstream(shape) -> st.SearchStrategy:
    """An upstream gradient (the `grad_outputs` of a backward pass) of `shape`."""
    return arrays(shape, -2.0, 2.0)


@st.composite
def axes(draw, ndim: int, allow_none: bool = True) -> int | tuple | None:
    """A reduction axis: None (all), an int (possibly negative) or a non-empty tuple of axes."""
    options = [st.none()] if allow_none or ndim == 0 else []
    if ndim:
        options += [st.integers(-ndim, ndim - 1), hnp.valid_tuple_axes(ndim, min_size=1)]
    return draw(st.one_of(*options))


@st.composite
def broadcast_target(draw, shape: tuple) -> tuple:
    """A shape that `shape` broadcasts to (size-1 axes grown, up to one new leading axis)."""
    grown = tuple(draw(st.integers(1, 3)) if s == 1 else s for s in shape)
    lead = draw(st.lists(st.integers(1, 3), max_size=1))
    target = tuple(lead) + grown
    assume(_small(target))
    return target
