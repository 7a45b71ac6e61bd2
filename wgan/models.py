"""Generators and critics: MLPs for 2-D data and DCGAN-style conv nets for images.

Every generator maps z of shape (B, z_dim) to samples of shape (B, *sample_shape);
every critic maps samples to one score per sample, shape (B,).

Initialisations (``init``):
  - "toy": the official gan_toy.py (tflib): hidden layers He-uniform U(+-sqrt(6/fan_in)),
    output layers Glorot-uniform U(+-sqrt(6/(fan_in+fan_out))), biases 0.
  - "dcgan": the official WGAN/DCGAN code: weights N(0, 0.02), batch-norm scales N(1, 0.02), biases 0.
  - "torch": each layer's own PyTorch default.
  - "auto" (in `build_models`): "toy" for MLPs, "dcgan" for conv nets.
"""
from __future__ import annotations

import math

import minigrad
from minigrad import Tensor, nn

IMAGE_SIZES = (8, 16, 28, 32, 64)


def activation_layer(name: str) -> nn.Module:
    """The activation module for a config name (leaky_relu uses slope 0.2, as DCGAN)."""
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(0.2)
    if name == "tanh":
        return nn.Tanh()
    if name == "softplus":
        return nn.Softplus()
    raise ValueError(f"activation: unknown activation {name!r} (expected relu, leaky_relu, tanh or softplus)")


def _mlp(in_dim: int, out_dim: int, width: int, depth: int, activation: str) -> nn.Sequential:
    layers: list[nn.Module] = []
    dim = in_dim
    for _ in range(depth):
        layers += [nn.Linear(dim, width), activation_layer(activation)]
        dim = width
    layers.append(nn.Linear(dim, out_dim))
    return nn.Sequential(*layers)


def _init_toy(net: nn.Sequential) -> None:
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    for i, layer in enumerate(linears):
        if i < len(linears) - 1:
            nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")
        else:
            nn.init.xavier_uniform_(layer.weight)
        nn.init.zeros_(layer.bias)


def _init_dcgan(net: nn.Module) -> None:
    for m in net.modules():
        kind = type(m).__name__
        if kind in ("Linear", "Conv2d", "ConvTranspose2d"):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif kind.startswith("BatchNorm"):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def _apply_init(net: nn.Module, init: str) -> None:
    if init == "toy":
        _init_toy(net)
    elif init == "dcgan":
        _init_dcgan(net)
    elif init != "torch":
        raise ValueError(f"init: unknown initialisation {init!r} (expected toy, dcgan or torch)")


class MLPGenerator(nn.Module):
    """z (B, z_dim) -> `depth` hidden layers of `width` units -> samples (B, *sample_shape)."""

    def __init__(self, z_dim: int = 2, sample_shape: tuple = (2,), width: int = 512, depth: int = 3,
                 activation: str = "relu", init: str = "toy"):
        super().__init__()
        self.z_dim, self.sample_shape = z_dim, tuple(sample_shape)
        self.net = _mlp(z_dim, math.prod(self.sample_shape), width, depth, activation)
        _apply_init(self.net, init)

    def forward(self, z: Tensor) -> Tensor:
        out = self.net(z)
        return out if len(self.sample_shape) == 1 else minigrad.reshape(out, (z.shape[0],) + self.sample_shape)


class MLPCritic(nn.Module):
    """Samples (B, *sample_shape), flattened -> `depth` hidden layers of `width` -> scores (B,)."""

    def __init__(self, sample_shape: tuple = (2,), width: int = 512, depth: int = 3, activation: str = "relu",
                 init: str = "toy"):
        super().__init__()
        self.sample_shape = tuple(sample_shape)
        self.net = _mlp(math.prod(self.sample_shape), 1, width, depth, activation)
        _apply_init(self.net, init)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 2:
            x = minigrad.reshape(x, (x.shape[0], -1))
        return minigrad.reshape(self.net(x), (x.shape[0],))


