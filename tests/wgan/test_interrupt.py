"""Ctrl-C during training: no first SIGINT is lost, the final checkpoint is never cut short, the handler is
put back after the run, and the command line stops with rc 130 and a checkpoint."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wgan import TrainConfig, Trainer
from wgan.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parents[2]


def _small(out_dir, **kw):
    base = dict(dataset="8gaussians", algorithm="wgan-gp", preset="toy", width=8, depth=1, batch_size=16, steps=3,
                eval_every=0, checkpoint_every=100, out_dir=str(out_dir))
    base.update(kw)
    return TrainConfig(**base)


def test_ctrl_c_during_the_final_checkpoint_lets_it_finish(tmp_path, monkeypatch, capsys):
    trainer = Trainer(_small(tmp_path))
    write = trainer.save_checkpoint

    def interrupted_write(path=None):
        os.kill(os.getpid(), signal.SIGINT)  # arrives while the final checkpoint is being written
        return write(path)

    monkeypatch.setattr(trainer, "save_checkpoint", interrupted_write)
    with pytest.raises(KeyboardInterrupt, match="interrupted at step 3; checkpoint written"):
        trainer.fit()
    assert load_checkpoint(tmp_path).step == 3
    assert "Ctrl-C: stopping after the current step" in capsys.readouterr().err


def test_the_previous_handler_is_restored_even_when_python_did_not_set_it(tmp_path, monkeypatch):
    real_signal = signal.signal
    calls = []

    def signal_as_if_a_c_handler_was_installed(signum, handler):
        previous = real_signal(signum, handler)
        calls.append(handler)
        return None if len(calls) == 1 else previous  # what signal.signal returns for a non-Python handler

    monkeypatch.setattr(signal, "signal", signal_as_if_a_c_handler_was_installed)
    Trainer(_small(tmp_path)).fit()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # not the finished run's handler
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)


@pytest.mark.parametrize("delay", [0.0, 0.7])
def test_cli_stops_on_the_first_ctrl_c(tmp_path, delay):
    out = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "wgan", "train", "--steps", "100000", "--eval-every", "0",
                             "--width", "8", "--depth", "1", "--batch-size", "16", "--no-progress",
                             "--out", str(out)], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        assert line.startswith("run folder:"), line
        deadline = time.time() + 120
        while not (out / "metrics.jsonl").is_file() or not (out / "metrics.jsonl").read_text().count("\n"):
            assert time.time() < deadline and proc.poll() is None
            time.sleep(0.05)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)  # one Ctrl-C, once
        err = proc.stderr.read()
        rc = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert rc == 130, err
    assert "Ctrl-C: stopping after the current step" in err and "Traceback" not in err
    step = load_checkpoint(out).step
    assert 1 <= step < 100000 and f"interrupted at step {step}" in err
