"""Every op in the table (tests/ops/specs.py), on every device: forward value against the NumPy
reference, no mutation or aliasing, gradcheck and gradgradcheck (see tests/ops/harness.py)."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ops.harness import PROPERTY, check_op
from tests.ops.specs import ALL_SPECS, NN

CORE_SPECS = [s for s in ALL_SPECS if s not in NN]


@pytest.mark.parametrize("spec", CORE_SPECS, ids=repr)
@PROPERTY
@given(data=st.data())
def test_first_and_second_derivatives(spec, data, device):
    check_op(spec, data.draw(spec.cases, label="case"), device)


# conv, pool, norm and loss are costlier to check, and tests/functional draws 50 geometries of each already
@pytest.mark.parametrize("spec", NN, ids=repr)
@settings(PROPERTY, max_examples=min(PROPERTY.max_examples, 10))
@given(data=st.data())
def test_first_and_second_derivatives_of_layers_and_losses(spec, data, device):
    check_op(spec, data.draw(spec.cases, label="case"), device)