def _pyramid(size: int) -> tuple[int, int]:
    """(start resolution, number of 2x up/down-sampling stages) for an image side."""
    if size not in IMAGE_SIZES:
        raise ValueError(f"DCGAN models support images of side {IMAGE_SIZES}, got {size}")
    if size == 28:
        return 7, 2
    return 4, int(math.log2(size // 4))


def _check_image_shape(sample_shape) -> tuple[int, int, int]:
    if len(sample_shape) != 3 or sample_shape[1] != sample_shape[2]:
        raise ValueError(f"DCGAN models need square images of shape (C, H, H), got sample shape {tuple(sample_shape)}")
    return tuple(sample_shape)


class DCGANGenerator(nn.Module):
    """DCGAN generator: z -> Linear -> (c0, s, s) -> [ConvT 4x4 s2 + BN + ReLU]* -> ConvT -> tanh.

    s = 4 (7 for 28-pixel images); c0 = base_filters * 2^(stages - 1), halved by each stage.
    With ``batchnorm`` every hidden stage has BatchNorm2d (its conv then has no bias).
    """

    def __init__(self, z_dim: int = 128, sample_shape: tuple = (1, 32, 32), base_filters: int = 64,
                 batchnorm: bool = True, init: str = "dcgan"):
        super().__init__()
        channels, size, _ = _check_image_shape(sample_shape)
        self.z_dim, self.sample_shape = z_dim, tuple(sample_shape)
        start, stages = _pyramid(size)
        c = base_filters * 2 ** (stages - 1)
        layers: list[nn.Module] = [nn.Linear(z_dim, c * start * start), nn.Unflatten(1, (c, start, start))]
        if batchnorm:
            layers.append(nn.BatchNorm2d(c))
        layers.append(nn.ReLU())
        for _ in range(stages - 1):
            layers.append(nn.ConvTranspose2d(c, c // 2, 4, stride=2, padding=1, bias=not batchnorm))
            if batchnorm:
                layers.append(nn.BatchNorm2d(c // 2))
            layers.append(nn.ReLU())
            c //= 2
        layers += [nn.ConvTranspose2d(c, channels, 4, stride=2, padding=1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        _apply_init(self.net, init)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class DCGANCritic(nn.Module):
    """DCGAN critic: [Conv 4x4 s2 (+ norm) + LeakyReLU 0.2]* down to s x s, then Linear -> 1.

    Channels base_filters, 2x, 4x, ...; ``norm`` ("none", "layernorm", "batchnorm") follows
    every conv but the first, as in DCGAN. A penalized critic must not use batch norm.
    """

    def __init__(self, sample_shape: tuple = (1, 32, 32), base_filters: int = 64, norm: str = "none",
                 init: str = "dcgan"):
        super().__init__()
        channels, size, _ = _check_image_shape(sample_shape)
        self.sample_shape = tuple(sample_shape)
        start, stages = _pyramid(size)
        layers: list[nn.Module] = []
        c_in, c, side = channels, base_filters, size
        for i in range(stages):
            side //= 2
            layers.append(nn.Conv2d(c_in, c, 4, stride=2, padding=1, bias=not (i > 0 and norm == "batchnorm")))
            if i > 0 and norm == "batchnorm":
                layers.append(nn.BatchNorm2d(c))
            elif i > 0 and norm == "layernorm":
                layers.append(nn.LayerNorm([c, side, side]))
            elif norm not in ("none", "batchnorm", "layernorm"):
                raise ValueError(f"critic_norm: unknown normalisation {norm!r} (expected none, layernorm or batchnorm)")
            layers.append(nn.LeakyReLU(0.2))
            c_in, c = c, c * 2
        layers += [nn.Flatten(), nn.Linear(c_in * start * start, 1)]
        self.net = nn.Sequential(*layers)
        _apply_init(self.net, init)

    def forward(self, x: Tensor) -> Tensor:
        return minigrad.reshape(self.net(x), (x.shape[0],))


def apply_spectral_norm(module: nn.Module) -> nn.Module:
    """Spectral-normalise the weight of every Linear, Conv2d and ConvTranspose2d inside `module`."""
    for m in list(module.modules()):
        kind = type(m).__name__
        if kind in ("Linear", "Conv2d"):
            nn.utils.spectral_norm(m)
        elif kind == "ConvTranspose2d":
            nn.utils.spectral_norm(m, dim=1)
    return module


def build_models(config, sample_shape: tuple, algorithm=None) -> tuple[nn.Module, nn.Module]:
    """The generator and critic a resolved `TrainConfig` asks for, for samples of `sample_shape`.

    The critic is the algorithm's own (``algorithm.build_critic``) when it has one, else the
    config's model; either way it then goes through ``algorithm.prepare_critic`` (spectral norm,
    the batch-norm refusal of penalised critics). `algorithm` defaults to an instance of the
    config's algorithm class.
    """
    if algorithm is None:
        algorithm = config.algorithm_class()(config)
    if config.model == "mlp":
        init = "toy" if config.init == "auto" else config.init
        g = MLPGenerator(config.z_dim, sample_shape, config.width, config.depth, config.activation, init)
        d = algorithm.build_critic(sample_shape)
        if d is None:
            d = MLPCritic(sample_shape, config.width, config.depth, config.activation, init)
        if config.critic_norm != "none":
            raise ValueError(f"critic_norm: {config.critic_norm!r} is only available for the dcgan model")
    elif config.model == "dcgan":
        init = "dcgan" if config.init == "auto" else config.init
        if init == "toy":
            raise ValueError("init: 'toy' is the MLP initialisation of gan_toy.py; use 'dcgan' or 'default'")
        g = DCGANGenerator(config.z_dim, sample_shape, config.base_filters, config.g_batchnorm, init)
        d = algorithm.build_critic(sample_shape)
        if d is None:
            d = DCGANCritic(sample_shape, config.base_filters, config.critic_norm, init)
    else:
        raise ValueError(f"model: unknown model {config.model!r} (expected mlp or dcgan)")
    return g, algorithm.prepare_critic(d)
