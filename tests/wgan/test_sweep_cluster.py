"""`wgan sweep` against a real Dask cluster on loopback: a scheduler and two worker processes (127.0.0.1).

End to end, a worker killed mid-trial, a half-finished sweep rerun, GPU trials routed to the
worker that declares the resource, a failing trial recorded, and Ctrl-C keeping finished trials.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from wgan import cli  # noqa: E402
from wgan.config import TrainConfig  # noqa: E402
from wgan.sweep import read_results, run_sweep  # noqa: E402
from wgan.sweep.engine import WORKER_ENV  # noqa: E402
from wgan.sweep.trial import RESULT_NAME, RUNNING_NAME  # noqa: E402
from wgan.train import Trainer  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TINY = {"dataset": "8gaussians", "preset": "toy", "width": 8, "depth": 1, "batch_size": 16, "eval_samples": 100}


def spec(steps=6, grid=None, seeds=2, evaluate=False, **base) -> dict:
    """A sweep of tiny runs; without `evaluate` no evaluation (and no samples figure): metric w_estimate."""
    return {"metric": "w1" if evaluate else "w_estimate", "seeds": seeds, "grid": grid or {"gp_lambda": [0.1, 1.0]},
            "base": dict(TINY, steps=steps, eval_every=steps if evaluate else 0,
                         checkpoint_every=max(1, steps // 10), **base)}


def _env() -> dict:
    return dict(os.environ, **WORKER_ENV, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two nanny-managed workers, all on 127.0.0.1; worker "gpu" declares GPU=1."""
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                               "--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file)],
                              env=_env(), cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.time() + 60
        while not scheduler_file.is_file() and time.time() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        for name, extra in (("cpu", []), ("gpu", ["--resources", "GPU=1"])):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--host", "127.0.0.1",
                 "--nthreads", "1", "--no-dashboard", "--name", name, *extra],
                env=_env(), cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with distributed.Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=90)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _workers(address) -> dict:
    with distributed.Client(address, timeout="30s") as client:
        client.wait_for_workers(2, timeout=90)
        return {w["name"]: addr for addr, w in client.scheduler_info()["workers"].items()}


