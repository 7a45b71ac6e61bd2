"""Running a sweep's trials on Dask distributed: a local cluster by default, or any scheduler by address.

`run_sweep` checks the spec (nothing runs when it is invalid), records it in DIR/sweep.json, reads
the trials already done (their ``trial.json`` markers), and submits only the others, one Dask task
per trial (`wgan.sweep.trial.run_trial`). The local cluster has one worker process per core, one
thread each, BLAS pinned to one thread in every worker (environment and threadpoolctl). A worker
that dies has its task rerun elsewhere by the scheduler, from the trial's checkpoint; a trial
that fails is recorded and the others go on; the client alone writes the results files, keyed
by trial index, after each finished trial. Ctrl-C cancels what has not finished and keeps the
rest: running the same command again finishes the sweep.

GPU trials (``device = "cuda"``) ask for the Dask resource ``GPU=1``, so they run only on workers
started with ``--resources GPU=1`` (``gpus=N`` gives the first N local workers one GPU each).
"""
from __future__ import annotations

import copy
import logging
import os
import uuid
from contextlib import contextmanager
from pathlib import Path

try:
    import distributed
    from distributed.diagnostics.plugin import WorkerPlugin
except ImportError:  # pragma: no cover - the extra is missing
    raise ImportError("wgan sweep needs Dask distributed: pip install -e \".[sweep]\" "
                      "(or pip install dask distributed)") from None

from wgan.sweep.results import record_sweep, write_results
from wgan.sweep.spec import SpecError, SweepSpec, Trial, load_spec
from wgan.sweep.trial import read_result, run_trial

__all__ = ["run_sweep", "SweepInterrupted", "BLAS_ENV", "WORKER_ENV", "available_cores", "local_cluster"]

BLAS_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
#: POT (exact W1) otherwise imports every array library it finds (PyTorch alone takes 10-20 s to import);
#: wgan gives it NumPy arrays only.
POT_ENV = {f"POT_BACKEND_DISABLE_{name}": "1" for name in ("PYTORCH", "TENSORFLOW", "JAX", "CUPY")}
WORKER_ENV = {**BLAS_ENV, **POT_ENV}
GPU_RESOURCE = "GPU"


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a sweep; every finished trial is in the results files."""


def available_cores() -> int:
    """The cores this process may run on (the default number of local workers)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class TrialWorkerSetup(WorkerPlugin):
    """Runs on every worker (and on each restarted one): one BLAS thread, the spec's imports, wgan and POT
    loaded (POT without its PyTorch/TensorFlow/JAX/CuPy backends unless the worker's environment says)."""

    name = "wgan-sweep-setup"

    def __init__(self, imports: list[str], ignore_interrupts: bool = False):
        self.imports = list(imports)
        self.ignore_interrupts = ignore_interrupts

    def setup(self, worker) -> None:
        import importlib
        import signal
        import threading

        if self.ignore_interrupts and threading.current_thread() is threading.main_thread():
            # a local cluster's workers share the terminal's process group: Ctrl-C is the client's to handle
            # (it cancels the trials and closes the cluster), not a traceback from every worker
            signal.signal(signal.SIGINT, signal.SIG_IGN)

        for key, value in POT_ENV.items():
            os.environ.setdefault(key, value)
        import ot  # noqa: F401 - import costs paid at start-up, not by the first trial

        import minigrad
        import wgan.metrics
        import wgan.plots
        import wgan.train  # noqa: F401 - imported for its start-up cost, as ot above

        minigrad.set_num_threads(1)
        for module in self.imports:
            importlib.import_module(module)


def _probe_writable(sweep_dir: str) -> str | None:
    """None when this process can create and remove a file in sweep_dir, else the error."""
    probe = Path(sweep_dir) / f".probe-{uuid.uuid4().hex}"
    try:
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def local_cluster(workers: int, gpus: int = 0, host: str = "127.0.0.1"):
    """A LocalCluster of `workers` processes of one thread, BLAS pinned; the first `gpus` declare GPU=1."""
    cluster = distributed.LocalCluster(n_workers=0, threads_per_worker=1, processes=True, host=host,
                                       dashboard_address=None, silence_logs=logging.ERROR, env=dict(WORKER_ENV),
                                       scheduler_kwargs={"dashboard_address": ":0"})  # no fixed HTTP port
    for i in range(workers):
        spec = copy.deepcopy(cluster.new_spec)
        if i < gpus:
            spec["options"]["resources"] = {GPU_RESOURCE: 1}
            spec["options"]["env"] = dict(WORKER_ENV, CUDA_VISIBLE_DEVICES=str(i))
        cluster.worker_spec[f"trial-worker-{i}"] = spec
    cluster.sync(cluster._correct_state)
    return cluster


