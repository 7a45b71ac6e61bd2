"""The benchmark harness's logic, at tiny sizes: turns, same-turn ratios, one process per contender, the
agreement check, optional engines that skip cleanly, source trees, memory runs and the driver's tables.

Nothing here is a timed test: the fake contenders sleep for times a hundred-fold apart, so only the direction
of a ratio is checked (that the labels are not swapped), never a speed.
"""
from __future__ import annotations

import importlib.util
import inspect
import json
import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_JAX = importlib.util.find_spec("jax") is not None

FAKE = '''
import os, time
import numpy as np
import harness
from harness import Contender

def sleeper(threads, name, seconds):
    """A contender that sleeps; its parameters name it; its info says where and how it runs."""
    def call():
        time.sleep(seconds)
    info = {"name": name, "pid": os.getpid(), "threads": threads, "blas_env": os.environ["OPENBLAS_NUM_THREADS"],
            "tree": __import__("treeid").TREE if name == "tree" else None}
    return Contender({"tick": call, "tock": call}, parameters=lambda: {"w": np.full(3, seconds, np.float32)},
                     info=info)

def absent(threads):
    harness.require("a_module_that_is_not_installed")

def broken(threads):
    raise ValueError("this factory is broken on purpose")

def grower(threads):
    kept = []
    return Contender({"grow": lambda: kept.append(np.ones(1 << 16))})
'''


