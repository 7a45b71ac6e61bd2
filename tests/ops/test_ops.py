"""Every op in the table (tests/ops/specs.py), on every device: forward value against the NumPy
reference, no mutation or aliasing, gradcheck and gradgradcheck (see tests/ops/harness.py)."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.ops.harness import PROPERTY, check_op
from tests.ops.specs import ALL_SPECS


@pytest.mark.parametrize("spec", ALL_SPECS, ids=repr)
@PROPERTY
@given(data=st.data())
def test_first_and_second_derivatives(spec, data, device):
    check_op(spec, data.draw(spec.cases, label="case"), device)
