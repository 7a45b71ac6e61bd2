"""Image scores in the shipped digit classifier, each with the real data's own value as its ceiling.

The classifier (`wgan.classifier.DigitClassifier`) was trained on scikit-learn's 8x8 grey digits, so
these scores mean something only for grey digit images: the built-in ``digits`` and MNIST (``mnist:PATH``,
resized to 8x8 by the classifier). `scores_unavailable_reason` says why they are not computed elsewhere.

- **Classifier score** (the Inception Score's definition, Salimans et al. 2016, with the digit classifier
  in Inception's place)::

      CS = exp( E_x KL( p(y|x) || p(y) ) ),   p(y) = E_x p(y|x)

  computed on each of ``splits`` equal parts of the sample; reported as the mean and the std over parts.
  It lies in [1, 10]: 1 when every image gets the same class distribution (one class, or total
  confusion), 10 when every image is one confident class and all 10 classes are equally frequent.
- **KID** (Bińkowski et al. 2018): the unbiased estimate of MMD² between the classifier's penultimate
  features of generated and real images under the cubic polynomial kernel
  ``k(a, b) = (aᵀb / d + 1)³`` (d = 64 features), averaged over ``kid_subsets`` random subsets of
  ``kid_subset_size`` images from each side (without replacement); reported as mean and std over subsets.
  Unlike the Fréchet distance it is unbiased: two samples of one distribution score 0 on average at any n.
- **FD** (``fid`` key, kept for compatibility): `wgan.metrics.frechet_distance` of the same features,
  i.e. FID's formula in the *digit classifier's* features, not Inception's. Biased upwards at small n.

Ceilings: the same scores with real images in the generator's place, computed once per `ImageScorer`.
The classifier score grows with the size of the parts it is computed on, so its ceiling is the real set's
score over parts of the same size as the generated sample's (n / splits images). For KID and FD the real
set is split into two disjoint halves A and B: KID(A, B) (about 0) and FD(A, B) are what a perfect
generator would reach. Generated samples are compared against the whole real reference set, whose
features are computed once and cached. The shipped classifier was trained on 75% of the built-in digits
(`wgan.classifier.digits_split`), so on them its real ceiling is that of images it has seen.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from wgan.classifier import DigitClassifier

__all__ = ["classifier_score", "kernel_inception_distance", "polynomial_mmd2_unbiased", "softmax",
           "scores_unavailable_reason", "ImageScorer", "scorer_for", "write_protocol", "real_halves_check",
           "SCORE_KEYS",
           "PROTOCOL_FILE"]

#: The keys `ImageScorer.score` adds to an evaluation row (besides "fid", "class_spread", "class_fractions").
SCORE_KEYS = ("classifier_score", "classifier_score_std", "kid", "kid_std")
PROTOCOL_FILE = "scores_protocol.json"
#: Datasets whose images are grey digits the classifier was made for (by `Dataset.name`).
DIGIT_DATASETS = ("digits", "mnist")
MAX_REAL_IMAGES = 10_000


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (N, K) logits, in float64."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _check_probabilities(probs) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or len(p) == 0:
        raise ValueError(f"classifier_score: expected class probabilities of shape (N, K), got {p.shape}")
    if not np.isfinite(p).all() or (p < 0).any() or not np.allclose(p.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError("classifier_score: every row must be a probability distribution (finite, >= 0, sum 1)")
    return p


def classifier_score(probs, splits: int = 10) -> tuple[float, float]:
    """(mean, std) over `splits` equal parts of exp(E_x KL(p(y|x) || p(y))) for probabilities (N, K).

    The parts are consecutive blocks of N // splits rows (a remainder is dropped), as in the Inception
    Score's reference code; 0·log 0 = 0; std is the population std over parts (NumPy's default).
    """
    p = _check_probabilities(probs)
    if isinstance(splits, bool) or not isinstance(splits, (int, np.integer)) or not 1 <= splits <= len(p):
        raise ValueError(f"classifier_score: splits must be an int in [1, N={len(p)}], got {splits!r}")
    size = len(p) // splits
    scores = []
    for i in range(splits):
        part = p[i * size:(i + 1) * size]
        marginal = part.mean(axis=0, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(part > 0, part * (np.log(part) - np.log(marginal)), 0.0)
        scores.append(math.exp(float(terms.sum(axis=1).mean())))
    return float(np.mean(scores)), float(np.std(scores))


def _check_features(x, what: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2 or len(a) < 2:
        raise ValueError(f"{what}: expected at least 2 feature vectors of shape (N, D), got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{what}: features contain NaN or infinite values")
    return a


def polynomial_mmd2_unbiased(feats_x, feats_y, degree: int = 3, gamma: float | None = None,
                             coef0: float = 1.0) -> float:
    """The unbiased MMD² estimate between feature sets x (m, D) and y (n, D) under
    k(a, b) = (gamma aᵀb + coef0)^degree (gamma default 1 / D)::

        1/(m(m-1)) Σ_{i≠j} k(x_i, x_j) + 1/(n(n-1)) Σ_{i≠j} k(y_i, y_j) − 2/(mn) Σ_{i,j} k(x_i, y_j)

    Its expectation is the population MMD² (0 when x and y come from one distribution); it can be negative.
    """
    x, y = _check_features(feats_x, "polynomial_mmd2_unbiased"), _check_features(feats_y, "polynomial_mmd2_unbiased")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"polynomial_mmd2_unbiased: feature sizes differ: {x.shape} and {y.shape}")
    g = 1.0 / x.shape[1] if gamma is None else float(gamma)
    kxx = (g * x @ x.T + coef0) ** degree
    kyy = (g * y @ y.T + coef0) ** degree
    kxy = (g * x @ y.T + coef0) ** degree
    m, n = len(x), len(y)
    within_x = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    within_y = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(within_x + within_y - 2.0 * kxy.mean())


def kernel_inception_distance(feats_gen, feats_real, subsets: int = 100, subset_size: int = 1000,
                              rng: np.random.Generator | None = None, **kernel) -> tuple[float, float]:
    """KID: (mean, std) of `polynomial_mmd2_unbiased` over `subsets` random subsets of
    min(subset_size, N_gen, N_real) rows from each side, drawn without replacement (Bińkowski et al.'s
    reference protocol). ``kernel`` passes degree / gamma / coef0 on. With a subset size equal to a whole
    side every subset of that side is the same, so pick it below both sizes for a meaningful std."""
    a, b = _check_features(feats_gen, "kernel_inception_distance"), _check_features(feats_real,
                                                                                     "kernel_inception_distance")
    if isinstance(subsets, bool) or not isinstance(subsets, (int, np.integer)) or subsets < 1:
        raise ValueError(f"kernel_inception_distance: subsets must be a positive int, got {subsets!r}")
    m = min(int(subset_size), len(a), len(b))
    if m < 2:
        raise ValueError(f"kernel_inception_distance: subset_size must be >= 2, got {subset_size!r}")
    rng = rng or np.random.default_rng(0)
    values = [polynomial_mmd2_unbiased(a[rng.choice(len(a), m, replace=False)],
                                       b[rng.choice(len(b), m, replace=False)], **kernel)
              for _ in range(subsets)]
    return float(np.mean(values)), float(np.std(values))


def scores_unavailable_reason(dataset) -> str | None:
    """None when the digit-classifier scores mean something for `dataset`'s images, else why not.

    They do for the built-in ``digits`` and MNIST (grey digits; 28x28 is resized to 8x8), and for no other
    data: a folder, an .npz or an array may hold anything, and colour images are not digits.
    """
    name = str(getattr(dataset, "name", ""))
    shape = tuple(getattr(dataset, "sample_shape", ()))
    if getattr(dataset, "kind", None) != "image":
        return f"dataset {name!r} is not an image dataset"
    if name.split(":", 1)[0] not in DIGIT_DATASETS:
        return (f"the classifier score, KID and FD use a classifier of 8x8 grey digits; dataset {name!r} is not "
                "the built-in digits or MNIST, so they would not measure anything there")
    if shape[0] != 1:
        return f"dataset {name!r} has {shape[0]} channels; the digit classifier knows grey images only"
    return None


class ImageScorer:
    """Classifier score, KID and FD of generated digit images against a fixed real reference set.

    ``real``: (N, C, H, W) images in [-1, 1] (at most `MAX_REAL_IMAGES`, a fixed random subset beyond).
    Their features and class probabilities are computed once here; so are the ceilings (see the module
    docstring). ``n`` is the number of generated images each `score` call expects: it fixes the size of the
    classifier score's parts (n // splits) for the ceiling too, and is recorded in the protocol.
    ``real_description`` says which real split this is, for the protocol.
    """

    def __init__(self, real: np.ndarray, n: int = 1000, splits: int = 10, kid_subsets: int = 100,
                 kid_subset_size: int = 1000, seed: int = 0, real_description: str = "",
                 classifier: DigitClassifier | None = None):
        real = np.asarray(real)
        if real.ndim != 4 or len(real) < 4:
            raise ValueError(f"ImageScorer: expected at least 4 real images (N, C, H, W), got shape {real.shape}")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < splits:
            raise ValueError(f"ImageScorer: n must be an int >= splits={splits}, got {n!r}")
        rng = np.random.default_rng(seed)
        if len(real) > MAX_REAL_IMAGES:
            real = real[np.sort(rng.choice(len(real), MAX_REAL_IMAGES, replace=False))]
        self.classifier = classifier or DigitClassifier.pretrained()
        self.n, self.splits, self.seed = int(n), int(splits), int(seed)
        self.kid_subsets, self.kid_subset_size = int(kid_subsets), int(kid_subset_size)
        self.real_features = self.classifier.features(real).astype(np.float64)
        self.real_probs = softmax(self.classifier.predict_logits(real))
        order = rng.permutation(len(real))
        half = len(real) // 2
        a, b = order[:half], order[half:2 * half]
        part = self.n // self.splits
        real_splits = max(1, len(real) // part)
        cs, cs_std = classifier_score(self.real_probs[order[:real_splits * part]], real_splits)
        kid, kid_std = kernel_inception_distance(self.real_features[a], self.real_features[b], self.kid_subsets,
                                                 self._kid_size(half, half), np.random.default_rng(seed))
        from wgan.metrics import frechet_distance

        self.ceiling = {"classifier_score": cs, "classifier_score_std": cs_std, "kid": kid, "kid_std": kid_std,
                        "fid": frechet_distance(self.real_features[a], self.real_features[b])}
        self.protocol = {
            "classifier": "wgan/assets/digit_classifier.npz (64-128-64-10 ReLU MLP on 8x8 grey digits; "
                          "inputs channel-averaged and resized to 8x8)",
            "real": real_description or f"{len(real)} real images",
            "real_images": int(len(real)),
            "generated_images": self.n,
            "classifier_score": f"exp(E_x KL(p(y|x) || p(y))) on each of {self.splits} consecutive parts of the "
                                "generated images; mean and population std over parts",
            "splits": self.splits,
            "kid": "unbiased MMD^2 of the classifier's 64 penultimate features, kernel (a.b/64 + 1)^3, mean and "
                   f"std over {self.kid_subsets} subsets of min({self.kid_subset_size}, n_gen / 2, n_real / 2) "
                   "images from each side, drawn without replacement",
            "kid_subsets": self.kid_subsets,
            "kid_subset_size": self._kid_size(self.n, len(real)),
            "fid": "Frechet distance of Gaussian fits to the same features (FD in the digit classifier's "
                   "features, not Inception's FID), generated vs all real images",
            "ceiling": f"real images in the generator's place: classifier score over {real_splits} parts of "
                       f"{part} real images (the generated parts' size: the score grows with it); the real set "
                       f"split at random (seed {seed}) into disjoint halves A and B of {half}: KID(A, B) with "
                       f"subsets of {self._kid_size(half, half)}, FD(A, B)",
            "ceiling_values": self.ceiling,
            "seed": self.seed,
        }

    def _kid_size(self, n_gen: int, n_real: int) -> int:
        """The KID subset size: at most half of either side, so that the subsets differ."""
        return max(2, min(self.kid_subset_size, n_gen // 2, n_real // 2))

    def score(self, generated: np.ndarray) -> dict:
        """{"fid", "classifier_score", "classifier_score_std", "kid", "kid_std", "class_spread",
        "class_fractions"} of generated images (N, C, H, W) in [-1, 1] against the cached real set."""
        from wgan.metrics import class_spread, frechet_distance

        generated = np.asarray(generated)
        feats = self.classifier.features(generated).astype(np.float64)
        logits = self.classifier.predict_logits(generated)
        cs, cs_std = classifier_score(softmax(logits), min(self.splits, len(generated)))
        kid, kid_std = kernel_inception_distance(feats, self.real_features, self.kid_subsets,
                                                 self._kid_size(len(feats), len(self.real_features)),
                                                 np.random.default_rng(self.seed))
        spread = class_spread(logits.argmax(axis=1))
        return {"fid": frechet_distance(feats, self.real_features), "classifier_score": cs,
                "classifier_score_std": cs_std, "kid": kid, "kid_std": kid_std,
                "class_spread": spread["class_entropy"], "class_fractions": spread["class_fractions"]}

    def write_protocol(self, run_dir) -> Path:
        """Write the protocol and the ceilings to run_dir/scores_protocol.json (atomically)."""
        return write_protocol(run_dir, dict(self.protocol, computed=True))


def write_protocol(run_dir, protocol: dict) -> Path:
    """Write `protocol` as JSON to run_dir/`PROTOCOL_FILE` through a temporary file."""
    path = Path(run_dir) / PROTOCOL_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(protocol, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
    return path


_SCORERS: dict[tuple, ImageScorer] = {}


def scorer_for(dataset, n: int, seed: int = 0) -> ImageScorer:
    """The `ImageScorer` of a digit dataset's whole image array (``dataset.data``), built once per process
    for each (dataset, n, seed) and then reused, so that many runs on one dataset share its real features.

    Raises ValueError with `scores_unavailable_reason` when the scores do not apply to the dataset.
    """
    reason = scores_unavailable_reason(dataset)
    if reason is not None:
        raise ValueError(f"image scores: {reason}")
    data = getattr(dataset, "data", None)
    if data is None:
        raise ValueError(f"image scores: dataset {dataset.name!r} holds no fixed image array to compare against")
    key = (dataset.name, data.shape, float(data[:16].sum()), int(n), int(seed))
    if key not in _SCORERS:
        described = (f"{dataset.name}: all {len(data)} images" if len(data) <= MAX_REAL_IMAGES else
                     f"{dataset.name}: a fixed random {MAX_REAL_IMAGES} of its {len(data)} images (seed {seed})")
        _SCORERS[key] = ImageScorer(data, n=n, seed=seed, real_description=described)
    return _SCORERS[key]


def real_halves_check(images: np.ndarray, seed: int = 0, splits: int = 10) -> dict:
    """The scores of one real half against the other: split `images` at random into disjoint halves A and
    B, score A as if generated against B as the real set. A trustworthy score puts A at B's ceilings (KID
    within one std of 0, the classifier score within the stds of its ceiling)."""
    images = np.asarray(images)
    order = np.random.default_rng(seed).permutation(len(images))
    half = len(images) // 2
    a, b = images[order[:half]], images[order[half:2 * half]]
    n = half // splits * splits
    scorer = ImageScorer(b, n=n, splits=splits, seed=seed, real_description=f"half B ({half} images)")
    got = scorer.score(a[:n])
    return {"images_a": n, "images_b": half, **{k: got[k] for k in SCORE_KEYS + ("fid",)},
            **{f"{k}_real": v for k, v in scorer.ceiling.items()},
            "kid_within_one_std": bool(abs(got["kid"]) <= got["kid_std"]),
            "classifier_score_at_ceiling": bool(
                abs(got["classifier_score"] - scorer.ceiling["classifier_score"])
                <= got["classifier_score_std"] + scorer.ceiling["classifier_score_std"])}
