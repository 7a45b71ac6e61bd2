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


def label_of(dot: str, name: str) -> str:
    """The label text of the node whose label starts with `name`."""
    match = re.search(r'label="(' + re.escape(name) + r'\\n[^"]*)"', dot)
    assert match, f"no node labelled {name!r} in\n{dot}"
    return match[1]


def test_show_values_labels_data_and_grad_of_small_tensors():
    a = minigrad.tensor(2.0, dtype=np.float64, requires_grad=True)
    big = minigrad.tensor(np.arange(5.0), requires_grad=True)
    y = minigrad.tanh(a * 0.25) + (big * a).sum()
    y.backward(retain_graph=True)
    dot = viz.to_dot(y, names={id(a): "a", id(big): "big", id(y): "y"}, show_values=True)
    expected_grad = (1 - np.tanh(0.5) ** 2) * 0.25 + 10.0
    assert label_of(dot, "a") == f"a\\ndata 2\\ngrad {expected_grad:.4g}\\nleaf, requires_grad"
    assert label_of(dot, "big") == "big\\n(5,) float64\\nleaf, requires_grad"  # too big for values
    assert label_of(dot, "y").startswith("y\\ndata ") and "grad" not in label_of(dot, "y")  # no .grad kept on y
    with_grads = viz.to_dot(y, names={id(y): "y"}, show_values=True, grads={id(y): minigrad.ones_like(y)})
    assert label_of(with_grads, "y").endswith("\\ngrad 1")
    assert "data" not in viz.to_dot(y)  # off by default


def test_rankdir_and_its_check():
    d = mlp_graph()[3]
    assert "rankdir=TB;" in viz.to_dot(d, rankdir="TB") and "rankdir=LR;" in viz.to_dot(d)
    with pytest.raises(ValueError, match="rankdir must be one of LR, TB, RL, BT, got 'up'"):
        viz.to_dot(d, rankdir="up")


def test_groups_frame_the_forward_graph_apart_from_what_create_graph_recorded():
    x, w1, w2, d = mlp_graph()
    g, = minigrad.grad(d.sum(), x, create_graph=True)
    penalty = ((g * g).sum() - 1) ** 2
    dot = viz.to_dot([d, penalty], groups={"forward": d, "recorded": g}, names={id(g): "g"})
    clusters = re.findall(r"subgraph cluster_(\d) \{\n(.*?)\n  \}", dot, re.S)
    assert [index for index, _ in clusters] == ["0", "1"]
    forward, recorded = (functions_in(body) for _, body in clusters)
    assert sorted(forward) == ["LinearFunction", "LinearFunction", "Relu"]
    assert "ScaleBy" in recorded and "MatMul" in recorded and "Relu" not in recorded
    assert 'label="forward"' in dot and 'label="recorded"' in dot
    assert '"g\\n' in clusters[1][1]  # a tensor sits in its creator's group
    outside = dot.split("\n  }\n")[-1]
    assert "PowConst" in functions_in(outside)  # the penalty's own ops are in no group
    with pytest.raises(TypeError, match=r"expected Tensors in groups\['x'\], got ndarray"):
        viz.to_dot(penalty, groups={"x": [np.ones(2)]})


def test_compact_draws_unnamed_intermediates_as_edge_labels():
    x, w1, w2, d = mlp_graph()
    full, compact = viz.to_dot(d, names={id(w1): "w1"}), viz.to_dot(d, names={id(w1): "w1"}, compact=True)
    assert full.count("shape=ellipse") == 6 and compact.count("shape=ellipse") == 4  # x, w1, w2 and the root d
    assert "[label=\"(4, 5)\"]" in compact  # the two hidden (4, 5) tensors, as edge labels
    assert compact.count('[label="(4, 5)"]') == 2
    assert '"w1\\n(5, 3) float32"' in compact  # a leaf that requires grad: the fill says so
    assert functions_in(full) == functions_in(compact)


def test_backward_order_lists_the_graph_in_walk_order():
    x, w1, w2, d = mlp_graph()
    order = minigrad.autograd.backward_order([d])
    assert [fn.name for fn in order] == ["LinearFunction", "Relu", "LinearFunction"]
    assert order == minigrad.autograd.backward_order(d) and order[0] is d.creator
    assert minigrad.autograd.backward_order(x) == []
    with pytest.raises(TypeError, match=r"backward_order: outputs\[0\] is a ndarray"):
        minigrad.autograd.backward_order([np.ones(2)])
    d.sum().backward()
    with pytest.raises(RuntimeError, match="already freed"):
        minigrad.autograd.backward_order(d)
