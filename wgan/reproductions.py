"""Figure 1 of WGAN-GP (Gulrajani et al. 2017) and the W-estimate correlation argument, reproduced.

Each function ``fn(out_dir, quick=False, ...)`` writes its figure(s) and a JSON of numbers under
`out_dir` and returns a short dict of the headline numbers (``python -m wgan reproduce NAME``).
``quick=True`` runs a few steps only (for tests and smoke runs); the figures it draws are not
meaningful.

- `fig1a`: critics trained towards optimality with the generator fixed at P_g = P_r + N(0, I)
  (gan_toy.py's ``FIXED_GENERATOR``) on 8 gaussians, 25 gaussians and swiss roll, weight clipping
  (top row) against the gradient penalty (bottom row): value surfaces side by side.
- `fig1b`: 12-layer ReLU MLP critic and generator trained as WGAN on swiss roll with clipping
  c in {0.1, 0.01, 0.001} and with GP; the norm of the critic loss's gradient with respect to
  each layer's activations (log scale) and histograms of the critic's weights.
- `correlation`: over a `wgan-gp` run on a 2-D mixture, the critic's estimate
  E[D(x)] - E[D(G(z))] against the exact W1 (Pearson r), and over a standard `gan` run its
  discriminator loss against the exact W1.

Setup choices (the paper does not state them all; gan_toy.py is followed where it does not):
the toy preset's networks (ReLU MLPs, He-uniform hidden / Glorot-uniform output init, batch
256); clipping runs use gan_toy's RMSprop lr 5e-5 (decay 0.9, eps 1e-10) with c = 0.01 (fig1a)
applied after every critic step; GP runs use the *paper's* lambda = 10 (gan_toy's 0.1 is a
speed-up for its generator training) with gan_toy's Adam lr 1e-4, betas (0.5, 0.9).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import minigrad
from minigrad import Tensor, nn
from wgan import losses
from wgan.config import TrainConfig
from wgan.data import make_dataset
from wgan.models import MLPCritic
from wgan.train import Trainer, make_optimizer

FIG1A_DATASETS = ("8gaussians", "25gaussians", "swissroll")
FIG1B_SETTINGS = ("clip 0.1", "clip 0.01", "clip 0.001", "gp")
PAPER_GP_LAMBDA = 10.0


def _figure(figsize):
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, dpi=100)


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")


def _tensor(array: np.ndarray) -> Tensor:
    return Tensor._make(np.ascontiguousarray(array, dtype=np.float32), False)


# ----------------------------------------------------------------------------------------------- fig1a
def _toy_config(method: str, **overrides) -> TrainConfig:
    """The resolved toy-preset config of a fig1 method: "clip" (wgan-clip) or "gp" (wgan-gp, lambda 10)."""
    if method == "clip":
        return TrainConfig(algorithm="wgan-clip", preset="toy", **overrides).resolve()
    return TrainConfig(algorithm="wgan-gp", preset="toy", gp_lambda=PAPER_GP_LAMBDA, **overrides).resolve()


def train_fixed_generator_critic(dataset: str, method: str, steps: int, seed: int = 0, width: int = 512,
                                 depth: int = 3, n_eval: int = 4096) -> tuple[MLPCritic, dict]:
    """Train a toy critic for `steps` updates against P_g = P_r + N(0, I) (gan_toy's FIXED_GENERATOR).

    Each step draws a real batch x (256 points) and uses x~ = x + N(0, I) as the generated batch, as
    gan_toy.py does; ``method`` "clip" clamps every parameter to [-c, c] after the RMSprop step, "gp"
    adds lambda * E[(||grad D(x^)|| - 1)^2]. Returns the critic and its final statistics on `n_eval`
    fresh pairs: ``w_estimate`` = E[D(x)] - E[D(x~)], and the mean/std of ||grad D|| at the
    interpolates x^ (1 for a critic meeting the penalty's target, far below 1 for a clipped one).
    """
    cfg = _toy_config(method, width=width, depth=depth, seed=seed)
    minigrad.manual_seed(seed)
    rng = np.random.default_rng(seed)
    data = make_dataset(dataset)
    critic = MLPCritic((2,), cfg.width, cfg.depth, cfg.activation, "toy")
    params = list(critic.parameters())
    opt = make_optimizer(cfg, params, cfg.lr_d)
    B = cfg.batch_size
    for _ in range(steps):
        real = np.asarray(data.sample(B, rng), dtype=np.float32)
        fake = real + rng.standard_normal(real.shape, dtype=np.float32)
        real_t, fake_t = _tensor(real), _tensor(fake)
        out = critic(minigrad.concatenate([real_t, fake_t], axis=0))
        loss = losses.critic_loss("wgan", out[:B], out[B:])
        if cfg.penalty != "none":
            eps = _tensor(rng.random((B, 1), dtype=np.float32))
            penalty, _ = losses.gradient_penalty(critic, real_t, fake_t, eps, sqrt_eps=cfg.gp_eps)
            loss = loss + cfg.gp_lambda * penalty
        for p, g in zip(params, minigrad.grad(loss, params, allow_unused=True)):
            p.grad = g
        opt.step()
        if cfg.clip > 0:
            losses.clip_parameters_(critic, cfg.clip)
    real = np.asarray(data.reference_sample(n_eval, rng), dtype=np.float32)
    fake = real + rng.standard_normal(real.shape, dtype=np.float32)
    _, norms = losses.gradient_penalty(critic, _tensor(real), _tensor(fake),
                                       _tensor(rng.random((n_eval, 1), dtype=np.float32)))
    with minigrad.no_grad():
        w = float(critic(_tensor(real)).numpy().mean() - critic(_tensor(fake)).numpy().mean())
    return critic, {"w_estimate": w, "grad_norm_mean": float(norms.numpy().mean()),
                    "grad_norm_std": float(norms.numpy().std()), "steps": steps}


def fig1a(out_dir: Path, quick: bool = False, steps: int | None = None, width: int | None = None,
          seed: int = 0) -> dict:
    """WGAN-GP Figure 1a: critic value surfaces, clipping (top) against GP (bottom), generator fixed at P_r + N(0, I).

    For each of 8 gaussians, 25 gaussians and swiss roll a toy critic (3 hidden ReLU layers of `width`,
    default 512 as gan_toy; ``quick``: 64) is trained for `steps` critic updates (default 500: 4.5 minutes for all six
    on a busy 2-core CPU; ``quick``: 5)
    with clipping (RMSprop 5e-5, c = 0.01) and with GP (lambda 10, Adam 1e-4, betas (0.5, 0.9)).
    Writes ``fig1a.png`` (2x3 contour plots over [-3, 3]^2 with the real points) and ``fig1a.json``
    (per panel: the critic's W estimate and the mean/std of ||grad D|| at the interpolates).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    steps = (5 if quick else 500) if steps is None else steps
    width = (64 if quick else 512) if width is None else width
    grid, n_eval = (32, 512) if quick else (128, 4096)
    from wgan.plots import critic_grid

    panels, surfaces = {}, {}
    for dataset in FIG1A_DATASETS:
        for method in ("clip", "gp"):
            critic, stats = train_fixed_generator_critic(dataset, method, steps, seed, width, n_eval=n_eval)
            critic.eval()

            def values(points, critic=critic):
                with minigrad.no_grad():
                    return critic(_tensor(points)).numpy()

            surfaces[dataset, method] = critic_grid(values, bounds=3.0, grid=grid)
            panels[f"{dataset}/{method}"] = stats
    real = {d: make_dataset(d).reference_sample(512, np.random.default_rng(seed)) for d in FIG1A_DATASETS}
    path = out_dir / "fig1a.png"
    fig = _figure((12, 8))
    axes = fig.subplots(2, 3)
    for col, dataset in enumerate(FIG1A_DATASETS):
        for row, method in enumerate(("clip", "gp")):
            ax = axes[row, col]
            axis, vals = surfaces[dataset, method]
            if np.isfinite(vals).all() and np.ptp(vals) > 0:
                ax.contour(axis, axis, vals.T, levels=20, cmap="viridis", linewidths=0.8)
            ax.scatter(real[dataset][:, 0], real[dataset][:, 1], s=2, c="orange")
            ax.set_xlim(-3, 3)
            ax.set_ylim(-3, 3)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            label = "weight clipping (c = 0.01)" if method == "clip" else f"gradient penalty (λ = {PAPER_GP_LAMBDA:g})"
            ax.set_title(f"{dataset}: {label}", fontsize=9)
    fig.suptitle(f"Critic value surfaces, generator fixed at real + N(0, I), {steps} critic steps")
    fig.tight_layout()
    fig.savefig(path)
    result = {"steps": steps, "width": width, "seed": seed, "gp_lambda": PAPER_GP_LAMBDA, "clip": 0.01,
              "panels": panels,
              "figure": str(path)}
    _write_json(out_dir / "fig1a.json", result)
    return {"figure": str(path), "json": str(out_dir / "fig1a.json"),
            "grad_norm_mean": {k: round(v["grad_norm_mean"], 4) for k, v in panels.items()}}


# ----------------------------------------------------------------------------------------------- fig1b
def layer_gradient_norms(critic: MLPCritic, real: np.ndarray, fake: np.ndarray) -> list[float]:
    """||d L / d h_l||_2 for the output h_l of every Linear layer l of an MLP critic (input side first).

    L = E[D(x~)] - E[D(x)] is the critic's Wasserstein loss on the batches `real` and `fake`; the
    activations are collected during one forward pass and differentiated with `minigrad.grad`.
    The norm is over the whole (2B, width) activation tensor.
    """
    h = minigrad.concatenate([_tensor(real), _tensor(fake)], axis=0)
    activations = []
    for module in critic.net:
        h = module(h)
        if isinstance(module, nn.Linear):
            activations.append(h)
    out = minigrad.reshape(h, (h.shape[0],))
    B = len(real)
    loss = losses.critic_loss("wgan", out[:B], out[B:])
    grads = minigrad.grad(loss, activations)
    return [float(np.sqrt(np.sum(g.numpy().astype(np.float64) ** 2))) for g in grads]


def _fig1b_config(setting: str, width: int, depth: int, steps: int, seed: int) -> TrainConfig:
    common = dict(dataset="swissroll", width=width, depth=depth, steps=steps, seed=seed, eval_every=0,
                  checkpoint_every=0)
    if setting == "gp":
        return TrainConfig(algorithm="wgan-gp", preset="toy", gp_lambda=PAPER_GP_LAMBDA, **common)
    return TrainConfig(algorithm="wgan-clip", preset="toy", clip=float(setting.split()[1]), **common)


def fig1b(out_dir: Path, quick: bool = False, steps: int | None = None, width: int | None = None,
          seed: int = 0) -> dict:
    """WGAN-GP Figure 1b: per-layer gradient norms of a 12-layer ReLU critic on swiss roll, clipping vs GP.

    Generator and critic are MLPs with 12 hidden ReLU layers (13 Linear layers; width 512 as
    gan_toy, ``quick``: 32), trained as WGAN on swiss roll for `steps` generator iterations (default
    40, i.e. 200 critic updates; ``quick``: 2) with clipping c in {0.1, 0.01, 0.001} (RMSprop 5e-5)
    and with GP (lambda 10, Adam 1e-4, betas (0.5, 0.9)). Then the norm of the critic loss's gradient
    with respect to each Linear layer's output is measured on 4 fresh batches of 256 (averaged).

    Clipping at c = 0.001 and 0.01 vanishes from the first iterations; c = 0.1 explodes only once the
    RMSprop updates have piled the weights up at +-c: at the default 40 iterations its growth is under
    one decade, at ``steps=200`` (about 20 minutes on a busy 2-core CPU) it is about 7 decades, as the
    paper shows.

    Writes ``fig1b.png`` (left: log10 norm against layer, output layer 13 on the left as the paper;
    right: histograms of the critic's weights), ``fig1b.json`` (per setting: the 13 norms, the
    max/min ratio across layers in decades, and the verdict: "explodes" when the norm grows by more than
    10x from the output to the input layer, "vanishes" when it shrinks by more than 10x, else "stable").
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    steps = (2 if quick else 40) if steps is None else steps
    width = (32 if quick else 512) if width is None else width
    depth = 12
    settings: dict[str, dict] = {}
    weights: dict[str, np.ndarray] = {}
    for setting in FIG1B_SETTINGS:
        trainer = Trainer(_fig1b_config(setting, width, depth, steps, seed))
        trainer.fit()
        rng = np.random.default_rng([seed, 7])
        norms = []
        for _ in range(4):
            real = np.asarray(trainer.dataset.sample(256, rng), dtype=np.float32)
            norms.append(layer_gradient_norms(trainer.critic, real, trainer.sample(256, rng)))
        norms = np.mean(norms, axis=0)
        decades = np.log10(norms)
        change = float(decades[0] - decades[-1])  # input side minus output side, in decades
        verdict = "explodes" if change > 1 else "vanishes" if change < -1 else "stable"
        settings[setting] = {"layer_norms": norms.tolist(), "log10_norms": decades.tolist(),
                             "decades_input_minus_output": change,
                             "decades_max_minus_min": float(decades.max() - decades.min()),
                             "verdict": verdict}
        weights[setting] = np.concatenate([m.weight.numpy().ravel() for m in trainer.critic.net
                                           if isinstance(m, nn.Linear)])
        settings[setting]["weight_abs_max"] = float(np.abs(weights[setting]).max())
        settings[setting]["weight_std"] = float(weights[setting].std())
    layers = np.arange(1, depth + 2)
    path = out_dir / "fig1b.png"
    fig = _figure((12, 4.5))
    ax_norm, *ax_hist = fig.subplots(1, 1 + len(FIG1B_SETTINGS),
                                     gridspec_kw={"width_ratios": [2.5] + [1] * len(FIG1B_SETTINGS)})
    for i, setting in enumerate(FIG1B_SETTINGS):
        ax_norm.plot(layers, settings[setting]["log10_norms"], marker="o", ms=3, label=setting, color=f"C{i}")
        ax_hist[i].hist(weights[setting], bins=60, color=f"C{i}")
        ax_hist[i].set_title(f"critic weights, {setting}", fontsize=8)
        ax_hist[i].tick_params(labelsize=7)
    ax_norm.set_xlim(depth + 1.5, 0.5)
    ax_norm.set_xlabel("critic layer (13 = output)")
    ax_norm.set_ylabel("log10 ||dL/dh_l||")
    ax_norm.set_title("gradient norm of the critic loss per layer")
    ax_norm.grid(alpha=0.3)
    ax_norm.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    result = {"steps": steps, "critic_updates": steps * 5, "width": width, "hidden_layers": depth,
              "linear_layers": depth + 1, "seed": seed, "gp_lambda": PAPER_GP_LAMBDA,
              "layer_order": "index 0 = first (input-side) Linear layer, last = output layer",
              "settings": settings, "figure": str(path)}
    _write_json(out_dir / "fig1b.json", result)
    return {"figure": str(path), "json": str(out_dir / "fig1b.json"),
            "verdicts": {k: v["verdict"] for k, v in settings.items()},
            "decades_max_minus_min": {k: round(v["decades_max_minus_min"], 2) for k, v in settings.items()}}


# ----------------------------------------------------------------------------------------------- correlation
class _EstimateLogger:
    """``on_eval`` callback: the critic's estimate (or the GAN discriminator's loss) on the evaluation
    samples, next to the exact W1 the trainer just computed."""

    def __init__(self, loss: str, n: int):
        self.loss, self.n, self.points = loss, n, []

    def on_eval(self, trainer: Trainer, step: int, metrics: dict) -> None:
        rng = np.random.default_rng([trainer.config.seed, 11, step])
        real = np.asarray(trainer.dataset.reference_sample(self.n, rng), dtype=np.float32)
        d_real = trainer.critic_values(real).astype(np.float64)
        d_fake = trainer.critic_values(trainer.sample(self.n, rng)).astype(np.float64)
        if self.loss == "wgan":
            value = float(d_real.mean() - d_fake.mean())
        else:  # the non-saturating GAN's discriminator loss (binary cross-entropy), as logged by the trainer
            value = float(np.logaddexp(0, -d_real).mean() + np.logaddexp(0, d_fake).mean())
        self.points.append({"step": step, "value": value, "w1": float(metrics["w1"])})


def _pearson(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def correlation(out_dir: Path, quick: bool = False, steps: int | None = None, dataset: str = "8gaussians",
                seed: int = 0, eval_every: int | None = None, eval_samples: int | None = None,
                gp_lambda: float = 1.0, critic_schedule: str | None = None, burn_in: int | None = None) -> dict:
    """Pearson r of the critic's W estimate (wgan-gp) and of the GAN discriminator's loss against the exact W1.

    Two runs on `dataset` (default 8 gaussians) with the toy recipe in the faster size of ``wgan train``'s
    default (2 hidden layers of 128, lr 3e-4): `wgan-gp` and the standard `gan` (one discriminator step per
    generator step, same nets and Adam). The wgan-gp run uses lambda = `gp_lambda` (default 1: with
    gan_toy's 0.1 the critic's slope is barely constrained and its estimate overshoots W1 early on; with
    the paper's 10 this small net's training oscillates at these learning rates) and `critic_schedule`
    (default "official": 100 critic updates for the first 25 generator iterations and every 500th, so the
    critic is near its optimum from the first evaluation; ``quick``: "constant"). At every evaluation
    (every `eval_every` steps; default 3,000 steps, evaluations every 100; ``quick``: 40 and 10) the
    exact W1 of `eval_samples` (default 1,000) generated points against as many real ones is computed,
    with the critic's estimate E[D(x)] - E[D(G(z))] (wgan-gp) or the discriminator's BCE loss (gan) on
    fresh samples of the same size.
    Pearson r is reported over all evaluations and over those after `burn_in` steps (default steps / 6).
    Writes ``correlation.png`` (the series over training and the scatter against W1) and
    ``correlation.json`` (every point, both r of each; the issue's target is r >= 0.9 for wgan-gp).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    steps = (40 if quick else 3000) if steps is None else steps
    eval_every = (10 if quick else 100) if eval_every is None else eval_every
    n = (200 if quick else 1000) if eval_samples is None else eval_samples
    burn_in = steps // 6 if burn_in is None else burn_in
    critic_schedule = ("constant" if quick else "official") if critic_schedule is None else critic_schedule
    runs = {}
    for algorithm, loss in (("wgan-gp", "wgan"), ("gan", "gan")):
        extra = ({"n_critic": 1} if algorithm == "gan" else
                 {"gp_lambda": gp_lambda, "critic_schedule": critic_schedule})
        config = TrainConfig(dataset=dataset, algorithm=algorithm, preset="toy", width=128, depth=2, lr_g=3e-4,
                             lr_d=3e-4, steps=steps, seed=seed, eval_every=eval_every, eval_samples=n,
                             checkpoint_every=0, **extra)
        logger = _EstimateLogger(loss, n)
        Trainer(config, callbacks=[logger]).fit()
        values = np.array([p["value"] for p in logger.points])
        w1 = np.array([p["w1"] for p in logger.points])
        late = np.array([p["step"] > burn_in for p in logger.points])
        runs[algorithm] = {"quantity": "critic W estimate" if loss == "wgan" else "discriminator loss (BCE)",
                           "points": logger.points, "pearson_r": _pearson(values, w1),
                           "pearson_r_after_burn_in": _pearson(values[late], w1[late])}
    path = out_dir / "correlation.png"
    fig = _figure((12, 4))
    axes = fig.subplots(1, 3)
    for ax, algorithm in zip(axes[:2], runs):
        pts = runs[algorithm]["points"]
        st = [p["step"] for p in pts]
        ax.plot(st, [p["w1"] for p in pts], color="C1", label="exact W1")
        twin = ax.twinx()
        twin.plot(st, [p["value"] for p in pts], color="C0", label=runs[algorithm]["quantity"])
        ax.set_title(f"{algorithm}: r = {runs[algorithm]['pearson_r']:.3f} "
                     f"(after step {burn_in}: {runs[algorithm]['pearson_r_after_burn_in']:.3f})", fontsize=9)
        ax.set_xlabel("generator iteration")
        ax.set_ylabel("exact W1", color="C1")
        twin.set_ylabel(runs[algorithm]["quantity"], color="C0")
    for i, algorithm in enumerate(runs):
        pts = runs[algorithm]["points"]
        vals = np.array([p["value"] for p in pts])
        span = np.ptp(vals) or 1.0
        axes[2].scatter([p["w1"] for p in pts], (vals - vals.min()) / span, s=8, color=f"C{i}",
                        label=f"{algorithm} {runs[algorithm]['quantity']} (r = {runs[algorithm]['pearson_r']:.2f})")
    axes[2].set_xlabel("exact W1")
    axes[2].set_ylabel("quantity, min-max scaled")
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    result = {"dataset": dataset, "steps": steps, "eval_every": eval_every, "eval_samples": n, "seed": seed,
              "burn_in": burn_in, "settings": f"toy preset, width 128, depth 2, lr 3e-4; wgan-gp lambda {gp_lambda:g}, "
              f"critic_schedule {critic_schedule}; gan n_critic 1", "runs": runs, "figure": str(path)}
    _write_json(out_dir / "correlation.json", result)
    return {"figure": str(path), "json": str(out_dir / "correlation.json"),
            "pearson_r_wgan_gp": runs["wgan-gp"]["pearson_r"], "pearson_r_gan": runs["gan"]["pearson_r"],
            "pearson_r_after_burn_in": {k: v["pearson_r_after_burn_in"] for k, v in runs.items()}}
