"""The GPU check behind scripts/gpu_check.sh: each part in its own process, under its own time limit.

Parts, in order (each writes ``OUTDIR/<part>.json``; a part that fails or runs out of time is
recorded as such and the next one starts, so a partial run still reports):

1. ``env``         versions, GPU model, whether CuPy sees the GPU
2. ``compile``     every kernel of minigrad.kernels compiled for the device's own arch, unpatched, and loaded
                   (scripts/compile_cuda_kernels.py --device): a compile error shows in seconds, not after
                   CuPy's first-use compilation in the tests, and CuPy's kernel cache is warm for the parts after
3. ``tests``       the CUDA-marked tests (``pytest -m cuda``) with the small ``gpu`` hypothesis profile
4. ``optimizers``  a captured step (``minigrad.cuda.graphed``) against eager steps, for every optimizer
5. ``workloads``   workloads A, B, C: minigrad eager and captured, PyTorch eager and CUDA graph (ms/iter)
6. ``launches``    kernel launches per iteration of A: minigrad's captured graph nodes, PyTorch eager kernels
7. ``sweep``       the CPU-vs-CUDA sweep (benchmarks/bench_sweep.py --quick) with its PNG

``--dry-run`` runs every part against the CuPy stand-in (minigrad/testing/cupy_standin.py) on the CPU, with
tiny sizes: it checks the script itself, not a GPU. ``results.json`` gathers every part's result.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: part -> seconds allowed (the sum stays under 8 minutes with the orchestration around it)
LIMITS = {"env": 30, "compile": 60, "tests": 140, "optimizers": 40, "workloads": 130, "launches": 30, "sweep": 50}
DRY_LIMITS = {"env": 30, "compile": 60, "tests": 120, "optimizers": 60, "workloads": 300, "launches": 420,
              "sweep": 60}


def use_standin() -> None:
    sys.path.insert(0, str(ROOT))
    from minigrad.testing import cupy_standin

    cupy_standin.install()


def write(out: Path, part: str, payload: dict) -> None:
    (out / f"{part}.json").write_text(json.dumps(payload, indent=1, default=str))
    print(json.dumps({part: payload}, default=str)[:2000], flush=True)


def sync_fn(torch=None):
    import minigrad

    cp = minigrad.backend.xp_for("cuda")

    def sync():
        cp.cuda.Device().synchronize() if hasattr(cp.cuda.Device(), "synchronize") else None
        if torch is not None and torch.cuda.is_available():
            torch.cuda.synchronize()

    return sync


def timed(fn, iters: int, warmup: int, sync) -> float:
    """Median ms per call after warm-up (host clock around a synchronised call)."""
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def try_torch():
    try:
        import torch

        return torch if torch.cuda.is_available() else None
    except ImportError:
        return None


# ----------------------------------------------------------------------------- parts
def part_env(args) -> dict:
    import numpy as np

    import minigrad

    info = {"python": platform.python_version(), "numpy": np.__version__, "dry_run": args.dry_run,
            "cuda_available": minigrad.cuda_is_available()}
    cp = minigrad.backend.xp_for("cuda") if info["cuda_available"] else None
    if cp is not None:
        info["cupy"] = cp.__version__
        props = cp.cuda.runtime.getDeviceProperties(0)
        info["gpu"] = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    torch = try_torch()
    info["torch"] = torch.__version__ if torch is not None else None
    return info


def part_compile(args) -> dict:
    """scripts/compile_cuda_kernels.py --device (its own process: it compiles in parallel); --list on a dry run."""
    script = str(ROOT / "scripts" / "compile_cuda_kernels.py")
    cmd = [sys.executable, script, "--list"] if args.dry_run else \
        [sys.executable, script, "--device", "--jobs", str(min(os.cpu_count() or 1, 16))]
    proc = subprocess.run(cmd, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True)
    (args.out / "compile.log").write_text(proc.stdout + proc.stderr)
    return {"rc": proc.returncode, "summary": (proc.stdout.strip().splitlines() or [""])[-1]}


def part_tests(args) -> dict:
    env = dict(os.environ, HYPOTHESIS_PROFILE="gpu", MPLBACKEND="Agg", PYTHONPATH=str(ROOT))
    backend = "standin" if args.dry_run else "cupy"
    targets = ["tests/test_cuda_api.py", "tests/test_device_clean.py"] if args.dry_run else ["tests"]
    cmd = [sys.executable, "-m", "pytest", "-q", "-m", "cuda", f"--cuda-backend={backend}", "-p", "no:cacheprovider",
           f"--junitxml={args.out / 'tests.xml'}", *targets]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    (args.out / "tests.log").write_text(proc.stdout + proc.stderr)
    return {"rc": proc.returncode, "summary": (proc.stdout.strip().splitlines() or [""])[-1]}


def make_optimizer(name: str, params):
    from minigrad import optim

    return {"sgd": lambda: optim.SGD(params, lr=0.05),
            "sgd-momentum": lambda: optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True),
            "rmsprop": lambda: optim.RMSprop(params, lr=1e-2),
            "adam": lambda: optim.Adam(params, lr=1e-2, betas=(0.5, 0.9)),
            "adam-amsgrad": lambda: optim.Adam(params, lr=1e-2, amsgrad=True, weight_decay=1e-3)}[name]()


def optimizer_run(name: str, captured: bool, steps: int = 8):
    """Parameters after `steps` steps of a small regression, eager or as replays of one captured step."""
    import numpy as np

    import minigrad
    import minigrad.nn as nn
    from minigrad.philox import Philox

    minigrad.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1)).to("cuda")
    opt = make_optimizer(name, list(net.parameters()))
    gen = Philox(11, device="cuda")

    def step():
        x = minigrad.as_tensor(gen.standard_normal((32, 4), np.float32))
        loss = ((net(x) - 1) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    run = minigrad.cuda.graphed(step, warmup=2) if captured else step
    for _ in range(steps):
        run()
    return [p.numpy() for p in net.parameters()]


def part_optimizers(args) -> dict:
    import numpy as np

    results = {}
    for name in ("sgd", "sgd-momentum", "rmsprop", "adam", "adam-amsgrad"):
        try:
            eager, graph = optimizer_run(name, False), optimizer_run(name, True)
            diff = max(float(np.abs(a - b).max() / (np.abs(a).max() + 1e-12)) for a, b in zip(eager, graph))
            results[name] = {"max_rel_diff": diff, "equal": diff < 1e-5}
        except Exception as exc:  # noqa: BLE001 - the report says what failed
            results[name] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
    return results


class CapturedWorkload:
    """A bench_workloads.Workload whose iteration reads its data from device buffers refilled in place."""

    def __init__(self, name: str):
        import minigrad as mg
        from bench_workloads import Workload

        self.w = w = Workload(name, "minigrad", "cuda")
        cp = mg.backend.xp_for("cuda")
        self.sets = [tuple(cp.asarray(a) for a in w._arrays()) for _ in range(8)]
        shapes = self.sets[0]
        self.inputs = [[mg.as_tensor(cp.empty_like(a)) for a in shapes] for _ in range(w.n_critic + 1)]
        self.k = 0
        original = w._arrays
        feed = iter(())

        def arrays():
            return next(feed)

        def step():
            nonlocal feed
            feed = iter([(t[0], t[1], t[2]) for t in self.inputs])
            w.iteration()

        w._arrays = arrays
        self.original = original
        self._tensor_patch(mg)
        self.graph = mg.cuda.graphed(step, warmup=2)

    @staticmethod
    def _tensor_patch(mg):
        """Inside the workload, mg.tensor(device array) wraps it (the refilled buffer) instead of copying."""
        import bench_workloads

        def tensor(data, dtype=None, device=None, requires_grad=False):
            if isinstance(data, mg.Tensor):
                return data
            return mg.tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)

        bench_workloads.mg = type("mg_proxy", (), {"__getattr__": lambda self, n: getattr(mg, n),
                                                    "tensor": staticmethod(tensor)})()

    def iteration(self):
        for slot in self.inputs:
            source = self.sets[self.k % 8]
            self.k += 1
            for t, a in zip(slot, source):
                t.copy_(a)
        self.graph()


def torch_graphed_iteration(torch, workload):
    """PyTorch's own CUDA-graph replay of one iteration (static inputs refilled in place; capturable Adam)."""
    w = workload
    for opt in (w.opt_g, w.opt_d):
        for group in opt.param_groups:
            group["capturable"] = True
    real, z, eps = (torch.from_numpy(a).cuda() for a in w._arrays())
    static = [(real.clone(), z.clone(), eps.clone()) for _ in range(w.n_critic + 1)]
    feed = iter(())
    w._arrays = lambda: next(feed)
    original_from_numpy = torch.from_numpy

    def step():
        nonlocal feed
        feed = iter(static)
        w.iteration()

    torch.from_numpy = lambda a: a  # the static device tensors pass through .to(dev) unchanged
    try:
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(3):
                step()
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            step()
    finally:
        torch.from_numpy = original_from_numpy
    return graph.replay


