"""Every op in ``minigrad.ops.__all__`` has a row in the op table (tests/ops/specs.py), or says here why not."""
import numpy as np
import pytest

import minigrad
import minigrad.ops
from tests.conftest import DEVICES
from tests.ops.specs import ALL_SPECS

NO_ROW = {  # op -> why the table (gradcheck to second order, the NumPy and PyTorch oracles) has no row for it
    "eq": "a comparison: a boolean result with no gradient (tests/test_tensor.py checks all six)",
    "ne": "a comparison: a boolean result with no gradient (tests/test_tensor.py checks all six)",
    "lt": "a comparison: a boolean result with no gradient (tests/test_tensor.py checks all six)",
    "le": "a comparison: a boolean result with no gradient (tests/test_tensor.py checks all six)",
    "gt": "a comparison: a boolean result with no gradient (tests/test_tensor.py checks all six)",
    "ge": "a comparison: a boolean result with no gradient (tests/test_tensor.py checks all six)",
    "copy_to_device": "moves between two devices, which a table case on one device cannot do (tested below)",
}


def _has_row(op: str) -> bool:
    return any(spec.name == op or spec.name.startswith(op + "_") for spec in ALL_SPECS)


def test_every_op_has_a_row_in_the_table_or_a_reason():
    missing = [op for op in minigrad.ops.__all__ if op not in NO_ROW and not _has_row(op)]
    assert not missing, f"ops without a row in tests/ops/specs.py: {missing} (add a row, or a reason to NO_ROW)"
    assert set(NO_ROW) <= set(minigrad.ops.__all__), "NO_ROW names an op that no longer exists"
    assert not [op for op in NO_ROW if _has_row(op)], "an op in NO_ROW has a row now: drop it from NO_ROW"


@pytest.mark.parametrize("device", DEVICES)
def test_copy_to_device_moves_values_and_brings_the_gradient_back(device):
    x = minigrad.tensor([1.0, -2.0, 3.0], dtype=np.float64, requires_grad=True)
    y = minigrad.copy_to_device(x, device)
    assert y.device == device
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    gx, = minigrad.grad((y * y).sum(), x)
    assert gx.device == "cpu"
    np.testing.assert_array_equal(gx.numpy(), 2 * x.numpy())
