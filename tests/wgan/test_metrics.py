"""wgan.metrics on constructed samples with known answers, and the shipped digit classifier."""
import itertools
import math
import runpy
from pathlib import Path

import numpy as np
import pytest
from scipy.linalg import eigh

import minigrad
from wgan.classifier import ASSET_PATH, DigitClassifier, digits_split
from wgan.data import make_dataset, resize_images
from wgan.metrics import (class_spread, evaluate_2d, evaluate_images, exact_w1, frechet_distance,
                          mode_stats)

REPO = Path(__file__).resolve().parents[2]


def rng(seed=0):
    return np.random.default_rng(seed)


# ------------------------------------------------------------------------------------------------ exact W1
def test_w1_of_identical_sets_is_zero():
    x = rng().standard_normal((300, 2))
    assert exact_w1(x, x) == 0.0
    assert exact_w1(x, x[rng(1).permutation(300)]) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("shift", [(0.3, -0.4), (3.0, 4.0), (-10.0, 0.5)])
def test_w1_of_a_translate_is_the_shift_length(shift):
    # W1(μ, μ + d) = |d|: the translation coupling costs |d|, and f(x) = <x, d/|d|> (1-Lipschitz) shows no
    # coupling costs less, for any point set and any d (also for shifts smaller than the spacing of the points).
    x = rng().standard_normal((400, 2))
    y = (x + np.array(shift))[rng(1).permutation(400)]
    assert exact_w1(x, y) == pytest.approx(math.hypot(*shift), rel=1e-9)


def test_w1_matches_brute_force_over_permutations():
    x, y = rng(2).standard_normal((6, 2)), rng(3).standard_normal((6, 2)) + 0.5
    best = min(np.linalg.norm(x - y[list(p)], axis=1).mean() for p in itertools.permutations(range(6)))
    assert exact_w1(x, y) == pytest.approx(best, rel=1e-12)


def test_w1_accepts_tensors_and_higher_dims_and_rejects_mismatch():
    x = rng().standard_normal((10, 1, 2, 2)).astype(np.float32)
    assert exact_w1(minigrad.tensor(x), x + 1) == pytest.approx(4 / 2 * 1.0 * 1, rel=1e-6)  # |(1,1,1,1)| = 2
    with pytest.raises(ValueError, match="equal shapes"):
        exact_w1(np.zeros((5, 2)), np.zeros((6, 2)))
    with pytest.raises(ValueError, match="NaN"):
        exact_w1(np.full((2, 2), np.nan), np.zeros((2, 2)))


# ------------------------------------------------------------------------------------------------ modes
P_WITHIN_3_SIGMA_2D = 1 - math.exp(-9 / 2)  # chi with 2 degrees of freedom: 0.98889


@pytest.mark.parametrize("spec, k", [("ring", 8), ("grid", 25), ("8gaussians", 8), ("25gaussians", 25)])
def test_perfect_sampler_covers_every_mode(spec, k):
    d = make_dataset(spec)
    stats = mode_stats(d.reference_sample(2500, rng()), d.centers, d.sigma)
    assert stats["modes"] == k
    assert stats["hq_fraction"] == pytest.approx(P_WITHIN_3_SIGMA_2D, abs=0.008)
    assert stats["counts"].shape == (k,) and stats["counts"].sum() == round(stats["hq_fraction"] * 2500)


def test_collapsed_sampler_covers_one_mode():
    d = make_dataset("ring")
    collapsed = d.centers[3] + d.sigma * rng().standard_normal((2500, 2))
    stats = mode_stats(collapsed, d.centers, d.sigma)
    assert stats["modes"] == 1 and stats["counts"][3] == stats["counts"].sum()
    exact = np.repeat(d.centers[:1], 2500, axis=0)
    assert mode_stats(exact, d.centers, d.sigma) == {"modes": 1, "hq_fraction": 1.0, "counts": pytest.approx(
        np.eye(8, dtype=np.int64)[0] * 2500)}