def part_workloads(args) -> dict:
    from bench_workloads import Workload

    torch = try_torch()
    sync = sync_fn(torch)
    names = ["A"] if args.dry_run else ["A", "B", "C"]
    iters, warmup = (1, 1) if args.dry_run else (20, 3)
    rows = {}
    for name in names:
        row = {}
        contenders = {"minigrad_eager": lambda: Workload(name, "minigrad", "cuda").iteration,
                      "minigrad_captured": lambda: CapturedWorkload(name).iteration}
        if torch is not None:
            contenders["torch_eager"] = lambda: Workload(name, "torch", "cuda", torch).iteration
            contenders["torch_graph"] = lambda: torch_graphed_iteration(torch, Workload(name, "torch", "cuda", torch))
        for key, build in contenders.items():
            try:
                row[key + "_ms"] = timed(build(), iters, warmup, sync)
            except Exception as exc:  # noqa: BLE001
                row[key + "_error"] = f"{type(exc).__name__}: {exc}"[:500]
        if "torch_eager_ms" in row:
            for key in ("minigrad_eager", "minigrad_captured"):
                if key + "_ms" in row:
                    row[key + "_over_torch_eager"] = row[key + "_ms"] / row["torch_eager_ms"]
            if "torch_graph_ms" in row and "minigrad_captured_ms" in row:
                row["minigrad_captured_over_torch_graph"] = row["minigrad_captured_ms"] / row["torch_graph_ms"]
        rows[name] = row
    return rows


