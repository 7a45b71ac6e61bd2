"""`wgan train --threads N` sets minigrad's BLAS threads; a bad N is a one-line argparse error."""
import pytest

import minigrad
from wgan import cli

TINY = ["--width", "8", "--depth", "1", "--batch-size", "16", "--eval-every", "0", "--no-progress"]


def test_threads_option_sets_the_blas_pool(tmp_path):
    try:
        assert cli.main(["train", "--steps", "2", "--threads", "2", "--out", str(tmp_path / "run"), *TINY]) == 0
        assert minigrad.get_num_threads() == 2
    finally:
        minigrad.set_num_threads(1)


@pytest.mark.parametrize("value, message", [("0", "--threads: expected a positive number of threads, got 0"),
                                            ("two", "argument --threads: invalid int value")])
def test_bad_threads_is_an_argparse_error(value, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["train", "--threads", value, "--out", str(tmp_path / "run"), *TINY])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
