"""Module API: registration, traversal, modes, gradients, devices/dtypes, state dicts, hooks, repr."""
from collections import OrderedDict

import numpy as np
import pytest

import minigrad
from minigrad import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.scale = nn.Parameter(minigrad.ones(4))
        self.register_buffer("count", minigrad.zeros(()))
        self.register_buffer("scratch", minigrad.zeros(2), persistent=False)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.fc(x)) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Linear(4, 2, bias=False)

    def forward(self, x):
        return self.head(self.block(x))


def test_registration_and_traversal():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["block.scale", "block.fc.weight", "block.fc.bias", "head.weight"]
    assert [n for n, _ in net.named_buffers()] == ["block.count", "block.scratch"]
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.fc", "block.act", "head"]
    assert list(net.children()) == [net.block, net.head]
    assert len(list(net.modules())) == 5
    assert [n for n, _ in net.named_parameters(recurse=False)] == []
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    assert net.head.bias is None


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, nn.Tanh(), shared)
    assert len(list(seq.parameters())) == 2
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]


def test_attribute_assignment_rules():
    lin = nn.Linear(2, 3)
    with pytest.raises(TypeError, match="weight"):
        lin.weight = minigrad.zeros(3, 2)
    lin.bias = None
    assert lin.bias is None and "bias" not in dict(lin.named_parameters())
    lin.extra = nn.Parameter(minigrad.zeros(1))
    assert "extra" in dict(lin.named_parameters())
    del lin.extra
    assert "extra" not in dict(lin.named_parameters())
    with pytest.raises(AttributeError, match="nope"):
        lin.nope
    with pytest.raises(KeyError, match="already exists"):
        lin.register_buffer("forward", minigrad.zeros(1))
    with pytest.raises(TypeError):
        lin.register_buffer("buf", np.zeros(1))


def test_parameter_shares_tensor_data_and_ops_return_plain_tensors():
    t = minigrad.randn(2, 3)
    p = nn.Parameter(t)
    assert p.data is t.data and p.requires_grad and p.is_leaf
    y = p * 2
    assert type(y) is minigrad.Tensor and y.requires_grad
    assert repr(p).startswith("Parameter containing:\ntensor(")


def test_train_eval_recursive():
    net = Net()
    assert net.training and net.block.fc.training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError):
        net.train("no")


def test_zero_grad():
    net = Net()
    net(minigrad.randn(5, 3)).sum().backward()
    grads = {n: p.grad for n, p in net.named_parameters()}
    assert all(g is not None for g in grads.values())
    net.zero_grad(set_to_none=False)
    for n, p in net.named_parameters():
        assert p.grad is not None and not p.grad.data.any()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_to_keeps_parameter_identity_and_casts_floating_only(device):
    net = Net()
    net.block.register_buffer("steps", minigrad.zeros((), dtype=minigrad.int64))
    params = list(net.parameters())
    net(minigrad.randn(2, 3)).sum().backward()
    assert net.to(device, dtype=minigrad.float64) is net
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    assert all(p.dtype == np.float64 and p.device == device for p in net.parameters())
    assert all(p.grad.dtype == np.float64 and p.grad.device == device for p in net.parameters())
    assert net.block.count.dtype == np.float64 and net.block.steps.dtype == np.int64
    assert net.block.steps.device == device
    net.float()
    assert all(p.dtype == np.float32 for p in net.parameters())


def test_state_dict_contents():
    net = Net()
    state = net.state_dict()
    assert isinstance(state, OrderedDict)
    assert list(state) == ["block.scale", "block.count", "block.fc.weight", "block.fc.bias", "head.weight"]
    assert all(not v.requires_grad and type(v) is minigrad.Tensor for v in state.values())
    assert state["head.weight"].data is net.head.weight.data  # detached, sharing data as PyTorch
    assert net.state_dict(keep_vars=True)["head.weight"] is net.head.weight


def test_load_state_dict_round_trip_accepts_tensors_and_arrays():
    src, dst = Net(), Net()
    src.block.count.data[...] = 7
    params = list(dst.parameters())
    arrays = {k: v.numpy().astype(np.float64) for k, v in src.state_dict().items()}
    result = dst.load_state_dict(arrays)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert [id(p) for p in dst.parameters()] == [id(p) for p in params]
    for (k, a), (_, b) in zip(src.state_dict().items(), dst.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert b.dtype == np.float32
    dst.load_state_dict(Net().state_dict())  # Tensors
    x = minigrad.randn(3, 3)
    dst.load_state_dict(src.state_dict())
    np.testing.assert_array_equal(src(x).numpy(), dst(x).numpy())


def test_load_state_dict_strict_errors_list_every_problem():
    net = Net()
    state = dict(net.state_dict())
    del state["head.weight"]
    del state["block.count"]
    state["bogus"] = np.zeros(1)
    state["block.fc.weight"] = np.zeros((3, 3))
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(state)
    message = str(info.value)
    assert 'Missing key(s) in state_dict: "block.count", "head.weight".' in message
    assert 'Unexpected key(s) in state_dict: "bogus".' in message
    assert "size mismatch for block.fc.weight: copying a param with shape (3, 3)" in message
    assert "shape in current model is (4, 3)" in message
    before = net.block.fc.bias.numpy().copy()
    with pytest.raises(RuntimeError, match="size mismatch"):
        net.load_state_dict(state, strict=False)  # shapes are checked even when not strict
    np.testing.assert_array_equal(net.block.fc.bias.numpy(), before)  # nothing was half-loaded
    del state["block.fc.weight"]
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["block.count", "block.fc.weight", "head.weight"]
    assert result.unexpected_keys == ["bogus"]


def test_forward_pre_hook_can_replace_input_and_be_removed():
    lin = nn.Identity()
    calls = []

    def hook(module, args):
        calls.append(module)
        return args[0] * 2

    handle = lin.register_forward_pre_hook(hook)
    assert lin(minigrad.ones(1)).item() == 2.0 and calls == [lin]
    handle.remove()
    assert lin(minigrad.ones(1)).item() == 1.0 and len(calls) == 1


def test_repr():
    net = nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(0.2), nn.Sequential(nn.Flatten(), nn.Tanh()))
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): LeakyReLU(negative_slope=0.2)\n"
        "  (2): Sequential(\n"
        "    (0): Flatten(start_dim=1, end_dim=-1)\n"
        "    (1): Tanh()\n"
        "  )\n"
        ")"
    )


def test_sequential_and_module_list():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b)
    seq.append(c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    assert list(seq[1:]) == [b, c]
    with pytest.raises(IndexError):
        seq[3]
    named = nn.Sequential(OrderedDict(enc=a, act=b))
    assert [n for n, _ in named.named_children()] == ["enc", "act"] and named.enc is a
    x = minigrad.randn(4, 2)
    np.testing.assert_allclose(seq(x).numpy(), c(b(a(x))).numpy())
    ml = nn.ModuleList([a, b]).extend([c])
    assert len(ml) == 3 and ml[2] is c and [n for n, _ in ml.named_parameters()][0] == "0.weight"


def test_apply_visits_children_first():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "ReLU", "Block", "Linear", "Net"]


def test_base_module_forward_is_required():
    with pytest.raises(NotImplementedError, match="Module"):
        nn.Module()(minigrad.ones(1))


def test_deepcopy_gives_independent_parameters():
    import copy

    net = Net()
    clone = copy.deepcopy(net)
    assert [n for n, _ in clone.named_parameters()] == [n for n, _ in net.named_parameters()]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in clone.parameters())
    clone.head.weight.data[...] = 0
    assert net.head.weight.data.any()