def count_graph_nodes(graph) -> int | None:
    """Nodes of a captured cupy.cuda.Graph (the stand-in's num_nodes, or CuPy's debug dot file)."""
    if hasattr(graph, "num_nodes"):
        return graph.num_nodes
    import tempfile

    try:
        with tempfile.NamedTemporaryFile(suffix=".dot") as f:
            graph.debug_dot_graph(f.name)
            text = Path(f.name).read_text()
        return sum(1 for line in text.splitlines() if "[" in line and "->" not in line and "label" in line)
    except Exception:  # noqa: BLE001 - not every CuPy build offers it
        return None


def part_launches(args) -> dict:
    import minigrad
    from bench_workloads import Workload

    out = {}
    cp = minigrad.backend.xp_for("cuda")
    if hasattr(cp, "record"):  # the stand-in counts every launching call of an eager iteration too
        w = Workload("A", "minigrad", "cuda")
        w.iteration()
        with cp.record() as rec:
            w.iteration()
        out["minigrad_eager_launches_per_iteration (stand-in)"] = rec.n_launches
        out["minigrad_eager_launches_by_operation (stand-in)"] = dict(rec.launches.most_common())
        write(args.out, "launches", out)  # a partial result, should the capture run out of time
    captured = CapturedWorkload("A")
    for _ in range(3):
        captured.iteration()
    out["minigrad_graph_nodes_per_iteration"] = count_graph_nodes(captured.graph.graph)
    torch = try_torch()
    if torch is not None:
        w = Workload("A", "torch", "cuda", torch)
        w.iteration()
        torch.cuda.synchronize()
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            w.iteration()
            torch.cuda.synchronize()
        kernels = [e for e in prof.events() if e.device_type.name == "CUDA"]
        out["torch_eager_kernels_per_iteration"] = len(kernels)
    return out