def test_far_points_are_not_high_quality():
    d = make_dataset("grid")
    direction = np.array([0.6, 0.8])
    near = d.centers + 2.9 * d.sigma * direction
    far = d.centers + 3.1 * d.sigma * direction
    between = np.array([[1.0, 1.0], [-3.0, 1.0]])  # halfway between modes
    assert mode_stats(near, d.centers, d.sigma) == {"modes": 25, "hq_fraction": 1.0,
                                                    "counts": pytest.approx(np.ones(25))}
    s = mode_stats(np.concatenate([far, between]), d.centers, d.sigma)
    assert s["modes"] == 0 and s["hq_fraction"] == 0.0
    assert mode_stats(far, d.centers, d.sigma, threshold=3.2)["modes"] == 25
    with pytest.raises(ValueError, match="centers of shape"):
        mode_stats(near, d.centers[:, :1], d.sigma)


def test_evaluate_2d():
    ring = make_dataset("ring")
    out = evaluate_2d(ring.sample(2600, rng(1)), ring, rng(2))
    assert set(out) == {"w1", "modes", "hq_fraction"} and out["modes"] == 8
    assert 0 < out["w1"] < 0.1  # the sampling floor of two independent real sets
    shifted = evaluate_2d(ring.sample(2500, rng(1)) + np.array([3.0, 0.0], np.float32), ring, rng(2), w1_n=400)
    assert shifted["w1"] == pytest.approx(3.0, abs=0.1) and shifted["modes"] == 0 and shifted["hq_fraction"] == 0
    roll = make_dataset("swissroll")
    assert set(evaluate_2d(roll.sample(500, rng()), roll, rng(), n=500)) == {"w1"}
    with pytest.raises(ValueError, match="2500 needed"):
        evaluate_2d(ring.sample(10, rng()), ring, rng())
    with pytest.raises(ValueError, match="w1_n=0"):
        evaluate_2d(ring.sample(10, rng()), ring, rng(), n=10, w1_n=0)


def test_evaluate_2d_leaves_the_training_order_alone():
    d = make_dataset("25gaussians")
    d.sample(256, rng())
    state = d.state_dict()
    evaluate_2d(d.reference_sample(500, rng(5)), d, rng(6), n=500)
    assert d.state_dict() == state


# ------------------------------------------------------------------------------------------------ Fréchet
def test_frechet_of_identical_and_shifted_features():
    a = rng().standard_normal((500, 16)) @ rng(1).standard_normal((16, 16))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6 * np.trace(np.cov(a, rowvar=False)))
    d = rng(2).standard_normal(16)
    assert frechet_distance(a, a + d) == pytest.approx(d @ d, rel=1e-6, abs=1e-4)


def test_frechet_matches_the_gaussian_closed_form():
    # N(μ1, diag(s1²)) vs N(μ2, diag(s2²)): d² = |μ1 − μ2|² + Σ (s1 − s2)²
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    s1, s2 = np.array([1.0, 2.0, 0.5]), np.array([2.0, 1.0, 0.5])
    a = mu1 + s1 * rng(3).standard_normal((200000, 3))
    b = mu2 + s2 * rng(4).standard_normal((200000, 3))
    expected = ((mu1 - mu2) ** 2).sum() + ((s1 - s2) ** 2).sum()
    assert frechet_distance(a, b) == pytest.approx(expected, rel=0.02)


def test_frechet_general_covariances_match_an_eigen_solution():
    a = rng(5).standard_normal((400, 6)) @ rng(6).standard_normal((6, 6))
    b = rng(7).standard_normal((300, 6)) @ rng(8).standard_normal((6, 6)) + 1
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = eigh(ca)
    root_a = (v * np.sqrt(w)) @ v.T
    tr_sqrt = np.sqrt(np.clip(eigh(root_a @ cb @ root_a)[0], 0, None)).sum()  # tr (Σa Σb)^½, by similarity
    mean_term = ((a.mean(0) - b.mean(0)) ** 2).sum()
    expected = mean_term + np.trace(ca) + np.trace(cb) - 2 * tr_sqrt
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-8)


def test_frechet_with_singular_covariance_is_finite():
    a = np.zeros((100, 8))
    a[:, 0] = rng().standard_normal(100)  # rank 1
    b = rng(1).standard_normal((100, 8))
    value = frechet_distance(a, b)
    assert np.isfinite(value) and value > 0
    with pytest.raises(ValueError, match="feature sizes differ"):
        frechet_distance(a, b[:, :4])
    with pytest.raises(ValueError, match="at least 2 samples"):
        frechet_distance(a[:1], b)


def test_class_spread():
    assert class_spread(np.arange(1000) % 10)["class_entropy"] == pytest.approx(1.0)
    one = class_spread(np.full(50, 7))
    assert one["class_entropy"] == 0.0 and one["class_fractions"][7] == 1.0
    assert class_spread(np.arange(1000) % 2)["class_entropy"] == pytest.approx(math.log(2) / math.log(10))


