"""Checkpoints: pickle-free .npz, atomic writes, optimizer state round trips, clear errors."""
import json
import zipfile

import numpy as np
import pytest

import minigrad
from minigrad import nn, optim
from wgan import checkpoint
from wgan.checkpoint import flatten_optimizer_state, load_checkpoint, save_checkpoint, unflatten_optimizer_state


def _trained(opt_cls, **kw):
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    opt = opt_cls(net.parameters(), **kw)
    for _ in range(3):
        loss = minigrad.mean(net(minigrad.randn(5, 3)) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net, opt


@pytest.mark.parametrize("opt_cls, kw", [(optim.Adam, dict(lr=1e-2, betas=(0.5, 0.9))),
                                         (optim.RMSprop, dict(lr=1e-2, alpha=0.9, eps=1e-10)),
                                         (optim.SGD, dict(lr=1e-2, momentum=0.9))])
def test_optimizer_state_round_trips_through_named_arrays_and_json(opt_cls, kw):
    _, opt = _trained(opt_cls, **kw)
    state = opt.state_dict()
    arrays, rest = flatten_optimizer_state(state, "D")
    assert all(isinstance(a, np.ndarray) and a.ndim > 0 for a in arrays.values())
    back = unflatten_optimizer_state(arrays, json.loads(json.dumps(rest)), "D")
    assert back["param_groups"] == state["param_groups"]
    assert back["state"].keys() == state["state"].keys()
    for i, entries in state["state"].items():
        for key, value in entries.items():
            np.testing.assert_array_equal(np.asarray(back["state"][i][key]), np.asarray(value))


def test_save_and_load_restore_models_optimizers_and_meta(tmp_path):
    net, opt = _trained(optim.Adam, lr=1e-2)
    path = save_checkpoint(tmp_path / "ck.npz", {"D": net}, {"D": opt}, {"step": 3, "rng": {"x": 2 ** 100}})
    with np.load(path, allow_pickle=False) as archive:  # readable without pickle
        assert "meta" in archive.files and "model:D:0.weight" in archive.files
    ck = load_checkpoint(path)
    assert ck.step == 3 and ck.meta["rng"] == {"x": 2 ** 100}
    net2, opt2 = _trained(optim.Adam, lr=1e-2)
    net2.load_state_dict(ck.models["D"])
    opt2.load_state_dict(ck.optimizers["D"])
    for a, b in zip(net.parameters(), net2.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # both optimizers take the same next step
    x = minigrad.randn(5, 3)
    for n, o in ((net, opt), (net2, opt2)):
        loss = minigrad.mean(n(x) ** 2)
        o.zero_grad()
        loss.backward()
        o.step()
    for a, b in zip(net.parameters(), net2.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_writes_are_atomic(tmp_path, monkeypatch):
    net, opt = _trained(optim.SGD, lr=0.1)
    path = save_checkpoint(tmp_path / "ck.npz", {"G": net}, {"G": opt}, {"step": 1})
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint.np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"G": net}, {"G": opt}, {"step": 2})
    assert path.read_bytes() == before  # the old checkpoint is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.npz"]  # no temporary file left behind


def test_bad_checkpoints_give_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.npz does not exist"):
        load_checkpoint(tmp_path / "nothing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="junk.npz' is not a valid minigrad checkpoint"):
        load_checkpoint(tmp_path / "junk.npz")
    np.savez(tmp_path / "plain.npz", x=np.zeros(2))
    with pytest.raises(ValueError, match="not a wgan checkpoint"):
        load_checkpoint(tmp_path / "plain.npz")
    with zipfile.ZipFile(tmp_path / "plain.npz") as z:
        assert z.namelist() == ["x.npy"]


def test_run_folder_files_round_trip(tmp_path):
    import numpy as np

    from wgan import TrainConfig, run_folder

    config = TrainConfig(algorithm="sngan").resolve()
    run_folder.write_config(tmp_path, config)
    assert TrainConfig.load(tmp_path / run_folder.CONFIG_NAME) == config
    rows = [{"step": 1, "w": np.float32(0.5), "counts": np.arange(3)}, {"step": 2, "w": 0.25, "extra": "x"}]
    run_folder.write_metrics(tmp_path, rows[:1])
    run_folder.append_metrics_row(tmp_path, rows[1])
    assert run_folder.read_metrics(tmp_path) == [{"step": 1, "w": 0.5, "counts": [0, 1, 2]},
                                                 {"step": 2, "w": 0.25, "extra": "x"}]
    run_folder.write_metrics(tmp_path, rows)
    assert (tmp_path / run_folder.METRICS_CSV).read_text().splitlines()[0] == "step,w,extra"
    assert run_folder.read_metrics(tmp_path / "nothing") == []
    assert run_folder.samples_figure(tmp_path, 12).name == "samples_000012.png"
