"""LSGAN, WGAN-div, DRAGAN, R1 and EBGAN: their losses and penalties against closed forms (with the
checks that catch the usual gradient-penalty bugs), and a short run of each covering 8 gaussians."""
from __future__ import annotations

import numpy as np
import pytest

import minigrad
from wgan import TrainConfig, Trainer
from wgan.algorithms import get_algorithm
from wgan.algorithms.dragan import perturbed_real
from wgan.algorithms.ebgan import pulling_away
from wgan.models import DCGANAutoencoderCritic, MLPAutoencoderCritic

PENALISED = ["wgan-gp", "wgan-lp", "wgan-div", "dragan", "r1"]
NORM = 2.0  # ||W||_F of the linear critic below: != 1, so a missing or extra square changes every value


def _t(a, requires_grad=False):
    return minigrad.tensor(np.asarray(a, dtype=np.float32), requires_grad=requires_grad)


def _algorithm(name, sample_ndim=3, **fields):
    cfg = TrainConfig(algorithm=name, **fields).resolve(sample_ndim=sample_ndim)
    return get_algorithm(name)(cfg)


def _linear_image_critic(seed=0, shape=(2, 3, 3)):
    """D(x) = <W, x> over (C, H, W) with ||W||_F = NORM: grad_x D = W for every sample. A per-pixel norm
    (the common bug) would give |W_chw| per pixel instead of ||W||_F per sample."""
    w = np.random.default_rng(seed).normal(size=shape).astype(np.float32)
    w *= NORM / np.linalg.norm(w)
    return (lambda x: minigrad.sum(x * _t(w), axis=(1, 2, 3))), w


def _batches(n=4, shape=(2, 3, 3), seed=1):
    rng = np.random.default_rng(seed)
    return (_t(rng.normal(size=(n, *shape))) for _ in range(2))


def _noise(algorithm, shape):
    noise = algorithm.critic_noise(np.random.default_rng(2), shape)
    if noise is None:
        return None
    return {k: _t(v) for k, v in noise.items()} if isinstance(noise, dict) else _t(noise)


# ----------------------------------------------------------------------------- the usual penalty bugs
@pytest.mark.parametrize("name", PENALISED)
def test_one_interpolation_coefficient_per_sample_not_per_pixel(name):
    algorithm = _algorithm(name)
    noise = algorithm.critic_noise(np.random.default_rng(0), (5, 2, 3, 3))
    coefficient = noise["alpha"] if isinstance(noise, dict) else noise
    if name == "r1":  # R1 takes the gradient at the real samples themselves: nothing is drawn
        assert noise is None
        return
    assert coefficient.shape == (5, 1, 1, 1) and coefficient.dtype == np.float32
    assert 0 <= coefficient.min() and coefficient.max() <= 1 and len(np.unique(coefficient)) == 5


@pytest.mark.parametrize("name, expected", [
    ("wgan-gp", (NORM - 1) ** 2),                 # (||g|| - 1)^2: squared deviation
    ("wgan-lp", max(NORM - 1, 0) ** 2),
    ("wgan-div", NORM ** 6),                       # ||g||^p with p = 6: (sum g^2)^3, not (sum g^2)^6
    ("dragan", (NORM - 1) ** 2),
    ("r1", 0.5 * NORM ** 2),                       # gamma/2 ||g||^2: the square, not ||g||
])
def test_each_penalty_uses_the_norm_over_all_non_batch_axes_and_the_papers_power(name, expected):
    algorithm = _algorithm(name)
    critic, _ = _linear_image_critic()
    real, fake = _batches()
    objective = algorithm.critic_objective(critic, real, fake, _noise(algorithm, tuple(real.shape)))
    assert objective.logs["penalty"].item() == pytest.approx(expected, rel=1e-5)
    assert float(objective.logs["grad_norm"]) == pytest.approx(NORM, rel=1e-5)
    weight = {"wgan-gp": 10.0, "wgan-lp": 10.0, "wgan-div": 2.0, "dragan": 10.0, "r1": 10.0}[name]
    np.testing.assert_allclose(objective.total.item(), objective.logs["d_loss"].item() + weight * expected,
                               rtol=1e-5)


