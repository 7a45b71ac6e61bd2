"""WGAN-GP's architecture table (Gulrajani et al. 2017, Table 2 / Figure 2), reproduced on digits.

``python -m wgan reproduce architectures``: GAN (DCGAN's loss), LSGAN, WGAN with weight clipping,
WGAN-GP, and SN-GAN as an extra column, each trained on the seven architectures of the paper:

===================  ===================================================================================
row                  generator / critic (8x8 digits; DCGAN nets have 3 conv layers, all stride 2)
===================  ===================================================================================
dcgan                G: DCGAN (BN, ReLU, filters 4b-2b-b, b = 16); D: DCGAN (LeakyReLU 0.2, filters b-2b-4b,
                     BN after every conv but the first; layer norm for WGAN-GP, none for SN-GAN, as the
                     paper and SN-GAN do)
g_nobn_constant      G: no BN and a constant number of filters b; D: DCGAN
g_mlp                G: 4 hidden ReLU layers of 512 units (tanh output); D: DCGAN
no_norm              no normalisation in either G or D
gated                gated multiplicative nonlinearities tanh(a)·sigmoid(b) everywhere in G and D
tanh                 tanh nonlinearities everywhere in G and D
resnet101            101-layer bottleneck ResNets G and D (33 blocks, 8 base filters; BN in G; D normalised
                     as in dcgan)
===================  ===================================================================================

Initial weights: the official code's tflib layer defaults (``init="tflib"``: Glorot-uniform linears,
uniform convs of std sqrt(4 / (fan_in + fan_out)); the MLP generator's He-uniform hidden layers) for every
row but the ResNets, which keep PyTorch's defaults. DCGAN's N(0, 0.02) would leave the two rows without
batch norm in G almost independent of z at the start; at 2,000 iterations WGAN-GP scored 20% and 34% of
real there with it, 70% with tflib's.

Optimisers as the paper's Appendix E: GAN Adam(2e-4, β1 0.5); LSGAN RMSprop(1e-4); WGAN RMSprop(5e-5),
clip 0.01, n_critic 5; WGAN-GP Adam(1e-4, β (0.5, 0.9)), λ 10, n_critic 5; SN-GAN Adam(1e-4, β (0.5, 0.9)),
hinge loss, n_critic 5 (its paper's setting A). Batch 64, z ~ N(0, I_64).

Each cell is scored with the classifier score (`wgan.scores`) of 1,000 samples after ``steps`` generator
iterations, against the real digits' own score (same protocol) as the ceiling. The paper's finding, as
tested here: WGAN-GP reaches at least 80% of the real score in every row, and each of GAN, LSGAN and
WGAN-clip falls below 50% in at least one row.

Every cell is an ordinary run folder under ``out_dir/runs/<row>__<column>`` with a checkpoint every
``checkpoint_every`` steps: an interrupted reproduction continues where it stopped (finished cells are
read back, unfinished ones resumed), and one rerun with a larger ``steps`` extends every cell. ``workers > 1``
trains that many cells at once in subprocesses.
Output: ``architectures.png`` (a grid of sample grids with each cell's score), ``architectures.md``
(the table, the budget, the command, the machine and the verdict) and ``architectures.json``.
"""
from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from wgan.config import TrainConfig
from wgan.reproductions.common import machine

