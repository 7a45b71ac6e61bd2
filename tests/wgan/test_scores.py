"""wgan.scores: classifier score, KID and their real ceilings on constructed inputs with known answers."""
import json
import logging
import math

import numpy as np
import pytest

from wgan import TrainConfig, Trainer
from wgan.data import from_array, make_dataset
from wgan.scores import (PROTOCOL_FILE, ImageScorer, classifier_score, kernel_inception_distance,
                         polynomial_mmd2_unbiased, real_halves_check, scorer_for, scores_unavailable_reason,
                         softmax)


def rng(seed=0):
    return np.random.default_rng(seed)


@pytest.fixture(scope="module")
def digits():
    return make_dataset("digits")


# ------------------------------------------------------------------------------------ classifier score
def test_one_class_sampler_scores_one():
    probs = np.tile([0.05] * 9 + [0.55], (500, 1))
    assert classifier_score(probs, splits=10) == pytest.approx((1.0, 0.0), abs=1e-12)
    one_hot = np.zeros((500, 10))
    one_hot[:, 3] = 1
    assert classifier_score(one_hot, splits=5) == pytest.approx((1.0, 0.0), abs=1e-12)


@pytest.mark.parametrize("k", [2, 7, 10])
def test_confident_balanced_sampler_scores_the_number_of_classes(k):
    probs = np.zeros((100 * k, 10))
    probs[np.arange(100 * k), np.arange(100 * k) % k] = 1.0   # every split holds each class equally often
    mean, std = classifier_score(probs, splits=10)
    assert mean == pytest.approx(k, rel=1e-12) and std == pytest.approx(0.0, abs=1e-9)


def test_classifier_score_matches_its_definition_on_random_probabilities():
    probs = softmax(rng().standard_normal((60, 4)) * 3)
    parts = np.split(probs, 3)
    expected = [math.exp(np.mean([np.sum(p * np.log(p / part.mean(0))) for p in part])) for part in parts]
    assert classifier_score(probs, splits=3) == pytest.approx((np.mean(expected), np.std(expected)), rel=1e-12)


def test_classifier_score_rejects_bad_input():
    with pytest.raises(ValueError, match="probability distribution"):
        classifier_score(np.full((4, 3), 0.5))
    with pytest.raises(ValueError, match="splits must be an int in"):
        classifier_score(np.full((4, 2), 0.5), splits=5)
    with pytest.raises(ValueError, match="shape \\(N, K\\)"):
        classifier_score(np.ones(3))


