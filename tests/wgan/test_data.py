"""wgan.data: the toy sets as gan_toy.py and VEEGAN/PacGAN build them, the loaders, and their errors."""
import gzip
import struct

import numpy as np
import pytest
from PIL import Image

from wgan.data import DATASET_NAMES, Dataset, from_array, from_sampler, make_dataset, read_idx

TOY = ["8gaussians", "25gaussians", "swissroll", "ring", "grid"]


def rng(seed=0):
    return np.random.default_rng(seed)


def nearest(points, centers):
    d = np.linalg.norm(points[:, None] - centers[None], axis=-1)
    return d.argmin(1), d.min(1)


# ------------------------------------------------------------------------------------------------ toy sets
@pytest.mark.parametrize("spec", TOY)
def test_toy_shapes_dtypes_and_determinism(spec):
    a, b = make_dataset(spec), make_dataset(spec)
    assert isinstance(a, Dataset) and a.kind == "2d" and a.sample_shape == (2,)
    x, y = a.sample(300, rng(7)), b.sample(300, rng(7))
    assert x.shape == (300, 2) and x.dtype == np.float32
    np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.sample(300, rng(8)), make_dataset(spec).sample(300, rng(9)))
    assert a.sample(0, rng()).shape == (0, 2)


def test_8gaussians_as_gan_toy():
    d = make_dataset("8gaussians")
    r = np.sqrt(0.5)
    raw = 2 * np.array([(1, 0), (-1, 0), (0, 1), (0, -1), (r, r), (r, -r), (-r, r), (-r, -r)])
    np.testing.assert_allclose(d.centers, raw / 1.414)
    np.testing.assert_allclose(np.linalg.norm(d.centers, axis=1), 2 / 1.414)  # radius ≈ 1.4144
    assert d.sigma == pytest.approx(0.02 / 1.414)
    x = d.sample(40000, rng())
    k, dist = nearest(x, d.centers)
    residual = x - d.centers[k]
    np.testing.assert_allclose(residual.std(0), d.sigma, rtol=0.03)
    np.testing.assert_allclose(residual.mean(0), 0, atol=5e-4)
    assert dist.max() < 6 * d.sigma
    np.testing.assert_allclose(np.bincount(k, minlength=8) / len(x), 1 / 8, atol=0.01)


def test_25gaussians_fixed_set_as_gan_toy():
    d = make_dataset("25gaussians")
    grid = np.array([(x, y) for x in range(-4, 5, 2) for y in range(-4, 5, 2)]) / 2.828
    np.testing.assert_allclose(np.sort(d.centers, axis=0), np.sort(grid, axis=0))
    assert d.sigma == pytest.approx(0.05 / 2.828)
    assert d.data.shape == (100000, 2) and d.data.dtype == np.float32
    k, _ = nearest(d.data, d.centers)
    assert (np.bincount(k, minlength=25) == 4000).all()  # exactly 4000 per mode
    np.testing.assert_allclose((d.data - d.centers[k]).std(0), d.sigma, rtol=0.02)
    # shuffled once: unshuffled, the rows would cycle through the modes in generation order 0, 1, ..., 24
    assert not (k[:25] == np.arange(25)).all()
    np.testing.assert_array_equal(d.data, make_dataset("25gaussians").data)
    assert not np.array_equal(d.data, make_dataset("25gaussians", seed=1).data)


def test_25gaussians_iterates_in_order_and_wraps_like_gan_toy():
    d = make_dataset("25gaussians")
    n = 30000  # 3 full batches, remainder 10000 dropped
    batches = [d.sample(n, rng()) for _ in range(4)]
    for i in range(3):
        np.testing.assert_array_equal(batches[i], d.data[i * n:(i + 1) * n])
    np.testing.assert_array_equal(batches[3], d.data[:n])  # a new pass starts at row 0, no reshuffle
    state = d.state_dict()
    nxt = d.sample(n, rng())
    fresh = make_dataset("25gaussians")
    fresh.load_state_dict(state)
    np.testing.assert_array_equal(fresh.sample(n, rng()), nxt)
    before = d.state_dict()
    d.reference_sample(2500, rng())  # evaluation never moves the training cursor
    assert d.state_dict() == before
    with pytest.raises(ValueError, match="exceeds"):
        d.sample(100001, rng())


def test_25gaussians_random_order_option():
    d = make_dataset("25gaussians", order="random")
    x = d.sample(1000, rng())
    assert d.state_dict() == {}
    assert np.isin(x.view(np.int64), d.data.view(np.int64)).all()
    with pytest.raises(ValueError, match="order"):
        make_dataset("25gaussians", order="bogus")


