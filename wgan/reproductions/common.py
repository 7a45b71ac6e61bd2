"""Helpers shared by the reproductions: a pyplot-free figure, JSON output, a float32 constant tensor."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import minigrad
from minigrad import Tensor


def figure(figsize):
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, dpi=100)


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")


def tensor(array: np.ndarray) -> Tensor:
    return minigrad.as_tensor(np.ascontiguousarray(array, dtype=np.float32))