def _steps_logged(run_dir: Path) -> list[int]:
    return [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_tiny_sweep_end_to_end(cluster, tmp_path, capsys):
    spec_path = tmp_path / "sweep.json"
    spec_path.write_text(json.dumps(spec(evaluate=True)))
    out = tmp_path / "sweep"
    assert cli.main(["sweep", str(spec_path), "--out", str(out), "--scheduler", cluster, "--no-progress"]) == 0
    rows = read_results(out)
    assert [r["trial"] for r in rows] == [0, 1, 2, 3] and all(r["status"] == "ok" for r in rows)
    assert all(r["threads"] == 1 and r["steps"] == 6 and r["metrics"]["w1"] > 0 for r in rows)
    assert {r["worker"] for r in rows} <= set(_workers(cluster).values())
    csv_lines = (out / "results.csv").read_text().splitlines()
    assert csv_lines[0].startswith("trial,config_index,seed_index,seed,gp_lambda,status,w1,") and len(csv_lines) == 5
    report = (out / "report.md").read_text()
    assert "| 0 | 0.1 |" in report and "2/2" in report and (out / "report.png").stat().st_size > 10_000
    # each trial is an ordinary run folder: `wgan plot` reads it (the resume path is the half-finished test's)
    assert cli.main(["plot", str(out / "trials" / "0002"), "--out", str(tmp_path / "trial2.png")]) == 0
    assert (tmp_path / "trial2.png").is_file()
    assert cli.main(["sweep", "--report", str(out)]) == 0
    assert "Sweep report: w1" in capsys.readouterr().out


def test_worker_killed_mid_trial_is_rerun_from_its_checkpoint(cluster, tmp_path):
    out = tmp_path / "sweep"
    data = spec(steps=120, seeds=2, width=16)  # checkpoints every 12 steps
    errors = []
    runner = threading.Thread(target=lambda: _capture(errors, run_sweep, data, out, scheduler=cluster,
                                                      progress=False))
    runner.start()
    killed = None
    deadline = time.time() + 120
    while killed is None and time.time() < deadline and runner.is_alive():
        for run_dir in sorted((out / "trials").glob("*")) if (out / "trials").is_dir() else []:
            if (run_dir / "checkpoint.npz").is_file() and (run_dir / RUNNING_NAME).is_file() \
                    and not (run_dir / RESULT_NAME).is_file():
                try:
                    running = json.loads((run_dir / RUNNING_NAME).read_text())
                except (OSError, json.JSONDecodeError):
                    continue
                os.kill(running["pid"], signal.SIGKILL)
                killed = (int(run_dir.name), running["pid"])
                break
        time.sleep(0.05)
    runner.join(timeout=300)
    assert not errors, errors
    assert killed is not None, "no trial was caught mid-run"
    rows = read_results(out)
    assert [r["trial"] for r in rows] == [0, 1, 2, 3]  # every trial exactly once
    assert all(r["status"] == "ok" and r["steps"] == 120 for r in rows)
    index, pid = killed
    rerun = rows[index]
    assert json.loads((out / "trials" / f"{index:04d}" / RESULT_NAME).read_text())["pid"] != pid
    assert rerun["resumed_from"] > 0  # from the checkpoint, not from scratch
    assert _steps_logged(out / "trials" / f"{index:04d}") == list(range(1, 121))  # no step logged twice
    assert len(_workers(cluster)) == 2  # the nanny restarted the killed worker


def _capture(errors, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - reported by the test
        errors.append(exc)


class _StopAt:
    def __init__(self, step):
        self.step = step

    def on_step(self, trainer, step, row):
        if step == self.step:
            raise KeyboardInterrupt


def test_half_finished_sweep_rerun_finishes_only_the_missing_trials(cluster, tmp_path):
    out = tmp_path / "sweep"
    data = spec(steps=20)  # checkpoints every 2 steps
    run_sweep(data, out, scheduler=cluster, progress=False, report=False)
    trials = out / "trials"
    kept = {i: json.loads((trials / f"{i:04d}" / RESULT_NAME).read_text()) for i in (0, 1)}
    # trial 2 interrupted at step 13 (last checkpoint at 12), trial 3 never started
    for name in ("0002", "0003"):
        for path in (trials / name).iterdir():
            path.unlink()
        (trials / name).rmdir()
    config = dict(json.loads((out / "sweep.json").read_text())["trials"][2]["config"], out_dir=str(trials / "0002"))
    with pytest.raises(KeyboardInterrupt):
        Trainer(TrainConfig.from_dict(config), callbacks=[_StopAt(13)]).fit()
    rows = run_sweep(data, out, scheduler=cluster, progress=False)
    assert [r["trial"] for r in rows] == [0, 1, 2, 3] and all(r["status"] == "ok" for r in rows)
    for i in (0, 1):  # not rerun: the very same result
        assert json.loads((trials / f"{i:04d}" / RESULT_NAME).read_text()) == kept[i]
    assert rows[2]["resumed_from"] == 12 and rows[3]["resumed_from"] == 0
    assert _steps_logged(trials / "0002") == list(range(1, 21))


def test_gpu_trials_go_only_to_gpu_workers_and_failures_are_recorded(cluster, tmp_path):
    # this machine's "gpu" worker has no CUDA: the cuda trials fail there, recorded with their error
    data = spec(grid={"device": ["cpu", "cuda"]}, seeds=2)
    rows = run_sweep(data, tmp_path / "sweep", scheduler=cluster, progress=False)
    gpu = _workers(cluster)["gpu"]
    cuda_rows = [r for r in rows if r["config"]["device"] == "cuda"]
    assert len(rows) == 4 and len(cuda_rows) == 2
    assert all(r["worker"] == gpu for r in cuda_rows)
    for row in rows:
        if row["config"]["device"] == "cpu":
            assert row["status"] == "ok"
        elif not _cuda_available():
            assert row["status"] == "failed" and row["error"]
    report = (tmp_path / "sweep" / "report.md").read_text()
    assert "| 1 | cuda |" in report


def _cuda_available() -> bool:
    import minigrad

    return minigrad.cuda_is_available()


def test_plug_in_algorithms_are_imported_on_the_workers_by_import_path(cluster, tmp_path):
    data = spec(seeds=1, grid={"algorithm": ["wgan-gp", "tests.wgan.sweep_plugin:HalfPenaltyGP"]})
    rows = run_sweep(data, tmp_path / "sweep", scheduler=cluster, progress=False, report=False)
    assert [r["status"] for r in rows] == ["ok", "ok"], rows
    config = json.loads((tmp_path / "sweep" / "trials" / "0001" / "config.json").read_text())
    assert config["gp_lambda"] == 0.05 and "penalty" in rows[1]["metrics"]  # the plug-in's toy preset


def test_a_users_optimizer_and_dataset_reach_the_workers_by_import_path_and_by_registered_name(cluster, tmp_path):
    from wgan import optimizers
    from wgan import data as data_module

    plugin = "tests.wgan.sweep_plugin"
    data = spec(seeds=1, steps=2, grid={"optimizer": [f"{plugin}:SignSGD", "sign-sgd"],
                                        "dataset": [f"{plugin}:moons", "plugin-moons"]})
    data["imports"] = ["tests.wgan.registering_plugin"]  # registers the names on the client and the workers
    try:
        rows = run_sweep(data, tmp_path / "sweep", scheduler=cluster, progress=False, report=False)
    finally:
        optimizers._REGISTRY.pop("sign-sgd", None)
        data_module._REGISTERED.pop("plugin-moons", None)
    assert [r["status"] for r in rows] == ["ok"] * 4, rows
    assert rows[0]["config"] == {"optimizer": f"{plugin}:SignSGD", "dataset": f"{plugin}:moons"}
    resumed = Trainer.resume(tmp_path / "sweep" / "trials" / "0000")  # by import path: found in this process too
    assert type(resumed.opt_g).__name__ == "SignSGD" and resumed.dataset.name == "moons"


def test_other_folders_and_other_sweeps_are_refused(cluster, tmp_path):
    from wgan.sweep import SpecError

    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(SpecError, match="not a sweep folder"):
        run_sweep(spec(), tmp_path / "busy", scheduler=cluster, progress=False)
    out = tmp_path / "sweep"
    run_sweep(spec(seeds=1), out, scheduler=cluster, progress=False, report=False)
    with pytest.raises(SpecError, match="holds a different sweep: trial 0 differs in gp_lambda"):
        run_sweep(spec(seeds=1, grid={"gp_lambda": [5.0]}), out, scheduler=cluster, progress=False)
    with pytest.raises(SpecError, match="--workers and --gpus size the local cluster"):
        run_sweep(spec(seeds=2), tmp_path / "other", scheduler=cluster, workers=2, progress=False)


@pytest.mark.slow  # a local cluster's start-up: ~20-80 s
def test_local_cluster_pins_blas_routes_gpu_trials_and_records_a_bad_config_trial(tmp_path):
    # the default engine: a LocalCluster (here two workers, the first declaring a GPU); the layernorm
    # trial fails in the models, the cuda trial runs on the GPU worker (and fails there without CUDA)
    data = dict(spec(seeds=1), configs=[{"device": "cpu"}, {"device": "cpu", "critic_norm": "layernorm"},
                                        {"device": "cuda"}])
    del data["grid"]
    rows = run_sweep(data, tmp_path / "sweep", workers=2, gpus=1, progress=False)
    assert [r["status"] for r in rows[:2]] == ["ok", "failed"]
    assert "critic_norm" in rows[1]["error"]
    assert rows[0]["threads"] == 1 and rows[0]["worker"].startswith("tcp://127.0.0.1:")
    if not _cuda_available():
        assert rows[2]["status"] == "failed" and rows[2]["error"]
    assert json.loads((tmp_path / "sweep" / "trials" / "0002" / RESULT_NAME).read_text())["resources"] == {"GPU": 1}


@pytest.mark.slow  # two CLI processes (imports, a sweep and its rerun): ~30-90 s
def test_ctrl_c_keeps_finished_trials_and_a_rerun_finishes(cluster, tmp_path):
    spec_path = tmp_path / "sweep.json"
    spec_path.write_text(json.dumps(spec(steps=40, grid={"gp_lambda": [0.1, 1.0, 10.0]}, seeds=2)))
    out = tmp_path / "sweep"
    command = [sys.executable, "-m", "wgan", "sweep", str(spec_path), "--out", str(out), "--scheduler", cluster,
               "--no-progress"]
    proc = subprocess.Popen(command, env=_env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and len(read_results(out)) < 1:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "sweep interrupted:" in err and "Traceback" not in err
    finished = read_results(out)
    assert 1 <= len(finished) < 6
    before = {r["trial"]: r for r in finished}
    rerun = subprocess.run(command, env=_env(), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    rows = read_results(out)
    assert [r["trial"] for r in rows] == list(range(6))
    for index, row in before.items():
        assert rows[index] == row

