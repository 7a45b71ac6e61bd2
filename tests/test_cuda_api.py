"""minigrad.cuda: availability, the errors of `graphed` without CUDA, capture on a GPU; the CPU-vs-CUDA sweep."""
import contextlib
import json
import os
import subprocess
import sys
import types

import numpy as np
import pytest

import minigrad
import minigrad.cuda
from minigrad import backend
from minigrad.cuda import _check_outputs
from minigrad.philox import Philox

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def step_noop():
    return None


def test_is_available_agrees_with_backend():
    assert minigrad.cuda.is_available() is backend.cuda_is_available()


def test_graphed_on_cpu_says_capture_needs_cuda():
    with pytest.raises(RuntimeError, match=r"needs CUDA tensors \(device='cuda'\)"):
        minigrad.cuda.graphed(step_noop, device="cpu")


def test_graphed_without_a_gpu_says_what_to_install(no_cuda):
    with pytest.raises(RuntimeError, match="needs a CUDA GPU with CuPy") as info:
        minigrad.cuda.graphed(step_noop)
    assert "pip install" in str(info.value) and "nvidia-smi" in str(info.value)
    assert ".[cuda13]" in str(info.value) and ".[cuda12]" in str(info.value)


def test_graphed_checks_its_arguments():
    with pytest.raises(ValueError, match="warmup must be an int >= 1"):
        minigrad.cuda.graphed(step_noop, warmup=0)
    with pytest.raises(ValueError, match="warmup must be an int >= 1"):
        minigrad.cuda.graphed(step_noop, warmup=True)
    with pytest.raises(TypeError, match="step_fn must be callable, got int"):
        minigrad.cuda.graphed(3)
    with pytest.raises(ValueError, match="unknown device"):
        minigrad.cuda.graphed(step_noop, device="tpu")


def test_step_outputs_must_be_cuda_tensors():
    cpu = minigrad.zeros(2, 3)
    with pytest.raises(RuntimeError, match=r"step_fn's result\[1\]\['loss'\] is a CPU Tensor of shape \(2, 3\)"):
        _check_outputs((None, {"loss": cpu}))
    with pytest.raises(RuntimeError, match="CPU ndarray"):
        _check_outputs(np.zeros(3))
    with pytest.raises(TypeError, match="is a float; a captured step must return Tensors"):
        _check_outputs(1.5)
    with pytest.raises(TypeError, match="is a float32"):
        _check_outputs([np.float32(1.0)])
    _check_outputs(None)
    _check_outputs(())


CPU_PATH = r"""
import sys

class RecordCupyImports:
    attempts = []
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "cupy":
            self.attempts.append(name)
        return None

sys.meta_path.insert(0, RecordCupyImports())
import numpy as np
import minigrad, minigrad.cuda, minigrad.nn as nn, minigrad.optim as optim
from minigrad.philox import Philox

gen = Philox(1)
net = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
opt = optim.Adam(net.parameters())
x = minigrad.tensor(gen.standard_normal((4, 2), np.float32)).requires_grad_()
g, = minigrad.grad(net(x).sum(), x, create_graph=True)
loss = ((g * g).sum(axis=1) - 1).mean() + net(minigrad.tensor(gen.random((4, 2), np.float32))).mean()
loss.backward()
opt.step()
gen.load_state_dict(gen.state_dict())
try:
    minigrad.cuda.graphed(lambda: loss, device="cpu")
except RuntimeError:
    pass
else:
    raise SystemExit("graphed(device='cpu') did not raise")
print("cupy import attempts:", RecordCupyImports.attempts, "cupy" in sys.modules)
"""


