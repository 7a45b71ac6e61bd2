"""Timing harness shared by the benchmark scripts: every contender in its own long-lived process, taking turns.

**Own-process turns (the method behind every claimed ratio).** Each contender (minigrad's own step,
wgan's `Trainer.train_step`, PyTorch eager, JAX jit, the NumPy GEMM floor, or one of those from another
source tree) is built in its own Python process, as a user runs it: that process imports only its own
engine, so no other library's threads or memory state sit beside it. The parent starts the processes,
then asks them for one timed call each per *turn*, over a pipe, in an order rotated from turn to turn
(and reversed every other cycle). A contender's time is the median over turns of its wall time; a ratio
a/b is the median over turns of a's time over b's time *in the same turn*, so a load that changes from
second to second slows both alike. Before each call the parent waits ``gap`` seconds with every process
idle, long enough for the BLAS/OpenMP threads of the previous call to stop spinning (OpenBLAS spins up to
2^28 cycles, about 0.1 s, after a call): a contender never shares the cores with another one's threads.

**Threads, pinned alike.** At n threads every process runs on the same CPU set (the first n CPUs this
process may use, or ``--cpus``) with ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS`` = n,
``XLA_FLAGS`` asking XLA for n intra-op threads, then `minigrad.set_num_threads(n)` (threadpoolctl) and
`torch.set_num_threads(n)` in the processes that load them. Each process reports its PID, CPU set and BLAS
pools; a row keeps them. The BLAS kernel choice (``OPENBLAS_CORETYPE``) is never changed: `machine()`
reports it.

**Interleaved in one process (`compare`, `compare_many`)**: the older method, kept only as a labelled
extra (``--interleaved``). Inside one process OpenBLAS's spinning threads starve PyTorch's OpenMP pool and
the engines share one allocator, so its ratios are never claimed.

A contender is made in its process by a *factory* ``"module:function"`` (importable from ``benchmarks/``)
called with its keyword arguments and ``threads``; it returns a `Contender`. An optional engine that is not
installed raises `Unavailable` (see `require`): the process reports it and the contender is skipped.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
OWN_PROCESS = "own-process turns"
INTERLEAVED = "interleaved in one process (extra; never a claimed ratio)"


# ----------------------------------------------------------------------------- the machine
def machine() -> dict:
    """CPU model, cores, the BLAS library and its kernel (threadpoolctl), versions, load average."""
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    info: dict = {"cpu": cpu, "cores": os.cpu_count(), "cpus_allowed": sorted(os.sched_getaffinity(0)),
                  "python": platform.python_version(), "numpy": np.__version__,
                  "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(auto)"),
                  "malloc_env": {k: v for k, v in os.environ.items() if k.startswith("MALLOC_")},
                  "loadavg_1_5_15min": [round(v, 2) for v in os.getloadavg()]}  # > cores: the machine was busy
    try:
        from threadpoolctl import threadpool_info

        pools = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        info["blas_kernel"] = [f"{i.get('internal_api')} {i.get('architecture')}" for i in pools]
        info["blas"] = [f"{i.get('internal_api')} {i.get('version')} kernel {i.get('architecture')} "
                        f"({i.get('threading_layer')}, {os.path.basename(i.get('filepath', ''))})" for i in pools]
    except ImportError:
        pass
    for package in ("torch", "jax", "jaxlib"):  # versions without importing them into this process
        try:
            info[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    return info


def print_machine() -> dict:
    """Print (and return) the CPU model, the BLAS library and kernel, and the versions."""
    info = machine()
    blas = "; ".join(info.get("blas", ["(threadpoolctl missing)"]))
    print(f"CPU: {info['cpu']} ({info['cores']} cores); BLAS: {blas}; "
          f"OPENBLAS_CORETYPE={info['OPENBLAS_CORETYPE']}; numpy {info['numpy']}; torch {info.get('torch', '-')}; "
          f"jax {info.get('jax', '-')}; load average {info['loadavg_1_5_15min']}", flush=True)
    return info


def add_thread_option(parser) -> None:
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="thread counts to run every case at (default: 1 2)")


def add_process_options(parser) -> None:
    """The options every own-process script shares."""
    add_thread_option(parser)
    parser.add_argument("--cpus", type=int, nargs="+", default=None,
                        help="CPUs to pin to (n threads use the first n; default: those this process may use)")
    parser.add_argument("--gap", type=float, default=None,
                        help="idle seconds before each timed call (default: 0.02 at 1 thread, 0.15 at more)")
    parser.add_argument("--baseline", default=None,
                        help="a second source tree (a path, or a git revision checked out as a temporary "
                             "worktree): its minigrad/wgan contenders run in their own processes too, labelled "
                             "'...@baseline', and every ratio against them is printed")
    parser.add_argument("--out", type=Path, default=None, help="JSON file (default: benchmarks/results/<name>.json)")
    parser.add_argument("--interleaved", action="store_true",
                        help="also time the contenders interleaved in ONE process (the old method; an extra, "
                             "labelled as such, never a claimed ratio)")


# ----------------------------------------------------------------------------- in the contender's process
class Unavailable(RuntimeError):
    """An optional engine (torch, jax) is not installed: the contender is skipped, with this reason."""


def require(module: str):
    """Import an optional engine, or raise `Unavailable` naming it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise Unavailable(f"{module} is not installed ({exc})") from None


