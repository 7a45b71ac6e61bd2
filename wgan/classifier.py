"""The small digit classifier whose features define the package's Fréchet distance for images.

A ReLU MLP on 8x8 digits, built from minigrad ops and trained with minigrad
(``scripts/train_digit_classifier.py``); its weights ship as ``wgan/assets/digit_classifier.npz``::

    x (N, 64) in [-1, 1] -> h1 = relu(x W1ᵀ + b1) (N, 128) -> h2 = relu(h1 W2ᵀ + b2) (N, 64)
                         -> logits = h2 W3ᵀ + b3 (N, 10)

``features`` are h2, the 64 penultimate activations (the role Inception's pool features play in FID).
Images of any size and channel count are averaged over channels and resized to 8x8 with Pillow first.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

import minigrad
from minigrad import Tensor

__all__ = ["DigitClassifier", "ASSET_PATH", "digits_split"]

ASSET_PATH = Path(__file__).resolve().parent / "assets" / "digit_classifier.npz"
LAYER_SIZES = (64, 128, 64, 10)
SPLIT_SEED = 0
TEST_FRACTION = 0.25


def digits_split(seed: int = SPLIT_SEED, test_fraction: float = TEST_FRACTION):
    """The fixed stratified split of scikit-learn's digits: (x_train, y_train, x_test, y_test).

    Images are (N, 1, 8, 8) float32 in [-1, 1] (as `wgan.data.load_digits`), labels int64.
    """
    from sklearn.model_selection import train_test_split

    from wgan.data import digit_labels, load_digits

    images, labels = load_digits().data, digit_labels()
    x_tr, x_te, y_tr, y_te = train_test_split(images, labels, test_size=test_fraction, random_state=seed,
                                              stratify=labels)
    return x_tr, y_tr, x_te, y_te


def _prepare(images) -> np.ndarray:
    """(N, C, H, W) / (N, H, W) images in [-1, 1] -> (N, 64) float32: channel mean, resize to 8x8, flatten."""
    from wgan.data import resize_images

    x = np.asarray(images.numpy() if isinstance(images, Tensor) else images)
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[0] == 0:
        raise ValueError(f"DigitClassifier: expected a non-empty batch of images (N, C, H, W) or (N, H, W), "
                         f"got shape {x.shape}")
    if x.dtype.kind != "f" or not np.isfinite(x).all():
        raise ValueError(f"DigitClassifier: images must be finite floats in [-1, 1], got dtype {x.dtype}")
    x = x.astype(np.float32).mean(axis=1, keepdims=True)
    return resize_images(x, 8).reshape(len(x), 64)


class DigitClassifier:
    """A 64-128-64-10 ReLU MLP; ``params`` maps "fc{1,2,3}.{weight,bias}" to minigrad Tensors."""

    def __init__(self, params: dict[str, Tensor] | None = None, seed: int = 0):
        if params is None:
            params = self._init_params(np.random.default_rng(seed))
        expected = {f"fc{i + 1}.{k}": s for i, (a, b) in enumerate(zip(LAYER_SIZES, LAYER_SIZES[1:]))
                    for k, s in (("weight", (b, a)), ("bias", (b,)))}
        got = {k: tuple(v.shape) for k, v in params.items()}
        if got != expected:
            raise ValueError(f"DigitClassifier: parameters {got} do not match the architecture {expected}")
        self.params = params
        self.metadata: dict = {}

    @staticmethod
    def _init_params(rng: np.random.Generator) -> dict[str, Tensor]:
        """He-uniform weights U(±sqrt(6 / fan_in)), zero biases."""
        params = {}
        for i, (fan_in, fan_out) in enumerate(zip(LAYER_SIZES, LAYER_SIZES[1:])):
            bound = np.sqrt(6.0 / fan_in)
            w = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
            params[f"fc{i + 1}.weight"] = minigrad.tensor(w, requires_grad=True)
            params[f"fc{i + 1}.bias"] = minigrad.zeros(fan_out, requires_grad=True)
        return params

    def parameters(self) -> list[Tensor]:
        return list(self.params.values())

    # ------------------------------------------------------------------------------------ forward
    def hidden(self, x: Tensor) -> Tensor:
        """The penultimate activations h2 (N, 64) of flattened inputs x (N, 64)."""
        p = self.params
        h = minigrad.relu(minigrad.linear(x, p["fc1.weight"], p["fc1.bias"]))
        return minigrad.relu(minigrad.linear(h, p["fc2.weight"], p["fc2.bias"]))

    def logits(self, x: Tensor) -> Tensor:
        """Class scores (N, 10) of flattened inputs x (N, 64)."""
        return minigrad.linear(self.hidden(x), self.params["fc3.weight"], self.params["fc3.bias"])

    def _run(self, images, head: bool, batch_size: int = 2048) -> np.ndarray:
        x = _prepare(images)
        out = []
        with minigrad.no_grad():
            for i in range(0, len(x), batch_size):
                t = minigrad.tensor(x[i:i + batch_size])
                out.append((self.logits(t) if head else self.hidden(t)).numpy())
        return np.concatenate(out)

    def features(self, images) -> np.ndarray:
        """Penultimate activations (N, 64) float32 of images (N, C, H, W) or (N, H, W) in [-1, 1]."""
        return self._run(images, head=False)

    def predict_logits(self, images) -> np.ndarray:
        return self._run(images, head=True)

    def predict(self, images) -> np.ndarray:
        """Predicted digit classes (N,) int64."""
        return self.predict_logits(images).argmax(axis=1).astype(np.int64)

    # ------------------------------------------------------------------------------------ storage
    def save(self, path: str | os.PathLike, **metadata) -> None:
        """Write the weights (and numeric/str metadata as "meta.KEY") to an .npz, no pickle."""
        arrays = {k: v.numpy() for k, v in self.params.items()}
        arrays.update({f"meta.{k}": np.asarray(v) for k, v in metadata.items()})
        np.savez_compressed(path, **arrays)  # type: ignore[arg-type]  # numpy's stub types allow_pickle as a keyword

    @classmethod
    def load(cls, path: str | os.PathLike) -> DigitClassifier:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"DigitClassifier: weights file {path} does not exist (train it with "
                                    "scripts/train_digit_classifier.py)")
        with np.load(path, allow_pickle=False) as archive:
            params = {k: minigrad.tensor(archive[k]) for k in archive.files if not k.startswith("meta.")}
            clf = cls(params)
            clf.metadata = {k[5:]: archive[k].item() for k in archive.files if k.startswith("meta.")}
        return clf

    @classmethod
    def pretrained(cls) -> DigitClassifier:
        """The classifier shipped with the package (``wgan/assets/digit_classifier.npz``)."""
        return cls.load(ASSET_PATH)
