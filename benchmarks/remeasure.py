"""The whole CPU re-measurement in one command: every own-process benchmark, JSON, and RESULTS.md's tables.

    python3 benchmarks/remeasure.py --out DIR [--write-results] [--baseline TREE] [--threads 1 2]

Run it on a quiet machine (nothing else running: it warns when the load average says otherwise). In order:

  1. core         bench_core.py: per-op chain, MLP fwd+bwd, MLP + penalty; minigrad, torch, JAX     (~3 min)
  2. workloads    bench_workloads.py: A, B, A-2x64, B-2x64 with every contender (minigrad's step,
                  the Trainer's defaults, the Trainer eager where it has that option, torch, JAX,
                  the NumPy GEMM floor); C without JAX; all at each thread count                   (~12 min)
  3. C with JAX   C's minigrad, torch and JAX at 1 thread, 3 turns (XLA's CPU convolutions make a
                  JAX C iteration several times minigrad's: it gets its own short row)            (~3 min)
  4. memory       bench_workloads.py --memory-only: A and C, the Trainer's long run (10,000 A / 200 C
                  iterations, capped by --memory-minutes) and the peaks of the Trainer eager,
                  minigrad's step and torch; one process per CPU at a time, one thread each       (~20 min)
  5. --baseline   bench_core.py and bench_train_step.py against another source tree (issue 25's
                  before/after), only when asked                                                    (~8 min)

Each step writes DIR/<step>.json (the machine, the command and every row: times, same-turn ratios with
their quartiles, PIDs, CPU sets, BLAS pools, the load after each row); the machine (CPU model, BLAS kernel
from threadpoolctl, thread counts) and the load average before and after every step go to DIR/run.json.
Then DIR/RESULTS_section.md holds the markdown tables RESULTS.md needs (printed too); ``--write-results``
puts them between RESULTS.md's markers (``<!-- remeasure:begin -->`` / ``<!-- remeasure:end -->``).
``--tables DIR`` rebuilds the tables from an earlier run's JSON. ``--smoke`` is a tiny run (small batches,
2 turns, a few memory iterations; a few minutes) that checks the whole pipeline; its numbers mean nothing
and it refuses ``--write-results``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import harness

BEGIN, END = "<!-- remeasure:begin -->", "<!-- remeasure:end -->"
RESULTS = harness.BENCH_DIR / "RESULTS.md"
TOY = ["A", "B", "A-2x64", "B-2x64"]


# ----------------------------------------------------------------------------- running
def load_line() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def git_state() -> dict:
    def git(*args):
        done = subprocess.run(["git", "-C", str(harness.REPO), *args], capture_output=True, text=True)
        return done.stdout.strip()

    return {"commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(git("status", "--porcelain", "--",
                                                                             "minigrad", "wgan", "benchmarks"))}


def steps(args) -> list[tuple[str, str, list[str]]]:
    """(name, script module, argv) of every step, as the options ask."""
    threads = [str(t) for t in args.threads]
    common = ["--threads", *threads] + (["--cpus", *map(str, args.cpus)] if args.cpus else [])
    smoke_toy = ["--batch", "8", "--turns", "2"] if args.smoke else []
    smoke_c = ["--batch", "2", "--turns", "2"] if args.smoke else []
    no_jax = ["--contenders", "minigrad", "trainer", "trainer-eager", "torch", "floor"]
    memory_iters = ["--memory-iters", "6", "2"] if args.smoke else (["--memory-iters", *map(str, args.memory_iters)]
                                                                     if args.memory_iters else [])
    plan = [("core", "bench_core", common + (["--turns", "2"] if args.smoke else [])),
            ("workloads", "bench_workloads", ["--workloads", *TOY] + common + smoke_toy),
            ("workloads_c", "bench_workloads", ["--workloads", "C"] + common + no_jax + smoke_c),
            ("workloads_c_jax", "bench_workloads", ["--workloads", "C", "--threads", "1", "--turns", "2" if args.smoke
                                                    else "3", "--contenders", "minigrad", "torch", "jax"]
             + (["--batch", "2"] if args.smoke else [])),
            ("memory", "bench_workloads", ["--memory-only", "--workloads", "A", "C", "--memory-minutes",
                                           str(0.2 if args.smoke else args.memory_minutes)] + memory_iters
             + (["--batch", "8"] if args.smoke else []))]
    if args.skip_memory:
        plan = [step for step in plan if step[0] != "memory"]
    if args.baseline:
        plan += [("core_before_after", "bench_core", common + ["--baseline", args.baseline]
                  + (["--turns", "2"] if args.smoke else ["--turns", "100"])),
                 ("train_step_before_after", "bench_train_step", common + ["--baseline", args.baseline]
                  + (["--turns", "2", "--width", "16", "--algorithms", "wgan-gp"] if args.smoke else []))]
    return plan


def run(args) -> dict:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    info = {"machine": harness.print_machine(), "threads": args.threads, "git": git_state(), "smoke": args.smoke,
            "command": " ".join([os.path.basename(sys.executable)] + sys.argv), "steps": {},
            "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "load_at_start": load_line()}
    if info["load_at_start"][0] > 0.5:
        print(f"WARNING: load average {info['load_at_start']} at the start: the machine is not quiet, and these "
              "numbers are not claims", flush=True)
    start = time.perf_counter()
    for name, module, argv in steps(args):
        print(f"\n=== {name}: python3 benchmarks/{module}.py {' '.join(argv)}", flush=True)
        before, t0 = load_line(), time.perf_counter()
        try:
            __import__(module).main(argv + ["--out", str(out / f"{name}.json")])
            failed = None
        except Exception as exc:  # one step's failure is recorded; the others still run
            failed = f"{type(exc).__name__}: {exc}"
            print(f"=== {name} FAILED: {failed}", flush=True)
        info["steps"][name] = {"argv": argv, "seconds": round(time.perf_counter() - t0, 1), "load_before": before,
                               "load_after": load_line(), **({"failed": failed} if failed else {})}
        (out / "run.json").write_text(json.dumps(info, indent=2))
    info["seconds"] = round(time.perf_counter() - start, 1)
    info["load_at_end"] = load_line()
    (out / "run.json").write_text(json.dumps(info, indent=2))
    return info


# ----------------------------------------------------------------------------- tables
def _read(out: Path, name: str) -> list[dict]:
    path = out / f"{name}.json"
    return json.loads(path.read_text())["rows"] if path.exists() else []


def _ms(row: dict | None, label: str) -> str:
    return f"{row[label + '_ms']:.1f}" if row and f"{label}_ms" in row else "–"


def _ratio(row: dict | None, a: str, b: str) -> float | None:
    return row.get(f"ratio_{a}/{b}") if row else None


def _x(value: float | None) -> str:
    return f"{value:.2f}x" if value is not None else "–"


def workload_table(rows: list[dict]) -> str:
    lines = ["| workload | threads | turns | minigrad ms | Trainer ms | Trainer eager ms | torch ms | JAX ms "
             "| floor ms | minigrad / torch | Trainer / torch | Trainer / JAX | minigrad / floor | Trainer / floor "
             "| Trainer / minigrad | agreement after 1 it. (torch, JAX) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        agree = row.get("agreement_after_1_iter") or {}
        lines.append(
            f"| {row['workload']}{' (own row, JAX)' if 'jax_ms' in row and 'trainer_ms' not in row else ''} "
            f"| {row['threads']} | {row['turns']} | {_ms(row, 'minigrad')} | {_ms(row, 'trainer')} "
            f"| {_ms(row, 'trainer-eager')} | {_ms(row, 'torch')} | {_ms(row, 'jax')} | {_ms(row, 'floor')} "
            f"| {_x(_ratio(row, 'minigrad', 'torch'))} | {_x(_ratio(row, 'trainer', 'torch'))} "
            f"| {_x(_ratio(row, 'trainer', 'jax'))} | {_x(_ratio(row, 'minigrad', 'floor'))} "
            f"| {_x(_ratio(row, 'trainer', 'floor'))} | {_x(_ratio(row, 'trainer', 'minigrad'))} "
            f"| {', '.join(f'{agree[k]:.1e}' if k in agree else '–' for k in ('torch', 'jax'))} |")
    return "\n".join(lines)


def core_table(rows: list[dict]) -> str:
    lines = ["| case | threads | turns | minigrad ms | torch ms | JAX ms | minigrad / torch | JAX / torch |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {harness_case(row)} | {row['threads']} | {row['turns']} | {_ms(row, 'minigrad')} "
                     f"| {_ms(row, 'torch')} | {_ms(row, 'jax')} | {_x(_ratio(row, 'minigrad', 'torch'))} "
                     f"| {_x(_ratio(row, 'jax', 'torch'))} |")
    return "\n".join(lines)


def harness_case(row: dict) -> str:
    from bench_core import CASES

    return CASES.get(row.get("case_key", ""), row["case"])


def second_half_range(memory: dict) -> float | None:
    """RSS range (MiB) over the samples of the run's second half: a leak grows there, a one-off step does not."""
    samples = [rss for i, rss in memory.get("rss_samples", []) if i >= memory["iterations"] / 2]
    return max(samples) - min(samples) if samples else None


