"""Training loops leak nothing: the graph is freed by reference counting every iteration.

A small relu MLP is trained for thousands of steps, first order and with the WGAN-GP
gradient-norm penalty (second order). The cyclic garbage collector is disabled during
the loop, so any graph kept alive through a reference cycle would show up as growth in
the number of live Function objects or in traced memory.
"""
import gc
import tracemalloc

import numpy as np
import pytest

import minigrad
from minigrad import Function


def live_graph_objects() -> tuple[int, int]:
    """(live Functions, live Tensors), found through the garbage collector's object list."""
    objects = gc.get_objects()
    types = [type(o) for o in objects]  # type(), not isinstance: no __class__ lookups on lazy modules
    return sum(issubclass(t, Function) for t in types), sum(issubclass(t, minigrad.Tensor) for t in types)


def make_mlp(sizes=(3, 16, 16, 1)):
    minigrad.manual_seed(0)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        params.append(minigrad.randn(n_out, n_in, requires_grad=True) * (1 / np.sqrt(n_in)))
        params[-1] = params[-1].detach().requires_grad_()
        params.append(minigrad.zeros(n_out, requires_grad=True))
    return params


def forward(params, x):
    h = x
    for i in range(0, len(params), 2):
        h = minigrad.linear(h, params[i], params[i + 1])
        if i + 2 < len(params):
            h = minigrad.relu(h)
    return h


def first_order_step(params, x):
    loss = (forward(params, x) ** 2).mean()
    loss.backward()
    return loss


def penalty_step(params, x):
    x = x.detach().requires_grad_()
    d = forward(params, x)
    g, = minigrad.grad(d.sum(), x, create_graph=True)
    penalty = ((minigrad.sqrt((g * g).sum(axis=1) + 1e-12) - 1) ** 2).mean()
    loss = d.mean() + 10 * penalty
    loss.backward()
    return loss


def hessian_vector_step(params, x):
    loss = (forward(params, x) ** 2).mean()
    grads = minigrad.grad(loss, params, create_graph=True)
    hvp = minigrad.grad(sum((g * g).sum() for g in grads), params)
    for p, h in zip(params, hvp):
        p.grad = h
    return loss


#: bytes per iteration allowed to accumulate: NumPy's small-allocation caches fill up slowly
#: (a few dozen bytes per step until they saturate), while one leaked graph is kilobytes.
PER_ITERATION_SLACK = 128


@pytest.mark.parametrize("step, iterations", [(first_order_step, 2000), (penalty_step, 1000),
                                              (hessian_vector_step, 500)],
                         ids=["first_order", "gradient_penalty", "hessian_vector"])
def test_memory_stays_flat(step, iterations):
    params = make_mlp()
    x = minigrad.randn(8, 3)

    def train(n):
        for _ in range(n):
            loss = step(params, x)
            with minigrad.no_grad():
                for p in params:
                    p.data -= 1e-3 * p.grad.data
                    p.grad = None
        return loss

    train(20)  # warm up caches (numpy, imports)
    was_enabled = gc.isenabled()
    gc.disable()  # no help from the cycle collector: reference counting alone must free each graph
    try:
        objects_before = live_graph_objects()
        tracemalloc.start()
        loss = train(1)
        one_step_peak = tracemalloc.get_traced_memory()[1]
        del loss
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        loss = train(iterations)
        end, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del loss
        objects_after = live_graph_objects()
    finally:
        if was_enabled:
            gc.enable()
    assert objects_after == objects_before, "(Functions, Tensors) outlived their iteration"
    assert end - start < PER_ITERATION_SLACK * iterations, f"traced memory grew by {end - start} bytes"
    assert peak - start < 2 * one_step_peak + PER_ITERATION_SLACK * iterations, "peak memory kept growing"
    assert all(np.isfinite(p.numpy()).all() for p in params)