@dataclass
class Contender:
    """What a factory returns, in the contender's own process.

    cases       case name -> one timed call (one training iteration, one forward+backward, ...)
    parameters  the model's parameters as NumPy arrays, named alike in every engine (the agreement check)
    info        anything worth keeping with the row (the Trainer's capture mode, the JAX backend, ...), or a
                function returning it, read after the warm-up
    """

    cases: dict[str, Callable[[], object]]
    parameters: Callable[[], dict[str, np.ndarray]] | None = None
    info: dict | Callable[[], dict] = field(default_factory=dict)

    def describe(self) -> dict:
        return self.info() if callable(self.info) else self.info


@dataclass
class Spec:
    """One contender process: ``factory(threads=threads, **kwargs)`` imported with ``root``'s packages."""

    label: str
    factory: str
    kwargs: dict = field(default_factory=dict)
    root: Path = REPO
    warmup: int = 2
    snapshot: Path | None = None  # save parameters() after the first call (from the fresh state) here
    sys_path: tuple[str, ...] = ()  # extra import paths before root (the tests' fake modules)


def thread_env(threads: int) -> dict[str, str]:
    """The environment that pins every threading library of a process to ``threads`` threads."""
    multi = "true" if threads > 1 else "false"
    return {"OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
            "XLA_FLAGS": f"--xla_cpu_multi_thread_eigen={multi} intra_op_parallelism_threads={threads}"}


def pinned_cpus(threads: int, cpus: Sequence[int] | None = None) -> list[int]:
    """The first ``threads`` CPUs of ``cpus`` (default: those this process may use): every process's set."""
    available = sorted(cpus if cpus is not None else os.sched_getaffinity(0))
    if threads > len(available):
        raise ValueError(f"{threads} threads need {threads} CPUs; only {available} are available")
    return available[:threads]


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _peak_rss_mib() -> float:
    """This process's RSS high-water mark (VmHWM). Not ru_maxrss: Linux carries the parent's
    high-water mark into a child's ru_maxrss across fork and exec."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024


def _blas_pools() -> list[str]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [f"{i.get('internal_api')} {i.get('architecture')} x{i.get('num_threads')}" for i in threadpool_info()]


def _engines_loaded() -> dict[str, str]:
    """Where this process's engines come from: proof of its source tree, and that it loaded no other engine."""
    return {name: getattr(sys.modules[name], "__file__", None) or "?" for name in ("minigrad", "wgan", "torch", "jax")
            if name in sys.modules}


