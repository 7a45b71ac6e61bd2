"""Reference solutions for docs/exercises/internals.py."""
import minigrad


def topological_order(output):
    visited, postorder = set(), []

    def visit(fn):
        if fn is None or id(fn) in visited:
            return
        visited.add(id(fn))
        for x in fn.inputs:
            visit(x.creator)
        postorder.append(fn)   # after everything behind its inputs

    visit(output.creator)
    return postorder[::-1]     # reversed: every consumer before the producers of its inputs


def gradient_penalty(critic, points):
    g, = minigrad.grad(critic(points).sum(), points, create_graph=True)
    return ((minigrad.sqrt((g * g).sum(axis=1)) - 1) ** 2).mean()


def leaves_reached(output):
    leaves, seen = {}, set()
    stack = [output.creator] if output.creator is not None else []
    if output.creator is None and output.requires_grad:
        leaves[id(output)] = output
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        for x in fn.inputs:
            if x.creator is not None:
                stack.append(x.creator)
            elif x.requires_grad:
                leaves[id(x)] = x
    return list(leaves.values())