ROWS: dict[str, tuple[str, dict]] = {
    "dcgan": ("DCGAN G and D (baseline)", {}),
    "g_nobn_constant": ("G: no BN, constant filter count", dict(g_norm="none", g_constant_filters=True)),
    "g_mlp": ("G: 4-layer 512-unit ReLU MLP", dict(g_model="mlp", g_depth=4, width=512, g_nonlinearity="relu")),
    "no_norm": ("no normalisation in G or D", dict(g_norm="none", critic_norm="none")),
    "gated": ("gated multiplicative units in G and D", dict(g_nonlinearity="gated", d_nonlinearity="gated")),
    "tanh": ("tanh in G and D", dict(g_nonlinearity="tanh", d_nonlinearity="tanh")),
    "resnet101": ("101-layer ResNet G and D", dict(g_model="resnet", d_model="resnet", g_depth=101, d_depth=101,
                                                   g_norm="batchnorm", init="auto")),
}
COLUMNS: dict[str, tuple[str, dict]] = {
    "gan": ("GAN", dict(algorithm="gan", optimizer="adam", lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999))),
    "lsgan": ("LSGAN", dict(algorithm="lsgan", optimizer="rmsprop", lr_g=1e-4, lr_d=1e-4)),
    "wgan-clip": ("WGAN (clipping)", dict(algorithm="wgan-clip")),
    "wgan-gp": ("WGAN-GP", dict(algorithm="wgan-gp", betas=(0.5, 0.9))),
    "sngan": ("SN-GAN (extra)", dict(algorithm="sngan")),
}
#: The critic's normalisation where a row keeps DCGAN's: batch norm, but layer norm for the penalised
#: WGAN-GP (the paper) and none for SN-GAN (spectral norm replaces it, as in its paper).
CRITIC_NORM = {"gan": "batchnorm", "lsgan": "batchnorm", "wgan-clip": "batchnorm", "wgan-gp": "layernorm",
               "sngan": "none"}
COMPARED = ("gan", "lsgan", "wgan-clip")
SUCCESS, FAILURE = 0.8, 0.5
DEFAULT_STEPS = 2000
DEFAULT_RESNET_STEPS = 500
THUMBNAIL = 36


def cell_config(row: str, column: str, steps: int, dataset: str = "digits", base_filters: int = 16,
                resnet_filters: int = 8, eval_samples: int = 1000, seed: int = 0, quick: bool = False) -> TrainConfig:
    """The TrainConfig of one cell of the table (see the module docstring)."""
    fields: dict[str, Any] = dict(
        dataset=dataset, steps=steps, batch_size=64, z_dim=64, base_filters=base_filters, g_depth=3, d_depth=3,
        init="tflib",
        critic_norm=CRITIC_NORM[column], eval_every=steps, eval_samples=eval_samples,
        checkpoint_every=max(1, min(100, steps)), plot_every=1, seed=seed, log_every=10)
    fields.update(COLUMNS[column][1])
    fields.update(ROWS[row][1])
    if row == "resnet101":
        fields.update(g_filters=resnet_filters, d_filters=resnet_filters)
        if quick:
            fields.update(g_depth=8, d_depth=8)
    if row == "g_mlp" and quick:
        fields.update(width=32)
    return TrainConfig(**fields)


def _expected_cost(key: tuple) -> float:
    """A rough relative cost of a cell, to start the longest first."""
    row, column = key
    per_step = {"gan": 1.0, "lsgan": 1.0, "wgan-clip": 3.0, "sngan": 4.0, "wgan-gp": 5.0}[column]
    return per_step * {"resnet101": 10.0, "gated": 2.0}.get(row, 1.0)


def _read_cell(config: TrainConfig) -> dict:
    """A finished cell's summary, or a "not run" placeholder."""
    assert config.out_dir is not None  # `architectures` gives every cell its run folder
    path = Path(config.out_dir) / "cell.json"
    if path.is_file():
        return json.loads(path.read_text())
    nan = float("nan")
    return {"status": "not run", "steps": config.steps, "classifier_score": nan, "classifier_score_std": nan,
            "classifier_score_real": nan, "kid": nan, "kid_std": nan, "fid": nan, "train_seconds": nan,
            "wall_seconds": nan}


