"""minigrad.graphed on the CPU: a step recorded as a tape of NumPy calls and replayed on planned buffers,
bit for bit what the eager step does, or eager with the reason said."""
import gc
import tracemalloc

import numpy as np
import pytest

import minigrad as mg
from minigrad import capture, nn, optim
from minigrad.nn.utils import clamp_parameters_

OPTIMIZERS = {
    "SGD": lambda ps: optim.SGD(ps, lr=0.01, momentum=0.9),
    "RMSprop": lambda ps: optim.RMSprop(ps, lr=5e-5),
    "Adam": lambda ps: optim.Adam(ps, lr=1e-4, betas=(0.5, 0.9)),
}


def mlp(n_in, n_out, width=16, norm=False):
    layers = [nn.Linear(n_in, width), nn.ReLU()]
    if norm:
        layers.append(nn.BatchNorm1d(width))
    return nn.Sequential(*layers, nn.Linear(width, width), nn.ReLU(), nn.Linear(width, n_out))


class Toy:
    """A small WGAN step: critic updates with a gradient penalty (or clipping), a generator update, an EMA,
    data from a host sampler, noise from minigrad's generator and from a NumPy generator."""

    def __init__(self, optimizer="Adam", n_critic=2, penalty=True, clip=None, ema=False, norm=False, seed=0):
        mg.manual_seed(seed)
        self.D, self.G = mlp(2, 1), mlp(2, 2, norm=norm)
        self.od, self.og = OPTIMIZERS[optimizer](self.D.parameters()), OPTIMIZERS[optimizer](self.G.parameters())
        self.ema = mlp(2, 2, norm=norm) if ema else None
        if ema:
            self.ema.load_state_dict(self.G.state_dict())
        self.rng = np.random.default_rng(seed)
        self.data_rng = np.random.default_rng(seed + 1)
        self.n_critic, self.penalty, self.clip = n_critic, penalty, clip

    def sample(self, n):
        centers = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
        return (centers[self.data_rng.integers(0, 3, n)] + 0.1 * self.data_rng.standard_normal((n, 2))).astype(
            np.float32)

    def step(self):
        rng = capture.generator(self.rng)
        stats = {}
        for _ in range(self.n_critic):
            real = mg.as_tensor(capture.host(self.sample, 32))
            z = mg.as_tensor(rng.standard_normal((32, 2), dtype=np.float32))
            with mg.no_grad():
                fake = self.G(z)
            loss = self.D(fake).mean() - self.D(real).mean()
            if self.penalty:
                eps = mg.rand(32, 1)
                xh = (eps * real + (1 - eps) * fake).detach().requires_grad_()
                g, = mg.grad(self.D(xh).sum(), xh, create_graph=True)
                loss = loss + 0.1 * ((mg.sqrt((g * g).sum(axis=1) + 1e-10) - 1) ** 2).mean()
            for p, gp in zip(self.D.parameters(), mg.grad(loss, list(self.D.parameters()))):
                p.grad = gp
            self.od.step()
            if self.clip is not None:
                with mg.no_grad():
                    clamp_parameters_(self.D, -self.clip, self.clip)
            stats["d_loss"] = loss
        loss_g = -self.D(self.G(mg.randn(32, 2))).mean()
        for p, gp in zip(self.G.parameters(), mg.grad(loss_g, list(self.G.parameters()))):
            p.grad = gp
        self.og.step()
        if self.ema is not None:
            with mg.no_grad():
                for a, b in zip(self.ema.parameters(), self.G.parameters()):
                    a.lerp_(b, 0.1)
        stats["g_loss"] = loss_g
        return stats

    def arrays(self):
        modules = [self.D, self.G] + ([self.ema] if self.ema is not None else [])
        out = [t.numpy().copy() for m in modules for t in list(m.parameters()) + [b for _, b in m.named_buffers()]]
        states = [g.bit_generator.state["state"]["state"] for g in (self.rng, mg.backend.generator("cpu"))]
        return out + [np.array(states)]