def part_sweep(args) -> dict:
    cmd = [sys.executable, str(ROOT / "benchmarks" / "bench_sweep.py"), "--out", str(args.out)]
    cmd += ["--batches", "32", "64", "--widths", "16", "--iters", "1"] if args.dry_run else ["--quick"]
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    if args.dry_run:
        cmd = [sys.executable, "-c", "import sys, runpy; sys.path[:0] = [%r, %r]; from minigrad.testing import cupy_standin; "
               "cupy_standin.install(); sys.argv = %r; runpy.run_path(%r, run_name='__main__')"
               % (str(ROOT), str(ROOT / "benchmarks"), cmd[1:], cmd[1])]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    (args.out / "sweep.log").write_text(proc.stdout + proc.stderr)
    return {"rc": proc.returncode, "png": (args.out / "sweep.png").exists()}


PARTS = {"env": part_env, "compile": part_compile, "tests": part_tests, "optimizers": part_optimizers,
         "workloads": part_workloads, "launches": part_launches, "sweep": part_sweep}


# ----------------------------------------------------------------------------- orchestration
def run_part(args) -> None:
    if args.dry_run:
        use_standin()
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
    result = PARTS[args.part](args)
    write(args.out, args.part, result)
    if isinstance(result, dict) and result.get("rc", 0) != 0:
        raise SystemExit(f"{args.part}: its command failed (rc {result['rc']}); see {args.part}.log")


def orchestrate(args) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    limits = DRY_LIMITS if args.dry_run else LIMITS
    results, started = {}, time.perf_counter()
    log = open(args.out / "gpu_check.log", "a")
    for part in args.parts:
        start = time.perf_counter()
        cmd = [sys.executable, __file__, str(args.out), "--part", part] + (["--dry-run"] if args.dry_run else [])
        print(f"== {part} (limit {limits[part]} s)", flush=True)
        log.write(f"== {part}\n")
        log.flush()
        try:
            proc = subprocess.run(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, timeout=limits[part],
                                  env=dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1"))
            status = "ok" if proc.returncode == 0 else f"failed (rc {proc.returncode})"
        except subprocess.TimeoutExpired:
            status = f"timed out after {limits[part]} s"
        seconds = round(time.perf_counter() - start, 1)
        path = args.out / f"{part}.json"
        results[part] = {"status": status, "seconds": seconds,
                         "result": json.loads(path.read_text()) if path.exists() else None}
        print(f"   {part}: {status} in {seconds} s", flush=True)
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    (args.out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    log.close()
    print(json.dumps(results, default=str)[-3000:])
    return 0 if all(r["status"] == "ok" for k, r in results.items() if k != "total_seconds") else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder for the log and the results")
    parser.add_argument("--dry-run", action="store_true", help="every part on the CuPy stand-in, tiny sizes (no GPU)")
    parser.add_argument("--parts", nargs="+", choices=list(PARTS), default=list(PARTS))
    parser.add_argument("--part", choices=list(PARTS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.out = args.out.resolve()
    if args.part:
        run_part(args)
        return 0
    return orchestrate(args)


if __name__ == "__main__":
    sys.exit(main())
