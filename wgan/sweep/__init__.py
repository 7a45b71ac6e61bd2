"""Sweeps: many ordinary training runs from one spec, on Dask distributed (``wgan sweep SPEC --out DIR``).

- `wgan.sweep.spec`: the spec (base config, grid and random fields, seeds, metric) and its trials;
- `wgan.sweep.trial`: one trial as a worker runs it (resume from checkpoint, done marker, lock);
- `wgan.sweep.engine`: `run_sweep` on a local cluster or a scheduler address (needs the
  ``sweep`` extra: ``pip install -e ".[sweep]"``; imported on first use);
- `wgan.sweep.results` and `wgan.sweep.report`: the results table and the report.

    from wgan.sweep import run_sweep, write_report
    rows = run_sweep("sweep.toml", "sweeps/lambda", workers=2)
"""
from __future__ import annotations

from wgan.sweep.report import write_report
from wgan.sweep.results import read_results, read_sweep
from wgan.sweep.spec import SpecError, SweepSpec, Trial, load_spec

__all__ = ["SpecError", "SweepSpec", "Trial", "load_spec", "run_sweep", "write_report", "read_results",
           "read_sweep", "SweepInterrupted"]


def __getattr__(name: str):
    """`run_sweep` and `SweepInterrupted` come from `wgan.sweep.engine`, which imports Dask only when asked for."""
    if name in ("run_sweep", "SweepInterrupted"):
        from wgan.sweep import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'wgan.sweep' has no attribute {name!r}")
