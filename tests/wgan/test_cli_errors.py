"""Every user error of the command line ends in one line on stderr naming the file, field or device, with exit
status 2 and no traceback; an unexpected internal error keeps its traceback."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad
from wgan import cli

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--width", "8", "--depth", "1", "--batch-size", "16", "--eval-samples", "100", "--no-progress"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A tiny finished run and broken copies of its checkpoint."""
    root = tmp_path_factory.mktemp("errors")
    run = root / "run"
    assert cli.main(["train", "--steps", "2", "--eval-every", "2", "--out", str(run), *TINY]) == 0
    arrays = minigrad.load(run / "checkpoint.npz")
    weight = next(key for key in arrays if key.startswith("model:G:") and key.endswith("weight"))

    def broken(name, change):
        folder = root / name
        folder.mkdir()
        (folder / "config.json").write_text((run / "config.json").read_text())
        if isinstance(change, bytes):
            (folder / "checkpoint.npz").write_bytes(change)
        else:
            minigrad.save(change(dict(arrays)), folder / "checkpoint.npz")
        return folder

    broken("missing_key", lambda a: {k: v for k, v in a.items() if k != weight})
    broken("bad_shape", lambda a: dict(a, **{weight: np.zeros((3, 3), np.float32)}))
    broken("nan", lambda a: dict(a, **{weight: a[weight] * np.nan}))
    broken("random_bytes", bytes(range(256)) * 4)
    broken("no_meta", lambda a: {k: v for k, v in a.items() if k != "meta"})
    (root / "a_file").write_text("not a folder")
    (root / "bad.json").write_text("{not json")
    (root / "bad_field.json").write_text('{"stpes": 10}')
    (root / "bad_betas.json").write_text('{"betas": 5}')
    (root / "points.npy").write_bytes(b"garbage")
    return root


CASES = [
    (["train", "--steps", "0"], "steps: expected an int >= 1"),
    (["train", "--steps", "many"], "argument --steps: invalid int value"),
    (["train", "--algorithm", "wgan"], "algorithm: 'wgan' is not one of"),
    (["train", "--device", "tpu"], "device"),
    (["train", "--dataset", "nosuchset"], "nosuchset"),
    (["train", "--dataset", "points:{root}/points.npy"], "points.npy"),
    (["train", "--dataset", "mnist:{root}/nowhere"], "nowhere"),
    (["train", "--config", "{root}/nowhere.json"], "nowhere.json"),
    (["train", "--config", "{root}/bad.json"], "config JSON is malformed"),
    (["train", "--config", "{root}/bad_field.json"], "unknown config fields ['stpes']"),
    (["train", "--config", "{root}/bad_betas.json"], "betas"),
    (["train", "--out", "{root}/a_file/run"], "a_file is a file, not a folder"),
    (["train", "--out", "/proc/cannot/create"], "--out: cannot create the folder /proc/cannot/create"),
    (["train", "--threads", "0"], "--threads"),
    (["train", "--resume", "{root}/nowhere"], "checkpoint.npz does not exist"),
    (["train", "--resume", "{root}/missing_key"], "model G does not fit this run's MLPGenerator: Missing key(s)"),
    (["train", "--resume", "{root}/bad_shape"], "size mismatch for net.0.weight"),
    (["train", "--resume", "{root}/random_bytes"], "not an .npz archive at all"),
    (["train", "--resume", "{root}/no_meta"], "no JSON 'meta' entry"),
    (["train", "--resume", "{root}/nan"], "model G's net.0.weight holds"),
    (["sample", "{root}/nan", "--out", "{root}/s.npy"], "model G's net.0.weight holds 16 NaN or infinite values"),
    (["eval", "{root}/nan"], "NaN or infinite values"),
    (["eval", "{root}/random_bytes/checkpoint.npz"], "random_bytes/checkpoint.npz"),
    (["sample", "{root}/run", "-n", "0", "--out", "{root}/s.npy"], "-n: expected a positive number"),
    (["sample", "{root}/run", "--out", "{root}/s.jpg"], "must end in .png or .npy"),
    (["sample", "{root}/run", "--out", "{root}/a_file/s.npy"], "a_file is a file, not a folder"),
    (["sample", "{root}/nowhere", "--out", "{root}/s.npy"], "does not exist"),
    (["eval", "{root}/run", "-n", "1"], "-n: expected at least 2"),
    (["plot", "{root}/nowhere"], "run folder {root}/nowhere does not exist"),
    (["plot", "{root}/run", "--keys", "nope"], "--keys: ['nope'] not in the run's metrics"),
    (["plot", "{root}/run", "--animate", "--out", "{root}/x.png"], "must end in .gif"),
    (["plot", "{root}/random_bytes", "--animate"], "has no evaluation snapshots"),
    (["plot", "{root}/run", "--animate", "--fps", "0"], "fps must lie in (0, 50]"),
    (["reproduce", "nosuch"], "unknown reproduction 'nosuch'"),
    (["reproduce", "lines", "--out", "{root}/a_file/x"], "a_file is a file, not a folder"),
    (["nosuchcommand"], "invalid choice: 'nosuchcommand'"),
    ([], "the following arguments are required: COMMAND"),
]