def test_wgan_div_real_fake_sampling_penalises_the_real_and_generated_samples():
    algorithm = _algorithm("wgan-div", algorithm_options={"div_sampling": "real-fake", "div_p": 4.0})
    assert algorithm.critic_noise(np.random.default_rng(0), (3, 2)) is None
    # D(x) = sum(x^2) / 2 per sample: grad D(x) = x, so the penalty is k/2 (E||x||^4 + E||x~||^4)
    critic = lambda x: 0.5 * minigrad.sum(x * x, axis=1)  # noqa: E731
    real, fake = _t([[1.0, 0.0], [0.0, 2.0]]), _t([[3.0, 0.0], [1.0, 1.0]])
    weight, penalty, logs = algorithm.critic_regularizer(critic, real, fake, None)
    assert weight == 2.0
    assert penalty.item() == pytest.approx(0.5 * ((1 + 16) / 2 + (81 + 4) / 2), rel=1e-6)


def test_wgan_div_defaults_are_the_authors_code_with_the_papers_k_and_p():
    cfg = TrainConfig(algorithm="wgan-div").resolve()  # musikisomorphie/wgan-div: Adam(2e-4, 0, 0.9), 4 critic steps
    assert (cfg.optimizer, cfg.lr_d, cfg.lr_g, cfg.betas, cfg.n_critic, cfg.batch_size) == \
        ("adam", 2e-4, 2e-4, (0.0, 0.9), 4, 64)
    assert cfg.algorithm_options == {"div_k": 2.0, "div_p": 6.0, "div_sampling": "interpolation"}


def test_dragan_perturbs_real_data_only_with_the_papers_noise():
    rng = np.random.default_rng(0)
    real = _t(rng.normal(size=(6, 2)))
    alpha, u = _t(rng.random((6, 1))), _t(rng.random((6, 2)))
    x_hat = perturbed_real(real, alpha, u, 0.5)
    expected = real.numpy() + alpha.numpy() * 0.5 * real.numpy().std() * u.numpy()
    np.testing.assert_allclose(x_hat.numpy(), expected, rtol=1e-6)
    assert x_hat.requires_grad
    with pytest.raises(ValueError, match="one value per sample"):
        perturbed_real(real, u, u, 0.5)
    algorithm = _algorithm("dragan", sample_ndim=1)
    assert (algorithm.config.gp_lambda, algorithm.config.algorithm_options["dragan_c"]) == (10.0, 0.5)
    noise = algorithm.critic_noise(np.random.default_rng(0), (6, 2))
    assert noise["alpha"].shape == (6, 1) and noise["u"].shape == (6, 2)


def test_r1_differentiates_at_the_real_batch_and_reaches_the_weights():
    # D(x) = w . tanh(x): grad_x D = w * (1 - tanh(x)^2) at the real x only; the fake batch plays no part
    rng = np.random.default_rng(3)
    w = _t(rng.normal(size=2), requires_grad=True)
    critic = lambda x: minigrad.sum(minigrad.tanh(x) * w, axis=1)  # noqa: E731
    real, fake = _t(rng.normal(size=(5, 2))), _t(rng.normal(size=(5, 2)) * 100)
    algorithm = _algorithm("r1", sample_ndim=1, algorithm_options={"r1_gamma": 4.0})
    objective = algorithm.critic_objective(critic, real, fake, None)
    g = w.numpy() * (1 - np.tanh(real.numpy()) ** 2)
    assert objective.logs["penalty"].item() == pytest.approx(0.5 * (g ** 2).sum(1).mean(), rel=1e-5)
    (grad_w,) = minigrad.grad(objective.total, w)
    assert np.isfinite(grad_w.numpy()).all() and np.abs(grad_w.numpy()).max() > 0


