"""Draw a computation graph with Graphviz.

`to_dot` walks the graph behind one or more tensors, from the outputs back through
each `creator` Function to the leaves, and returns DOT text: a box per Function (its
name) and an ellipse per tensor (its shape and dtype; with ``show_values=True`` also
the numbers in a small tensor and its gradient, as micrograd's figures show them).
Gradients built with ``create_graph=True`` are ordinary tensors, so the double-backward
graph of a gradient penalty draws the same way; ``groups`` frames the part of a graph
behind chosen tensors (say, the forward pass apart from what ``grad`` recorded).
`render` hands the text to Graphviz's ``dot``.
"""
from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from minigrad.autograd import _reachable
from minigrad.tensor import Tensor

FORMATS = ("svg", "png", "pdf")
DIRECTIONS = ("LR", "TB", "RL", "BT")  # Graphviz's rankdir: left to right, top to bottom, ...
VALUES_UP_TO = 4  # show_values prints the numbers of tensors with at most this many elements
GROUP_COLORS = ("#eaf2e3", "#fbeee0", "#e9e4f5", "#f9e3e3")  # light fills for up to four groups, then reused

TensorOrTensors = Tensor | Sequence[Tensor]


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _numbers(array: np.ndarray) -> str:
    """A small array's values to 4 significant digits: "0.4621", "1" or "[1, -0.5]"."""
    text = ", ".join(f"{value:.4g}" for value in array.ravel().tolist())
    return text if array.ndim == 0 else f"[{text}]" if array.ndim == 1 else f"{array.shape}: [{text}]"


def _tensor_label(t: Tensor, show_shapes: bool, name: str | None, show_values: bool,
                  gradient: Tensor | None, compact: bool) -> str:
    lines = [name] if name else []
    small = t.size <= VALUES_UP_TO
    if show_shapes and not (show_values and small and t.ndim == 0):
        lines.append(f"{tuple(t.shape)} {t.dtype}")
    if show_values and small:
        lines.append("data " + _numbers(t.numpy()))
        if gradient is not None and gradient.size <= VALUES_UP_TO:
            lines.append("grad " + _numbers(gradient.numpy()))
    if t.creator is None and not (compact and t.requires_grad):  # compact: the fill marks such leaves
        lines.append("leaf, requires_grad" if t.requires_grad else "constant")
    return "\n".join(lines) or ("leaf" if t.creator is None else "tensor")


def _roots(tensors: TensorOrTensors, what: str) -> list[Tensor]:
    roots = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    for root in roots:
        if not isinstance(root, Tensor):
            raise TypeError(f"to_dot: expected Tensors{what}, got {type(root).__name__}")
    return roots


