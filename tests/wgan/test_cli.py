"""The command line: every subcommand on tiny runs, and argparse-level errors naming the field."""
import json
import subprocess
import sys

import numpy as np
import pytest

from wgan import cli
from wgan.config import TrainConfig

TINY = ["--width", "8", "--depth", "1", "--batch-size", "16", "--eval-samples", "100", "--no-progress"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    assert cli.main(["train", "--steps", "3", "--eval-every", "2", "--checkpoint-every", "2", "--out", str(out),
                     *TINY]) == 0
    return out


def test_train_writes_a_run_folder(run_dir, capsys):
    assert {"config.json", "metrics.csv", "metrics.jsonl", "checkpoint.npz", "metrics.png"} <= \
        {p.name for p in run_dir.iterdir()}
    config = TrainConfig.load(run_dir / "config.json")
    # no --dataset/--algorithm/--preset: the embedded default, with the given fields overridden
    assert (config.dataset, config.algorithm, config.preset, config.width) == \
        (cli.DEFAULT_RUN["dataset"], "wgan-gp", "toy", 8)


def test_resume_continues_the_run(run_dir, capsys):
    # the embedded default decays its learning rates: extending it names the extension's schedule (issue 14)
    assert cli.main(["train", "--resume", str(run_dir), "--steps", "4", "--extend-lr", "linear", "--no-progress"]) == 0
    steps = [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]


def test_sample_eval_and_plot(run_dir, tmp_path, capsys):
    assert cli.main(["sample", str(run_dir), "-n", "10", "--out", str(tmp_path / "s.npy")]) == 0
    assert np.load(tmp_path / "s.npy").shape == (10, 2)
    assert cli.main(["sample", str(run_dir / "checkpoint.npz"), "-n", "10", "--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").stat().st_size > 0
    capsys.readouterr()
    assert cli.main(["eval", str(run_dir), "-n", "50"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert {"step", "w1", "modes", "hq_fraction"} <= set(metrics)
    assert cli.main(["plot", str(run_dir), "--out", str(tmp_path / "m.png")]) == 0
    assert (tmp_path / "m.png").stat().st_size > 0


def test_reproduce_lines(tmp_path, capsys):
    assert cli.main(["reproduce", "lines", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "lines.json").read_text())
    theta, w1, js = map(np.array, (result["theta"], result["w1_estimate"], result["js_estimate"]))
    np.testing.assert_allclose(w1, np.abs(theta), atol=0.05)
    np.testing.assert_allclose(js[theta != 0], np.log(2), rtol=1e-12)
    assert (tmp_path / "lines.png").stat().st_size > 0
    assert cli.main(["reproduce", "lines", "--quick", "--out", str(tmp_path / "quick")]) == 0
    assert (tmp_path / "quick" / "lines.png").stat().st_size > 0
    assert cli.main(["reproduce", "list"]) == 0
    assert "lines" in capsys.readouterr().out


def test_explicit_fields_start_from_the_paper_defaults(tmp_path):
    args = cli.build_parser().parse_args(["train", "--algorithm", "wgan-clip", "--out", str(tmp_path)])
    config = cli.config_from_args(args).resolve()
    assert (config.dataset, config.lr_d, config.optimizer, config.batch_size) == ("8gaussians", 5e-5, "rmsprop", 64)


@pytest.mark.parametrize("argv, message", [
    (["train", "--algorithm", "wgan"], "algorithm: 'wgan' is not one of"),
    (["train", "--steps", "0"], "steps: expected an int >= 1"),
    (["train", "--steps", "many"], "argument --steps: invalid int value"),
    (["train", "--lr-d", "-1"], "lr_d: expected a finite number > 0"),
    (["train", "--dataset", "points:/nonexistent/pts.npy"], "pts.npy"),
    (["train", "--dataset", "nosuchset"], "nosuchset"),
    (["train", "--resume", "/nonexistent/run"], "checkpoint.npz does not exist"),
    (["sample", "/nonexistent/run", "--out", "x.png"], "does not exist"),
    (["reproduce", "nosuch"], "unknown reproduction 'nosuch'"),
    (["train", "--resume", "somewhere", "--lr-d", "0.1"], "only --steps may be given with it, not --lr-d"),
])
def test_bad_arguments_give_argparse_errors(argv, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv + (["--out", str(tmp_path / "o")] if argv[0] == "train" and "--resume" not in argv else []))
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_python_dash_m_entry_point():
    out = subprocess.run([sys.executable, "-m", "wgan", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "train" in out.stdout and "reproduce" in out.stdout
