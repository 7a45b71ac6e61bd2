"""Evaluation snapshots in the run folder and the training animation made from them (`wgan plot --animate`)."""
import json

import numpy as np
import pytest
from PIL import Image

from wgan import TrainConfig, Trainer, cli
from wgan.snapshots import animate, drop_snapshots_after, load_snapshot, save_snapshot, snapshot_paths


def _small(**kw):
    base = dict(dataset="ring", algorithm="wgan-gp", preset="toy", width=16, depth=1, batch_size=32, steps=4,
                eval_every=2, eval_samples=100, checkpoint_every=2, plot_every=10)
    base.update(kw)
    return TrainConfig(**base)


def _frames(path):
    with Image.open(path) as gif:
        assert gif.format == "GIF"
        frames = []
        for i in range(gif.n_frames):
            gif.seek(i)
            frames.append(np.asarray(gif.convert("RGB")))
    return frames


def test_each_evaluation_keeps_a_small_snapshot_and_resume_drops_later_ones(tmp_path):
    Trainer(_small(out_dir=str(tmp_path))).fit()
    assert [step for step, _ in snapshot_paths(tmp_path)] == [2, 4]
    snap = load_snapshot(snapshot_paths(tmp_path)[0][1])
    assert snap["real"].shape == snap["fake"].shape == (512, 2) and snap["critic"].shape == (64, 64)
    assert int(snap["n_modes"]) == 8 and float(snap["bounds"]) == 3.0
    assert all(path.stat().st_size < 30_000 for _, path in snapshot_paths(tmp_path))
    save_snapshot(tmp_path, 9, dict(snap))  # a snapshot from beyond the checkpoint, e.g. a killed longer run
    resumed = Trainer.resume(tmp_path, steps=6)
    resumed.fit()
    assert [step for step, _ in snapshot_paths(tmp_path)] == [2, 4, 6]
    Trainer(_small(out_dir=str(tmp_path), steps=2)).fit()  # a fresh run in the same folder starts over
    assert [step for step, _ in snapshot_paths(tmp_path)] == [2]
    assert drop_snapshots_after(tmp_path, 0) == 1 and snapshot_paths(tmp_path) == []


def test_animation_of_a_2d_run_has_one_frame_per_evaluation_on_fixed_axes(tmp_path):
    Trainer(_small(out_dir=str(tmp_path), steps=6)).fit()
    path, count = animate(tmp_path, fps=5)
    assert path == tmp_path / "training.gif" and count == 3
    frames = _frames(path)
    assert len(frames) == 3 and len({f.shape for f in frames}) == 1
    assert not np.array_equal(frames[0], frames[-1])
    with Image.open(path) as gif:
        assert gif.info["duration"] == 200 and gif.info.get("loop") == 0


def test_animation_of_image_samples(tmp_path):
    rng = np.random.default_rng(0)
    TrainConfig(dataset="digits", steps=20).save(tmp_path / "config.json")
    (tmp_path / "metrics.jsonl").write_text(
        "".join(json.dumps({"step": s, "fid": 100.0 / s}) + "\n" for s in (10, 20)))
    for step in (10, 20):
        save_snapshot(tmp_path, step, {"images": rng.uniform(-1, 1, (64, 1, 8, 8))})
    snap = load_snapshot(snapshot_paths(tmp_path)[0][1])
    assert snap["images"].shape == (16, 1, 8, 8) and snap["images"].dtype == np.uint8
    out, count = animate(tmp_path, tmp_path / "sub" / "digits.gif")
    frames = _frames(out)
    assert count == 2 and frames[0].shape == frames[1].shape and frames[0].shape[1] >= 4 * 8 * 6


def test_animation_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="run folder .*nowhere does not exist"):
        animate(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="has no evaluation snapshots"):
        animate(tmp_path)
    with pytest.raises(ValueError, match="must end in .gif"):
        animate(tmp_path, tmp_path / "a.png")
    (tmp_path / "snapshots").mkdir()
    np.savez(tmp_path / "snapshots" / "step_000001.npz", other=np.zeros(2))
    with pytest.raises(ValueError, match="lacks .*not an evaluation snapshot"):
        animate(tmp_path)


def test_cli_plot_animate(tmp_path, capsys):
    Trainer(_small(out_dir=str(tmp_path))).fit()
    assert cli.main(["plot", str(tmp_path), "--animate", "--out", str(tmp_path / "a.gif")]) == 0
    assert "a.gif (2 frames)" in capsys.readouterr().out
    assert len(_frames(tmp_path / "a.gif")) == 2
    with pytest.raises(SystemExit) as exc:
        cli.main(["plot", str(tmp_path / "missing"), "--animate"])
    assert exc.value.code == 2 and "does not exist" in capsys.readouterr().err
