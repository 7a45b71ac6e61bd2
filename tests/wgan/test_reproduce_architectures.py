"""`wgan reproduce architectures`: the cells' configs, the verdict, resumability, and a small smoke run."""
import json
import struct

import numpy as np
import pytest

from wgan import TrainConfig, Trainer
from wgan.reproductions.architectures import COLUMNS, ROWS, _verdict, architectures, cell_config
from wgan.cli import main


def test_every_cell_builds_the_architecture_its_row_names():
    for row in ROWS:
        for column in COLUMNS:
            if column == "lsgan":   # provided by the algorithms plug-ins; built like the GAN column
                continue
            cfg = cell_config(row, column, steps=1, quick=True)
            trainer = Trainer(cfg)
            g, d = trainer.generator, trainer.critic
            kinds = {type(m).__name__ for m in list(g.modules()) + list(d.modules())}
            if row == "resnet101":
                assert {"ResNetGenerator", "ResNetCritic"} <= kinds
            if row == "g_mlp":
                assert type(g).__name__ == "MLPGenerator"
            if row == "gated":
                assert "GatedUnit" in kinds
            if row == "tanh":
                assert "ReLU" not in kinds and "LeakyReLU" not in kinds
            if row in ("no_norm", "g_nobn_constant"):
                assert not any("Norm" in type(m).__name__ for m in g.modules())
            if row == "no_norm":
                assert not any("Norm" in type(m).__name__ for m in d.modules())
            if column == "wgan-gp" and row != "no_norm":
                assert any(type(m).__name__ == "LayerNorm" for m in d.modules())
            assert cfg.init == ("auto" if row == "resnet101" else "tflib")   # the paper code's layer defaults
    assert cell_config("resnet101", "gan", steps=1).g_depth == 101


def _cells(scores):
    return {key: {"classifier_score": v, "status": "done"} for key, v in scores.items()}


def test_verdict_follows_the_papers_thresholds():
    rows, cols = ["a", "b"], ["gan", "lsgan", "wgan-clip", "wgan-gp"]
    good = {("a", "wgan-gp"): 8.0, ("b", "wgan-gp"): 9.0, ("a", "gan"): 9.0, ("b", "gan"): 4.0,
            ("a", "lsgan"): 2.0, ("b", "lsgan"): 9.0, ("a", "wgan-clip"): 1.0, ("b", "wgan-clip"): 1.0}
    verdict = _verdict(_cells(good), rows, cols, real=10.0)
    assert verdict["reproduced"] and verdict["rows_below_50pct"]["gan"] == ["b"]
    robust_gan = {**good, ("b", "gan"): 6.0}
    assert not _verdict(_cells(robust_gan), rows, cols, real=10.0)["reproduced"]
    weak_gp = {**good, ("a", "wgan-gp"): 7.9}
    verdict = _verdict(_cells(weak_gp), rows, cols, real=10.0)
    assert not verdict["reproduced"] and verdict["wgan_gp_rows_below_80pct"] == ["a"]
    diverged = _cells(good)
    diverged[("a", "wgan-gp")] = {"classifier_score": float("nan"), "status": "diverged"}
    assert not _verdict(diverged, rows, cols, real=10.0)["reproduced"]


def test_a_small_table_runs_resumes_and_writes_figure_and_markdown(tmp_path):
    kwargs = dict(quick=True, rows=["dcgan", "resnet101"], columns=["gan", "wgan-gp"], steps=2, resnet_steps=2)
    result = architectures(tmp_path, **kwargs)
    table = (tmp_path / "architectures.md").read_text()
    assert "| 101-layer ResNet G and D |" in table and "WGAN-GP" in table and "Verdict" in table
    assert (tmp_path / "architectures.png").stat().st_size > 10_000
    data = json.loads((tmp_path / "architectures.json").read_text())
    assert set(data["cells"]) == {"dcgan__gan", "dcgan__wgan-gp", "resnet101__gan", "resnet101__wgan-gp"}
    assert np.isfinite(result["real_classifier_score"])
    # resumable: a finished cell is read back; a larger budget continues every cell from its checkpoint
    cell = tmp_path / "runs" / "dcgan__gan"
    before = json.loads((cell / "cell.json").read_text())
    (cell / "cell.json").unlink()
    again = architectures(tmp_path, **dict(kwargs, steps=4))
    after = json.loads((cell / "cell.json").read_text())
    assert after["steps"] == 4 and before["steps"] == 2
    assert json.loads((tmp_path / "runs" / "dcgan__wgan-gp" / "cell.json").read_text())["steps"] == 4
    assert again["figure"].endswith("architectures.png")
    assert len(Trainer.resume(cell).history) and Trainer.resume(cell).step == 4   # extended, not restarted