def _memory_run(contender: Contender, case: str, iters: int, peak_at: int, minutes: float | None) -> dict:
    """Peak RSS growth (MiB) over the post-setup baseline after ``peak_at`` and after all iterations, and
    RSS sampled 20 times; stops early (and says so) after ``minutes`` of wall time."""
    fn = contender.cases[case]
    base, samples, peak_early = _rss_mib(), [], None
    every, start, done = max(1, iters // 20), time.perf_counter(), 0
    for i in range(1, iters + 1):
        fn()
        done = i
        if i == peak_at:
            peak_early = _peak_rss_mib() - base
        if i % every == 0:
            samples.append((i, round(_rss_mib(), 2)))
            print(f"   memory {case}: iteration {i}, RSS {samples[-1][1]} MiB", file=sys.stderr, flush=True)
        if minutes is not None and time.perf_counter() - start > 60 * minutes and i >= peak_at:
            break
    late = [rss for i, rss in samples if i >= done // 10]
    return {"iterations": done, "iterations_asked": iters, "stopped_by_time_limit": done < iters,
            "baseline_mib": round(base, 2), "peak_rss_mib": round(_peak_rss_mib(), 2),
            f"peak_growth_mib_at_{peak_at}": peak_early, "peak_growth_mib": _peak_rss_mib() - base,
            "rss_drift_after_10pct_mib": late[-1] - late[0] if late else 0.0,
            "rss_range_after_10pct_mib": max(late) - min(late) if late else 0.0,
            "seconds": time.perf_counter() - start, "rss_samples": samples}


def child_main(spec_json: str) -> None:
    """The contender's process: build it, warm up, then answer one timed call per request line."""
    spec = json.loads(spec_json)
    os.sched_setaffinity(0, spec["cpus"])
    proto = os.fdopen(os.dup(1), "w", buffering=1)  # the pipe to the parent; prints go to stderr
    os.dup2(2, 1)

    def send(message: dict) -> None:
        proto.write(json.dumps(message) + "\n")
        proto.flush()

    for path in reversed(spec["sys_path"]):
        sys.path.insert(0, path)
    module, name = spec["factory"].split(":")
    try:
        contender = getattr(importlib.import_module(module), name)(threads=spec["threads"], **spec["kwargs"])
    except Unavailable as exc:
        send({"skip": str(exc)})
        return
    try:  # minigrad's own pin (threadpoolctl), when this process loaded a BLAS through it
        import minigrad

        minigrad.set_num_threads(spec["threads"])
    except (ImportError, AttributeError):
        pass
    if spec.get("memory"):
        send({"memory": _memory_run(contender, **spec["memory"]), "pid": os.getpid(), "info": contender.describe()})
        return
    if spec["snapshot"]:
        if contender.parameters is None:
            raise TypeError(f"{spec['factory']}: an agreement snapshot needs Contender.parameters")
        next(iter(contender.cases.values()))()
        np.savez(spec["snapshot"], **contender.parameters())
    for fn in contender.cases.values():
        for _ in range(spec["warmup"]):
            fn()
    send({"ready": True, "pid": os.getpid(), "cpus": sorted(os.sched_getaffinity(0)), "blas": _blas_pools(),
          "cases": list(contender.cases), "info": contender.describe(), "modules": _engines_loaded()})
    for line in sys.stdin:
        fn = contender.cases[json.loads(line)["case"]]
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        end = time.perf_counter()
        send({"wall": end - start, "cpu": time.process_time() - cpu, "start": start, "end": end})


# ----------------------------------------------------------------------------- in the parent
class ContenderProcess:
    """One contender's long-lived process, started with its threads and CPU set pinned."""

    def __init__(self, spec: Spec, threads: int, cpus: Sequence[int], memory: dict | None = None):
        self.spec, self.threads = spec, threads
        payload = {"factory": spec.factory, "kwargs": spec.kwargs, "threads": threads, "cpus": list(cpus),
                   "warmup": spec.warmup, "snapshot": str(spec.snapshot) if spec.snapshot else None,
                   "sys_path": list(spec.sys_path), "memory": memory}
        env = dict(os.environ, PYTHONPATH=str(spec.root), **thread_env(threads))
        self.proc = subprocess.Popen([sys.executable, str(BENCH_DIR / "harness.py"), "--child", json.dumps(payload)],
                                     cwd=spec.root, env=env, text=True, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE)
        self.hello: dict = {}
        self.skipped: str | None = None

    def receive(self) -> dict:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            rc = self.proc.wait()
            raise RuntimeError(f"contender {self.spec.label!r} ({self.spec.factory} {self.spec.kwargs}) exited with "
                               f"status {rc} (its traceback is above, on stderr)")
        return json.loads(line)

    def start(self) -> ContenderProcess:
        """Wait until it is built and warmed up (or says its engine is not installed)."""
        self.hello = self.receive()
        if "skip" in self.hello:
            self.skipped = self.hello["skip"]
            self.proc.wait()
        return self

    @property
    def pid(self) -> int:
        return self.hello.get("pid", self.proc.pid)

    def call(self, case: str) -> dict:
        """One timed call of ``case``: {"wall", "cpu", "start", "end"} (seconds; perf_counter clock)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"case": case}) + "\n")
        self.proc.stdin.flush()
        return self.receive()

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait()


def turn_order(labels: Sequence[str], turn: int) -> list[str]:
    """The order of the contenders in ``turn``: rotated by one each turn, reversed every other cycle."""
    shift = turn % len(labels)
    order = list(labels[shift:]) + list(labels[:shift])
    if (turn // len(labels)) % 2:
        order.reverse()
    return order


def same_turn_ratio(turns: Sequence[dict[str, float]], a: str, b: str) -> dict:
    """The median over turns of a's time over b's time in the same turn, with its quartiles."""
    ratios = [t[a] / t[b] for t in turns if a in t and b in t and t[b] > 0]
    if not ratios:
        raise ValueError(f"no turn timed both {a!r} and {b!r}")
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
    return {"median": statistics.median(ratios), "q1": quartiles[0], "q3": quartiles[2], "n": len(ratios)}


def take_turns(processes: dict[str, ContenderProcess], case: str, turns: int, gap: float = 0.0) -> list[dict]:
    """``turns`` turns of one call each of ``case``; per turn {label: call reply}."""
    labels = list(processes)
    record = []
    for turn in range(turns):
        got = {}
        for label in turn_order(labels, turn):
            if gap:
                time.sleep(gap)
            got[label] = processes[label].call(case)
        record.append(got)
    return record


def default_gap(threads: int) -> float:
    return 0.02 if threads == 1 else 0.15


def summarize(title: str, case: str, record: list[dict], processes: dict[str, ContenderProcess],
              reference: str | None, pairs: Iterable[tuple[str, str]] = (), echo: bool = True) -> dict:
    """A row: each contender's median wall and CPU time, the same-turn ratios of every pair, the PIDs."""
    labels = list(processes)
    walls = [{label: t[label]["wall"] for label in labels} for t in record]
    cpus = [{label: t[label]["cpu"] for label in labels} for t in record]
    row: dict = {"case": title, "case_key": case, "method": OWN_PROCESS, "turns": len(record),
                 "pids": {label: processes[label].pid for label in labels},
                 "cpus": {label: processes[label].hello.get("cpus") for label in labels},
                 "blas_pools": {label: processes[label].hello.get("blas") for label in labels},
                 "modules": {label: processes[label].hello.get("modules") for label in labels},
                 "info": {label: p.hello["info"] for label, p in processes.items() if p.hello.get("info")}}
    for label in labels:
        row[f"{label}_ms"] = 1e3 * statistics.median(w[label] for w in walls)
        row[f"{label}_cpu_ms"] = 1e3 * statistics.median(c[label] for c in cpus)
    for a in labels:
        for b in labels:
            if a != b:
                ratio = same_turn_ratio(walls, a, b)
                row[f"ratio_{a}/{b}"] = ratio["median"]
                row[f"ratio_{a}/{b}_quartiles"] = [ratio["q1"], ratio["q3"]]
                row[f"cpu_ratio_{a}/{b}"] = same_turn_ratio(cpus, a, b)["median"]
    if echo:
        print(format_line(title, row, labels, reference, pairs), flush=True)
    return row


def format_line(title: str, row: dict, labels: Sequence[str], reference: str | None,
                pairs: Iterable[tuple[str, str]] = ()) -> str:
    parts = []
    for label in labels:
        ratio = f" ({row[f'ratio_{label}/{reference}']:.2f}x)" if reference in labels and label != reference else ""
        parts.append(f"{label} {row[label + '_ms']:8.2f} ms{ratio}")
    parts += [f"{a}/{b} {row[f'ratio_{a}/{b}']:.2f}x" for a, b in pairs if a in labels and b in labels]
    return f"{title:<44} " + "  ".join(parts)


def start_processes(specs: Sequence[Spec], threads: int, cpus: Sequence[int] | None = None,
                    skipped: dict[str, str] | None = None) -> dict[str, ContenderProcess]:
    """Start every spec's process at ``threads`` threads on the same CPU set (all at once: building and
    warming up is not timed). Those whose engine is not installed, or that fail while being built (traceback
    on stderr), are left out, the reason put in ``skipped`` and printed."""
    pinned = pinned_cpus(threads, cpus)
    launched = [(spec, ContenderProcess(spec, threads, pinned)) for spec in specs]  # built side by side: not timed
    started = {}
    for spec, process in launched:
        try:
            process.start()
        except RuntimeError as exc:  # a contender that cannot start is reported, loudly, and left out
            print(f"   {spec.label}: FAILED: {exc}", flush=True)
            if skipped is not None:
                skipped[spec.label] = f"FAILED: {exc}"
            continue
        if process.skipped:
            print(f"   {spec.label}: skipped: {process.skipped}", flush=True)
            if skipped is not None:
                skipped[spec.label] = process.skipped
        else:
            started[spec.label] = process
    return started


def run_turns(specs: Sequence[Spec], cases: dict[str, str], threads: int, turns: int,
              reference: str | None = None, pairs: Iterable[tuple[str, str]] = (), gap: float | None = None,
              cpus: Sequence[int] | None = None) -> list[dict]:
    """Start one process per spec, then per case (key -> title) ``turns`` turns; one row per case.

    The processes live through all the cases; every row records the turns, gap, threads and PIDs."""
    skipped: dict[str, str] = {}
    processes = start_processes(specs, threads, cpus, skipped)
    gap = default_gap(threads) if gap is None else gap
    rows = []
    try:
        if len(processes) < 1:
            return rows
        for case, case_title in cases.items():
            record = take_turns(processes, case, turns, gap)
            row = summarize(f"{case_title}, {threads} thr", case, record, processes, reference, pairs)
            row.update(threads=threads, gap_s=gap, skipped=skipped,
                       loadavg_after=[round(v, 2) for v in os.getloadavg()])
            rows.append(row)
    finally:
        for process in processes.values():
            process.close()
    return rows


def run_memory(spec: Spec, case: str, iters: int, peak_at: int, threads: int = 1, cpus: Sequence[int] | None = None,
               minutes: float | None = None) -> dict | None:
    """Run ``iters`` iterations of one contender in a fresh process; its RSS summary (None: its engine is not
    installed, or it failed; the reason is printed)."""
    memory = {"case": case, "iters": iters, "peak_at": peak_at, "minutes": minutes}
    process = ContenderProcess(spec, threads, pinned_cpus(threads, cpus), memory=memory)
    try:
        hello = process.receive()
    except RuntimeError as exc:  # reported, loudly, and left out (as a contender that cannot start)
        print(f"   memory {spec.label}: FAILED: {exc}", flush=True)
        return None
    process.proc.wait()
    if "skip" in hello:
        print(f"   memory {spec.label}: skipped: {hello['skip']}", flush=True)
        return None
    return dict(hello["memory"], pid=hello["pid"], info=hello.get("info"))


def agreement(reference: Path, other: Path) -> float:
    """Max over parameters of max|a - b| / max|b| between two `Spec.snapshot` files (b: the reference)."""
    with np.load(reference) as ref, np.load(other) as got:
        missing = set(ref.files) ^ set(got.files)
        if missing:
            raise ValueError(f"agreement: the snapshots name different parameters: {sorted(missing)}")
        worst = 0.0
        for name in ref.files:
            a, b = got[name], ref[name]
            if a.shape != b.shape:
                raise ValueError(f"agreement: {name} has shape {a.shape} against the reference's {b.shape}")
            worst = max(worst, float(np.abs(a - b).max() / (np.abs(b).max() + 1e-12)))
    return worst


# ----------------------------------------------------------------------------- source trees
def source_tree(where: str, into: Path) -> Path:
    """A path to a source tree as given, or a git revision of this repository checked out under ``into``."""
    path = Path(where)
    if path.is_dir():
        return path.resolve()
    target = into / where.replace("/", "_")
    done = subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(target), where],
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"--baseline {where}: neither a directory nor a git revision ({done.stderr.strip()})")
    return target