def to_dot(tensors: TensorOrTensors, show_shapes: bool = True, names: dict[int, str] | None = None, *,
           show_values: bool = False, grads: Mapping[int, Tensor] | None = None, rankdir: str = "LR",
           groups: Mapping[str, TensorOrTensors] | None = None, compact: bool = False) -> str:
    """Graphviz DOT text of the graph that produced `tensors`.

    Edges run in the direction of the computation: input tensor -> Function -> output.

    - `names` maps ``id(tensor)`` to a label (e.g. ``{id(w): "w"}``).
    - ``show_values=True`` adds the data of every tensor with at most `VALUES_UP_TO` elements,
      and its gradient: ``grads[id(tensor)]`` when given, else the tensor's ``.grad`` if set.
    - `rankdir` lays the graph out left to right (``"LR"``) or top to bottom (``"TB"``, ...).
    - `groups` maps a caption to tensors: the Functions behind them (and the tensors those
      make) are framed together under the caption, each group in its own colour. A Function
      behind several groups' tensors goes to the first of them. For example
      ``{"forward": d, "recorded by grad(create_graph=True)": g}`` for an input gradient g of d.
    - ``compact=True`` draws each unnamed intermediate tensor as the label of the edges leaving
      its Function (its shape), and a leaf that requires grad by its fill alone: a graph half as
      tall and narrower, for a figure at page width. Roots, named tensors and, with
      `show_values`, small tensors keep their nodes.

    A Function whose graph was freed by a backward pass is drawn, marked "freed", without its inputs.
    """
    roots = _roots(tensors, "")
    if rankdir not in DIRECTIONS:
        raise ValueError(f"to_dot: rankdir must be one of {', '.join(DIRECTIONS)}, got {rankdir!r}")
    names = names or {}
    grads = grads or {}
    group_of: dict[int, int] = {}  # id(Function) -> index of its group
    captions = list(groups or {})
    for index, caption in enumerate(captions):
        assert groups is not None
        for fn in _reachable(_roots(groups[caption], f" in groups[{caption!r}]"), allow_freed=True):
            group_of.setdefault(id(fn), index)

    body: list[str] = []  # nodes outside any group, and every edge
    grouped: list[list[str]] = [[] for _ in captions]
    seen_tensors: set[int] = set()
    keep_alive: list = []  # ids are only unique while their objects live
    root_ids = {id(r) for r in roots}

    def elided(t: Tensor) -> bool:
        return (compact and t.creator is not None and id(t) not in names and id(t) not in root_ids
                and not (show_values and t.size <= VALUES_UP_TO))

    def tensor_node(t: Tensor) -> str:
        node = f"t{id(t)}"
        if id(t) not in seen_tensors:
            seen_tensors.add(id(t))
            keep_alive.append(t)
            style = ', style=filled, fillcolor="#dde8f7"' if t.creator is None and t.requires_grad else ""
            gradient = grads.get(id(t), t.grad) if show_values else None
            label = _quote(_tensor_label(t, show_shapes, names.get(id(t)), show_values, gradient, compact))
            group = group_of.get(id(t.creator)) if t.creator is not None else None
            (body if group is None else grouped[group]).append(f"  {node} [shape=ellipse, label={label}{style}];")
        return node

    for root in roots:
        tensor_node(root)
    for fn in _reachable(roots, allow_freed=True):
        keep_alive.append(fn)
        node = f"f{id(fn)}"
        freed = fn.inputs is None
        label = fn.name + ("\n(freed)" if freed else "")
        group = group_of.get(id(fn))
        fill = "#f3f3f3" if group is None else "white"
        (body if group is None else grouped[group]).append(
            f'  {node} [shape=box, style="rounded,filled", fillcolor="{fill}", label={_quote(label)}];')
        for ref in fn.outputs:
            out = ref()
            if out is not None and not elided(out):
                body.append(f"  {node} -> {tensor_node(out)};")
        if not freed:
            for x in fn.inputs:
                if elided(x):
                    shape = f' [label="{tuple(x.shape)}"]' if show_shapes else ""
                    body.append(f"  f{id(x.creator)} -> {node}{shape};")
                else:
                    body.append(f"  {tensor_node(x)} -> {node};")

    lines = ["digraph minigrad {", f"  rankdir={rankdir};", '  node [fontname="Helvetica", fontsize=10];']
    if compact:
        lines += ['  edge [fontname="Helvetica", fontsize=9];', "  nodesep=0.2; ranksep=0.3;"]
    for index, (caption, nodes) in enumerate(zip(captions, grouped)):
        color = GROUP_COLORS[index % len(GROUP_COLORS)]
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f'    label={_quote(caption)}; fontname="Helvetica"; fontsize=11; style="rounded,filled"; '
                     f'fillcolor="{color}"; color="#999999";')
        lines.extend("  " + node for node in nodes)
        lines.append("  }")
    lines.extend(body)
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(tensors: TensorOrTensors, path: str | Path, format: str | None = None,
           show_shapes: bool = True, names: dict[int, str] | None = None, *, show_values: bool = False,
           grads: Mapping[int, Tensor] | None = None, rankdir: str = "LR",
           groups: Mapping[str, TensorOrTensors] | None = None, compact: bool = False,
           dpi: int | None = None) -> Path:
    """Write the graph behind `tensors` to `path` as an SVG, PNG or PDF using Graphviz ``dot``.

    The format is the extension of `path` (``.svg``, ``.png`` or ``.pdf``, any case); `format`
    overrides it (then the file is written in that format whatever its name). The other
    arguments are `to_dot`'s; `dpi` sets a PNG's resolution (Graphviz's default is 96).
    Raises ValueError for any other format, RuntimeError when the ``dot`` program is not
    installed or fails.
    """
    path = Path(path)
    chosen = format if format is not None else path.suffix.lower().lstrip(".")
    if chosen not in FORMATS:
        suffix = path.suffix or "no extension"
        given = f"format={format!r}" if format is not None else f"{str(path)!r} ends in {suffix!r}"
        raise ValueError(f"render: format must be one of {', '.join(FORMATS)} (the file's extension, or format=...); "
                         f"got {given}")
    text = to_dot(tensors, show_shapes, names, show_values=show_values, grads=grads, rankdir=rankdir, groups=groups,
                  compact=compact)
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(
            "render: the Graphviz `dot` program was not found on PATH. Install Graphviz "
            "(e.g. `apt-get install graphviz` or `brew install graphviz`), or write the text "
            "of minigrad.viz.to_dot(...) to a .dot file and render it elsewhere."
        )
    command = [dot, f"-T{chosen}", "-o", str(path)] + ([f"-Gdpi={dpi}"] if dpi is not None else [])
    result = subprocess.run(command, input=text, text=True, capture_output=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"render: dot exited with status {result.returncode}: {result.stderr.strip()}")
    return path
