"""Train the digit classifier behind wgan's image metrics and write wgan/assets/digit_classifier.npz.

The network (wgan.classifier.DigitClassifier, a 64-128-64-10 ReLU MLP) is trained with minigrad itself:
softmax cross-entropy, Adam, minibatches from the training part of scikit-learn's digits (the fixed
stratified split of `digits_split`). Each training image is also shown after a round trip through
16/28/32 pixels (the resizing wgan applies to larger digit images), with a random one-pixel shift and a
little Gaussian noise, so the features stay meaningful on resized and generated digits.
The held-out accuracy, plain and after each round trip, is printed and stored in the file's metadata.

    python scripts/train_digit_classifier.py [--epochs 60] [--out wgan/assets/digit_classifier.npz]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import minigrad
from minigrad.optim import Adam
from wgan.classifier import ASSET_PATH, DigitClassifier, digits_split
from wgan.data import resize_images

ROUND_TRIP_SIZES = (16, 28, 32)


def cross_entropy(logits: minigrad.Tensor, labels: np.ndarray) -> minigrad.Tensor:
    """mean_i [logsumexp(z_i) - z_i[y_i]] for logits z (N, 10) and integer labels y (N,)."""
    one_hot = minigrad.tensor(np.eye(logits.shape[1], dtype=np.float32)[labels])
    picked = minigrad.sum(logits * one_hot, axis=1)
    return minigrad.mean(minigrad.logsumexp(logits, axis=1) - picked)


def augment(x: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    """Random one-pixel shifts (edge-padded) of (N, 1, 8, 8) images plus N(0, noise²), clipped to [-1, 1]."""
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-1)
    dy, dx = rng.integers(0, 3, size=(2, len(x)))
    out = np.stack([padded[i, :, dy[i]:dy[i] + 8, dx[i]:dx[i] + 8] for i in range(len(x))])
    return np.clip(out + noise * rng.standard_normal(out.shape).astype(np.float32), -1, 1)


def round_trips(x: np.ndarray) -> list[np.ndarray]:
    """x itself and x resized to each of ROUND_TRIP_SIZES and back to 8x8."""
    return [x] + [resize_images(resize_images(x, s), 8) for s in ROUND_TRIP_SIZES]


def accuracy(clf: DigitClassifier, x: np.ndarray, y: np.ndarray) -> float:
    return float((clf.predict(x) == y).mean())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--noise", type=float, default=0.1, help="std of the Gaussian noise augmentation")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ASSET_PATH))
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    x_tr, y_tr, x_te, y_te = digits_split()
    x_all = np.concatenate(round_trips(x_tr))
    y_all = np.tile(y_tr, len(ROUND_TRIP_SIZES) + 1)
    clf = DigitClassifier(seed=args.seed)
    opt = Adam(clf.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    start = time.perf_counter()
    for epoch in range(args.epochs):
        order = rng.permutation(len(x_all))
        total = 0.0
        for i in range(0, len(order), args.batch_size):
            idx = order[i:i + args.batch_size]
            x = augment(x_all[idx], rng, args.noise).reshape(len(idx), 64)
            loss = cross_entropy(clf.logits(minigrad.tensor(x)), y_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        if epoch % 10 == 9 or epoch == args.epochs - 1:
            print(f"epoch {epoch + 1:3d}  loss {total / len(order):.4f}  held-out acc {accuracy(clf, x_te, y_te):.4f}"
                  f"  ({time.perf_counter() - start:.0f} s)")
    accs = [accuracy(clf, x, y_te) for x in round_trips(x_te)]
    names = ["8"] + [str(s) for s in ROUND_TRIP_SIZES]
    print("held-out accuracy: " + ", ".join(f"{n}px {a:.4f}" for n, a in zip(names, accs)))
    clf.save(args.out, test_accuracy=accs[0], **{f"test_accuracy_{n}px": a for n, a in zip(names[1:], accs[1:])},
             n_train=len(x_tr), n_test=len(x_te), epochs=args.epochs, seed=args.seed)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