def remove_tree(path: Path) -> None:
    subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(path)], capture_output=True)


# ----------------------------------------------------------------------------- interleaved (extra)
def median_time(fn: Callable[[], object], iters: int, sync: Callable[[], None] = lambda: None) -> float:
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def pin_threads(n: int, torch=None) -> None:
    """n BLAS/OpenMP threads for NumPy (minigrad.set_num_threads) and n intra-op threads for torch, in this
    process (the interleaved extra)."""
    import minigrad

    minigrad.set_num_threads(n)
    if torch is not None:
        torch.set_num_threads(n)
    print(f"--- {n} thread{'s' if n > 1 else ''} (minigrad.set_num_threads({n}), torch.set_num_threads({n}))",
          flush=True)


def compare(name: str, ours: Callable, theirs: Callable | None, iters: int = 20, warmup: int = 3,
            rounds: int = 3, sync: Callable[[], None] = lambda: None) -> dict:
    """Time `ours` (minigrad) against `theirs` (PyTorch, or None), call by call interleaved in this process
    (`compare_many`): an extra, never a claimed ratio."""
    many = compare_many(name, {"minigrad": ours, "torch": theirs}, iters=iters, warmup=warmup, rounds=rounds,
                        sync=sync, echo=False)
    row = {"case": name, "method": INTERLEAVED, "minigrad_ms": many["minigrad_ms"], "rounds": rounds,
           "iters_per_round": iters}
    if theirs is not None:
        row["torch_ms"], row["ratio"] = many["torch_ms"], many["ratio_minigrad/torch"]
    torch_part = f"{row['torch_ms']:10.3f} ms   ratio {row['ratio']:.2f}x" if "ratio" in row else "   (no torch)"
    print(f"[interleaved] {row['case']:<48} minigrad {row['minigrad_ms']:10.3f} ms   torch {torch_part}", flush=True)
    return row


