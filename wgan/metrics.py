"""Ground-truth metrics for WGAN runs.

- `exact_w1`: the exact Wasserstein-1 distance between two equal-size point sets (optimal assignment).
- `mode_stats`: VEEGAN / PacGAN mode coverage: a sample is high quality (HQ) when it lies within
  ``threshold`` standard deviations of its nearest mixture center; a mode is covered when it is the nearest
  center of at least one HQ sample (both papers evaluate 2,500 samples).
- `evaluate_2d`: both of the above for a generated 2-D sample against a dataset.
- `frechet_distance` and `evaluate_images`: the Fréchet distance between Gaussian fits of classifier features
  (FID's formula, in the features of the package's digit classifier: "FD", not Inception's FID) and the spread
  of predicted classes. The classifier score and KID, with real ceilings, are in `wgan.scores`.
- `METRICS`: every logged key as the figures, titles, the run's summary and TensorBoard show it, and
  `METRICS_BY_KIND`: per dataset kind ("2d", "image", `wgan.data.DATASET_KINDS`), the evaluation the trainer and
  ``wgan eval`` run and the logged keys ``metrics.png`` plots (`evaluate`, `plot_keys`): the one table of
  those keys.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from collections.abc import Callable, Sequence

import numpy as np

from minigrad import Tensor
from wgan.classifier import DigitClassifier

__all__ = ["exact_w1", "mode_stats", "evaluate_2d", "frechet_distance", "class_spread", "evaluate_images",
           "DigitClassifier", "Metric", "METRICS", "REGULARITY_KEYS", "KindMetrics", "METRICS_BY_KIND", "evaluate",
           "plot_kind", "plot_keys", "metric", "is_evaluation"]


def _as_points(x, what: str) -> np.ndarray:
    arr = np.asarray(x.numpy() if isinstance(x, Tensor) else x, dtype=np.float64)
    if arr.ndim < 2 or len(arr) == 0:
        raise ValueError(f"{what}: expected a non-empty batch of samples (N, D...), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{what}: samples contain NaN or infinite values")
    return arr.reshape(len(arr), -1)


def exact_w1(x: np.ndarray, y: np.ndarray) -> float:
    """W1 between the empirical measures of x and y (N points each): min over permutations π of
    (1/N) Σ_i ‖x_i − y_π(i)‖₂, the optimal assignment.

    Solved exactly as a transport problem with uniform weights by POT's network simplex
    (`ot.emd2`), whose optimum for equal-size uniform sets is a permutation (Birkhoff), so it
    equals `scipy.optimize.linear_sum_assignment`'s value; it is 10-30x faster on the far-apart
    sets seen early in training (2,500 points: ~1-3 s instead of up to 40 s).
    Samples of any shape (N, ...) are flattened to vectors.
    """
    import ot
    from scipy.spatial.distance import cdist

    a, b = _as_points(x, "exact_w1"), _as_points(y, "exact_w1")
    if a.shape != b.shape:
        raise ValueError(f"exact_w1: point sets must have equal shapes (N, D), got {a.shape} and {b.shape}")
    weights = np.full(len(a), 1.0 / len(a))
    return float(ot.emd2(weights, weights, cdist(a, b), numItermax=10_000_000))


def mode_stats(samples, centers, sigma: float, threshold: float = 3.0) -> dict:
    """Mode coverage of `samples` (N, D) for a mixture with `centers` (K, D) and per-axis std `sigma`.

    Returns {"modes": number of centers that are the nearest center of >= 1 HQ sample,
    "hq_fraction": fraction of samples within threshold·sigma (Euclidean) of their nearest center,
    "counts": per-center number of HQ samples (K,) int64}.
    """
    pts = _as_points(samples, "mode_stats")
    c = np.asarray(centers, dtype=np.float64)
    if c.ndim != 2 or c.shape[1] != pts.shape[1] or len(c) == 0:
        raise ValueError(f"mode_stats: centers of shape {c.shape} do not match samples of shape {pts.shape}")
    if not sigma > 0 or not threshold > 0:
        raise ValueError(f"mode_stats: sigma and threshold must be positive, got {sigma} and {threshold}")
    d2 = ((pts[:, None, :] - c[None, :, :]) ** 2).sum(-1)
    nearest = d2.argmin(axis=1)
    hq = np.sqrt(d2[np.arange(len(pts)), nearest]) <= threshold * sigma
    counts = np.bincount(nearest[hq], minlength=len(c)).astype(np.int64)
    return {"modes": int((counts > 0).sum()), "hq_fraction": float(hq.mean()), "counts": counts}


def evaluate_2d(generated, dataset, rng: np.random.Generator, n: int = 2500, w1_n: int | None = None) -> dict:
    """Metrics of `n` generated 2-D points (the first n rows of `generated`) against `dataset`.

    {"w1": exact W1 between the first ``w1_n`` (default n) of them and as many fresh real samples (from
    ``dataset.reference_sample``, which leaves the training order untouched)} plus, for mixtures,
    {"modes", "hq_fraction"} over all n from `mode_stats` with threshold 3.

    The assignment costs O(w1_n³) in the worst case: at 2,500 points about a second when the sets overlap, but
    up to half a minute on 2 cores when they are far apart or collapsed (many near-tied costs), so periodic
    logging may want a smaller ``w1_n`` and the final evaluation the full 2,500.
    """
    gen = _as_points(generated, "evaluate_2d")
    w1_n = n if w1_n is None else w1_n
    if gen.shape[1] != 2:
        raise ValueError(f"evaluate_2d: generated samples have shape {gen.shape}, expected (N, 2)")
    if len(gen) < n or not 1 <= w1_n <= n:
        raise ValueError(f"evaluate_2d: {len(gen)} generated samples given, {n} needed (and 1 <= w1_n={w1_n} <= n)")
    gen = gen[:n]
    real = dataset.reference_sample(w1_n, rng)
    out = {"w1": exact_w1(gen[:w1_n], real)}
    if getattr(dataset, "centers", None) is not None:
        stats = mode_stats(gen, dataset.centers, dataset.sigma)
        out.update(modes=stats["modes"], hq_fraction=stats["hq_fraction"])
    return out


def frechet_distance(feats_a: np.ndarray, feats_b: np.ndarray, eps: float = 1e-6) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (N_a, D) and (N_b, D):

        ‖μ_a − μ_b‖² + tr(Σ_a) + tr(Σ_b) − 2 tr((Σ_a Σ_b)^½)

    with unbiased covariances and ``scipy.linalg.sqrtm``. As in the reference FID code, when the product is
    near-singular (non-finite square root) ``eps·I`` is added to both covariances; the small imaginary parts
    rounding leaves are dropped, and a large one raises.
    """
    from scipy.linalg import LinAlgWarning, sqrtm

    a, b = _as_points(feats_a, "frechet_distance"), _as_points(feats_b, "frechet_distance")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"frechet_distance: feature sizes differ: {a.shape} and {b.shape}")
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"frechet_distance: need at least 2 samples per set for a covariance, got {len(a)}, "
                         f"{len(b)}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    with warnings.catch_warnings():  # singular products are common (collapsed samples) and handled below
        warnings.simplefilter("ignore", LinAlgWarning)
        covmean = sqrtm(cov_a @ cov_b)
    if not np.isfinite(covmean).all():
        offset = np.eye(len(cov_a)) * eps
        covmean = sqrtm((cov_a + offset) @ (cov_b + offset))
    if np.iscomplexobj(covmean):
        imag = np.abs(covmean.imag).max()
        scale = max(1.0, np.abs(covmean.real).max())
        if imag > 1e-3 * scale:
            raise ValueError(f"frechet_distance: matrix square root has an imaginary component of {imag:g}")
        covmean = covmean.real
    diff = mu_a - mu_b
    value = diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(covmean)
    return float(max(value, 0.0))


