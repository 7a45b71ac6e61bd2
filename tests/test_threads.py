"""minigrad.set_num_threads / get_num_threads: the BLAS thread pool, set and read back, and bad input."""
import numpy as np
import pytest

import minigrad


@pytest.fixture
def restore_one_thread():
    yield
    minigrad.set_num_threads(1)  # the suite runs with one BLAS thread (conftest)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_set_num_threads_sets_the_blas_pool(n, restore_one_thread):
    minigrad.set_num_threads(n)
    assert minigrad.get_num_threads() == n
    a = np.ones((64, 64), np.float32)
    np.testing.assert_array_equal(a @ a, np.full((64, 64), 64, np.float32))


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True, None])
def test_set_num_threads_rejects_what_is_not_a_positive_int(bad):
    with pytest.raises(ValueError, match="set_num_threads: expected a positive integer"):
        minigrad.set_num_threads(bad)