def test_swissroll_as_gan_toy():
    from sklearn.datasets import make_swiss_roll

    x = make_dataset("swissroll").sample(256, rng(3))
    seed = int(rng(3).integers(2**31 - 1))
    expected = make_swiss_roll(n_samples=256, noise=0.25, random_state=seed)[0].astype(np.float32)[:, [0, 2]] / 7.5
    np.testing.assert_array_equal(x, expected)
    assert make_dataset("swissroll").centers is None


def test_ring_and_grid_as_veegan_pacgan():
    ring = make_dataset("ring")
    assert ring.centers.shape == (8, 2) and ring.sigma == 0.01
    np.testing.assert_allclose(np.linalg.norm(ring.centers, axis=1), 1.0)
    assert len(np.unique(np.round(ring.centers, 6), axis=0)) == 8  # endpoint=False: 8 distinct modes
    np.testing.assert_allclose(ring.centers[1], [np.sqrt(0.5), np.sqrt(0.5)])
    grid = make_dataset("grid")
    assert grid.sigma == 0.05
    assert {tuple(c) for c in grid.centers} == {(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)}
    x = grid.sample(20000, rng())
    k, _ = nearest(x, grid.centers)
    np.testing.assert_allclose((x - grid.centers[k]).std(0), 0.05, rtol=0.03)


def test_unknown_name_and_bad_options():
    with pytest.raises(ValueError, match="unknown dataset 'nope'.*8gaussians.*ring.*digits.*mnist:PATH"):
        make_dataset("nope")
    with pytest.raises(ValueError, match="unknown options \\['size'\\]"):
        make_dataset("ring", size=3)
    with pytest.raises(ValueError, match="needs a path"):
        make_dataset("points:")
    with pytest.raises(ValueError, match="non-negative integer"):
        make_dataset("ring").sample(-1, rng())
    assert "grid" in DATASET_NAMES


# ------------------------------------------------------------------------------------------------ points
def test_points_npy_and_csv(tmp_path):
    pts = rng().standard_normal((50, 2))
    np.save(tmp_path / "p.npy", pts)
    np.savetxt(tmp_path / "p.csv", pts, delimiter=",", header="x,y", comments="")
    for name in ("p.npy", "p.csv"):
        d = make_dataset(f"points:{tmp_path / name}")
        assert d.kind == "2d" and d.data.shape == (50, 2) and d.data.dtype == np.float32
        np.testing.assert_allclose(d.data, pts, rtol=1e-6)
        x = d.sample(500, rng())  # with replacement
        assert x.shape == (500, 2)
        assert np.isin(x[:, 0], d.data[:, 0]).all()


def test_points_errors_name_the_file(tmp_path):
    missing = tmp_path / "missing.npy"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        make_dataset(f"points:{missing}")
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("x,y\n1,2\n3,oops\n")
    with pytest.raises(ValueError, match=f"{bad_csv}.*line 3"):
        make_dataset(f"points:{bad_csv}")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("1,2\n3,4,5\n")
    with pytest.raises(ValueError, match=f"{ragged}.*3 columns"):
        make_dataset(f"points:{ragged}")
    wide = tmp_path / "wide.npy"
    np.save(wide, np.zeros((4, 3)))
    with pytest.raises(ValueError, match=f"{wide}.*shape \\(4, 3\\).*expected \\(N, 2\\)"):
        make_dataset(f"points:{wide}")
    corrupt = tmp_path / "corrupt.npy"
    corrupt.write_bytes(b"not numpy")
    with pytest.raises(ValueError, match=str(corrupt)):
        make_dataset(f"points:{corrupt}")
    nan = tmp_path / "nan.npy"
    np.save(nan, np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match=f"{nan}.*NaN"):
        make_dataset(f"points:{nan}")
    other = tmp_path / "p.json"
    other.write_text("[]")
    with pytest.raises(ValueError, match=f"{other}.*extension"):
        make_dataset(f"points:{other}")


# ------------------------------------------------------------------------------------------------ images
def test_digits():
    d = make_dataset("digits")
    assert d.kind == "image" and d.sample_shape == (1, 8, 8)
    assert d.data.shape == (1797, 1, 8, 8) and d.data.dtype == np.float32
    assert d.data.min() == -1 and d.data.max() == 1
    x = d.sample(64, rng())
    assert x.shape == (64, 1, 8, 8)
    np.testing.assert_array_equal(x, make_dataset("digits").sample(64, rng()))
    for size in (16, 28, 32):
        big = make_dataset("digits", size=size)
        assert big.sample_shape == (1, size, size) and -1 <= big.data.min() and big.data.max() <= 1
    with pytest.raises(ValueError, match="size"):
        make_dataset("digits", size=0)


