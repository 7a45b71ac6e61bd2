"""Cross-checks against PyTorch (skipped without torch): same weights in, same outputs and gradients out."""
import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.nn.utils import spectral_norm

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


def _copy_into_torch(ours: nn.Module, theirs) -> None:
    """Load our state dict into the torch module (keys must match exactly)."""
    state = {k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state, strict=True)


def _compare(ours: nn.Module, theirs, x: np.ndarray, rtol=1e-9, atol=1e-10) -> None:
    """Outputs, input gradients and parameter gradients of sum(out * g) agree (float64)."""
    xm = minigrad.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ym, yt = ours(xm), theirs(xt)
    np.testing.assert_allclose(ym.numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(1).standard_normal(ym.shape)
    (ym * minigrad.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=rtol, atol=atol)
    named_theirs = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), named_theirs[name].grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=name)


def test_mlp_matches_torch():
    ours = nn.Sequential(nn.Linear(5, 8), nn.LeakyReLU(0.2), nn.Linear(8, 6), nn.Tanh(), nn.Linear(6, 4),
                         nn.Softplus(beta=1.5), nn.Linear(4, 3), nn.Sigmoid(), nn.Unflatten(1, (3, 1)),
                         nn.Flatten(), nn.ReLU(), nn.Identity()).double()
    theirs = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.LeakyReLU(0.2), torch.nn.Linear(8, 6),
                                 torch.nn.Tanh(), torch.nn.Linear(6, 4), torch.nn.Softplus(beta=1.5),
                                 torch.nn.Linear(4, 3), torch.nn.Sigmoid(), torch.nn.Unflatten(1, (3, 1)),
                                 torch.nn.Flatten(), torch.nn.ReLU(), torch.nn.Identity()).double()
    _copy_into_torch(ours, theirs)
    _compare(ours, theirs, np.random.default_rng(0).standard_normal((7, 5)) * 3)


def test_torch_state_dict_loads_into_ours():
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    ours = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(minigrad.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_default_init_distribution_matches_torch():
    minigrad.manual_seed(0)  # seeded: the max-abs check on 200 bias values fails on about one draw in a hundred
    torch.manual_seed(0)
    ours, theirs = nn.Linear(300, 200), torch.nn.Linear(300, 200)
    for a, b in ((ours.weight, theirs.weight), (ours.bias, theirs.bias)):
        a, b = a.numpy(), b.detach().numpy()
        assert abs(np.abs(a).max() - np.abs(b).max()) < 0.02 * np.abs(b).max()
        assert abs(a.std() - b.std()) < 0.05 * b.std()


@pytest.mark.parametrize("iterations", [1, 3])
def test_spectral_norm_matches_torch_given_the_same_u_and_v(iterations):
    ours = spectral_norm(nn.Linear(6, 4, dtype=minigrad.float64), n_power_iterations=iterations)
    theirs = torch.nn.utils.spectral_norm(torch.nn.Linear(6, 4).double(), n_power_iterations=iterations)
    _copy_into_torch(ours, theirs)  # weight_orig, bias, and the initial u and v buffers
    x = np.random.default_rng(0).standard_normal((3, 6))
    for _ in range(2):  # training mode: both run the power iteration before each forward
        ours.zero_grad()
        theirs.zero_grad()
        _compare(ours, theirs, x)
        np.testing.assert_allclose(ours.weight_u.numpy(), theirs.weight_u.numpy(), rtol=1e-10)
        np.testing.assert_allclose(ours.weight_v.numpy(), theirs.weight_v.numpy(), rtol=1e-10)
        np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-10)
    ours.eval(), theirs.eval()
    ours.zero_grad()
    theirs.zero_grad()
    _compare(ours, theirs, x)


def test_conv_stack_matches_torch():
    ours = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.BatchNorm2d(4), nn.LeakyReLU(0.2),
                         nn.Conv2d(4, 4, 3, padding="same", dilation=2, groups=2), nn.LayerNorm((4, 4, 4)),
                         nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1, output_padding=1, groups=2),
                         nn.Flatten(), nn.BatchNorm1d(2 * 9 * 9), nn.Tanh()).double()
    theirs = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, stride=2, padding=1), torch.nn.BatchNorm2d(4),
                                 torch.nn.LeakyReLU(0.2),
                                 torch.nn.Conv2d(4, 4, 3, padding="same", dilation=2, groups=2),
                                 torch.nn.LayerNorm((4, 4, 4)),
                                 torch.nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1, output_padding=1, groups=2),
                                 torch.nn.Flatten(), torch.nn.BatchNorm1d(2 * 9 * 9), torch.nn.Tanh()).double()
    with minigrad.no_grad():
        for p in ours.parameters():  # non-trivial affine parameters for the norms too
            p.data[...] = np.random.default_rng(p.size).uniform(-0.6, 0.6, p.shape) + (1 if p.ndim == 1 else 0)
    _copy_into_torch(ours, theirs)
    x = np.random.default_rng(0).standard_normal((3, 3, 8, 8))
    _compare(ours, theirs, x)  # training mode, batch statistics
    theirs_state = theirs.state_dict()
    for key, value in ours.state_dict().items():  # running statistics updated identically
        np.testing.assert_allclose(value.numpy(), theirs_state[key].numpy(), rtol=1e-9, atol=1e-12, err_msg=key)
    ours.eval(), theirs.eval()
    ours.zero_grad()
    theirs.zero_grad()
    _compare(ours, theirs, x)  # eval mode, running statistics


def test_batchnorm_cumulative_momentum_matches_torch():
    ours, theirs = nn.BatchNorm1d(3, momentum=None).double(), torch.nn.BatchNorm1d(3, momentum=None).double()
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.standard_normal((6, 3, 2)) * 2 + 1
        ours(minigrad.tensor(x))
        theirs(torch.tensor(x))
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(), rtol=1e-12, err_msg=key)


def test_spectral_norm_conv_transpose_matches_torch():
    ours = spectral_norm(nn.ConvTranspose2d(4, 3, 3, stride=2, dtype=minigrad.float64))
    theirs = torch.nn.utils.spectral_norm(torch.nn.ConvTranspose2d(4, 3, 3, stride=2).double())
    assert ours.weight_u.shape == theirs.weight_u.shape == (3,)  # dim=1: the output channels
    _copy_into_torch(ours, theirs)
    x = np.random.default_rng(0).standard_normal((2, 4, 3, 3))
    _compare(ours, theirs, x)
    np.testing.assert_allclose(ours.weight_u.numpy(), theirs.weight_u.numpy(), rtol=1e-10)
    ours_conv = spectral_norm(nn.Conv2d(3, 5, 3, dtype=minigrad.float64), n_power_iterations=2)
    theirs_conv = torch.nn.utils.spectral_norm(torch.nn.Conv2d(3, 5, 3).double(), n_power_iterations=2)
    _copy_into_torch(ours_conv, theirs_conv)
    _compare(ours_conv, theirs_conv, np.random.default_rng(1).standard_normal((2, 3, 5, 5)))
    np.testing.assert_allclose(ours_conv.weight_v.numpy(), theirs_conv.weight_v.numpy(), rtol=1e-10)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("kernel, dilation", [(4, 1), (2, 3), (3, 2)])
def test_conv_padding_same_matches_torch(kernel, dilation):
    ours = nn.Conv2d(2, 3, kernel, padding="same", dilation=dilation).double()
    theirs = torch.nn.Conv2d(2, 3, kernel, padding="same", dilation=dilation).double()
    _copy_into_torch(ours, theirs)
    _compare(ours, theirs, np.random.default_rng(0).standard_normal((2, 2, 5, 6)))
