"""Shared test configuration: hypothesis profiles, devices, the PyTorch oracle."""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from threadpoolctl import threadpool_limits

import minigrad

# The tests multiply tiny matrices: one BLAS thread is faster for them and immune to the stalls
# OpenBLAS's spinning threads suffer when other processes share the cores.
threadpool_limits(1, user_api="blas")

settings.register_profile("ci", max_examples=50, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)]


def pytest_collection_modifyitems(config, items):
    if not minigrad.cuda_is_available():
        skip = pytest.mark.skip(reason="no CUDA GPU with CuPy on this machine")
        for item in items:
            if "cuda" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(params=DEVICES)
def device(request):
    """Run a test on the CPU, and again on CUDA when a GPU is present."""
    return request.param


@pytest.fixture(autouse=True)
def _seed():
    minigrad.manual_seed(0)
    np.random.seed(0)
