"""minigrad.save / minigrad.load: atomic .npz round trips, no pickles, clear errors."""
import os

import numpy as np
import pytest

import minigrad
from minigrad import nn


def _model():
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def test_state_dict_round_trip_through_file(tmp_path):
    src = _model()
    path = tmp_path / "model.npz"
    minigrad.save(src.state_dict(), path)
    loaded = minigrad.load(path)
    assert list(loaded) == list(src.state_dict())
    assert all(isinstance(v, np.ndarray) for v in loaded.values())
    dst = _model()
    dst.load_state_dict(loaded)
    x = minigrad.randn(5, 3)
    np.testing.assert_array_equal(src(x).numpy(), dst(x).numpy())


def test_mixed_values_keep_dtypes_and_path_is_exact(tmp_path):
    path = tmp_path / "state.ckpt"  # no suffix is appended
    state = {"t": minigrad.arange(3), "a": np.ones((2, 2), np.float64), "step": 5, "flag": np.bool_(True)}
    minigrad.save(state, str(path))
    assert os.listdir(tmp_path) == ["state.ckpt"]
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600
    out = minigrad.load(path)
    assert out["t"].dtype == np.int64 and out["a"].dtype == np.float64 and out["step"] == 5 and out["flag"]


def test_save_replaces_atomically_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "m.npz"
    minigrad.save({"w": np.zeros(2)}, path)
    minigrad.save({"w": np.ones(3)}, path)
    np.testing.assert_array_equal(minigrad.load(path)["w"], np.ones(3))
    with pytest.raises(TypeError, match="bad"):
        minigrad.save({"w": np.full(2, 7.0), "bad": object()}, path)
    with pytest.raises(TypeError, match="dtype"):
        minigrad.save({"s": np.array(["text"])}, path)
    np.testing.assert_array_equal(minigrad.load(path)["w"], np.ones(3))  # the old file is intact
    assert os.listdir(tmp_path) == ["m.npz"]


class _Exploit:
    """Pickles into a call that creates a marker directory when unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def test_load_refuses_object_arrays_without_running_code(tmp_path):
    marker = str(tmp_path / "pwned")
    path = tmp_path / "evil.npz"
    payload = np.empty(1, dtype=object)
    payload[0] = _Exploit(marker)
    np.savez(path, w=np.zeros(2), evil=payload)
    with pytest.raises(ValueError, match="evil.npz"):
        minigrad.load(path)
    assert not os.path.exists(marker)


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        minigrad.load(tmp_path / "missing.npz")
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04 definitely not a zip archive")
    with pytest.raises(ValueError, match="corrupt.npz"):
        minigrad.load(corrupt)
    single = tmp_path / "single.npy"
    np.save(single, np.zeros(3))
    with pytest.raises(ValueError, match="single.npy"):
        minigrad.load(single)


def test_load_says_what_the_file_is_instead(tmp_path):
    cases = {"random.npz": (os.urandom(64), "not an .npz archive at all"),
             "empty.npz": (b"", "not an .npz archive at all \\(it is empty\\)"),
             "text.npz": (b"hello world", "starts with b'hello wo'")}
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(b"\x00" + data if name == "random.npz" else data)
        with pytest.raises(ValueError, match=f"{name}.*{message}"):
            minigrad.load(tmp_path / name)
    payload = np.empty(1, dtype=object)
    payload[0] = 1
    np.savez(tmp_path / "objects.npz", w=np.zeros(2), objs=payload)
    with pytest.raises(ValueError, match="entry 'objs' holds pickled Python objects"):
        minigrad.load(tmp_path / "objects.npz")
    np.savez(tmp_path / "whole.npz", w=np.zeros(1000))
    data = (tmp_path / "whole.npz").read_bytes()
    (tmp_path / "truncated.npz").write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match="truncated.npz.*damaged or truncated zip"):
        minigrad.load(tmp_path / "truncated.npz")


def test_save_removes_temporaries_left_by_a_killed_write(tmp_path):
    path = tmp_path / "ck.npz"
    for stale in ("ck.npz.abc123.tmp", "ck.npz.x_9.tmp"):
        (tmp_path / stale).write_bytes(b"half a checkpoint")
    (tmp_path / "other.npz.abc.tmp").write_bytes(b"someone else's")
    (tmp_path / "ck.npz.tmp").write_bytes(b"not save's pattern")
    minigrad.save({"w": np.ones(2)}, path)
    assert sorted(os.listdir(tmp_path)) == ["ck.npz", "ck.npz.tmp", "other.npz.abc.tmp"]
    (tmp_path / "ck.npz.def.tmp").write_bytes(b"")
    assert minigrad.serialization.remove_stale_temporaries(path) == [str(tmp_path / "ck.npz.def.tmp")]