def compare_many(name: str, contenders: dict[str, Callable | None], reference: str | None = "torch", iters: int = 20,
                 warmup: int = 3, rounds: int = 3, sync: Callable[[], None] = lambda: None,
                 extra_ratios: tuple = (), echo: bool = True) -> dict:
    """Time every contender interleaved call by call *in this process* (the labelled extra).

    `rounds` x `iters` turns in `turn_order`. A contender's time is the median over rounds of its
    per-round median; the ratio of a to b is the median over all turns of a's time over b's in the same
    turn. Never a claimed ratio: the engines' threads and allocators share this process."""
    labels = [label for label, fn in contenders.items() if fn is not None]
    calls = {label: fn for label, fn in contenders.items() if fn is not None}
    for _ in range(warmup):
        for label in labels:
            calls[label]()
    sync()
    turns: list[dict[str, float]] = []
    for turn in range(rounds * iters):
        got = {}
        for label in turn_order(labels, turn):
            start = time.perf_counter()
            calls[label]()
            sync()
            got[label] = time.perf_counter() - start
        turns.append(got)
    row: dict = {"case": name, "method": INTERLEAVED, "rounds": rounds, "iters_per_round": iters}
    for label in labels:
        per_round = [statistics.median([t[label] for t in turns[r * iters:(r + 1) * iters]]) for r in range(rounds)]
        row[f"{label}_ms"] = 1e3 * statistics.median(per_round)
    for a in labels:
        for b in labels:
            if a != b:
                row[f"ratio_{a}/{b}"] = same_turn_ratio(turns, a, b)["median"]
    if echo:
        print("[interleaved] " + format_line(name, row, labels, reference, extra_ratios), flush=True)
    return row


def try_torch(threads: int | None = None):
    """The torch module (threads pinned to the core count) or None when it isn't installed."""
    try:
        import torch
    except ImportError:
        print("torch is not installed: timing minigrad alone (pip install torch==2.13.0 for the comparison)")
        return None
    torch.set_num_threads(threads or os.cpu_count() or 1)
    return torch


# ----------------------------------------------------------------------------- results
def save(script: str, rows: list[dict], extra: dict | None = None, path: Path | str | None = None) -> str:
    """Write ``path`` (default benchmarks/results/<script>.json) with the machine, the command and the rows."""
    if path is None:
        path = BENCH_DIR / "results" / f"{script}.json"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"machine": machine(), "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
               "date": time.strftime("%Y-%m-%d %H:%M:%S"), "rows": rows, **(extra or {})}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str))
    os.replace(tmp, path)
    print(f"wrote {path}")
    return str(path)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        import harness  # one module object for Unavailable/Contender, whoever imports them

        harness.child_main(sys.argv[2])
    else:
        print_machine()