def memory_table(rows: list[dict]) -> str:
    lines = ["| workload | contender | iterations | peak growth at the common count | peak growth, whole run "
             "| RSS drift from 10% to the end | RSS range over the second half |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        at = f"peak_growth_mib_at_{row['peak_at']}"
        for label, m in row["memory"].items():
            limited = " (time limit)" if m.get("stopped_by_time_limit") else ""
            half = second_half_range(m)
            lines.append(f"| {row['workload']} | {label} | {m['iterations']}{limited} "
                         f"| {m[at]:.1f} MiB at {row['peak_at']} | {m['peak_growth_mib']:.1f} MiB "
                         f"| {m['rss_drift_after_10pct_mib']:+.2f} MiB | "
                         f"{'–' if half is None else f'{half:.2f} MiB'} |")
        ratios = ", ".join(f"{k[len('peak_ratio_'):]} {v:.2f}x" for k, v in row.items() if k.startswith("peak_ratio_"))
        if ratios:
            lines.append(f"| {row['workload']} | peak ratios at {row['peak_at']} iterations | {ratios} | | | | |")
    return "\n".join(lines)


def find(rows: list[dict], key: str, value, threads: int | None = None) -> dict | None:
    for row in rows:
        if row.get(key) == value and (threads is None or row.get("threads") == threads) and "trainer_ms" in row:
            return row
    for row in rows:  # a row without the Trainer (the core's, or C's JAX row)
        if row.get(key) == value and (threads is None or row.get("threads") == threads):
            return row
    return None


def verdict(values: list[float | None], limits: list[float | None]) -> str:
    judged = [(v, limit) for v, limit in zip(values, limits) if limit is not None]
    if not judged:
        return "reported" if any(v is not None for v in values) else "not measured"
    if any(v is None for v, _ in judged):
        return "not measured"
    return "**met**" if all(v <= limit for v, limit in judged) else "**not met**"


def targets_table(work: list[dict], core: list[dict], memory: list[dict]) -> str:
    """Every CPU target of issues 11/22 and 26, against the measured ratios at 1 and 2 threads."""
    lines = ["| target | issue | measured as | 1 thread | 2 threads | met? |", "|---|---|---|---|---|---|"]

    def ratio_target(title, issue, workload, a, b, limit1, limit2, key="workload", rows=work):
        got = [_ratio(find(rows, key, workload, t), a, b) for t in (1, 2)]
        names = {"minigrad": "minigrad's step" if key == "workload" else "minigrad", "trainer": "Trainer (defaults)",
                 "torch": "torch eager", "jax": "JAX jit", "floor": "NumPy GEMM floor"}
        where = f"{workload} " if key == "workload" else "bench_core: "
        lines.append(f"| {title} | {issue} | {where}{names.get(a, a)} / {names.get(b, b)} | {_x(got[0])} "
                     f"| {_x(got[1])} | {verdict(got, [limit1, limit2])} |")

    for a in ("minigrad", "trainer"):
        ratio_target("A ≤ 0.9x", "11, 22", "A", a, "torch", 0.9, 0.9)
        ratio_target("B ≤ 1.0x", "11, 22", "B", a, "torch", 1.0, 1.0)
        ratio_target("C ≤ 1.25x", "11, 22", "C", a, "torch", 1.25, 1.25)
    ratio_target("MLP fwd+bwd ≤ 1.1x", "11, 22", "mlp", "minigrad", "torch", 1.1, 1.1, key="case_key", rows=core)
    ratio_target("MLP + penalty ≤ 0.8x", "11, 22", "penalty", "minigrad", "torch", 0.8, 0.8, key="case_key",
                 rows=core)
    ratio_target("A within 1.6x of its GEMM floor", "11, 22", "A", "minigrad", "floor", 1.6, 1.6)
    ratio_target("A within 1.6x of its GEMM floor", "11, 22", "A", "trainer", "floor", 1.6, 1.6)
    for workload in ("A", "B", "C"):
        ratio_target("Trainer within 5% of the benchmark's step", "11", workload, "trainer", "minigrad", 1.05, 1.05)
    ratio_target("A: ≤ 0.9x at 1 thread, ≤ 1.1x at 2", "26", "A", "trainer", "torch", 0.9, 1.1)
    ratio_target("B: ≤ 1.0x at 1 thread, ≤ 1.1x at 2", "26", "B", "trainer", "torch", 1.0, 1.1)
    ratio_target("2x64 A-shaped iteration ≤ 0.5x at 1 thread", "26", "A-2x64", "trainer", "torch", 0.5, None)
    ratio_target("2x64: ratio to JAX jit (reported; goal beyond issue 26: ≤ 2x)", "26", "A-2x64", "trainer", "jax",
                 None, None)
    ratio_target("A within 1.25x of its GEMM floor at 1 thread", "26", "A", "trainer", "floor", 1.25, None)
    by_workload = {row["workload"]: row for row in memory}
    for workload in ("A", "C"):
        row = by_workload.get(workload)
        value = row.get("peak_ratio_minigrad/torch") if row else None
        lines.append(f"| peak memory ≤ 1.5x PyTorch's ({workload}) | 11, 22 | minigrad's step / torch, peak RSS growth "
                     f"at {row['peak_at'] if row else '–'} iterations | {_x(value)} | | "
                     f"{verdict([value], [1.5])} |")
    row = by_workload.get("A")
    value = row.get("peak_ratio_trainer/trainer-eager") if row else None
    if row and value is None:
        note = "n/a: this tree's Trainer has no eager/captured choice"
    else:
        note = verdict([value], [1.1])
    lines.append(f"| peak RSS of a captured A ≤ 1.1x eager's | 26 | Trainer (defaults) / Trainer eager at "
                 f"{row['peak_at'] if row else '–'} iterations | {_x(value)} | | {note} |")
    for workload, asked in (("A", 10_000), ("C", 200)):
        m = (by_workload.get(workload) or {}).get("memory", {}).get("trainer")
        if m is None:
            lines.append(f"| flat over {asked:,} iterations of {workload} | 11, 26 | Trainer (defaults) | – | | "
                         "not measured |")
            continue
        half = second_half_range(m)
        full = m["iterations"] >= asked
        judged = ("**met**" if half is not None and half <= 2.0 else "**not met**") if full else \
            "not measured at full length"
        lines.append(f"| flat over {asked:,} iterations of {workload} | 11, 26 | Trainer (defaults): RSS range over "
                     f"the second half of {m['iterations']:,} iterations (flat: ≤ 2 MiB) | "
                     f"{'–' if half is None else f'{half:.2f} MiB'} | | {judged} |")
    lines.append("| `wgan reproduce clipping-window --seeds 1` ≥ 2x faster than eager | 26 | end to end, before and "
                 "after in one sitting | | | not measured by this driver (run both with `/usr/bin/time`) |")
    return "\n".join(lines)


def before_after_table(core: list[dict], train: list[dict]) -> str:
    lines = ["| case | threads | turns | before ms | after ms | after / before, wall (quartiles) | CPU time | "
             "no more than 3% slower (wall ≤ 1.03)? |", "|---|---|---|---|---|---|---|---|"]
    for row, before, after in ([(r, "minigrad@baseline", "minigrad") for r in core]
                               + [(r, "trainer@baseline", "trainer") for r in train]):
        ratio = _ratio(row, after, before)
        if ratio is None:
            continue
        q1, q3 = row[f"ratio_{after}/{before}_quartiles"]
        lines.append(f"| {row['case']} | {row['threads']} | {row['turns']} | {_ms(row, before)} | {_ms(row, after)} "
                     f"| {ratio:.3f} ({q1:.3f}-{q3:.3f}) | {row[f'cpu_ratio_{after}/{before}']:.3f} "
                     f"| {'yes' if ratio <= 1.03 else 'no'} |")
    return "\n".join(lines)


def tables(out: Path) -> str:
    info = json.loads((out / "run.json").read_text()) if (out / "run.json").exists() else {}
    m = info.get("machine", {})
    work = _read(out, "workloads") + _read(out, "workloads_c") + _read(out, "workloads_c_jax")
    core, memory = _read(out, "core"), _read(out, "memory")
    steps = info.get("steps", {})
    loads = "; ".join(f"{name} {s['load_before']} → {s['load_after']}" for name, s in steps.items())
    failures = [f"**step {name} failed** ({s['failed']}): its rows are missing below"
                for name, s in steps.items() if s.get("failed")]
    turns = sorted({row["turns"] for row in work + core})
    gaps = sorted({row.get("gap_s") for row in work + core if row.get("gap_s") is not None})
    parts = [
        "## Own-process measurements (issue 22's method): the claimed numbers",
        "",
        f"`{info.get('command', 'python3 benchmarks/remeasure.py')}`, {info.get('started', '?')}, "
        f"{info.get('seconds', 0) / 60:.0f} min; code at `{info.get('git', {}).get('commit', '?')}`"
        f"{' (with uncommitted changes)' if info.get('git', {}).get('dirty') else ''}."
        + (" **SMOKE RUN: tiny sizes, numbers meaningless.**" if info.get("smoke") else ""),
        "",
        f"**Machine**: {m.get('cpu', '?')}, {m.get('cores', '?')} cores; BLAS {'; '.join(m.get('blas', ['?']))} "
        f"(`OPENBLAS_CORETYPE` {m.get('OPENBLAS_CORETYPE', '?')}); NumPy {m.get('numpy', '?')}, torch "
        f"{m.get('torch', '–')}, jax {m.get('jax', '–')}, Python {m.get('python', '?')}. Threads: "
        f"{', '.join(map(str, info.get('threads', [])))}, every process pinned alike (same CPU set, "
        "`OMP/OPENBLAS/MKL_NUM_THREADS`, XLA's intra-op threads, `minigrad.set_num_threads`, "
        "`torch.set_num_threads`). "
        f"**Load average** (1, 5, 15 min) at the start {info.get('load_at_start', '?')}, at the end "
        f"{info.get('load_at_end', '?')}; per step, before → after: {loads or '?'} (the benchmark itself adds "
        "about 1 per busy thread).",
        "",
        f"Each contender ran in its own long-lived process; the processes took turns, one call each per turn "
        f"({', '.join(map(str, turns))} turns; {', '.join(f'{g:g}' for g in gaps)} s idle before each call). "
        "Times are medians over turns; a ratio is the median over turns of the two contenders' times in the "
        "same turn. Trainer = `wgan.train.Trainer.train_step` with its defaults, configured as the workload; "
        "Trainer eager = the same asked for eager steps (only where the Trainer has that option). Agreement: "
        "max relative difference of all parameters after one iteration from the same state, against minigrad's.",
        "",
        *[line + "\n" for line in failures],
        "### Workloads (`bench_workloads.py`): ms per iteration and same-turn ratios",
        "",
        workload_table(work),
        "",
        "### Core (`bench_core.py`)",
        "",
        core_table(core),
        "",
        "### Peak memory (`bench_workloads.py --memory-only`): fresh process per run, one thread",
        "",
        memory_table(memory) if memory else "(not measured in this run)",
        "",
        "### Against every CPU target",
        "",
        targets_table(work, core, memory),
    ]
    before_core, before_train = _read(out, "core_before_after"), _read(out, "train_step_before_after")
    if before_core or before_train:
        parts += ["", "### Before / after (issue 25: `--baseline`), each tree in its own process", "",
                  before_after_table(before_core, before_train)]
    return "\n".join(parts) + "\n"


def write_results(section: str, path: Path = RESULTS) -> None:
    """Replace what stands between RESULTS.md's markers with ``section``."""
    text = path.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{path}: no {BEGIN} ... {END} markers to write between")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{section}{END}{tail}")
    print(f"wrote the section between the markers of {path}")


