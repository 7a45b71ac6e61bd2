"""Exercises for docs/internals.md. Run: python3 -m pytest -m exercise -k internals

Replace each `raise NotImplementedError(...)` with your code.
"""
import minigrad  # noqa: F401  (for your code)


def topological_order(output):
    """Exercise 1: every Function behind the Tensor `output`, each after all the Functions
    that consume its outputs, found by a depth-first search and *without* reading
    `.generation` (micrograd's way; section 3 uses generations instead).

    A Function's inputs are `fn.inputs` (Tensors); a Tensor's producer is `t.creator`
    (None for a leaf). Hint: list a Function after everything behind its inputs (post-order),
    then reverse the list.
    """
    raise NotImplementedError("exercise 1: topological_order")


def gradient_penalty(critic, points):
    """Exercise 2: the WGAN-GP penalty mean over the points of (||grad_x critic(x)|| - 1)^2.

    `points` is an (N, d) Tensor that requires grad; `critic` maps it to (N, 1) scores. The
    result must be differentiable in the critic's weights (section 5): `penalty.backward()`
    fills their `.grad`.
    """
    raise NotImplementedError("exercise 2: gradient_penalty")


def leaves_reached(output):
    """Exercise 3: the leaves whose `.grad` `output.backward()` would set, as a list of Tensors.

    That is every leaf that requires grad and from which a path of Functions leads to `output`.
    Do not call backward or grad: walk the graph (sections 1 and 3). Each leaf once.
    """
    raise NotImplementedError("exercise 3: leaves_reached")