def _train_cell(config: TrainConfig) -> dict:
    """Train (or resume, or read back) one cell; returns its summary. Runs in a worker process."""
    from wgan.train import Trainer, TrainingDiverged, read_metrics

    assert config.out_dir is not None  # `architectures` gives every cell its run folder
    run_dir = Path(config.out_dir)
    summary_path = run_dir / "cell.json"
    if summary_path.is_file():
        summary = json.loads(summary_path.read_text())
        if summary["steps"] == config.steps or summary["status"] != "done":
            return summary
    start = time.time()
    status = "done"
    try:
        if (run_dir / "checkpoint.npz").is_file():   # unfinished, or finished at a smaller budget: continue
            trainer = Trainer.resume(run_dir, steps=config.steps)
        else:
            trainer = Trainer(config)
        trainer.fit()
        row = next(r for r in reversed(trainer.history) if "classifier_score" in r)
    except TrainingDiverged as exc:
        status, row = f"diverged: {exc}", {}
        trainer = None
    thumbnail = run_dir / "thumbnail.npy"
    if trainer is not None:
        np.save(thumbnail, trainer.sample(THUMBNAIL, np.random.default_rng(1234)))
    rows = read_metrics(run_dir)
    summary = {"status": status, "steps": config.steps,
               "classifier_score": row.get("classifier_score", float("nan")),
               "classifier_score_std": row.get("classifier_score_std", float("nan")),
               "classifier_score_real": row.get("classifier_score_real", float("nan")),
               "kid": row.get("kid", float("nan")), "kid_std": row.get("kid_std", float("nan")),
               "fid": row.get("fid", float("nan")),
               "train_seconds": rows[-1]["time"] if rows else float("nan"),
               "wall_seconds": time.time() - start}
    summary_path.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def architectures(out_dir: Path, quick: bool = False, steps: int | None = None, resnet_steps: int | None = None,
                  dataset: str = "digits", workers: int = 1, rows=None, columns=None, seed: int = 0,
                  report_only: bool = False) -> dict:
    """Train every (row, column) cell, then write the figure, the table and the JSON (module docstring).

    ``steps`` generator iterations per cell (default 2000; 3 with ``quick``), ``resnet_steps`` for the
    ResNet-101 row (default 500, it is ~10x slower per step; 3 with ``quick``). ``dataset``: "digits" or
    "mnist:PATH". ``quick`` is a smoke test: 3 steps, 8-layer ResNets, 100 samples scored.
    ``report_only`` trains nothing: it writes the figure and table from the cells finished so far
    (the others show as "not run").
    """
    from wgan.data import make_dataset
    from wgan.scores import scores_unavailable_reason

    out_dir = Path(out_dir)
    steps = steps or (3 if quick else DEFAULT_STEPS)
    resnet_steps = resnet_steps or (3 if quick else DEFAULT_RESNET_STEPS)
    rows, columns = list(rows or ROWS), list(columns or COLUMNS)
    unknown = [r for r in rows if r not in ROWS] + [c for c in columns if c not in COLUMNS]
    if unknown:
        raise ValueError(f"architectures: unknown rows/columns {unknown}; rows {list(ROWS)}, columns {list(COLUMNS)}")
    reason = scores_unavailable_reason(make_dataset(dataset))
    if reason is not None:
        raise ValueError(f"architectures: the table is scored with the digit classifier, but {reason}")
    from wgan.config import ALGORITHMS

    unavailable = [c for c in columns if COLUMNS[c][1]["algorithm"] not in ALGORITHMS]
    if unavailable:
        logging.getLogger("wgan").warning("architectures: columns %s left out: their algorithms are not available "
                                          "in this version of wgan", unavailable)
        columns = [c for c in columns if c not in unavailable]
    eval_samples = 100 if quick else 1000
    configs = {}
    for row in rows:
        for column in columns:
            cfg = cell_config(row, column, resnet_steps if row == "resnet101" else steps, dataset,
                              eval_samples=eval_samples, seed=seed, quick=quick)
            cfg.out_dir = str(out_dir / "runs" / f"{row}__{column}")
            configs[(row, column)] = cfg
    start = time.time()
    order = sorted(configs, key=_expected_cost, reverse=True)   # the longest first: a shorter makespan
    if report_only:
        cells = {key: _read_cell(configs[key]) for key in order}
    elif workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {key: pool.submit(_train_cell, configs[key]) for key in order}
            cells = {key: f.result() for key, f in futures.items()}
    else:
        cells = {key: _train_cell(configs[key]) for key in order}
    elapsed = time.time() - start
    scored = [c["classifier_score_real"] for c in cells.values() if np.isfinite(c["classifier_score_real"])]
    if not scored:
        raise ValueError(f"architectures: no finished cell under {out_dir / 'runs'} to report")
    real = float(max(scored))
    verdict = _verdict(cells, rows, columns, real)
    result = {"dataset": dataset, "steps": steps, "columns_left_out": unavailable, "report_only": report_only,
              "resnet_steps": resnet_steps, "quick": quick, "workers": workers,
              "real_classifier_score": real, "wall_seconds": elapsed, "verdict": verdict,
              "machine": machine(), "cells": {f"{r}__{c}": cells[(r, c)] for r, c in configs}}
    (out_dir / "architectures.json").write_text(json.dumps(result, indent=2) + "\n")
    _plot(cells, configs, rows, columns, real, out_dir / "architectures.png", steps, resnet_steps, dataset, quick)
    (out_dir / "architectures.md").write_text(_markdown(result, rows, columns))
    return {"figure": str(out_dir / "architectures.png"), "table": str(out_dir / "architectures.md"),
            "real_classifier_score": real, "finding_reproduced": verdict["reproduced"], "wall_seconds": elapsed}


