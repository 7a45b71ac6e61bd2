"""One sweep trial, as a worker runs it: an ordinary run folder, resumed from its checkpoint, finished once.

The run folder ``DIR/trials/NNNN`` holds what ``wgan train --out`` writes (config.json, metrics,
figures, checkpoint.npz), so ``wgan train --resume``, ``wgan eval`` and ``wgan plot`` work on it,
plus three files of the sweep's:

- ``.lock``: held (POSIX ``flock``) while a worker runs the trial. A second worker given the same
  trial (the scheduler presumed the first dead) waits for it and then finds the trial done; the
  operating system releases the lock of a process that dies, so a rerun never waits for a corpse.
- ``running.json``: host, pid, worker address and start time of the run in progress.
- ``trial.json``: the done marker and result (status "ok" or "failed", final metrics, error, times),
  written by ``os.replace`` of a temporary file: it exists completely or not at all, and its
  presence is what makes a trial finished.

A trial that raises (NaN loss, a config the models refuse) is recorded as failed with its error;
it never raises out of `run_trial`.
"""
from __future__ import annotations

import fcntl
import importlib
import json
import os
import socket
import time
from contextlib import contextmanager
from collections.abc import Sequence
from pathlib import Path

from wgan.sweep.spec import Trial

__all__ = ["run_trial", "read_result", "final_metrics", "RESULT_NAME", "RUNNING_NAME"]

RESULT_NAME = "trial.json"
RUNNING_NAME = "running.json"
LOCK_NAME = ".lock"


def read_result(run_dir) -> dict | None:
    """The done marker of a trial folder, or None when the trial has not finished."""
    path = Path(run_dir) / RESULT_NAME
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def final_metrics(history: list[dict]) -> dict:
    """Each metric's last logged value (the final evaluation's w1/fid, the last step's losses)."""
    out: dict = {}
    for row in history:
        for key, value in row.items():
            if key != "step" and isinstance(value, (int, float)) and not isinstance(value, bool):
                out[key] = value
    return out


def _write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{socket.gethostname()}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        f.write(json.dumps(data, indent=1, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@contextmanager
def _exclusive(path: Path):
    with open(path, "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _worker_info() -> dict:
    """The Dask worker's address and declared resources (None and {} outside a worker)."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):  # no Dask, or run_trial called directly
        return {"worker": None, "resources": {}}
    return {"worker": worker.address, "resources": dict(worker.state.total_resources)}


def run_trial(sweep_dir: str, trial: dict, imports: Sequence[str] = (), retry_failed: bool = False) -> dict:
    """Run (or resume, or skip) one trial in ``sweep_dir/trials/NNNN`` and return its result dict.

    `trial` is `Trial.to_dict()`. A finished trial returns its recorded result without training
    (a failed one is rerun with `retry_failed`); a folder with a checkpoint resumes from it.
    The result: ``trial``, ``status`` ("ok"/"failed"), ``metrics`` (`final_metrics`), ``error``,
    ``steps``, ``resumed_from`` (the checkpoint's step, 0 for a fresh start), ``train_time``
    (the run's training seconds, all attempts), ``wall_time`` (this attempt), ``host``, ``pid``,
    ``worker`` (its Dask address), ``resources`` (those it declares, e.g. {"GPU": 1}) and ``threads``
    (its BLAS threads).
    """
    from wgan.config import TrainConfig
    from wgan.run_folder import CHECKPOINT_NAME
    from wgan.train import Trainer

    spec_trial = Trial.from_dict(trial)
    run_dir = spec_trial.run_dir(sweep_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(run_dir / LOCK_NAME):
        done = read_result(run_dir)
        if done is not None and (done["status"] == "ok" or not retry_failed):
            return done
        import minigrad

        where = {"host": socket.gethostname(), "pid": os.getpid(), **_worker_info(),
                 "threads": minigrad.get_num_threads()}
        _write_json_atomic(run_dir / RUNNING_NAME, dict(where, trial=spec_trial.index, started=time.time()))
        start = time.perf_counter()
        result = {"trial": spec_trial.index, "status": "ok", "metrics": {}, "error": None, "steps": 0,
                  "resumed_from": 0, "train_time": 0.0, **where}
        trainer = None
        try:
            for module in imports:
                importlib.import_module(module)
            if (run_dir / CHECKPOINT_NAME).is_file():
                trainer = Trainer.resume(run_dir)
                result["resumed_from"] = trainer.step
            else:
                trainer = Trainer(TrainConfig.from_dict(dict(spec_trial.config, out_dir=str(run_dir))))
            history = trainer.fit()
            result["metrics"] = final_metrics(history)
        except Exception as exc:
            result["status"] = "failed"
            result["error"] = f"{type(exc).__name__}: {exc}"
        if trainer is not None:
            result["steps"] = trainer.step
            result["train_time"] = trainer.history[-1].get("time", 0.0) if trainer.history else 0.0
        result["wall_time"] = round(time.perf_counter() - start, 4)
        result["finished"] = time.time()
        _write_json_atomic(run_dir / RESULT_NAME, result)
        (run_dir / RUNNING_NAME).unlink(missing_ok=True)
        return result