def _idx_bytes(arr: np.ndarray, code: int = 0x08) -> bytes:
    return bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


@pytest.fixture
def mnist_images():
    return rng().integers(0, 256, size=(5, 28, 28), dtype=np.uint8)


def test_mnist_raw_and_gzip(tmp_path, mnist_images):
    raw_dir, gz_dir = tmp_path / "raw", tmp_path / "gz"
    raw_dir.mkdir(), gz_dir.mkdir()
    (raw_dir / "train-images-idx3-ubyte").write_bytes(_idx_bytes(mnist_images))
    (gz_dir / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx_bytes(mnist_images)))
    expected = mnist_images[:, None].astype(np.float32) / 127.5 - 1
    for d in (make_dataset(f"mnist:{raw_dir}"), make_dataset(f"mnist:{gz_dir}", split="test"),
              make_dataset(f"mnist:{gz_dir / 't10k-images-idx3-ubyte.gz'}")):
        assert d.sample_shape == (1, 28, 28)
        np.testing.assert_allclose(d.data, expected, atol=1e-6)
    assert make_dataset(f"mnist:{raw_dir}", size=32).sample_shape == (1, 32, 32)
    np.testing.assert_array_equal(read_idx(raw_dir / "train-images-idx3-ubyte"), mnist_images)


def test_mnist_errors_name_the_file(tmp_path, mnist_images):
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "none")):
        make_dataset(f"mnist:{tmp_path / 'none'}")
    with pytest.raises(FileNotFoundError, match=f"{tmp_path}.*train-images-idx3-ubyte"):
        make_dataset(f"mnist:{tmp_path}")
    bad = tmp_path / "bad-idx"
    bad.write_bytes(b"\x12\x34\x56\x78rest")
    with pytest.raises(ValueError, match=f"{bad}.*magic"):
        make_dataset(f"mnist:{bad}")
    short = tmp_path / "short-idx"
    short.write_bytes(_idx_bytes(mnist_images)[:-10])
    with pytest.raises(ValueError, match=f"{short}.*data bytes"):
        make_dataset(f"mnist:{short}")
    labels = tmp_path / "train-labels-idx1-ubyte"
    labels.write_bytes(_idx_bytes(np.arange(5, dtype=np.uint8)))
    with pytest.raises(ValueError, match=f"{labels}.*labels file"):
        make_dataset(f"mnist:{labels}")
    broken_gz = tmp_path / "x.gz"
    broken_gz.write_bytes(b"\x1f\x8bgarbage")
    with pytest.raises(ValueError, match=f"{broken_gz}.*gzip"):
        make_dataset(f"mnist:{broken_gz}")


def test_folder_of_pngs(tmp_path):
    pixels = rng().integers(0, 256, size=(3, 6, 6), dtype=np.uint8)
    (tmp_path / "sub").mkdir()
    for i, p in enumerate(pixels):
        Image.fromarray(p, mode="L").save(tmp_path / ("sub" if i == 2 else ".") / f"im{i}.png")
    (tmp_path / "notes.txt").write_text("ignored")
    d = make_dataset(f"folder:{tmp_path}")
    assert d.sample_shape == (1, 6, 6) and len(d.data) == 3
    np.testing.assert_allclose(d.data[:, 0], pixels.astype(np.float32) / 127.5 - 1, atol=1e-6)
    assert make_dataset(f"folder:{tmp_path}", channels=3).sample_shape == (3, 6, 6)
    assert make_dataset(f"folder:{tmp_path}", size=4).sample_shape == (1, 4, 4)

    rgb = tmp_path / "rgb"
    rgb.mkdir()
    Image.fromarray(rng().integers(0, 256, (5, 5, 3), dtype=np.uint8)).save(rgb / "a.png")
    Image.fromarray(rng().integers(0, 256, (5, 5, 3), dtype=np.uint8)).save(rgb / "b.jpg")
    assert make_dataset(f"folder:{rgb}").sample_shape == (3, 5, 5)
    assert make_dataset(f"folder:{rgb}", channels=1).sample_shape == (1, 5, 5)