def class_spread(labels: np.ndarray, n_classes: int = 10) -> dict:
    """{"class_entropy": H(p) / log(n_classes) in [0, 1] (1 = all classes equally often, 0 = one class),
    "class_fractions": the fraction of each class, a list of n_classes floats (JSON-ready)}."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) == 0:
        raise ValueError(f"class_spread: expected a non-empty 1-D array of labels, got shape {labels.shape}")
    p = np.bincount(labels, minlength=n_classes) / len(labels)
    nz = p[p > 0]
    entropy = max(0.0, float(-(nz * np.log(nz)).sum()))
    return {"class_entropy": entropy / math.log(n_classes), "class_fractions": [float(v) for v in p]}


def evaluate_images(generated: np.ndarray, real: np.ndarray, classifier: DigitClassifier | None = None) -> dict:
    """{"fid": FD, the Fréchet distance of digit-classifier features of generated vs real images,
    "class_spread": class_entropy of the generated images' predicted classes, "class_fractions": 10 floats}.

    Images are (N, C, H, W) in [-1, 1]; the classifier (default: the shipped one) averages channels and resizes
    to 8x8. The distance is biased by sample size: compare runs at equal N.
    """
    clf = classifier or DigitClassifier.pretrained()
    spread = class_spread(clf.predict(generated))
    return {"fid": frechet_distance(clf.features(generated), clf.features(real)),
            "class_spread": spread["class_entropy"], "class_fractions": spread["class_fractions"]}


# ----------------------------------------------------------------------------------------------- the logged keys
@dataclass(frozen=True)
class Metric:
    """One logged key as it is shown: ``label`` on an axis or in a legend (default: the key); ``legend``, a
    longer legend label in the metrics figure's distance and regularity panels (default ``label``); ``axis``,
    the y-axis label of a panel of its own (default ``label``); ``title(value, n_modes) -> str``, how a figure's
    title and the run's summary state it (None: they do not); ``evaluated``: written by an evaluation rather
    than by every training step (TensorBoard's ``eval/`` section); ``color`` of its series."""

    key: str
    label: str = ""
    legend: str = ""
    axis: str = ""
    title: Callable[[float, int | None], str] | None = None
    evaluated: bool = False
    color: str = "C7"


def _scored(name: str) -> Callable[[float, int | None], str]:
    return lambda value, n_modes: f"{name} {value:.4g}"


#: key -> how it is shown, in the order titles state them.
METRICS: dict[str, Metric] = {m.key: m for m in (
    Metric("w_estimate", "critic's W estimate", legend="critic's W estimate E[D(x)] − E[D(G(z))], training batches",
           color="C0"),
    Metric("w_estimate_heldout", legend="critic's W estimate on held-out data", evaluated=True, color="C1"),
    Metric("w1", "exact W1", legend="exact W1 (optimal assignment of the evaluation samples)",
           title=_scored("exact W1"), evaluated=True, color="C2"),
    Metric("modes", title=lambda value, n_modes: f"modes {int(value)}" + (f"/{n_modes}" if n_modes else ""),
           evaluated=True),
    Metric("hq_fraction", title=lambda value, n_modes: f"HQ {100 * value:.1f}%", evaluated=True),
    Metric("fid", "FD in the digit classifier's features", axis="FD", title=_scored("FD (digit-classifier features)"),
           evaluated=True, color="C2"),
    Metric("kid", "KID (digit classifier's features)", axis="KID", title=_scored("KID"), evaluated=True, color="C1"),
    Metric("classifier_score", "classifier score (digit classifier)", axis="classifier score",
           title=_scored("classifier score"), evaluated=True, color="C0"),
    Metric("class_spread", title=_scored("class spread"), evaluated=True, color="C5"),
    Metric("grad_norm", legend="mean ‖∇D(x̂)‖ at the penalty points", color="C3"),
    Metric("penalty", legend="gradient penalty term", color="C4"),
)}
#: The metrics figure's critic-regularity panel (the penalty on a right-hand axis of its own).
REGULARITY_KEYS = ("grad_norm", "penalty")


def metric(key: str) -> Metric:
    """The `METRICS` entry of `key`, its labels filled in (a key not in the table is shown as itself)."""
    entry = METRICS.get(key, Metric(key))
    label = entry.label or key
    return Metric(key, label, entry.legend or label, entry.axis or label, entry.title, entry.evaluated, entry.color)


def is_evaluation(row: dict) -> bool:
    """Whether a logged row holds an evaluation's scores (a key a title states)."""
    return any(key in row for key, entry in METRICS.items() if entry.title is not None)


# ----------------------------------------------------------------------------------------------- by dataset kind
@dataclass(frozen=True)
class KindMetrics:
    """The metrics of one dataset kind: ``evaluate(trainer, n, rng, raw) -> dict`` (the trainer gives
    ``sample(n, rng, raw=raw)``, ``dataset`` and, for images, ``image_scorer(n)``) and the logged keys
    ``metrics.png`` shows (`wgan.plots.metrics_figure`): ``distance_keys`` on one shared y-axis (the critic's
    W estimates and any ground-truth distance measure the same quantity), then one panel per ``score_keys``."""

    evaluate: Callable[..., dict]
    distance_keys: tuple[str, ...]
    score_keys: tuple[str, ...] = ()

    @property
    def plot_keys(self) -> tuple[str, ...]:
        """Every key the figure may show, in its order."""
        return self.distance_keys + self.score_keys


def _evaluate_points(trainer, n: int, rng: np.random.Generator, raw: bool) -> dict:
    return evaluate_2d(trainer.sample(n, rng, raw=raw), trainer.dataset, rng, n=n)


def _evaluate_image_set(trainer, n: int, rng: np.random.Generator, raw: bool) -> dict:
    """The digit-classifier scores of `wgan.scores` with their real-data ceilings, or {} where they do not
    apply (the trainer logs why)."""
    scorer = trainer.image_scorer(n)
    if scorer is None:
        return {}
    row = scorer.score(trainer.sample(n, rng, raw=raw))
    row.update({f"{key}_real": scorer.ceiling[key] for key in ("classifier_score", "kid", "fid")})
    return row


_W_ESTIMATES = ("w_estimate", "w_estimate_heldout")
#: dataset kind -> its metrics.
METRICS_BY_KIND: dict[str, KindMetrics] = {
    "2d": KindMetrics(_evaluate_points, (*_W_ESTIMATES, "w1")),
    "image": KindMetrics(_evaluate_image_set, _W_ESTIMATES, ("fid", "kid", "classifier_score")),
}


def evaluate(trainer, n: int, rng: np.random.Generator, raw: bool = False) -> dict:
    """The ground-truth metrics of `n` samples of the trainer's generator (`raw`: the trained one, not its
    average), chosen by its dataset's kind."""
    kind = trainer.dataset.kind
    if kind not in METRICS_BY_KIND:
        raise ValueError(f"evaluate: no metrics for datasets of kind {kind!r} (known: {', '.join(METRICS_BY_KIND)})")
    return METRICS_BY_KIND[kind].evaluate(trainer, n, rng, raw)


def plot_kind(rows: Sequence[dict], kind: str | None = None) -> KindMetrics:
    """The entry of dataset `kind` (without `kind`: of the kind whose plot keys `rows` log most)."""
    if kind is None:
        kind = max(METRICS_BY_KIND, key=lambda k: sum(any(key in row for row in rows)
                                                       for key in METRICS_BY_KIND[k].plot_keys))
    if kind not in METRICS_BY_KIND:
        raise ValueError(f"plot_keys: no metrics for datasets of kind {kind!r} (known: {', '.join(METRICS_BY_KIND)})")
    return METRICS_BY_KIND[kind]


def plot_keys(rows: Sequence[dict], kind: str | None = None) -> list[str]:
    """The default series of ``metrics.png``: the plot keys of dataset `kind` that `rows` log, in order
    (without `kind`: of the kind whose keys the rows log most)."""
    return [key for key in plot_kind(rows, kind).plot_keys if any(key in row for row in rows)]
