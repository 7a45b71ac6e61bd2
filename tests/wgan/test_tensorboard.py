"""`wgan train --tensorboard`: scalars and sample figures in RUN/tensorboard, read back from the event file."""
import json
import shutil
import struct
import types

import numpy as np
import pytest

pytest.importorskip("tensorboardX", reason="tensorboardX is not installed (the tensorboard extra)")
from tensorboardX.proto import event_pb2

from wgan import TrainConfig, Trainer, cli
from wgan.callbacks.tensorboard import TensorBoardLogger

TINY = ["--width", "8", "--depth", "1", "--batch-size", "16", "--eval-samples", "100", "--no-progress"]


def read_events(log_dir):
    """(tag, step, value or image bytes) of every summary in the TFRecord event files under log_dir, in file
    order, with TensorBoard's purge rule: a session START at step s drops what was read for steps >= s."""
    found = []
    for path in sorted(log_dir.glob("events.out.tfevents.*")):
        data = path.read_bytes()
        offset = 0
        while offset < len(data):
            length, = struct.unpack("<Q", data[offset:offset + 8])
            record = data[offset + 12:offset + 12 + length]  # 8 length bytes, 4 CRC bytes, the record, 4 CRC
            offset += 12 + length + 4
            event = event_pb2.Event.FromString(record)
            if event.HasField("session_log") and event.session_log.status == event_pb2.SessionLog.START:
                found = [item for item in found if item[1] < event.step]
            for value in event.summary.value:
                found.append((value.tag, event.step,
                              value.image.encoded_image_string if value.HasField("image") else value.simple_value))
    return found


def test_cli_tensorboard_writes_scalars_and_sample_images(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--steps", "4", "--eval-every", "2", "--tensorboard", "--out", str(out), *TINY]) == 0
    events = read_events(out / "tensorboard")
    scalars = {(tag, step): value for tag, step, value in events if not isinstance(value, bytes)}
    for step in (1, 2, 3, 4):
        assert {("train/w_estimate", step), ("train/penalty", step), ("train/g_loss", step)} <= set(scalars)
    assert {("eval/w1", 2), ("eval/w1", 4), ("eval/modes", 4)} <= set(scalars)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    for row in rows:
        assert scalars[("train/w_estimate", row["step"])] == pytest.approx(row["w_estimate"], rel=1e-6)
    assert scalars[("eval/w1", 4)] == pytest.approx(rows[-1]["w1"], rel=1e-6)
    images = [(step, value) for tag, step, value in events if tag == "samples"]
    assert [step for step, _ in images] == [2, 4] and all(value.startswith(b"\x89PNG") for _, value in images)


@pytest.mark.parametrize("same_second", [False, True])
def test_resume_purges_events_after_the_checkpoint(tmp_path, monkeypatch, same_second):
    if same_second:  # the event file name holds the second it was opened: a quick resume shares it
        from tensorboardX import event_file_writer
        monkeypatch.setattr(event_file_writer, "time", types.SimpleNamespace(time=lambda: 1_700_000_000.0))
    config = TrainConfig(dataset="ring", algorithm="wgan-gp", preset="toy", width=8, depth=1, batch_size=16, steps=4,
                         eval_every=0, eval_samples=100, checkpoint_every=100, out_dir=str(tmp_path))

    def keep_step_2(trainer, step, metrics):
        if step == 2:
            trainer.save_checkpoint(tmp_path / "step2.npz")

    Trainer(config, callbacks=[TensorBoardLogger(), keep_step_2]).fit()
    first = {step: v for tag, step, v in read_events(tmp_path / "tensorboard") if tag == "train/g_loss"}
    shutil.copy(tmp_path / "step2.npz", tmp_path / "checkpoint.npz")  # as if killed after the step-2 checkpoint
    Trainer.resume(tmp_path, callbacks=[TensorBoardLogger()]).fit()
    events = read_events(tmp_path / "tensorboard")
    steps = [step for tag, step, _ in events if tag == "train/g_loss"]
    assert steps == [1, 2, 3, 4] and len(list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))) == 2
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert {step: v for tag, step, v in events if tag == "train/g_loss"} == \
        pytest.approx({row["step"]: row["g_loss"] for row in rows}, rel=1e-6) == first  # bit-exact resume


def test_logger_needs_a_folder():
    logger = TensorBoardLogger()
    trainer = Trainer(TrainConfig(dataset="ring", width=8, depth=1, steps=1, eval_every=0))
    with pytest.raises(ValueError, match="no out_dir; give log_dir"):
        logger.on_fit_start(trainer)
    assert np.isfinite(trainer.sample(2)).all()
