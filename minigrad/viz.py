"""Draw a computation graph with Graphviz.

`to_dot` walks the graph behind one or more tensors, from the outputs back through
each `creator` Function to the leaves, and returns DOT text: a box per Function (its
name) and an ellipse per tensor (its shape and dtype). Gradients built with
``create_graph=True`` are ordinary tensors, so the double-backward graph of a
gradient penalty draws the same way. `render` hands the text to Graphviz's ``dot``.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from collections.abc import Sequence

from minigrad.autograd import Function
from minigrad.tensor import Tensor

FORMATS = ("svg", "png", "pdf")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _tensor_label(t: Tensor, show_shapes: bool, name: str | None) -> str:
    lines = [name] if name else []
    if show_shapes:
        lines.append(f"{tuple(t.shape)} {t.dtype}")
    if t.creator is None:
        lines.append("leaf, requires_grad" if t.requires_grad else "constant")
    return "\n".join(lines) or ("leaf" if t.creator is None else "tensor")


def to_dot(tensors: Tensor | Sequence[Tensor], show_shapes: bool = True,
           names: dict[int, str] | None = None) -> str:
    """Graphviz DOT text of the graph that produced `tensors`.

    Edges run in the direction of the computation: input tensor -> Function -> output.
    `names` maps ``id(tensor)`` to a label (e.g. ``{id(w): "w"}``). A Function whose graph
    was freed by a backward pass is drawn, marked "freed", without its inputs.
    """
    roots = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    names = names or {}
    lines = ["digraph minigrad {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];']
    seen_tensors: set[int] = set()
    seen_functions: set[int] = set()
    keep_alive: list = []  # ids are only unique while their objects live

    def tensor_node(t: Tensor) -> str:
        node = f"t{id(t)}"
        if id(t) not in seen_tensors:
            seen_tensors.add(id(t))
            keep_alive.append(t)
            style = ', style=filled, fillcolor="#dde8f7"' if t.creator is None and t.requires_grad else ""
            label = _quote(_tensor_label(t, show_shapes, names.get(id(t))))
            lines.append(f"  {node} [shape=ellipse, label={label}{style}];")
        return node

    stack: list[Function] = []
    for root in roots:
        if not isinstance(root, Tensor):
            raise TypeError(f"to_dot: expected Tensors, got {type(root).__name__}")
        tensor_node(root)
        if root.creator is not None:
            stack.append(root.creator)
    while stack:
        fn = stack.pop()
        if id(fn) in seen_functions:
            continue
        seen_functions.add(id(fn))
        keep_alive.append(fn)
        node = f"f{id(fn)}"
        freed = fn.inputs is None
        label = fn.name + ("\n(freed)" if freed else "")
        lines.append(f'  {node} [shape=box, style="rounded,filled", fillcolor="#f3f3f3", label={_quote(label)}];')
        for ref in fn.outputs:
            out = ref()
            if out is not None:
                lines.append(f"  {node} -> {tensor_node(out)};")
        if freed:
            continue
        for x in fn.inputs:
            lines.append(f"  {tensor_node(x)} -> {node};")
            if x.creator is not None:
                stack.append(x.creator)
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(tensors: Tensor | Sequence[Tensor], path: str | Path, format: str | None = None,
           show_shapes: bool = True, names: dict[int, str] | None = None) -> Path:
    """Write the graph behind `tensors` to `path` as an SVG, PNG or PDF using Graphviz ``dot``.

    The format is the extension of `path` (``.svg``, ``.png`` or ``.pdf``, any case); `format`
    overrides it (then the file is written in that format whatever its name). Raises ValueError
    for any other format, RuntimeError when the ``dot`` program is not installed or fails.
    """
    path = Path(path)
    chosen = format if format is not None else path.suffix.lower().lstrip(".")
    if chosen not in FORMATS:
        suffix = path.suffix or "no extension"
        given = f"format={format!r}" if format is not None else f"{str(path)!r} ends in {suffix!r}"
        raise ValueError(f"render: format must be one of {', '.join(FORMATS)} (the file's extension, or format=...); "
                         f"got {given}")
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(
            "render: the Graphviz `dot` program was not found on PATH. Install Graphviz "
            "(e.g. `apt-get install graphviz` or `brew install graphviz`), or write the text "
            "of minigrad.viz.to_dot(...) to a .dot file and render it elsewhere."
        )
    result = subprocess.run([dot, f"-T{chosen}", "-o", str(path)], input=to_dot(tensors, show_shapes, names),
                            text=True, capture_output=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"render: dot exited with status {result.returncode}: {result.stderr.strip()}")
    return path
