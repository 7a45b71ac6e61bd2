"""WGAN-GP's robustness experiment (Gulrajani et al. 2017, section 5.2), on the built-in digits, as a sweep.

Random architectures are drawn from the paper's table of choices; each is trained with the standard
(non-saturating) GAN and with WGAN-GP for the same number of generator iterations and scored with
the digit classifier's score (`wgan.scores`, the Inception Score's definition). An architecture
*succeeds* for a method at a threshold when its score reaches that fraction of the real data's own
score (the ceiling); the table counts, per threshold, the architectures where only GAN, only
WGAN-GP, both or neither succeeded ("Min. score / Only GAN / Only WGAN-GP / Both succeeded /
Both failed"). A run that diverges (NaN) fails at every threshold.

The paper's space (``full=True``; 32x32 ImageNet there, 8x8 digits here)::

    nonlinearity of G and of D   relu, leaky_relu, shifted_softplus = softplus(2x + 2)/2 − 1, tanh
    depth of G and of D          4, 8, 12, 20 conv layers
    batch norm in G              yes / no
    norm in D                    batch norm (GAN) or layer norm (WGAN-GP, whose penalty is per sample) / none
    base filters of G and of D   32, 64, 128

The default space keeps every nonlinearity and norm choice and shrinks depth (1-4) and filters
(8, 16, 32): the default `trials` took 222 min of worker time (the runs' training times summed, partly
under load), about 2 hours on 2 cores; the WGAN-GP runs of 32-filter critics take the longest. The budget is
2,000 generator iterations in both (as `wgan reproduce architectures`): at 400, every run of a first
trial scored 1.0-1.35 of the real data's 9.35 (nothing learnt yet). Both methods use
their papers' optimisers (`wgan.config`: GAN Adam 2e-4 betas (0.5, 0.999) with one D step,
WGAN-GP Adam 1e-4 betas (0, 0.9), n_critic 5, lambda 10), batch 64, z of 64 dimensions, and one
trial seed shared by every run. The runs are a `wgan.sweep` (one Dask task per run; rerunning the
same command finishes an interrupted experiment), so ``scheduler=`` runs the full size on a cluster.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from wgan.reproductions.common import command_line, metric, partial_note, read_setup, report_header, start_sweep

__all__ = ["robustness", "robustness_report", "draw_architectures", "success_table", "PAPER_SPACE", "LOCAL_SPACE",
           "THRESHOLDS"]

NONLINEARITIES = ("relu", "leaky_relu", "shifted_softplus", "tanh")
PAPER_SPACE = {"nonlinearity": NONLINEARITIES, "depth": (4, 8, 12, 20), "norm": (True, False),
               "filters": (32, 64, 128)}
LOCAL_SPACE = {"nonlinearity": NONLINEARITIES, "depth": (1, 2, 3, 4), "norm": (True, False), "filters": (8, 16, 32)}
QUICK_SPACE = {"nonlinearity": NONLINEARITIES, "depth": (1,), "norm": (True, False), "filters": (4,)}
#: Thresholds as fractions of the real data's classifier score (the paper's 1, 3, 5, 7, 9 of its ~10 scale).
THRESHOLDS = (0.1, 0.3, 0.5, 0.7, 0.9)
METHODS = ("gan", "wgan-gp")
DEFAULT_TRIALS, DEFAULT_STEPS, FULL_STEPS = 16, 2000, 2000
METRIC, CEILING = "classifier_score", "classifier_score_real"
NAME = "robustness"


def draw_architectures(n: int, space: dict, seed: int = 0) -> list[dict]:
    """`n` architectures drawn uniformly and independently from `space` (per network: nonlinearity,
    depth, norm on/off, filters), as dicts with keys g_/d_ nonlinearity, depth, norm, filters."""
    rng = np.random.default_rng([seed, 12])
    out = []
    for _ in range(n):
        arch = {}
        for net in ("g", "d"):
            for key, choices in space.items():
                arch[f"{net}_{key}"] = choices[int(rng.integers(len(choices)))]
        out.append(arch)
    return out


def _config(arch: dict, method: str) -> dict:
    """The TrainConfig fields of one architecture under one method (D's norm: batch norm for GAN,
    layer norm for WGAN-GP)."""
    d_norm = ("batchnorm" if method == "gan" else "layernorm") if arch["d_norm"] else "none"
    return {"algorithm": method, "g_nonlinearity": arch["g_nonlinearity"], "d_nonlinearity": arch["d_nonlinearity"],
            "g_depth": arch["g_depth"], "d_depth": arch["d_depth"], "g_filters": arch["g_filters"],
            "d_filters": arch["d_filters"], "g_norm": "batchnorm" if arch["g_norm"] else "none",
            "critic_norm": d_norm}


def success_table(gan: list[float | None], wgan_gp: list[float | None], ceiling: float,
                  thresholds=THRESHOLDS) -> list[dict]:
    """Per threshold fraction t: counts of architectures where only GAN / only WGAN-GP / both / neither
    reached t × ceiling (a None score, a failed run, reaches nothing)."""
    rows = []
    for t in thresholds:
        level = t * ceiling
        ok_g = [s is not None and s >= level for s in gan]
        ok_w = [s is not None and s >= level for s in wgan_gp]
        rows.append({"fraction": t, "min_score": level,
                     "only_gan": sum(g and not w for g, w in zip(ok_g, ok_w)),
                     "only_wgan_gp": sum(w and not g for g, w in zip(ok_g, ok_w)),
                     "both": sum(g and w for g, w in zip(ok_g, ok_w)),
                     "neither": sum(not g and not w for g, w in zip(ok_g, ok_w))})
    return rows


def _markdown(rows: list[dict], ceiling: float, pairs: list[tuple[int, list[dict]]], setup: dict) -> str:
    """The success table, then one line per architecture (its choices, both scores, both training times)."""
    description = (f"{len(pairs)} random architectures, each trained with GAN and with WGAN-GP for {setup['steps']} "
                   f"generator iterations on the built-in digits (one sweep trial per run, BLAS at one thread per "
                   f"worker); classifier score of {setup['samples']:,} samples, real data {ceiling:.3f}.")
    lines = report_header("Robustness to architecture (WGAN-GP, section 5.2)", description, setup) + [
             "| Min. score | Only GAN | Only WGAN-GP | Both succeeded | Both failed |", "|---|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['fraction']:.1f} × real = {r['min_score']:.2f} | {r['only_gan']} | {r['only_wgan_gp']} "
                     f"| {r['both']} | {r['neither']} |")
    lines += ["", "## The architectures", "",
              "Per network: nonlinearity / conv layers / base filters / normalisation (D's norm is batch norm under "
              "GAN, layer norm under WGAN-GP). Scores: classifier score (— a run that stopped non-finite); "
              "seconds: the run's training wall time on its worker.", "",
              "| # | G | D | GAN score | WGAN-GP score | GAN s | WGAN-GP s |", "|---:|---|---|---:|---:|---:|---:|"]

    def network(row: dict, net: str) -> str:
        config = row["config"]
        norm = config["g_norm"] if net == "g" else config["critic_norm"]
        return f"{config[net + '_nonlinearity']} / {config[net + '_depth']} / {config[net + '_filters']} / {norm}"

    def score(row: dict) -> str:
        value = metric(row, METRIC)
        return "—" if value is None else f"{value:.2f}"

    def seconds(row: dict) -> str:
        return "—" if row.get("train_time") is None else f"{row['train_time']:.0f}"

    times: dict[str, list[float]] = {method: [] for method in METHODS}
    for i, (gan, wgan_gp) in pairs:
        lines.append(f"| {i} | {network(gan, 'g')} | {network(wgan_gp, 'd')} | {score(gan)} | {score(wgan_gp)} | "
                     f"{seconds(gan)} | {seconds(wgan_gp)} |")
        for method, row in zip(METHODS, (gan, wgan_gp)):
            if row.get("train_time") is not None:
                times[method].append(float(row["train_time"]))
    lines.append("")
    for method, values in times.items():
        if values:
            lines.append(f"- {method} training time per run: median {np.median(values):.0f} s, range "
                         f"{min(values):.0f}-{max(values):.0f} s, total {sum(values) / 60:.0f} min over "
                         f"{len(values)} runs.")
    return "\n".join(lines) + "\n"


def _plot(gan, wgan_gp, ceiling, thresholds, path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4), dpi=100)
    hist, pair = fig.subplots(1, 2)
    bins = np.linspace(0.0, max(10.0, ceiling * 1.05), 41)
    for scores, label, color in ((gan, "GAN", "C0"), (wgan_gp, "WGAN-GP", "C1")):
        values = [s for s in scores if s is not None]
        failed = len(scores) - len(values)
        hist.hist(values, bins=bins, histtype="step", linewidth=2, color=color,
                  label=f"{label} ({failed} diverged)" if failed else label)
    for t in thresholds:
        hist.axvline(t * ceiling, color="grey", linewidth=0.8, linestyle=":")
    hist.axvline(ceiling, color="k", linewidth=1.2, label=f"real data {ceiling:.2f}")
    hist.set_xlabel("classifier score (higher is better)")
    hist.set_ylabel("architectures")
    hist.set_title("Score distributions (dotted: thresholds)", fontsize=10)
    hist.legend(fontsize=8, loc="upper left")
    g = np.array([np.nan if s is None else s for s in gan], dtype=float)
    w = np.array([np.nan if s is None else s for s in wgan_gp], dtype=float)
    pair.scatter(np.nan_to_num(g, nan=0.0), np.nan_to_num(w, nan=0.0), s=18, color="C2")
    top = max(10.0, ceiling * 1.05)
    pair.plot([0, top], [0, top], color="grey", linewidth=0.8)
    pair.set_xlim(0, top)
    pair.set_ylim(0, top)
    pair.set_xlabel("GAN score (0: diverged)")
    pair.set_ylabel("WGAN-GP score (0: diverged)")
    pair.set_title("Per architecture (above the line: WGAN-GP better)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)


def robustness(out_dir: Path, quick: bool = False, trials: int | None = None, full: bool = False,
               steps: int | None = None, workers: int | None = None, scheduler: str | None = None,
               seed: int = 0, report_only: bool = False) -> dict:
    """WGAN-GP's robustness table: random architectures, each trained with GAN and WGAN-GP, scored.

    Draws `trials` architectures, trains each with both methods (a sweep in OUT/sweep) and writes
    OUT/robustness.md (the table), OUT/robustness.json and OUT/robustness.png (score distributions).

    Default: `DEFAULT_TRIALS` architectures from `LOCAL_SPACE` for `DEFAULT_STEPS` generator iterations;
    ``full``: `PAPER_SPACE` for `FULL_STEPS` (200 trials as the paper: pass ``trials=200``); ``quick``:
    2 tiny architectures for 3 iterations (a smoke test). Rerunning with the same arguments finishes an
    interrupted run (a larger `trials` adds architectures); ``report_only`` writes the outputs from the
    runs finished so far (`robustness_report`) without training.
    """
    if report_only:
        read_setup(out_dir, NAME)
        return robustness_report(out_dir)
    if trials is not None and (isinstance(trials, bool) or not isinstance(trials, int) or trials < 1):
        raise ValueError(f"--trials: expected a positive number of architectures, got {trials!r}")
    space = QUICK_SPACE if quick else PAPER_SPACE if full else LOCAL_SPACE
    n = trials or (2 if quick else DEFAULT_TRIALS)
    budget = steps or (3 if quick else FULL_STEPS if full else DEFAULT_STEPS)
    archs = draw_architectures(n, space, seed)
    base = {"dataset": "digits", "model": "dcgan", "steps": budget, "batch_size": 64, "z_dim": 64,
            "eval_every": budget, "eval_samples": 200 if quick else 1000, "checkpoint_every": max(1, budget // 4),
            "log_every": max(1, budget // 20)}
    spec = {"metric": METRIC, "goal": "max", "seed": seed, "seeds": 1, "base": base,
            "configs": [_config(arch, method) for arch in archs for method in METHODS]}
    command = command_line(NAME, quick=quick, full=full, trials=trials)
    setup = {"trials": n, "steps": budget, "samples": base["eval_samples"], "command": command,
             "space": {k: list(v) for k, v in space.items()}, "architectures": archs}
    start_sweep(NAME, out_dir, spec, setup, workers, scheduler, quiet=quick)
    return robustness_report(out_dir)


def robustness_report(out_dir: Path) -> dict:
    """The table, JSON and figure from OUT/sweep's results so far: over the architectures whose two runs
    have both finished (all of them once the experiment is complete)."""
    from wgan.sweep import read_results

    out_dir = Path(out_dir)
    setup = read_setup(out_dir, NAME)
    by_trial = {r["trial"]: r for r in read_results(out_dir / "sweep")}
    scores: dict[str, list[float | None]] = {m: [] for m in METHODS}
    ceilings: list[float] = []
    pairs: list[tuple[int, list[dict]]] = []  # (architecture, its finished runs in METHODS order)
    for i in range(setup["trials"]):
        pair = [by_trial[2 * i + j] for j in range(len(METHODS)) if 2 * i + j in by_trial]
        if len(pair) < len(METHODS):
            continue
        pairs.append((i, pair))
        for method, row in zip(METHODS, pair):
            score, real = metric(row, METRIC), metric(row, CEILING)
            scores[method].append(score)
            if score is not None and real is not None:
                ceilings.append(real)
    if not ceilings:
        raise RuntimeError(f"robustness: no run has finished with a {METRIC} yet; see "
                           f"{out_dir / 'sweep' / 'results.csv'}")
    finished = [i for i, _ in pairs]
    ceiling = float(np.median(ceilings))
    table = success_table(scores["gan"], scores["wgan-gp"], ceiling)
    text = _markdown(table, ceiling, pairs, setup)
    text += partial_note(len(finished), setup["trials"], "architectures")
    (out_dir / "robustness.md").write_text(text)
    result = dict(setup, real_score=ceiling, finished=finished, table=table, scores=scores,
                  failed={m: sum(s is None for s in v) for m, v in scores.items()})
    (out_dir / "robustness.json").write_text(json.dumps(result, indent=1) + "\n")
    _plot(scores["gan"], scores["wgan-gp"], ceiling, THRESHOLDS, out_dir / "robustness.png")
    return {"real_score": ceiling, "finished": len(finished), "table": table, "failed": result["failed"],
            "figure": str(out_dir / "robustness.png"), "markdown": str(out_dir / "robustness.md")}
