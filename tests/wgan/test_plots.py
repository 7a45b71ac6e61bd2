"""wgan.plots: every figure is written as a valid PNG, with clear errors for bad input."""
import numpy as np
import pytest
from PIL import Image

import minigrad
from wgan.plots import critic_grid, plot_image_grid, plot_metrics, plot_toy


def open_png(path):
    with Image.open(path) as img:
        img.verify()
    with Image.open(path) as img:
        assert img.format == "PNG"
        return img.size, img.mode


def test_plot_toy_with_and_without_critic(tmp_path):
    rng = np.random.default_rng(0)
    real, fake = rng.standard_normal((256, 2)), rng.standard_normal((256, 2)) * 0.5
    calls = []

    def critic(points):
        calls.append(points.shape)
        return -np.linalg.norm(points, axis=1)

    path = plot_toy(real, minigrad.tensor(fake), tmp_path / "sub" / "toy.png", critic=critic, title="toy")
    assert path == tmp_path / "sub" / "toy.png"
    assert open_png(path)[0] == (600, 600)
    assert sum(s[0] for s in calls) == 128 * 128 and all(s[1] == 2 for s in calls)
    assert open_png(plot_toy(real, fake, tmp_path / "plain.png"))[0] == (600, 600)
    with pytest.raises(ValueError, match="critic returned 3 values"):
        plot_toy(real, fake, tmp_path / "bad.png", critic=lambda p: np.zeros(3), grid=4)
    with pytest.raises(ValueError, match="fake must have shape \\(N, 2\\)"):
        plot_toy(real, fake[:, :1], tmp_path / "bad.png")
    with pytest.raises(ValueError, match="must end in .png"):
        plot_toy(real, fake, tmp_path / "toy.jpg")


def test_critic_grid_is_gan_toys_layout():
    axis, values = critic_grid(lambda p: p[:, 0] + 10 * p[:, 1], bounds=3.0, grid=5)
    np.testing.assert_allclose(axis, np.linspace(-3, 3, 5))
    np.testing.assert_allclose(values, axis[:, None] + 10 * axis[None, :], rtol=1e-6)  # values[i, j] at (x_i, y_j)


def test_plot_image_grid(tmp_path):
    gray = np.linspace(-1, 1, 10 * 64, dtype=np.float32).reshape(10, 1, 8, 8)
    size, mode = open_png(plot_image_grid(gray, tmp_path / "gray.png", nrow=4))
    scale = 4  # 8-pixel cells are scaled up to at least 32 pixels
    assert mode == "L" and size == ((4 * 9 + 1) * scale, (3 * 9 + 1) * scale)
    with Image.open(tmp_path / "gray.png") as img:
        pixels = np.asarray(img)
    assert pixels[scale, scale] == 0 and pixels.max() == 255  # first pixel -1 -> black, last +1 -> white
    rgb = np.random.default_rng(0).uniform(-1, 1, (3, 3, 32, 32)).astype(np.float32)
    size, mode = open_png(plot_image_grid(rgb, tmp_path / "rgb.png"))
    assert mode == "RGB" and size == (3 * 33 + 1, 33 + 1)
    with pytest.raises(ValueError, match="\\(N, C, H, W\\)"):
        plot_image_grid(np.zeros((2, 5, 4, 4)), tmp_path / "bad.png")


def test_plot_metrics(tmp_path):
    rows = [{"step": s, "w_estimate": 5 * np.exp(-s / 300), "w1": 0.05 + np.exp(-s / 250), "loss": 1.0}
            for s in range(0, 2000, 100)]
    rows.append({"step": 2000, "w_estimate": float("nan")})  # skipped, not plotted as a gap in the axis range
    assert open_png(plot_metrics(rows, tmp_path / "m.png"))[0] == (800, 450)
    same_scale = [{"step": s, "w_estimate": 1.0 / (1 + s), "w1": 1.2 / (1 + s)} for s in range(10)]
    assert open_png(plot_metrics(same_scale, tmp_path / "same.png"))[0] == (800, 450)
    assert open_png(plot_metrics(rows, tmp_path / "one.png", keys=("loss",)))[0] == (800, 450)
    with pytest.raises(ValueError, match="none of \\['gp'\\]"):
        plot_metrics(rows, tmp_path / "none.png", keys=("gp",))