# ------------------------------------------------------------------------------------------------ classifier
@pytest.fixture(scope="module")
def classifier():
    return DigitClassifier.pretrained()


def test_shipped_classifier_is_small_and_accurate(classifier):
    assert ASSET_PATH.stat().st_size < 1_000_000
    _, _, x_te, y_te = digits_split()
    assert len(x_te) == 450
    assert (classifier.predict(x_te) == y_te).mean() >= 0.95
    for size in (16, 28, 32):  # larger digit images are resized back to 8x8
        assert (classifier.predict(resize_images(x_te, size)) == y_te).mean() >= 0.95
    assert classifier.metadata["test_accuracy"] >= 0.95
    assert classifier.features(x_te).shape == (450, 64)


def test_classifier_accepts_rgb_and_rejects_bad_input(classifier):
    _, _, x_te, y_te = digits_split()
    rgb = np.repeat(x_te, 3, axis=1)
    np.testing.assert_array_equal(classifier.predict(rgb), classifier.predict(x_te))
    np.testing.assert_array_equal(classifier.predict(x_te[:, 0]), classifier.predict(x_te))
    with pytest.raises(ValueError, match="shape \\(3, 64\\)"):
        classifier.features(np.zeros((3, 64), np.float32))
    with pytest.raises(FileNotFoundError, match="train_digit_classifier"):
        DigitClassifier.load(REPO / "no_such.npz")
    with pytest.raises(ValueError, match="do not match the architecture"):
        DigitClassifier({"fc1.weight": minigrad.zeros(3, 3)})


def test_evaluate_images_orders_real_noisy_and_collapsed(classifier):
    data = make_dataset("digits").data
    order = rng().permutation(len(data))
    real_a, real_b = data[order[:800]], data[order[800:1600]]
    noisy = np.clip(real_a + 0.6 * rng(1).standard_normal(real_a.shape), -1, 1).astype(np.float32)
    collapsed = np.repeat(real_a[:1], 800, axis=0)
    same = evaluate_images(real_a, real_b, classifier)
    worse = evaluate_images(noisy, real_b, classifier)
    worst = evaluate_images(collapsed, real_b, classifier)
    assert same["fid"] < worse["fid"] < worst["fid"]
    assert same["class_spread"] > 0.99 and worst["class_spread"] == 0.0
    assert len(same["class_fractions"]) == 10 and sum(same["class_fractions"]) == pytest.approx(1.0)


def test_training_script_runs(tmp_path, capsys):
    script = runpy.run_path(str(REPO / "scripts" / "train_digit_classifier.py"), run_name="train_digit_classifier")
    out = tmp_path / "clf.npz"
    script["main"](["--epochs", "1", "--out", str(out)])
    assert "held-out accuracy" in capsys.readouterr().out
    clf = DigitClassifier.load(out)
    _, _, x_te, y_te = digits_split()
    assert (clf.predict(x_te) == y_te).mean() > 0.5  # one epoch; the shipped weights train for 60
    assert clf.metadata["epochs"] == 1


def test_metrics_by_dataset_kind_table_chooses_the_evaluation_and_the_plot_keys():
    from wgan.metrics import METRICS_BY_KIND, evaluate, plot_keys

    ring = make_dataset("ring")
    rng = np.random.default_rng(0)

    class Sampler:  # what the table needs of a trainer
        dataset = ring

        def sample(self, n, rng, raw=False):
            return ring.sample(n, rng)

    out = evaluate(Sampler(), 200, rng)
    assert {"w1", "modes", "hq_fraction"} <= set(out)
    assert set(METRICS_BY_KIND) == {"2d", "image"}
    rows = [{"step": 1, "w_estimate": 0.1}, {"step": 2, "w_estimate": 0.2, "w1": 0.3, "modes": 8}]
    assert plot_keys(rows) == ["w_estimate", "w1"] == plot_keys(rows, "2d")
    assert plot_keys([{"w_estimate": 1.0, "fid": 3.0}]) == ["w_estimate", "fid"]
    Sampler.dataset = type("D", (), {"kind": "audio"})()
    with pytest.raises(ValueError, match="no metrics for datasets of kind 'audio'"):
        evaluate(Sampler(), 2, rng)