@pytest.mark.parametrize("argv, message", CASES, ids=[" ".join(a)[:60] or "(none)" for a, _ in CASES])
def test_user_errors_are_one_line_with_status_2(files, argv, message, capsys):
    argv = [a.format(root=files) for a in argv]
    if argv and argv[0] == "train" and "--resume" not in argv:
        argv += ["--no-progress"] + ([] if "--out" in argv else ["--out", str(files / "out")])
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("wgan") and ": error: " in lines[0]
    assert message.format(root=files) in lines[0]


def test_cuda_without_a_gpu_is_a_one_line_error(no_cuda, tmp_path, capsys):
    for argv in (["train", "--device", "cuda"], ["train", "--config", str(tmp_path / "cuda.json")]):
        (tmp_path / "cuda.json").write_text('{"device": "cuda", "steps": 1}')
        with pytest.raises(SystemExit) as exc:
            cli.main(argv + ["--out", str(tmp_path / "r"), "--no-progress"])
        err = capsys.readouterr().err
        assert exc.value.code == 2 and err.count("\n") == 1 and "device 'cuda' is not available" in err, err


def test_cuda_without_a_gpu_is_a_one_line_error_in_a_real_process(tmp_path):
    probe = subprocess.run([sys.executable, "-c", "import minigrad; print(minigrad.cuda_is_available())"],
                           capture_output=True, text=True, cwd=ROOT, timeout=120)
    if probe.stdout.strip() != "False":
        pytest.skip("this machine has a GPU")
    out = subprocess.run([sys.executable, "-m", "wgan", "train", "--device", "cuda", "--out", str(tmp_path / "r")],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert out.stderr.startswith("wgan train: error: --device cuda: device 'cuda' is not available")
    assert "pip install" in out.stderr


def test_internal_errors_keep_their_traceback(files, monkeypatch):
    from wgan.train import Trainer

    def broken_fit(self, steps=None):
        raise RuntimeError("an internal bug")

    monkeypatch.setattr(Trainer, "fit", broken_fit)
    with pytest.raises(RuntimeError, match="an internal bug"):
        cli.main(["train", "--steps", "1", "--out", str(files / "internal"), *TINY])


def test_a_run_ends_with_a_human_summary(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--steps", "2", "--eval-every", "2", "--out", str(out), *TINY]) == 0
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert lines[-4].startswith("done: wgan-gp on ring, step 2/2 in ")
    assert lines[-3].startswith("  final: exact W1 ") and "modes " in lines[-3] and "/8" in lines[-3] \
        and "critic's W estimate" in lines[-3]
    assert lines[-2] == f"  run folder {out}: samples_000002.png, metrics.png, checkpoint.npz, metrics.csv, config.json"
    assert lines[-1] == f"  next: wgan plot {out} --animate   |   wgan train --resume {out} --steps N " \
                        "--extend-lr constant|linear"  # the embedded default's learning rates decay
    assert captured.out.startswith('{"step": 2')  # the machine-readable last row stays on stdout