def _fraction(cell: dict, real: float) -> float:
    value = cell["classifier_score"]
    return float(value / real) if np.isfinite(value) else 0.0


def _verdict(cells: dict, rows: list, columns: list, real: float) -> dict:
    """WGAN-GP >= 80% of the real score in every row; each compared method < 50% in at least one row.
    A diverged cell counts as a failure; a cell not run counts neither way (and the verdict is then
    incomplete, so not reproduced)."""
    def below(column: str, threshold: float) -> list:
        return [r for r in rows if cells[(r, column)]["status"] != "not run"
                and _fraction(cells[(r, column)], real) < threshold]

    out: dict = {"real_classifier_score": real,
                 "complete": all(cells[(r, c)]["status"] != "not run" for r in rows for c in columns)}
    if "wgan-gp" in columns:
        low = below("wgan-gp", SUCCESS)
        out["wgan_gp_rows_below_80pct"] = low
        out["wgan_gp_succeeds_everywhere"] = not low
    fails = {c: below(c, FAILURE) for c in COMPARED if c in columns}
    out["rows_below_50pct"] = fails
    out["every_other_method_fails_somewhere"] = all(fails.values()) and len(fails) == len(COMPARED)
    out["reproduced"] = (out["complete"] and bool(out.get("wgan_gp_succeeds_everywhere"))
                         and out["every_other_method_fails_somewhere"])
    return out


