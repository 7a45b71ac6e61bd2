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


def test_toy_figure_explains_itself():
    from matplotlib.figure import Figure

    from wgan.plots import draw_toy

    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(64, 2)) * 0.01 + [1, 0], rng.normal(size=(80, 2))
    axis, values = critic_grid(lambda p: -np.linalg.norm(p - [1, 0], axis=1), bounds=2.0, grid=16)
    fig = Figure()
    ax = fig.add_subplot()
    draw_toy(fig, ax, real, fake, axis, values, 2.0, title="wgan-gp on ring · step 5/10\nexact W1 0.5")
    assert ax.get_title() == "wgan-gp on ring · step 5/10\nexact W1 0.5"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["real data (64)", "generated (80)"]
    colorbar = [a for a in fig.axes if a is not ax]
    assert len(colorbar) == 1 and colorbar[0].get_ylabel() == "critic value D(x)"
    real_dots, fake_marks = ax.collections[-2], ax.collections[-1]
    assert real_dots.get_zorder() < fake_marks.get_zorder()  # generated samples drawn over the real data
    assert real_dots.get_sizes()[0] > fake_marks.get_sizes()[0]  # ... and the real discs stay visible around them
    assert not np.allclose(real_dots.get_facecolor()[0][:3], fake_marks.get_facecolor()[0][:3])
    assert ax.get_xlim() == (-2.0, 2.0) and ax.get_ylim() == (-2.0, 2.0)


def test_constant_critic_is_said_not_drawn():
    from matplotlib.figure import Figure

    from wgan.plots import draw_toy

    fig = Figure()
    ax = fig.add_subplot()
    draw_toy(fig, ax, np.zeros((3, 2)), np.ones((3, 2)), np.linspace(-1, 1, 4), np.zeros((4, 4)), 1.0)
    assert len(fig.axes) == 1 and "critic constant" in ax.texts[0].get_text()


def test_describe_scores():
    from wgan.plots import describe_scores

    assert describe_scores({"w1": 0.01234, "modes": 7, "hq_fraction": 0.9512}, n_modes=8) == \
        "exact W1 0.01234 · modes 7/8 · HQ 95.1%"
    assert describe_scores({"fid": 12.5, "class_spread": 0.9, "w_estimate": 3.0}) == \
        "FD (digit-classifier features) 12.5 · class spread 0.9"
    assert describe_scores({"w1": float("nan"), "modes": None}) == ""


def test_metrics_figure_shares_one_axis_for_the_distances():
    from wgan.plots import metrics_figure

    rows = [{"step": s, "w_estimate": 5.0 / (1 + s), "grad_norm": 1 + 1 / (1 + s), "penalty": 0.01 / (1 + s)}
            for s in range(1, 301)]
    for row in rows[49::50]:
        row.update(w1=0.2 / row["step"] ** 0.5, w_estimate_heldout=4.0 / (1 + row["step"]))
    fig = metrics_figure(rows, title="wgan-gp on ring")
    distance, regularity = fig.axes[0], fig.axes[1]
    labels = [line.get_label() for line in distance.get_lines() if not line.get_label().startswith("_")]
    assert len(labels) == 3 and labels[0].startswith("critic's W estimate") and "held-out" in labels[1] \
        and labels[2].startswith("exact W1")
    assert "mean of 6 logged steps" in labels[0]  # 300 per-step points: faint raw line plus a moving average
    assert distance.get_ylabel() == "distance" and distance.get_title() == "wgan-gp on ring"
    twins = [a for a in fig.axes[2:] if a.bbox.bounds == regularity.bbox.bounds]
    assert len(fig.axes) == 3 and twins  # grad norm on the left, the penalty on its own right axis
    assert regularity.get_ylabel() == "grad norm" and twins[0].get_ylabel() == "penalty"
    legend = [t.get_text() for t in regularity.get_legend().get_texts()]
    assert any("‖∇D(x̂)‖" in t for t in legend) and any("penalty" in t for t in legend)


def test_metrics_figure_without_penalty_or_heldout_has_one_panel():
    from wgan.plots import metrics_figure

    fig = metrics_figure([{"step": s, "w_estimate": 1.0, "w1": 2.0} for s in range(5)])
    assert len(fig.axes) == 1 and len(fig.axes[0].get_lines()) == 2


def test_metrics_figure_shows_the_plot_keys_of_the_metrics_by_kind_table(monkeypatch):
    # the figure's series come from wgan.metrics.METRICS_BY_KIND (the one place the plot keys are written)
    from wgan import metrics
    from wgan.plots import metrics_figure

    image_rows = [{"step": s, "w_estimate": 1.0 / s, "fid": 10.0 / s, "kid": 0.1 / s, "fid_real": 0.5}
                  for s in range(1, 4)]
    fig = metrics_figure(image_rows, kind="image")
    assert [ax.get_ylabel() for ax in fig.axes] == ["distance", "FD", "KID"]
    assert metrics.plot_keys(image_rows, "image") == ["w_estimate", "fid", "kid"]
    rows = [{"step": s, "w_estimate": 1.0, "w1": 2.0, "w_estimate_heldout": 1.5} for s in range(3)]
    assert len(metrics_figure(rows, kind="2d").axes[0].get_lines()) == 3
    monkeypatch.setitem(metrics.METRICS_BY_KIND, "2d", metrics.KindMetrics(metrics.evaluate, ("w1",)))
    lines = [line.get_label() for line in metrics_figure(rows, kind="2d").axes[0].get_lines()]
    assert len(lines) == 1 and lines[0].startswith("exact W1")
    with pytest.raises(ValueError, match="no metrics for datasets of kind 'audio'"):
        metrics_figure(rows, kind="audio")


def test_image_grid_title_band(tmp_path):
    gray = np.zeros((4, 1, 8, 8), dtype=np.float32)
    plain = open_png(plot_image_grid(gray, tmp_path / "plain.png", nrow=2))[0]
    size, mode = open_png(plot_image_grid(gray, tmp_path / "t.png", nrow=2, title="step 10 · FID 1.0"))
    assert mode == "L" and size[0] == max(plain[0], 240) and size[1] > plain[1]
    with Image.open(tmp_path / "t.png") as img:
        band = np.asarray(img)[: size[1] - plain[1]]
    assert band.min() == 0 and band.max() == 255  # black text on a white band