def run(toy, steps, graph):
    """(the step, its returns, the arrays and generator states after it)."""
    mg.manual_seed(100)  # minigrad's generator is global: each run starts it afresh
    step = mg.graphed(toy.step) if graph else toy.step
    history = [{k: v.numpy().copy() for k, v in step().items()} for _ in range(steps)]
    return step, history, toy.arrays()


CASES = {
    "adam-penalty": dict(),
    "sgd-penalty-ema": dict(optimizer="SGD", ema=True),
    "rmsprop-clip": dict(optimizer="RMSprop", penalty=False, clip=0.01),
    "adam-batchnorm": dict(norm=True, n_critic=1),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_captured_step_replays_the_eager_steps_bit_for_bit(case):
    _, eager_history, eager_arrays = run(Toy(**CASES[case]), 12, graph=False)
    step, graph_history, graph_arrays = run(Toy(**CASES[case]), 12, graph=True)
    assert step.captured, step.eager_reason
    for a, b in zip(eager_history, graph_history):
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
    for a, b in zip(eager_arrays, graph_arrays):
        np.testing.assert_array_equal(a, b)


def test_warm_up_runs_eagerly_two_calls_record_and_the_replays_return_the_same_tensors():
    toy = Toy(n_critic=1)
    step = mg.graphed(toy.step, warmup=2)
    first, second, recorded = step(), step(), step()
    assert not step.captured and first["g_loss"] is not second["g_loss"] and "recording" in repr(step)
    captured = step()
    assert step.captured and "captured" in repr(step)
    again = step()
    assert again["g_loss"] is captured["g_loss"] and type(again["g_loss"].data) is np.ndarray
    assert recorded["g_loss"] is not captured["g_loss"] and type(recorded["g_loss"].data) is np.ndarray


def test_a_host_read_inside_the_step_keeps_it_eager_and_says_where():
    toy = Toy(n_critic=1)

    def step():
        stats = toy.step()
        if stats["g_loss"].item() > 1e9:  # a host read: a replay could not repeat this branch
            raise AssertionError
        return stats

    mg.manual_seed(100)
    graphed = mg.graphed(step)
    for _ in range(4):
        graphed()
    assert not graphed.captured
    assert "item" in graphed.eager_reason and "test_capture.py" in graphed.eager_reason
    _, _, eager_arrays = run(Toy(n_critic=1), 4, graph=False)
    for a, b in zip(eager_arrays, toy.arrays()):
        np.testing.assert_array_equal(a, b)


def test_a_step_returning_a_number_stays_eager():
    toy = Toy(n_critic=1)
    step = mg.graphed(lambda: (toy.step(), 1.5))
    for _ in range(3):
        step()
    assert not step.captured and "float" in step.eager_reason


def test_a_draw_from_an_unrecorded_generator_is_caught_by_the_check():
    toy, other = Toy(n_critic=1), Toy(n_critic=1)
    plain = np.random.default_rng(5)
    plain_other = np.random.default_rng(5)

    def step(t, r):
        stats = t.step()
        with mg.no_grad():
            t.G[0].weight.add_(mg.as_tensor(r.standard_normal(t.G[0].weight.shape).astype(np.float32)), alpha=1e-3)
        return stats

    mg.manual_seed(100)
    graphed = mg.graphed(lambda: step(toy, plain))
    for _ in range(4):
        graphed()
    assert not graphed.captured and "generator" in graphed.eager_reason
    toy_arrays = toy.arrays()
    mg.manual_seed(100)
    for _ in range(4):
        step(other, plain_other)
    for a, b in zip(toy_arrays, other.arrays()):
        np.testing.assert_array_equal(a, b)


def test_rebinding_a_parameter_after_capture_raises():
    toy = Toy(n_critic=1)
    step = mg.graphed(toy.step)
    for _ in range(5):
        step()
    assert step.captured
    weight = toy.D[0].weight
    weight.data = weight.data.copy()
    with pytest.raises(RuntimeError, match="rebound"):
        step()


def test_a_learning_rate_schedule_inside_the_step_advances_at_every_replay():
    def make():
        toy = Toy(n_critic=1)
        schedule = optim.lr_scheduler.LinearLR(toy.od, start_factor=1.0, end_factor=0.0, total_iters=8)

        def step():
            schedule.step()
            return toy.step()
        return toy, schedule, step
    (toy_e, sched_e, step_e), (toy_g, sched_g, step_g) = make(), make()
    mg.manual_seed(100)
    for _ in range(10):
        step_e()
    eager_arrays = toy_e.arrays()
    mg.manual_seed(100)
    graphed = mg.graphed(step_g)
    for _ in range(10):
        graphed()
    assert graphed.captured
    assert sched_g.last_epoch == sched_e.last_epoch and toy_g.od.param_groups[0]["lr"] == toy_e.od.param_groups[0]["lr"]
    for a, b in zip(eager_arrays, toy_g.arrays()):
        np.testing.assert_array_equal(a, b)


def test_steady_state_replays_allocate_nothing_but_the_documented_draws():
    toy = Toy(n_critic=2)
    step = mg.graphed(toy.step)
    for _ in range(6):
        step()
    assert step.captured
    # the host sampler (integers, the fancy index, the cast) and the NumPy draws it makes allocate; nothing else does
    assert set(step.replay.allocating) <= set(), step.replay.allocating
    gc.collect()
    tracemalloc.start()
    try:
        step()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(20):
            step()
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < 4096, (before, after)
    sampler_batch = 32 * 2 * 8 * 4  # the host sampler's own temporaries (float64 points, indices, the cast)
    assert peak - before < 4 * sampler_batch, peak - before


def test_the_planned_buffers_hold_no_more_than_the_eager_steps_peak():
    def make():
        mg.manual_seed(0)
        D = mlp(2, 1, width=128)
        opt = optim.Adam(D.parameters(), lr=1e-4)
        x = mg.randn(256, 2)

        def step():
            xh = x.detach().requires_grad_()
            g, = mg.grad(D(xh).sum(), xh, create_graph=True)
            loss = D(x).mean() + ((mg.sqrt((g * g).sum(axis=1)) - 1) ** 2).mean()
            for p, gp in zip(D.parameters(), mg.grad(loss, list(D.parameters()))):
                p.grad = gp
            opt.step()
            return loss
        return step
    eager = make()
    eager()
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        eager()
        eager_peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    step = mg.graphed(make())
    for _ in range(5):
        step()
    assert step.captured
    assert step.replay.nbytes <= 1.1 * eager_peak, (step.replay.nbytes, eager_peak)


def test_graphed_checks_its_arguments_and_sends_cuda_to_the_cuda_graph():
    with pytest.raises(ValueError, match="warmup"):
        mg.graphed(lambda: None, warmup=0)
    with pytest.raises(TypeError, match="callable"):
        mg.graphed(3)
    with pytest.raises(RuntimeError, match="CUDA"):
        mg.cuda.graphed(lambda: None, device="cpu")


def test_host_calls_run_at_their_place_in_every_replay():
    calls = []
    x = mg.zeros(4)

    def sampler():
        calls.append(len(calls))
        return np.full(4, float(len(calls)), np.float32)

    def step():
        return mg.as_tensor(capture.host(sampler)) + x

    graphed = mg.graphed(step, warmup=1)
    results = [graphed().numpy().copy() for _ in range(5)]
    assert graphed.captured
    assert len(calls) == 5  # once per call: the check after the capture copies the captured batch in
    np.testing.assert_array_equal(np.array(results)[:, 0], [1, 2, 3, 4, 5])
