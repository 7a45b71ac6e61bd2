"""minigrad.viz: DOT text of first- and second-order graphs, and rendering with Graphviz."""
import re
import shutil

import numpy as np
import pytest

import minigrad
from minigrad import viz


def mlp_graph():
    minigrad.manual_seed(0)
    x = minigrad.randn(4, 3, requires_grad=True)
    w1, w2 = minigrad.randn(5, 3, requires_grad=True), minigrad.randn(1, 5, requires_grad=True)
    d = minigrad.linear(minigrad.relu(minigrad.linear(x, w1)), w2)
    return x, w1, w2, d


def functions_in(dot: str) -> list:
    return re.findall(r'shape=box, [^\]]*label="([A-Za-z]+)', dot)


def test_dot_names_every_op_and_shape():
    x, w1, w2, d = mlp_graph()
    loss = (d * d).mean()
    dot = viz.to_dot(loss, names={id(w1): "w1"})
    assert dot.startswith("digraph minigrad {") and dot.rstrip().endswith("}")
    ops = functions_in(dot)
    assert ops.count(minigrad.relu(x).creator.name) == 1
    assert ops.count(minigrad.linear(x, w1).creator.name) == 2
    assert "(4, 3) float32" in dot and "(5, 3) float32" in dot and "(4, 1) float32" in dot and "() float32" in dot
    assert '"w1\\n(5, 3) float32\\nleaf, requires_grad"' in dot
    nodes = set(re.findall(r"^\s+([tf]\d+) \[", dot, re.M))
    edges = re.findall(r"^\s+([tf]\d+) -> ([tf]\d+);", dot, re.M)
    assert edges and all(a in nodes and b in nodes for a, b in edges)
    assert all(a[0] != b[0] for a, b in edges)  # bipartite: tensor -> Function -> tensor


def test_without_shapes():
    x, w1, w2, d = mlp_graph()
    dot = viz.to_dot(d, show_shapes=False)
    assert "float32" not in dot and "(4, 3)" not in dot
    assert functions_in(dot)


def test_double_backward_graph():
    x, w1, w2, d = mlp_graph()
    g, = minigrad.grad(d.sum(), x, create_graph=True)
    penalty = ((minigrad.sqrt((g * g).sum(axis=1)) - 1) ** 2).mean()
    dot = viz.to_dot(penalty, names={id(x): "x", id(w1): "w1", id(w2): "w2"})
    ops = functions_in(dot)
    assert "ScaleBy" in ops  # relu's gradient, recorded because the upstream gradient depends on w2
    assert ops.count(minigrad.sqrt(g * g).creator.name) == 1
    assert '"w1\\n(5, 3) float32' in dot and '"w2\\n(1, 5) float32' in dot
    # a relu MLP's input gradient is piecewise constant in x: the penalty graph never reaches x
    assert '"x\\n' not in dot


def test_freed_graph_is_marked():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = (minigrad.exp(x) * 2).sum()
    y.backward()
    assert "(freed)" in viz.to_dot(y)


def test_to_dot_of_a_leaf_and_bad_input():
    x = minigrad.tensor(np.ones((2, 2)), requires_grad=True)
    assert "(2, 2) float64" in viz.to_dot(x)
    with pytest.raises(TypeError, match="to_dot: expected Tensors"):
        viz.to_dot([np.ones(2)])


def test_render_without_dot_raises_clearly(monkeypatch, tmp_path):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="Graphviz `dot` program was not found"):
        viz.render(mlp_graph()[3], tmp_path / "g.svg")
    with pytest.raises(ValueError, match="format must be one of"):
        viz.render(mlp_graph()[3], tmp_path / "g.gif", format="gif")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
@pytest.mark.parametrize("fmt, magic", [("svg", b"<svg"), ("png", b"\x89PNG")])
def test_render(tmp_path, fmt, magic):
    path = viz.render(mlp_graph()[3], tmp_path / f"graph.{fmt}", format=fmt)
    assert magic in path.read_bytes()[:400]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
@pytest.mark.parametrize("name, magic", [("graph.svg", b"<svg"), ("graph.PNG", b"\x89PNG"), ("graph.pdf", b"%PDF")])
def test_render_takes_the_format_from_the_extension(tmp_path, name, magic):
    path = viz.render(mlp_graph()[3], tmp_path / name)
    assert path == tmp_path / name and magic in path.read_bytes()[:400]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_render_format_overrides_the_extension(tmp_path):
    path = viz.render(mlp_graph()[3], tmp_path / "graph.out", format="png")
    assert path.read_bytes().startswith(b"\x89PNG")
    assert viz.render(mlp_graph()[3], tmp_path / "g.svg", format="pdf").read_bytes().startswith(b"%PDF")


def test_render_refuses_an_unknown_extension(tmp_path, monkeypatch):
    monkeypatch.setattr(viz.shutil, "which", lambda name: "/usr/bin/dot")  # checked before dot ever runs
    with pytest.raises(ValueError, match=r"format must be one of svg, png, pdf .*graph.jpg' ends in '.jpg'"):
        viz.render(mlp_graph()[3], tmp_path / "graph.jpg")
    with pytest.raises(ValueError, match=r"ends in 'no extension'"):
        viz.render(mlp_graph()[3], tmp_path / "graph")
    assert not list(tmp_path.iterdir())