def _grid(images: np.ndarray, nrow: int = 6) -> np.ndarray:
    """(N, C, H, W) in [-1, 1] -> one (rows·(H+1), nrow·(W+1)) grey image in [0, 1] with 1-pixel gaps."""
    x = (np.clip(images, -1, 1).mean(axis=1) + 1) / 2
    n, h, w = x.shape
    rows = int(np.ceil(n / nrow))
    out = np.ones((rows * (h + 1) - 1, nrow * (w + 1) - 1))
    for i in range(n):
        r, c = divmod(i, nrow)
        out[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = x[i]
    return out


def _plot(cells, configs, rows, columns, real, path: Path, steps, resnet_steps, dataset, quick) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2.1 * len(columns) + 1.8, 2.25 * len(rows) + 0.9), dpi=100)
    axes = fig.subplots(len(rows), len(columns), squeeze=False)
    for i, row in enumerate(rows):
        for j, column in enumerate(columns):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            cell = cells[(row, column)]
            thumb = Path(configs[(row, column)].out_dir) / "thumbnail.npy"
            if thumb.is_file():
                ax.imshow(_grid(np.load(thumb)), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            frac = _fraction(cell, real)
            color = "tab:green" if frac >= SUCCESS else ("tab:red" if frac < FAILURE else "tab:orange")
            if cell["status"] == "not run":
                color = "tab:gray"
            label = (f"CS {cell['classifier_score']:.2f} ({100 * frac:.0f}%)" if cell["status"] == "done"
                     else cell["status"].split(":")[0])
            ax.set_xlabel(label, fontsize=9, color=color)
            if i == 0:
                ax.set_title(COLUMNS[column][0], fontsize=10)
            if j == 0:
                ax.set_ylabel(ROWS[row][0].replace(": ", ":\n").replace(" and ", "\nand "), fontsize=8)
    quick = " (quick smoke test: 8-layer ResNets, 100 samples scored)" if quick else ""
    fig.suptitle(f"WGAN-GP's architecture table on {dataset}{quick}: samples and classifier score (CS) after "
                 f"{steps} generator steps ({resnet_steps} for the ResNet row)\nreal data CS {real:.2f}; "
                 "green: >= 80% of real, orange: 50-80%, red: < 50%", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(path)


def _seconds(value: float) -> str:
    return f"{value:.0f}" if np.isfinite(value) else "–"


def _markdown(result: dict, rows: list, columns: list) -> str:
    real = result["real_classifier_score"]
    cells = result["cells"]
    head = "| architecture | " + " | ".join(COLUMNS[c][0] for c in columns) + " |"
    lines = [f"# WGAN-GP architecture table on `{result['dataset']}`", "",
             f"Classifier score (mean ± std over 10 splits of 1,000 samples, `wgan.scores`) after {result['steps']} "
             f"generator iterations ({result['resnet_steps']} for the ResNet-101 row), and its percentage of the real "
             f"digits' score **{real:.2f}** (same protocol). Bold: at least 80% of real; *italics*: below 50%.", "",
             head, "|" + "---|" * (len(columns) + 1)]
    for row in rows:
        entries = []
        for column in columns:
            cell = cells[f"{row}__{column}"]
            if cell["status"] != "done":
                entries.append(cell["status"].split(":")[0])
                continue
            frac = cell["classifier_score"] / real
            text = f"{cell['classifier_score']:.2f} ± {cell['classifier_score_std']:.2f} ({100 * frac:.0f}%)"
            entries.append(f"**{text}**" if frac >= SUCCESS else (f"*{text}*" if frac < FAILURE else text))
        lines.append(f"| {ROWS[row][0]} | " + " | ".join(entries) + " |")
    verdict = result["verdict"]
    per_run = {f"{r}__{c}": cells[f"{r}__{c}"]["train_seconds"] for r in rows for c in columns}
    lines += ["", "## Verdict", "",
              f"- WGAN-GP at >= 80% of the real score in every row: **{verdict.get('wgan_gp_succeeds_everywhere')}**"
              f" (rows below: {verdict.get('wgan_gp_rows_below_80pct')})",
              f"- GAN, LSGAN and WGAN-clip each below 50% in at least one row: "
              f"**{verdict['every_other_method_fails_somewhere']}** (rows below 50%: {verdict['rows_below_50pct']})",
              f"- Every cell trained: **{verdict['complete']}**"
              + (f" (columns left out, algorithm not available: {result['columns_left_out']})"
                 if result["columns_left_out"] else ""),
              f"- The paper's finding reproduced at this budget: **{verdict['reproduced']}**", "",
              "## Time per run (training seconds, evaluation excluded)", "",
              "| architecture | " + " | ".join(COLUMNS[c][0] for c in columns) + " |",
              "|" + "---|" * (len(columns) + 1)]
    for row in rows:
        lines.append(f"| {ROWS[row][0]} | " + " | ".join(_seconds(per_run[f"{row}__{c}"]) for c in columns) + " |")
    m = result["machine"]
    timing = ("Assembled from the finished runs (--report-only); " if result["report_only"] else
              f"Total wall time {result['wall_seconds'] / 60:.1f} min with {result['workers']} worker(s); ")
    lines += ["", timing +
              f"sum of training times {np.nansum(list(per_run.values())) / 60:.1f} min. "
              f"Machine: {m['cpu']}, {m['cores']} cores, "
              f"OPENBLAS_NUM_THREADS={m['openblas_threads']}.", ""]
    return "\n".join(lines)