def estimate(args) -> str:
    minutes = 3 + 12 + 3 + (0 if args.skip_memory else args.memory_minutes + 2) + (8 if args.baseline else 0)
    return "a few minutes (smoke)" if args.smoke else f"about {minutes:.0f} minutes on a quiet 2-core machine"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="directory for the JSON files and RESULTS_section.md")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--cpus", type=int, nargs="+", default=None, help="CPUs to pin to (default: all allowed)")
    parser.add_argument("--baseline", default=None, help="also the before/after of issue 25 against this tree")
    parser.add_argument("--memory-minutes", type=float, default=20.0,
                        help="cap on the Trainer's long memory run (default 20; its iterations are recorded)")
    parser.add_argument("--memory-iters", type=int, nargs=2, default=None, metavar=("TOY", "DCGAN"),
                        help="the long memory run's iterations for A and C (default 10000 200)")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--smoke", action="store_true",
                        help="a tiny run that checks the pipeline (numbers meaningless)")
    parser.add_argument("--tables", type=Path, default=None, metavar="DIR",
                        help="only rebuild the tables from DIR's JSON (no measuring)")
    parser.add_argument("--write-results", action="store_true",
                        help="write the tables between the markers of benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    if args.smoke and args.write_results:
        parser.error("--smoke numbers are not claims: no --write-results with --smoke")
    if args.tables is None and args.out is None:
        parser.error("--out DIR is needed (or --tables DIR)")
    out = args.tables or args.out
    if args.tables is None:
        print(f"re-measuring: {estimate(args)}", flush=True)
        run(args)
    section = tables(out)
    (out / "RESULTS_section.md").write_text(section)
    print("\n" + section)
    print(f"wrote {out / 'RESULTS_section.md'}")
    if args.write_results:
        if json.loads((out / "run.json").read_text()).get("smoke"):
            raise SystemExit("a smoke run's numbers are not claims: not writing RESULTS.md")
        write_results(section)


if __name__ == "__main__":
    main()