def test_cpu_path_never_imports_cupy():
    out = subprocess.run([sys.executable, "-c", CPU_PATH], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("cupy import attempts: [] False"), out.stdout


# ----------------------------------------------------------------------------- with a stand-in CuPy
class FakeCudaArray:
    """Looks like a CuPy array to minigrad.backend.device_of (has a dtype, is no numpy array)."""
    dtype, shape = np.dtype(np.float32), (1,)


@pytest.fixture
def fake_cupy(monkeypatch):
    """A stand-in for CuPy's streams, graphs and pools that logs the calls GraphedStep makes.

    It checks the call sequence only (what runs eagerly, what is captured, what is launched),
    not CUDA semantics: those need the GPU tests below.
    """
    log = []

    class Stream:
        def __init__(self, non_blocking=False):
            self.capturing = False

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def record(self):
            return object()

        def wait_event(self, event):
            log.append("wait")

        def begin_capture(self):
            self.capturing = True
            log.append("begin_capture")

        def end_capture(self):
            self.capturing = False
            log.append("end_capture")
            return types.SimpleNamespace(launch=lambda stream=None: log.append("launch"))

    @contextlib.contextmanager
    def using_allocator(allocator):
        log.append("private_pool")
        yield

    cuda = types.SimpleNamespace(Stream=Stream, using_allocator=using_allocator, get_current_stream=Stream,
                                 MemoryPool=lambda: types.SimpleNamespace(malloc=None))
    monkeypatch.setattr(backend, "_cupy", types.SimpleNamespace(cuda=cuda))
    return log


def test_graphed_runs_warmup_eagerly_then_captures_once_and_replays(fake_cupy):
    out, runs = FakeCudaArray(), []

    def step():
        runs.append(len(fake_cupy))
        return {"loss": out}

    graphed = minigrad.cuda.graphed(step, warmup=2)
    results = [graphed() for _ in range(5)]
    assert len(runs) == 3 and graphed.calls == 5  # two eager calls, one capture, then replays only
    assert all(r["loss"] is out for r in results) and results[2] is results[4] is graphed.outputs
    assert fake_cupy.count("begin_capture") == fake_cupy.count("end_capture") == 1
    assert fake_cupy.count("private_pool") == 3 and fake_cupy.count("launch") == 3
    assert fake_cupy.index("begin_capture") < fake_cupy.index("end_capture") < fake_cupy.index("launch")
    assert "captured" in repr(graphed)


def test_graphed_failure_during_capture_ends_it_and_says_why(fake_cupy):
    def step():
        if fake_cupy and fake_cupy[-1] == "begin_capture":
            raise ValueError("operation not permitted when stream is capturing")
        return FakeCudaArray()

    graphed = minigrad.cuda.graphed(step, warmup=1)
    graphed()
    with pytest.raises(RuntimeError, match="could not be captured.*not permitted.*may not synchronise"):
        graphed()
    assert fake_cupy.count("end_capture") == 1 and graphed.graph is None and graphed.calls == 1

    cpu_step = minigrad.cuda.graphed(lambda: minigrad.zeros(2), warmup=1)
    with pytest.raises(RuntimeError, match="is a CPU Tensor of shape"):
        cpu_step()


# ----------------------------------------------------------------------------- on a GPU
def make_run(seed: int = 0):
    """A tiny least-squares step on CUDA: Philox noise, grad, an in-place SGD update."""
    minigrad.manual_seed(seed)
    w = minigrad.randn(8, 1, device="cuda", requires_grad=True)
    gen = Philox(7, device="cuda")

    def step():
        x = minigrad.Tensor._make(gen.standard_normal((64, 8), np.float32), False)
        loss = ((x @ w - 1) ** 2).mean()
        g, = minigrad.grad(loss, w)
        w.data -= 0.05 * g.data
        return loss

    return w, gen, step


@pytest.mark.cuda
def test_captured_steps_equal_eager_steps():
    w_eager, gen_eager, step_eager = make_run()
    eager = [step_eager().item() for _ in range(6)]
    w_graph, gen_graph, step = make_run()
    graphed = minigrad.cuda.graphed(step, warmup=2)
    captured = [graphed().item() for _ in range(6)]
    assert graphed.graph is not None and graphed.calls == 6
    assert len(set(captured[2:])) == 4  # every replay draws fresh noise
    np.testing.assert_allclose(captured, eager, rtol=1e-5)
    np.testing.assert_allclose(w_graph.numpy(), w_eager.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(gen_graph.state_dict()["counter"], gen_eager.state_dict()["counter"])


@pytest.mark.cuda
def test_captured_run_is_reproducible_from_its_seed():
    runs = []
    for _ in range(2):
        w, _, step = make_run()
        graphed = minigrad.cuda.graphed(step, warmup=1)
        for _ in range(5):
            graphed()
        runs.append(w.numpy())
    np.testing.assert_array_equal(runs[0], runs[1])


@pytest.mark.cuda
def test_host_sync_inside_the_step_is_a_clear_error():
    w, _, step = make_run()
    graphed = minigrad.cuda.graphed(lambda: step().item(), warmup=1)
    with pytest.raises(TypeError, match="a captured step must return Tensors"):
        graphed()
    graphed = minigrad.cuda.graphed(lambda: (step().item(), w)[1], warmup=1)
    graphed()
    with pytest.raises(RuntimeError, match="could not be captured into a CUDA graph"):
        graphed()


# ----------------------------------------------------------------------------- the sweep benchmark
@pytest.fixture
def bench_sweep(monkeypatch):
    monkeypatch.syspath_prepend(os.path.join(ROOT, "benchmarks"))
    import bench_sweep

    return bench_sweep


def test_crossover_interpolates_in_log_space(bench_sweep):
    batches = [64, 256, 1024, 4096]
    found = bench_sweep.crossover(batches, [1.0, 2.0, 8.0, 32.0], [4.0, 4.0, 4.0, 4.0])
    assert found["batch"] == 512  # log ratio 0.69 at 256 and -0.69 at 1024: halfway in log(batch)
    assert bench_sweep.crossover(batches, [9.0] * 4, [1.0] * 4) == {
        "batch": None, "note": "CUDA faster at every batch (from 64)"}
    assert bench_sweep.crossover(batches, [1.0] * 4, [9.0] * 4)["note"] == "CPU faster at every batch (up to 4096)"


def test_plot_marks_the_crossover(bench_sweep, tmp_path):
    batches, widths = [64, 256, 1024], [128, 512]
    rows = [{"width": w, "batch": b, "cpu_ms": b * w / 1e4, "cuda_ms": 5.0} for w in widths for b in batches]
    crossovers = {str(w): bench_sweep.crossover(batches, [r["cpu_ms"] for r in rows if r["width"] == w], [5.0] * 3)
                  for w in widths}
    path = tmp_path / "sweep.png"
    bench_sweep.plot(str(path), batches, widths, rows, crossovers)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sweep_writes_json_and_png(bench_sweep, tmp_path):
    bench_sweep.main(["--batches", "32", "8", "--widths", "16", "--iters", "2", "--out", str(tmp_path)])
    payload = json.loads((tmp_path / "sweep.json").read_text())
    assert [(r["width"], r["batch"]) for r in payload["rows"]] == [(16, 8), (16, 32)]
    assert all(r["cpu_ms"] > 0 for r in payload["rows"])
    if not minigrad.cuda_is_available():
        assert payload["cuda"].startswith("skipped") and payload["crossover"] == {}
        assert all(r["cuda_ms"] is None for r in payload["rows"])
    assert (tmp_path / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