@pytest.fixture
def harness(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import harness

    return harness


@pytest.fixture
def fake(tmp_path):
    """A directory holding the fake contenders' module (put on the child's sys.path through Spec.sys_path)."""
    (tmp_path / "fake_contenders.py").write_text(FAKE)
    return str(tmp_path)


def spec(harness, fake, label, factory="sleeper", **kwargs):
    return harness.Spec(label, f"fake_contenders:{factory}", kwargs, sys_path=(fake,), warmup=1)


def test_turn_order_rotates_each_contender_through_every_place(harness):
    labels = ["a", "b", "c"]
    orders = [harness.turn_order(labels, t) for t in range(6)]
    assert orders[:3] == [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"]]
    assert orders[3:] == [["c", "b", "a"], ["a", "c", "b"], ["b", "a", "c"]]  # reversed in the next cycle
    for label in labels:  # over two cycles, each contender is first, middle and last twice
        assert sorted(order.index(label) for order in orders) == [0, 0, 1, 1, 2, 2]


def test_a_ratio_is_the_median_of_same_turn_ratios_not_the_ratio_of_medians(harness):
    turns = [{"a": 1.0, "b": 1.0}, {"a": 4.0, "b": 2.0}, {"a": 3.0, "b": 1.0}, {"a": 10.0, "b": 1.0},
             {"a": 2.0, "b": 4.0}]
    got = harness.same_turn_ratio(turns, "a", "b")
    assert got["median"] == 2.0  # per-turn ratios 1, 2, 3, 10, 0.5
    assert got["n"] == 5 and got["q1"] <= 2.0 <= got["q3"]
    assert 3.0 / 1.0 != got["median"]  # median(a) / median(b) would say 3
    with pytest.raises(ValueError, match="no turn timed both"):
        harness.same_turn_ratio(turns, "a", "c")


def test_each_contender_runs_in_its_own_process_taking_turns(harness, fake):
    specs = [spec(harness, fake, "fast", name="fast", seconds=0.001),
             spec(harness, fake, "slow", name="slow", seconds=0.1),
             spec(harness, fake, "mid", name="mid", seconds=0.01)]
    processes = harness.start_processes(specs, threads=1)
    try:
        pids = {label: p.pid for label, p in processes.items()}
        assert len(set(pids.values())) == 3 and os.getpid() not in pids.values()
        for p in processes.values():
            assert p.hello["info"]["pid"] == p.pid  # the factory ran in that process
            assert p.hello["info"]["blas_env"] == "1" and p.hello["cpus"] == harness.pinned_cpus(1)
            assert "torch" not in p.hello["modules"] and "jax" not in p.hello["modules"]
        record = harness.take_turns(processes, "tick", turns=6)
        for t, got in enumerate(record):  # one call each, one after the other, in the rotated order
            by_start = sorted(got, key=lambda label: got[label]["start"])
            assert by_start == harness.turn_order(list(processes), t)
            for first, second in zip(by_start, by_start[1:]):
                assert got[first]["end"] <= got[second]["start"]
        row = harness.summarize("fake", "tick", record, processes, reference="fast", echo=False)
    finally:
        for p in processes.values():
            p.close()
    assert row["method"] == harness.OWN_PROCESS and row["turns"] == 6 and row["pids"] == pids
    # sleeps a hundred-fold apart, whatever the load does to them: the direction only
    assert row["ratio_slow/fast"] > 1.5 and row["ratio_fast/slow"] < 1 / 1.5
    assert row["slow_ms"] > max(row["mid_ms"], row["fast_ms"])


def test_run_turns_gives_one_row_per_case_and_leaves_out_absent_or_broken_contenders(harness, fake, capsys):
    specs = [spec(harness, fake, "a", name="a", seconds=0.001), spec(harness, fake, "b", name="b", seconds=0.001),
             spec(harness, fake, "absent", "absent"), spec(harness, fake, "broken", "broken")]
    rows = harness.run_turns(specs, {"tick": "tick case", "tock": "tock case"}, threads=1, turns=3, gap=0.0)
    assert [row["case"] for row in rows] == ["tick case, 1 thr", "tock case, 1 thr"]
    assert set(rows[0]["pids"]) == {"a", "b"} and rows[0]["pids"] == rows[1]["pids"]  # long-lived processes
    assert "a_module_that_is_not_installed is not installed" in rows[0]["skipped"]["absent"]
    assert rows[0]["skipped"]["broken"].startswith("FAILED")
    out = capsys.readouterr().out
    assert "absent: skipped" in out and "broken: FAILED" in out


def test_each_source_tree_is_imported_in_its_own_process(harness, fake, tmp_path):
    trees = []
    for name in ("old", "new"):
        tree = tmp_path / name
        tree.mkdir()
        (tree / "treeid.py").write_text(f"TREE = {name!r}\n")
        trees.append(tree)
    specs = [harness.Spec(f"tree@{t.name}", "fake_contenders:sleeper", dict(name="tree", seconds=0.0), root=t,
                          sys_path=(fake,), warmup=0) for t in trees]
    processes = harness.start_processes(specs, threads=1)
    try:
        assert {label: p.hello["info"]["tree"] for label, p in processes.items()} == {"tree@old": "old",
                                                                                      "tree@new": "new"}
    finally:
        for p in processes.values():
            p.close()


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the repository's git history")
def test_a_git_revision_is_checked_out_as_a_worktree_and_removed(harness, tmp_path):
    tree = harness.source_tree("HEAD", tmp_path)
    try:
        assert (tree / "benchmarks" / "harness.py").exists() and tree != ROOT
    finally:
        harness.remove_tree(tree)
    assert not tree.exists()
    with pytest.raises(SystemExit, match="neither a directory nor a git revision"):
        harness.source_tree("no-such-revision-xyz", tmp_path)


def test_agreement_is_the_largest_relative_parameter_difference(harness, tmp_path):
    ref, same, off, other = (tmp_path / f"{n}.npz" for n in ("ref", "same", "off", "other"))
    np.savez(ref, w=np.array([1.0, -2.0, 4.0]), b=np.array([0.5]))
    np.savez(same, w=np.array([1.0, -2.0, 4.0]), b=np.array([0.5]))
    np.savez(off, w=np.array([1.0, -2.0, 4.4]), b=np.array([0.5]))
    np.savez(other, w=np.array([1.0, -2.0, 4.0]))
    assert harness.agreement(ref, same) == 0.0
    assert harness.agreement(ref, off) == pytest.approx(0.1)  # 0.4 / max|w| = 4
    with pytest.raises(ValueError, match="different parameters"):
        harness.agreement(ref, other)


def test_snapshots_are_taken_after_one_call_in_the_contenders_process(harness, fake, tmp_path):
    specs = [harness.Spec(label, "fake_contenders:sleeper", dict(name=label, seconds=s), sys_path=(fake,), warmup=0,
                          snapshot=tmp_path / f"{label}.npz") for label, s in (("x", 0.001), ("y", 0.002))]
    harness.run_turns(specs, {"tick": "tick"}, threads=1, turns=1, gap=0.0)
    assert harness.agreement(tmp_path / "x.npz", tmp_path / "y.npz") == pytest.approx(1.0)  # |0.002 - 0.001| / 0.001


def test_memory_run_reports_peak_growth_and_stops_at_its_time_limit(harness, fake):
    grower = spec(harness, fake, "grower", "grower")
    got = harness.run_memory(grower, "grow", iters=40, peak_at=10)
    assert got["iterations"] == 40 and not got["stopped_by_time_limit"] and got["pid"] != os.getpid()
    assert got["peak_growth_mib"] > got["peak_growth_mib_at_10"] > 0  # 0.5 MiB kept per iteration
    assert got["rss_drift_after_10pct_mib"] > 10
    limited = harness.run_memory(grower, "grow", iters=10 ** 6, peak_at=5, minutes=0.0)
    assert limited["stopped_by_time_limit"] and limited["iterations"] == 5
    assert harness.run_memory(spec(harness, fake, "absent", "absent"), "grow", iters=3, peak_at=1) is None


def test_interleaved_rows_are_labelled_as_the_extra(harness):
    row = harness.compare_many("in one process", {"a": lambda: None, "b": lambda: None}, reference="a", iters=2,
                               warmup=0, rounds=1, echo=False)
    assert row["method"] == harness.INTERLEAVED and "never" in harness.INTERLEAVED


@pytest.fixture
def workloads(harness):
    import bench_workloads

    return bench_workloads


def test_workload_names(workloads):
    assert workloads.parse_workload("A") == ("A", None)
    assert workloads.parse_workload("B-2x64") == ("B", (64, 64))
    for bad in ("D", "C-2x64", "A-64"):
        with pytest.raises(ValueError, match="unknown workload"):
            workloads.parse_workload(bad)
    assert set(workloads.ALL_WORKLOADS) >= {"A", "B", "C", "A-2x64", "B-2x64"}


def test_the_trainer_is_asked_for_eager_steps_only_where_it_can_be(harness, workloads):
    from wgan.train import Trainer

    assert workloads.trainer_options(None, "cpu") == {}  # the Trainer's defaults: no keyword at all
    if "graph" in inspect.signature(Trainer).parameters:
        assert workloads.trainer_options(False, "cpu") == {"graph": False}
    else:
        with pytest.raises(harness.Unavailable, match="no `graph` option"):
            workloads.trainer_options(False, "cpu")
        assert workloads.trainer_options(False, "cuda") == {"cuda_graph": False}


@pytest.mark.parametrize("engine", ["torch", "jax"])
def test_an_absent_torch_or_jax_contender_is_skipped_with_its_reason(harness, workloads, tmp_path, engine):
    hidden = tmp_path / "hide"
    (hidden / engine).mkdir(parents=True)
    (hidden / engine / "__init__.py").write_text(f"raise ImportError('{engine} hidden by the test')\n")
    specs = [harness.Spec(label, "bench_workloads:contender", dict(engine=label, workload="A-1x4", batch=4),
                          sys_path=(str(hidden),), warmup=0) for label in ("minigrad", engine)]
    rows = harness.run_turns(specs, {"A-1x4": "A-1x4"}, threads=1, turns=1, gap=0.0)
    assert rows[0]["skipped"] == {engine: f"{engine} is not installed ({engine} hidden by the test)"}
    assert list(rows[0]["pids"]) == ["minigrad"]


@pytest.mark.parametrize("workload,engines", [
    ("A-1x8", ("torch", "jax")),  # the penalty with Adam
    ("B-1x8", ("torch",)),  # RMSprop with clipping
    pytest.param("B-1x8", ("jax",), marks=pytest.mark.slow),  # XLA compiles for seconds
])
def test_torch_and_jax_agree_with_minigrad_after_one_iteration(harness, workloads, tmp_path, workload, engines):
    """minigrad and each peer in its own process, from the same state and data, one iteration each."""
    engines = [engine for engine in engines if {"torch": HAS_TORCH, "jax": HAS_JAX}[engine]]
    if not engines:
        pytest.skip("torch and jax are optional benchmark peers")
    specs = [harness.Spec(label, "bench_workloads:contender", dict(engine=label, workload=workload, batch=8),
                          warmup=0, snapshot=tmp_path / f"{label}.npz") for label in ("minigrad", *engines)]
    rows = harness.run_turns(specs, {workload: workload}, threads=1, turns=1, gap=0.0)
    assert rows[0]["skipped"] == {}
    with np.load(tmp_path / "minigrad.npz") as params:
        assert set(params.files) == {f"{net}.{i}.{kind}" for net in "GD" for i in (0, 2) for kind in ("weight", "bias")}
    for engine in engines:
        assert harness.agreement(tmp_path / "minigrad.npz", tmp_path / f"{engine}.npz") < 1e-4, engine


# ----------------------------------------------------------------------------- the driver's tables
def fake_run(tmp_path: Path) -> Path:
    """A driver output directory with made-up rows (the shapes the scripts write)."""
    def row(workload, threads, **ms):
        out = {"workload": workload, "threads": threads, "turns": 30, "case": f"workload {workload}", "gap_s": 0.1}
        for label, value in ms.items():
            out[f"{label.replace('_', '-')}_ms"] = value
        labels = [k.replace("_", "-") for k in ms]
        for a in labels:
            for b in labels:
                if a != b:
                    out[f"ratio_{a}/{b}"] = out[f"{a}_ms"] / out[f"{b}_ms"]
                    out[f"ratio_{a}/{b}_quartiles"] = [out[f"ratio_{a}/{b}"]] * 2
                    out[f"cpu_ratio_{a}/{b}"] = out[f"ratio_{a}/{b}"]
        return out

    work = [row("A", 1, minigrad=170.0, trainer=160.0, torch=200.0, jax=120.0, floor=110.0),
            row("A", 2, minigrad=150.0, trainer=129.0, torch=118.0, jax=68.0, floor=69.0),
            row("A-2x64", 1, minigrad=10.0, trainer=4.0, torch=10.0, jax=2.0, floor=0.5)]
    core = [dict(row("mlp", t, minigrad=10.0, torch=10.0), case_key="mlp") for t in (1, 2)]
    memory = [{"workload": "A", "peak_at": 200, "peak_ratio_minigrad/torch": 0.6,
               "memory": {"trainer": {"iterations": 10_000, "peak_growth_mib_at_200": 20.0, "peak_growth_mib": 20.1,
                                      "rss_drift_after_10pct_mib": 0.0,
                                      "rss_samples": [[i, 60.0] for i in range(500, 10_001, 500)]}}}]
    before = [dict(row("mlp", 1, minigrad=10.2, **{"minigrad@baseline": 10.0}), case="MLP, 1 thr")]
    for name, rows in (("workloads", work), ("core", core), ("memory", memory), ("core_before_after", before)):
        (tmp_path / f"{name}.json").write_text(json.dumps({"rows": rows}))
    (tmp_path / "run.json").write_text(json.dumps({"machine": {"cpu": "Test CPU", "blas": ["openblas Haswell"]},
                                                   "threads": [1, 2], "steps": {}, "smoke": False}))
    return tmp_path


@pytest.fixture
def remeasure(harness):
    import remeasure

    return remeasure


def test_the_tables_judge_every_target_from_the_rows(remeasure, tmp_path):
    section = remeasure.tables(fake_run(tmp_path))
    lines = section.splitlines()

    def target(start, measured):
        return next(line for line in lines if line.startswith(f"| {start}") and measured in line)

    assert "Test CPU" in section and "openblas Haswell" in section
    assert target("A ≤ 0.9x", "minigrad's step").endswith("| 0.85x | 1.27x | **not met** |")
    assert target("A ≤ 0.9x", "Trainer (defaults)").endswith("| 0.80x | 1.09x | **not met** |")
    assert target("A: ≤ 0.9x at 1 thread, ≤ 1.1x at 2", "Trainer").endswith("| 0.80x | 1.09x | **met** |")
    assert target("2x64 A-shaped iteration", "Trainer").endswith("| 0.40x | – | **met** |")
    assert target("2x64: ratio to JAX", "Trainer").endswith("| 2.00x | – | reported |")
    assert target("B ≤ 1.0x", "minigrad").endswith("not measured |")
    assert target("MLP fwd+bwd ≤ 1.1x", "minigrad").endswith("| 1.00x | 1.00x | **met** |")
    assert target("peak memory ≤ 1.5x PyTorch's (A)", "minigrad").endswith("| 0.60x | | **met** |")
    assert target("flat over 10,000 iterations of A", "Trainer").endswith("| 0.00 MiB | | **met** |")
    assert "n/a: this tree's Trainer has no eager/captured choice" in target("peak RSS of a captured A", "Trainer")
    assert "| 1.020 (1.020-1.020) | 1.020 | yes |" in section  # before/after within 3%


def test_write_results_replaces_only_the_marked_section(remeasure, tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text(f"# head\n{remeasure.BEGIN}\nold numbers\n{remeasure.END}\n## tail\n")
    remeasure.write_results("new table\n", path)
    assert path.read_text() == f"# head\n{remeasure.BEGIN}\nnew table\n{remeasure.END}\n## tail\n"
    text = remeasure.RESULTS.read_text()  # the real RESULTS.md has the markers the lead's run writes between
    assert text.count(remeasure.BEGIN) == 1 and text.count(remeasure.END) == 1


def test_the_driver_plans_every_step_and_the_baseline_only_when_asked(remeasure):
    def parse(**options):
        args = dict(threads=[1, 2], cpus=None, smoke=False, memory_iters=None, memory_minutes=20.0,
                    skip_memory=False, baseline=None)
        return remeasure.steps(type("Args", (), {**args, **options})())

    names = [name for name, _, _ in parse()]
    assert names == ["core", "workloads", "workloads_c", "workloads_c_jax", "memory"]
    with_baseline = parse(baseline="/tmp/old")
    assert [n for n, _, _ in with_baseline][-2:] == ["core_before_after", "train_step_before_after"]
    assert all("--baseline" in argv for _, _, argv in with_baseline[-2:])
    workloads = dict((n, argv) for n, _, argv in parse())["workloads"]
    assert {"A", "B", "A-2x64", "B-2x64"} <= set(workloads)


def test_smoke_numbers_never_reach_results_md(remeasure, tmp_path):
    with pytest.raises(SystemExit):
        remeasure.main(["--smoke", "--write-results", "--out", str(tmp_path)])



def test_a_failing_step_is_recorded_and_the_others_still_run(remeasure, tmp_path, monkeypatch):
    steps_dir = tmp_path / "steps"
    steps_dir.mkdir()
    (steps_dir / "step_fails.py").write_text("def main(argv):\n    raise RuntimeError('a contender crashed')\n")
    (steps_dir / "step_works.py").write_text(
        "import json, sys\ndef main(argv):\n    path = argv[argv.index('--out') + 1]\n"
        "    open(path, 'w').write(json.dumps({'rows': []}))\n")
    monkeypatch.syspath_prepend(str(steps_dir))
    monkeypatch.setattr(remeasure, "steps", lambda args: [("core", "step_fails", []), ("workloads", "step_works", [])])
    out = tmp_path / "out"
    remeasure.main(["--out", str(out), "--skip-memory"])
    run = json.loads((out / "run.json").read_text())
    assert run["steps"]["core"]["failed"] == "RuntimeError: a contender crashed"
    assert "failed" not in run["steps"]["workloads"] and (out / "workloads.json").exists()
    assert "**step core failed** (RuntimeError: a contender crashed)" in (out / "RESULTS_section.md").read_text()