def test_cli_options_and_errors(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["reproduce", "lines", "--steps", "3", "--out", str(tmp_path)])
    assert info.value.code == 2 and "only apply to `reproduce architectures`" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["reproduce", "architectures", "--workers", "0", "--out", str(tmp_path)])
    assert info.value.code == 2 and "--workers: expected a positive integer" in capsys.readouterr().err
    folder = tmp_path / "imgs"
    folder.mkdir()
    np.savez(folder / "x.npz", x=np.zeros((8, 1, 8, 8), np.float32))
    with pytest.raises(SystemExit) as info:
        main(["reproduce", "architectures", "--dataset", f"npz:{folder / 'x.npz'}", "--out", str(tmp_path)])
    assert info.value.code == 2 and "not the built-in digits or MNIST" in capsys.readouterr().err


def test_train_cli_selects_architectures_per_network(tmp_path, capsys):
    code = main(["train", "--dataset", "digits", "--g-model", "resnet", "--g-depth", "5", "--g-filters", "4",
                 "--d-depth", "4", "--d-nonlinearity", "shifted_softplus", "--d-filters", "4", "--critic-norm",
                 "layernorm", "--g-constant-filters", "--steps", "1", "--batch-size", "4", "--n-critic", "1",
                 "--eval-every", "0", "--no-progress", "--out", str(tmp_path / "run")])
    assert code == 0
    config = TrainConfig.load(tmp_path / "run" / "config.json")
    assert (config.g_model, config.g_depth, config.d_depth, config.d_nonlinearity) == ("resnet", 5, 4,
                                                                                      "shifted_softplus")
    with pytest.raises(SystemExit):
        main(["train", "--dataset", "digits", "--g-nonlinearity", "swish", "--out", str(tmp_path / "bad")])
    assert "g_nonlinearity: 'swish' is not one of" in capsys.readouterr().err


def test_batchnorm_critic_with_a_penalty_needs_an_explicit_override(tmp_path):
    base = dict(dataset="digits", algorithm="wgan-gp", critic_norm="batchnorm", base_filters=4, z_dim=4, d_depth=2,
                batch_size=4, n_critic=1, steps=1, eval_every=0)
    with pytest.raises(ValueError, match="allow_batchnorm_critic=True to insist"):
        Trainer(TrainConfig(**base))
    with pytest.warns(UserWarning, match="Gulrajani et al. 2017"):
        trainer = Trainer(TrainConfig(**base, allow_batchnorm_critic=True))
        trainer.fit()
    assert np.isfinite(trainer.history[-1]["penalty"])


def test_the_table_runs_on_mnist_idx_files(tmp_path):
    # digits upscaled to 28x28 uint8 stand in for MNIST: the same IDX path, sizes and scorer
    from PIL import Image
    from sklearn.datasets import load_digits

    small = load_digits().images[:200] * (255 / 16)
    images = np.stack([np.asarray(Image.fromarray(im.astype(np.uint8)).resize((28, 28))) for im in small])
    header = struct.pack(">HBB", 0, 0x08, 3) + struct.pack(">3I", *images.shape)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(header + images.astype(np.uint8).tobytes())
    result = architectures(tmp_path / "out", quick=True, dataset=f"mnist:{tmp_path}", rows=["dcgan", "resnet101"],
                           columns=["wgan-gp"], steps=1, resnet_steps=1)
    data = json.loads((tmp_path / "out" / "architectures.json").read_text())
    assert data["dataset"] == f"mnist:{tmp_path}" and np.isfinite(result["real_classifier_score"])
    run = Trainer.from_checkpoint(tmp_path / "out" / "runs" / "dcgan__wgan-gp")
    assert run.sample(2).shape == (2, 1, 28, 28)