# ----------------------------------------------------------------------------- losses
@pytest.mark.parametrize("coding", [(0.0, 1.0, 1.0), (-1.0, 1.0, 0.0)])
def test_lsgan_losses_for_both_codings(coding):
    algorithm = _algorithm("lsgan", sample_ndim=1, algorithm_options={"lsgan_coding": coding})
    a, b, c = coding
    dr, df = np.array([0.2, 1.5, -0.3], np.float32), np.array([0.7, -1.2, 0.1], np.float32)
    assert algorithm.critic_loss(_t(dr), _t(df)).item() == pytest.approx(
        0.5 * ((dr - b) ** 2).mean() + 0.5 * ((df - a) ** 2).mean(), rel=1e-6)
    assert algorithm.generator_loss(_t(df)).item() == pytest.approx(0.5 * ((df - c) ** 2).mean(), rel=1e-6)
    assert TrainConfig(algorithm="lsgan").resolve().algorithm_options["lsgan_coding"] == (0.0, 1.0, 1.0)


def test_ebgan_margin_loss_energy_gap_and_pulling_away_term():
    algorithm = _algorithm("ebgan", sample_ndim=1, algorithm_options={"ebgan_margin": 1.0})
    dr, df = np.array([0.1, 0.3], np.float32), np.array([0.5, 2.0], np.float32)
    assert algorithm.critic_loss(_t(dr), _t(df)).item() == pytest.approx(0.2 + (0.5 + 0.0) / 2, rel=1e-6)
    assert algorithm.w_estimate(dr, df) == pytest.approx(1.05, rel=1e-6)
    codes = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]], np.float32)
    unit = codes / np.linalg.norm(codes, axis=1, keepdims=True)
    cos = unit @ unit.T
    assert pulling_away(_t(codes)).item() == pytest.approx(((cos ** 2).sum() - 3) / 6, rel=1e-5)


def test_autoencoder_critics_score_each_sample_by_its_reconstruction_energy():
    minigrad.manual_seed(0)
    mlp = MLPAutoencoderCritic((2,), code_dim=1, width=8, depth=1)
    x = minigrad.randn(5, 2)
    energy, code = mlp.energy_and_code(x)
    recon = mlp.decoder(mlp.encoder(x)).numpy()
    np.testing.assert_allclose(energy.numpy(), ((recon - x.numpy()) ** 2).mean(1), rtol=1e-5)
    assert code.shape == (5, 1) and mlp(x).shape == (5,)
    conv = DCGANAutoencoderCritic((1, 16, 16), code_dim=6, base_filters=4)
    images = minigrad.randn(3, 1, 16, 16)
    energy, code = conv.energy_and_code(images)
    assert energy.shape == (3,) and code.shape == (3, 6) and (energy.numpy() > 0).all()
    trainer = Trainer(TrainConfig(dataset="digits", algorithm="ebgan", base_filters=4, z_dim=8, batch_size=4,
                                  steps=1, eval_every=0, checkpoint_every=0,
                                  algorithm_options={"ebgan_pt_weight": 0.1}))
    assert isinstance(trainer.critic, DCGANAutoencoderCritic)
    row = trainer.fit()[-1]
    assert np.isfinite(row["w_estimate"]) and np.isfinite(row["pulling_away"])


# ----------------------------------------------------------------------------- they train
@pytest.mark.parametrize("name", ["lsgan", "wgan-div", "dragan", "r1", "ebgan"])
def test_each_new_algorithm_lowers_its_critic_then_its_generator_objective_on_8_gaussians(name):
    # the fast check that an algorithm's hooks train (the coverage runs below are slow): with its paper
    # optimizer, 40 critic steps lower the critic's objective on a fixed batch (its hooks reach the critic's
    # weights), then 40 generator steps against that critic lower the generator's objective and the critic's
    # own estimate of how much more real the data looks than the samples (the generator loss points the right
    # way); measured on seeds 0-3: <= 0.84x, <= 0.90x, and the estimate down by >= 0.12; ~0.3 s
    trainer = Trainer(TrainConfig(dataset="8gaussians", algorithm=name, preset="toy", width=32, depth=2,
                                  batch_size=128, steps=1, eval_every=0, checkpoint_every=0, seed=0))
    rng = np.random.default_rng(1)
    real, z = np.asarray(trainer.dataset.sample(256, rng), np.float32), trainer.sample_noise(256)
    noise = _noise(trainer.algorithm, real.shape)

    def critic_objective():
        with minigrad.no_grad():
            fake = trainer.generator(_t(z))
        return trainer.algorithm.critic_objective(trainer.critic, _t(real), fake, noise).total.item()

    def generator_objective():
        return trainer.algorithm.generator_objective(trainer.critic, trainer.generator(_t(z))).total.item()

    def estimate():  # E[D(x)] - E[D(G(z))] (ebgan: the energy gap), higher when the data looks more real
        fake = trainer.generate(z, raw=True)
        return float(trainer.algorithm.w_estimate(trainer.critic_values(real), trainer.critic_values(fake)))

    before = critic_objective()
    for _ in range(40):
        batch = np.asarray(trainer.dataset.sample(128, rng), np.float32)
        trainer.critic_step(batch, trainer.sample_noise(128), trainer.algorithm.critic_noise(rng, batch.shape))
    assert critic_objective() < 0.9 * before
    before, gap = generator_objective(), estimate()
    for _ in range(40):
        trainer.generator_step(trainer.sample_noise(128))
    assert generator_objective() < 0.95 * before
    assert estimate() < gap - 0.05