# ------------------------------------------------------------------------------------ KID
def _brute_mmd2(x, y, kernel):
    m, n = len(x), len(y)
    kxx = sum(kernel(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    kyy = sum(kernel(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    kxy = sum(kernel(a, b) for a in x for b in y) / (m * n)
    return kxx + kyy - 2 * kxy


def test_mmd2_matches_a_brute_force_sum():
    x, y = rng(1).standard_normal((7, 3)), rng(2).standard_normal((5, 3)) + 0.3
    cubic = lambda a, b: (a @ b / 3 + 1) ** 3  # noqa: E731
    assert polynomial_mmd2_unbiased(x, y) == pytest.approx(_brute_mmd2(x, y, cubic), rel=1e-10)


def test_linear_kernel_mmd2_of_shifted_features_is_the_squared_shift():
    # with k(a, b) = aᵀb the population MMD² is |μx − μy|²: for y = x' + δ it is |δ|², whatever the covariance.
    # The estimate's std is about 2 sqrt(2 δᵀΣδ / n) = 0.01 here, so 5% is many standard errors.
    delta = np.array([0.5, -1.0, 2.0])
    scale = np.array([0.1, 0.2, 0.05])
    x = rng(3).standard_normal((2000, 3)) * scale
    y = rng(4).standard_normal((2000, 3)) * scale + delta
    value = polynomial_mmd2_unbiased(x, y, degree=1, gamma=1.0, coef0=0.0)
    assert value == pytest.approx(delta @ delta, rel=0.05)
    assert polynomial_mmd2_unbiased(x, y + 1.0, degree=1, gamma=1.0, coef0=0.0) == pytest.approx(
        (delta + 1) @ (delta + 1), rel=0.05)


def test_kid_of_one_distribution_is_zero_within_its_std_and_grows_with_a_shift():
    x, y = rng(5).standard_normal((600, 8)), rng(6).standard_normal((600, 8))
    same, same_std = kernel_inception_distance(x, y, subsets=50, subset_size=300)
    assert abs(same) < same_std
    shifted = [kernel_inception_distance(x, y + s, subsets=20, subset_size=300)[0] for s in (0.25, 0.5, 1.0)]
    assert shifted[0] > 3 * same_std and shifted[0] < shifted[1] < shifted[2]


# ------------------------------------------------------------------------------------ ImageScorer
def test_perfect_sampler_sits_at_the_ceilings_and_one_class_sampler_far_below(digits):
    data = digits.data
    order = rng().permutation(len(data))
    real, perfect = data[order[:898]], data[order[898:1796]]
    scorer = ImageScorer(real, n=800, real_description="half B")
    ceiling = scorer.ceiling
    good = scorer.score(perfect[:800])
    assert abs(good["kid"]) < good["kid_std"] and abs(ceiling["kid"]) < 2 * ceiling["kid_std"]
    assert abs(good["classifier_score"] - ceiling["classifier_score"]) < 2 * (good["classifier_score_std"]
                                                                            + ceiling["classifier_score_std"])
    assert ceiling["classifier_score"] > 8.5
    labels = scorer.classifier.predict(data)
    one_class = data[labels == 4][:150]
    bad = scorer.score(np.concatenate([one_class] * 6)[:800])
    assert bad["classifier_score"] < 1.5 and bad["class_spread"] < 0.1
    assert bad["kid"] > 10 * bad["kid_std"] and bad["fid"] > 10 * good["fid"]


def test_protocol_records_sizes_splits_and_the_real_split(tmp_path, digits):
    scorer = scorer_for(digits, n=500)
    assert scorer_for(digits, n=500) is scorer          # real features computed once per process
    path = scorer.write_protocol(tmp_path)
    protocol = json.loads(path.read_text())
    assert protocol["computed"] is True and protocol["generated_images"] == 500 and protocol["splits"] == 10
    assert protocol["real"] == "digits: all 1797 images" and protocol["kid_subset_size"] == 250
    assert set(protocol["ceiling_values"]) == {"classifier_score", "classifier_score_std", "kid", "kid_std", "fid"}


def test_scores_apply_to_grey_digits_only(digits):
    assert scores_unavailable_reason(digits) is None
    colour = from_array(np.zeros((10, 3, 8, 8), np.float32), name="folder:/photos")
    assert "not the built-in digits or MNIST" in scores_unavailable_reason(colour)
    assert "channels" in scores_unavailable_reason(from_array(np.zeros((10, 3, 8, 8), np.float32), name="mnist"))
    assert "not an image dataset" in scores_unavailable_reason(make_dataset("ring"))
    with pytest.raises(ValueError, match="image scores: .*not the built-in digits"):
        scorer_for(colour, n=100)


def test_trainer_logs_scores_with_ceilings_on_digits(tmp_path):
    config = TrainConfig(dataset="digits", algorithm="wgan-gp", base_filters=4, z_dim=8, batch_size=8, n_critic=1,
                         steps=2, eval_every=2, eval_samples=200, out_dir=str(tmp_path))
    trainer = Trainer(config)
    row = trainer.fit()[-1]
    for key in ("fid", "classifier_score", "classifier_score_std", "kid", "kid_std", "classifier_score_real",
                "kid_real", "fid_real"):
        assert np.isfinite(row[key]), key
    assert 1.0 <= row["classifier_score"] <= 10.0 and row["classifier_score_real"] > 7  # parts of 20 images
    protocol = json.loads((tmp_path / PROTOCOL_FILE).read_text())
    assert protocol["generated_images"] == 200 and protocol["ceiling_values"]["fid"] == row["fid_real"]


def test_trainer_skips_scores_on_other_images_and_says_why(tmp_path, caplog):
    images = rng().uniform(-1, 1, size=(40, 1, 8, 8)).astype(np.float32)
    config = TrainConfig(algorithm="wgan-gp", base_filters=4, z_dim=8, batch_size=8, n_critic=1, steps=2,
                         eval_every=1, eval_samples=20, out_dir=str(tmp_path))
    with caplog.at_level(logging.WARNING, logger="wgan"):
        history = Trainer(config, dataset=from_array(images, name="faces")).fit()
    assert not any(key in row for row in history for key in ("fid", "classifier_score", "kid"))
    assert [r.getMessage() for r in caplog.records].count(
        "image scores not computed: the classifier score, KID and FD use a classifier of 8x8 grey digits; "
        "dataset 'faces' is not the built-in digits or MNIST, so they would not measure anything there") == 1
    protocol = json.loads((tmp_path / PROTOCOL_FILE).read_text())
    assert protocol["computed"] is False and "'faces'" in protocol["reason"]


def test_two_disjoint_real_halves_of_the_digits_sit_at_the_ceilings(digits):
    result = real_halves_check(digits.data, seed=0)
    assert result["images_b"] == 898 and result["kid_within_one_std"] and result["classifier_score_at_ceiling"]
