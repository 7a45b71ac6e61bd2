"""gradcheck and gradgradcheck for every shape op in the table (tests/ops/specs.py), on every device."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.ops.harness import PROPERTY, check_op
from tests.ops.specs import SHAPE


@pytest.mark.parametrize("spec", SHAPE, ids=repr)
@PROPERTY
@given(data=st.data())
def test_first_and_second_derivatives(spec, data, device):
    check_op(spec, data.draw(spec.cases, label="case"), device)
