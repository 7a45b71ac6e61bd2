"""Device-clean code paths, counted on the CuPy stand-in: no host syncs or copies where none are needed."""
import numpy as np
import pytest

import minigrad
import minigrad.nn as nn
from minigrad.philox import Philox

pytestmark = pytest.mark.cuda


def test_spectral_norm_power_iteration_does_not_sync(standin):
    layer = nn.utils.spectral_norm(nn.Linear(6, 5)).to("cuda")
    x = minigrad.randn(4, 6, device="cuda")
    layer(x)
    with standin.record() as rec:
        y = layer(x)
        y.sum().backward()
    assert rec.syncs == [] and rec.copies == [], rec.summary()
    assert y.shape == (4, 5)


def test_spectral_norm_on_the_stand_in_matches_the_cpu():
    minigrad.manual_seed(3)
    cpu = nn.utils.spectral_norm(nn.Linear(6, 5))
    gpu = nn.utils.spectral_norm(nn.Linear(6, 5)).to("cuda")
    gpu.load_state_dict(cpu.state_dict())
    x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    for _ in range(3):
        out_cpu, out_gpu = cpu(minigrad.tensor(x)), gpu(minigrad.tensor(x, device="cuda"))
    np.testing.assert_allclose(out_gpu.numpy(), out_cpu.numpy(), rtol=1e-5, atol=1e-6)


def test_philox_draws_on_the_device_without_syncs_or_copies(standin):
    gen = Philox(5, device="cuda")
    gen.standard_normal((3, 4), np.float32)
    with standin.record() as rec:
        z = gen.standard_normal((64, 2), np.float32)
        u = gen.random((64, 1, 1, 1), np.float32)
    assert rec.syncs == [] and rec.copies == [], rec.summary()
    cpu = Philox(5)
    cpu.standard_normal((3, 4), np.float32)
    np.testing.assert_array_equal(z.get(), cpu.standard_normal((64, 2), np.float32))
    np.testing.assert_array_equal(u.get(), cpu.random((64, 1, 1, 1), np.float32))