@contextmanager
def _client(workers: int | None, scheduler: str | None, gpus: int):
    if scheduler is not None:
        if workers is not None or gpus:
            raise SpecError("--workers and --gpus size the local cluster; with --scheduler start the workers "
                            "yourself (dask worker ADDRESS --nthreads 1 [--resources GPU=1])")
        try:
            client = distributed.Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise SpecError(f"--scheduler: cannot reach the Dask scheduler at {scheduler} ({exc})") from None
        try:
            yield client
        finally:
            client.close()
        return
    n = available_cores() if workers is None else workers
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise SpecError(f"--workers: expected a positive number of worker processes, got {workers!r}")
    if isinstance(gpus, bool) or not isinstance(gpus, int) or not 0 <= gpus <= n:
        raise SpecError(f"--gpus: expected a number of GPU workers between 0 and --workers ({n}), got {gpus!r}")
    cluster = local_cluster(n, gpus)
    try:
        client = distributed.Client(cluster)
        try:
            client.wait_for_workers(n, timeout=120)
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def _prepare_workers(client, sweep_dir: Path, spec: SweepSpec, pending: list[Trial], local: bool) -> None:
    """Check that every worker can write the sweep folder and that GPU trials have a GPU worker; set them up."""
    problems = {addr: err for addr, err in client.run(_probe_writable, str(sweep_dir)).items() if err}
    if problems:
        addr, err = next(iter(problems.items()))
        raise SpecError(f"--out: worker {addr} cannot write {sweep_dir} ({err}); the sweep folder must be on a "
                        "filesystem every worker shares, at the same path")
    if any(t.needs_gpu for t in pending):
        info = client.scheduler_info()["workers"]
        if not any(w.get("resources", {}).get(GPU_RESOURCE) for w in info.values()):
            raise SpecError("device: the sweep has cuda trials but no worker declares a GPU (start workers with "
                            "`dask worker ADDRESS --resources GPU=1`, or pass --gpus N for the local cluster)")
    client.register_plugin(TrialWorkerSetup(spec.imports, ignore_interrupts=local))


def _lost_result(trial: Trial, exc: BaseException) -> dict:
    """The result recorded by the client for a trial whose task itself failed (its workers kept dying)."""
    return {"trial": trial.index, "status": "failed", "metrics": {}, "error": f"{type(exc).__name__}: {exc}",
            "steps": None, "resumed_from": None, "train_time": None, "wall_time": None, "host": None,
            "worker": None, "threads": None}


def run_sweep(spec, out_dir, *, workers: int | None = None, scheduler: str | None = None, gpus: int = 0,
              retry_failed: bool = False, progress: bool = True, report: bool = True) -> list[dict]:
    """Run every unfinished trial of `spec` (a path, dict or SweepSpec) into `out_dir`; return the result rows.

    ``workers``: local cluster size (default: one per core); ``scheduler``: "tcp://HOST:PORT" of an
    existing cluster instead; ``gpus``: local workers that declare a GPU; ``retry_failed``: rerun
    trials recorded as failed. Writes DIR/results.{jsonl,csv} as trials finish and, with
    ``report``, DIR/report.md and DIR/report.png at the end. Raises SpecError for a bad spec or
    folder (before anything runs) and SweepInterrupted on Ctrl-C (finished trials kept).
    """
    spec = load_spec(spec)
    trials = spec.trials()
    sweep_dir = Path(out_dir).expanduser().resolve()
    record_sweep(sweep_dir, spec, trials)
    error = _probe_writable(str(sweep_dir))
    if error:
        raise SpecError(f"--out: cannot write {sweep_dir} ({error})")
    results: dict[int, dict] = {}
    for trial in trials:
        done = read_result(trial.run_dir(sweep_dir))
        if done is not None:
            results[trial.index] = done
    pending = [t for t in trials if t.index not in results or (retry_failed and results[t.index]["status"] != "ok")]
    rows = write_results(sweep_dir, spec, trials, results)
    if pending:
        with _client(workers, scheduler, gpus) as client:
            _prepare_workers(client, sweep_dir, spec, pending, local=scheduler is None)
            rows = _run_pending(client, sweep_dir, spec, trials, pending, results, retry_failed, progress)
    if report:
        from wgan.sweep.report import write_report

        write_report(sweep_dir)
    return rows


def _run_pending(client, sweep_dir: Path, spec: SweepSpec, trials: list[Trial], pending: list[Trial],
                 results: dict[int, dict], retry_failed: bool, progress: bool) -> list[dict]:
    """Submit the pending trials, record each result as it arrives, and return the result rows."""
    from tqdm.auto import tqdm

    token = uuid.uuid4().hex[:8]
    futures = {}
    for trial in pending:
        resources = {GPU_RESOURCE: 1} if trial.needs_gpu else None
        future = client.submit(run_trial, str(sweep_dir), trial.to_dict(), spec.imports, retry_failed,
                               key=f"wgan-trial-{trial.index:04d}-{token}", resources=resources)
        futures[future] = trial
    pending_indices = {t.index for t in pending}
    failed = sum(1 for i, r in results.items() if r["status"] != "ok" and i not in pending_indices)
    bar = tqdm(total=len(trials), initial=len(trials) - len(pending), disable=not progress, unit="trial",
               desc="trials", dynamic_ncols=True)
    bar.set_postfix(failed=failed)
    rows: list[dict] = []
    try:
        for future in distributed.as_completed(list(futures)):
            trial = futures[future]
            try:
                result = future.result()
            except Exception as exc:
                result = _lost_result(trial, exc)
            results[trial.index] = result
            failed += result["status"] != "ok"
            rows = write_results(sweep_dir, spec, trials, results)
            bar.set_postfix(failed=failed, refresh=False)
            bar.update(1)
    except KeyboardInterrupt:
        client.cancel(list(futures))
        rows = write_results(sweep_dir, spec, trials, results)
        done = sum(1 for t in trials if t.index in results)
        raise SweepInterrupted(f"sweep interrupted: {done} of {len(trials)} trials finished and kept in "
                               f"{sweep_dir / 'results.csv'}; run the same command again to finish the rest "
                               "(interrupted trials resume from their checkpoints)") from None
    finally:
        bar.close()
    return rows