# The toy preset's models at 2 hidden layers of 128, seed 0: settings under which every mode of 8 gaussians
# is covered within these budgets (benchmarks/results/algorithms.md, "The coverage tests", has the runs and
# seeds behind each, and what did not cover). 20-170 s each: slow tests.
#   r1, wgan-div: learning rates decayed linearly to 0 (the runs of the table there).
#   lsgan: the authors' own mixture-of-Gaussians settings (xudonmao/LSGAN,
#     stability_comparison/mixture_gaussian/ls.py): tanh MLPs, batch 512, a 256-d latent, Adam beta1 0.5 with
#     lr 1e-3 for G and 1e-4 for D, constant. Seed 0 at 3,000 iterations: 8 modes in each of 10 draws of 2,500
#     samples (at 2,000 only in 6 of 10, and this evaluation's draw found 7); seed 1 covers too, seed 2 does not
#     (6 of 8). With the paper optimizer (lr 2e-4) or lr 1e-3 for both on the preset's ReLU nets it reached 6-7
#     of 8 modes in 2,000-5,000 iterations. ~170 s on the shared 2-core machine at load 3.
#   dragan: with n_critic 5, Adam betas (0.5, 0.9) and lr 3e-4 decayed linearly (the WGAN family's settings of
#     algorithms.md) seed 0 covers all 8 modes at 3,000 iterations (45% high quality; ~110 s on an idle core);
#     with its one D step at lr 3e-4 or 1e-3 it reached 5-7 of 8.
#   ebgan: margin 0.3, an 8-d code, the pulling-away term at weight 3, 3 critic steps, Adam lr 1e-3 decayed
#     linearly, 6,000 iterations: 8 of 8 modes at the end on each of seeds 0-4 (seed 0 from 3,500 on; ~165 s
#     on an idle core). Without the pulling-away term (the paper's plain EBGAN) or at weights below 3, every
#     setting tried left modes out on some seed (the 54 runs of the ebgan search in algorithms.md).
TRAINING = {
    "dragan": dict(steps=3000, n_critic=5, betas=(0.5, 0.9), lr_g=3e-4, lr_d=3e-4, lr_decay="linear"),
    "r1": dict(steps=5000, lr_g=1e-3, lr_d=1e-3, lr_decay="linear"),
    "wgan-div": dict(steps=2000, lr_g=3e-4, lr_d=3e-4, lr_decay="linear"),
    "ebgan": dict(steps=6000, n_critic=3, lr_g=1e-3, lr_d=1e-3, lr_decay="linear",
                  algorithm_options=dict(ebgan_margin=0.3, ebgan_code_dim=8, ebgan_pt_weight=3.0)),
    "lsgan": dict(steps=3000, activation="tanh", batch_size=512, z_dim=256, lr_g=1e-3, lr_d=1e-4,
                  betas=(0.5, 0.999), lr_decay="none"),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TRAINING))
def test_each_new_algorithm_covers_every_mode_of_8_gaussians(name):
    trainer = Trainer(TrainConfig(dataset="8gaussians", algorithm=name, preset="toy", width=128, depth=2,
                                  eval_every=0, checkpoint_every=0, seed=0, **TRAINING[name]))
    trainer.fit()
    result = trainer.evaluate()
    assert result["modes"] == 8, result
