"""Figure 1 of WGAN-GP (Gulrajani et al. 2017), reproduced.

- `fig1a`: critics trained towards optimality with the generator fixed at P_g = P_r + N(0, I)
  (gan_toy.py's ``FIXED_GENERATOR``) on 8 gaussians, 25 gaussians and swiss roll, weight clipping
  (top row) against the gradient penalty (bottom row): value surfaces side by side.
- `fig1b`: 12-layer ReLU MLP critic and generator trained as WGAN on swiss roll with clipping
  c in {0.1, 0.01, 0.001} and with GP; the norm of the critic loss's gradient with respect to
  each layer's activations (log scale) and histograms of the critic's weights.

Setup choices (the paper does not state them all; gan_toy.py is followed where it does not):
the toy preset's networks (ReLU MLPs, He-uniform hidden / Glorot-uniform output init, batch
256); clipping runs use gan_toy's RMSprop lr 5e-5 (decay 0.9, eps 1e-10) with c = 0.01 (fig1a)
applied after every critic step; GP runs use the *paper's* lambda = 10 (gan_toy's 0.1 is a
speed-up for its generator training) with gan_toy's Adam lr 1e-4, betas (0.5, 0.9).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import minigrad
from minigrad import nn
from wgan import losses
from wgan.config import ResolvedConfig, TrainConfig
from wgan.data import make_dataset
from wgan.models import MLPCritic
from wgan.reproductions.common import figure as _figure
from wgan.reproductions.common import tensor as _tensor
from wgan.reproductions.common import write_json as _write_json
from wgan.optimizers import make_optimizer
from wgan.train import Trainer

FIG1A_DATASETS = ("8gaussians", "25gaussians", "swissroll")
FIG1B_SETTINGS = ("clip 0.1", "clip 0.01", "clip 0.001", "gp")
PAPER_GP_LAMBDA = 10.0

# ----------------------------------------------------------------------------------------------- fig1a
def _toy_config(method: str, **overrides) -> ResolvedConfig:
    """The resolved toy-preset config of a fig1 method: "clip" (wgan-clip) or "gp" (wgan-gp, lambda 10)."""
    if method == "clip":
        return TrainConfig(algorithm="wgan-clip", preset="toy", **overrides).resolve()
    return TrainConfig(algorithm="wgan-gp", preset="toy", gp_lambda=PAPER_GP_LAMBDA, **overrides).resolve()


def train_fixed_generator_critic(dataset: str, method: str, steps: int, seed: int = 0, width: int = 512,
                                 depth: int = 3, n_eval: int = 4096) -> tuple[MLPCritic, dict]:
    """Train a toy critic for `steps` updates against P_g = P_r + N(0, I) (gan_toy's FIXED_GENERATOR).

    Each step draws a real batch x (256 points) and uses x~ = x + N(0, I) as the generated batch, as
    gan_toy.py does; the critic updates are the algorithm's (`wgan.algorithms`): ``method`` "clip"
    (wgan-clip) clamps every parameter to [-c, c] after the RMSprop step, "gp" (wgan-gp) adds
    lambda * E[(||grad D(x^)|| - 1)^2]. Returns the critic and its final statistics on `n_eval`
    fresh pairs: ``w_estimate`` = E[D(x)] - E[D(x~)], and the mean/std of ||grad D|| at the
    interpolates x^ (1 for a critic meeting the penalty's target, far below 1 for a clipped one).
    """
    cfg = _toy_config(method, width=width, depth=depth, seed=seed)
    algorithm = cfg.algorithm_class()(cfg)
    minigrad.manual_seed(seed)
    rng = np.random.default_rng(seed)
    data = make_dataset(dataset)
    B = cfg.batch_size
    critic = algorithm.prepare_critic(MLPCritic((2,), width, depth, cfg.activation, "toy"))
    params = list(critic.parameters())
    opt = make_optimizer(cfg, params, cfg.lr_d)
    for _ in range(steps):
        real = np.asarray(data.sample(B, rng), dtype=np.float32)
        fake = real + rng.standard_normal(real.shape, dtype=np.float32)
        noise = algorithm.critic_noise(rng, real.shape)
        algorithm.before_critic_step(critic)
        objective = algorithm.critic_objective(critic, _tensor(real), _tensor(fake),
                                               None if noise is None else _tensor(noise))
        for p, g in zip(params, minigrad.grad(objective.total, params, allow_unused=True)):
            p.grad = g
        opt.step()
        algorithm.after_critic_step(critic)
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
def layer_gradient_norms(critic: nn.Module, real: np.ndarray, fake: np.ndarray) -> list[float]:
    """||d L / d h_l||_2 for the output h_l of every Linear layer l of an MLP critic (input side first).

    L = E[D(x~)] - E[D(x)] is the critic's Wasserstein loss on the batches `real` and `fake`; the
    activations are collected during one forward pass and differentiated with `minigrad.grad`.
    The norm is over the whole (2B, width) activation tensor.
    """
    if not isinstance(critic, MLPCritic):
        raise TypeError(f"layer_gradient_norms: expected an MLPCritic, got {type(critic).__name__}")
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
    common: dict[str, Any] = dict(dataset="swissroll", width=width, depth=depth, steps=steps, seed=seed, eval_every=0,
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