def test_folder_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "none")):
        make_dataset(f"folder:{tmp_path / 'none'}")
    with pytest.raises(ValueError, match=f"{tmp_path}.*no images"):
        make_dataset(f"folder:{tmp_path}")
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(tmp_path / "b.png")
    with pytest.raises(ValueError, match=f"{tmp_path / 'b.png'} is 5x5.*size="):
        make_dataset(f"folder:{tmp_path}")
    assert make_dataset(f"folder:{tmp_path}", size=4).sample_shape == (1, 4, 4)
    (tmp_path / "c.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=f"{tmp_path / 'c.png'} is not a readable image"):
        make_dataset(f"folder:{tmp_path}", size=4)
    with pytest.raises(ValueError, match="channels"):
        make_dataset(f"folder:{tmp_path}", channels=2)


def test_npz_layouts(tmp_path):
    u8 = rng().integers(0, 256, size=(4, 7, 7, 3), dtype=np.uint8)
    np.savez(tmp_path / "nhwc.npz", images=u8, labels=np.arange(4))
    d = make_dataset(f"npz:{tmp_path / 'nhwc.npz'}")
    assert d.sample_shape == (3, 7, 7)
    np.testing.assert_allclose(d.data, u8.transpose(0, 3, 1, 2) / 127.5 - 1, atol=1e-6)
    unit = rng().random((4, 1, 6, 6)).astype(np.float32)
    np.savez(tmp_path / "nchw.npz", x=unit)  # the only array, floats in [0, 1]
    np.testing.assert_allclose(make_dataset(f"npz:{tmp_path / 'nchw.npz'}").data, unit * 2 - 1, atol=1e-6)
    sym = unit * 2 - 1
    np.savez(tmp_path / "nhw.npz", images=sym[:, 0])
    d = make_dataset(f"npz:{tmp_path / 'nhw.npz'}", size=12)
    assert d.sample_shape == (1, 12, 12)


def test_npz_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "none.npz")):
        make_dataset(f"npz:{tmp_path / 'none.npz'}")
    two = tmp_path / "two.npz"
    np.savez(two, a=np.zeros((2, 4, 4)), b=np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match=f"{two}.*'images' or a single array"):
        make_dataset(f"npz:{two}")
    flat = tmp_path / "flat.npz"
    np.savez(flat, images=np.zeros((3, 5)))
    with pytest.raises(ValueError, match=f"{flat}.*shape \\(3, 5\\)"):
        make_dataset(f"npz:{flat}")
    out_of_range = tmp_path / "range.npz"
    np.savez(out_of_range, images=np.full((2, 4, 4), 7.0))
    with pytest.raises(ValueError, match=f"{out_of_range}.*values in \\[7, 7\\]"):
        make_dataset(f"npz:{out_of_range}")
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ValueError, match=str(corrupt)):
        make_dataset(f"npz:{corrupt}")


# ------------------------------------------------------------------------------------------------ user data
def test_user_arrays_and_samplers():
    pts = rng().standard_normal((20, 2))
    d = make_dataset(pts)
    assert d.kind == "2d" and d.sample(5, rng()).dtype == np.float32
    imgs = from_array(rng().integers(0, 256, (6, 8, 8), dtype=np.uint8), name="mine")
    assert imgs.kind == "image" and imgs.sample_shape == (1, 8, 8) and imgs.name == "mine"

    def sampler(n, r):
        return r.standard_normal((n, 2)) + 5

    s = make_dataset(sampler, sample_shape=(2,), name="shifted")
    x = s.sample(1000, rng())
    assert x.dtype == np.float32 and abs(x.mean() - 5) < 0.1
    assert make_dataset(s) is s
    with pytest.raises(ValueError, match="sample_shape"):
        make_dataset(sampler)
    with pytest.raises(ValueError, match="sampler 'bad' returned shape \\(4, 2\\), expected \\(4, 1, 4, 4\\)"):
        from_sampler(sampler, (1, 4, 4), name="bad").sample(4, rng())
    with pytest.raises(ValueError, match="neither 2-D points"):
        from_sampler(sampler, (3,))
    with pytest.raises(ValueError, match="non-finite"):
        from_sampler(lambda n, r: np.full((n, 2), np.nan), (2,)).sample(3, rng())
    with pytest.raises(ValueError, match="\\(N, 2\\)"):
        from_array(np.zeros((0, 2)))


def test_one_registry_by_kind_is_what_the_cli_help_and_validation_read():
    from pathlib import Path

    from wgan import cli
    from wgan.data import DATASETS

    assert {entry.kind for entry in DATASETS.values()} == {"2d", "image"}  # one vocabulary: the metrics' kinds
    assert DATASET_NAMES == tuple(DATASETS)
    help_text = cli.build_parser().format_help() + next(
        a for a in cli.build_parser()._subparsers._group_actions[0].choices["train"]._actions
        if a.dest == "dataset").help
    for spec in DATASETS:
        assert spec in help_text
    source = Path(cli.__file__).read_text()
    assert "25gaussians" not in source and "npz:PATH" not in source  # the names live in the registry only
    with pytest.raises(ValueError, match="unknown dataset 'ring:x'"):  # a path given to a builtin
        make_dataset("ring:x")
