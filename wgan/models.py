"""Generators and critics: MLPs for 2-D data and DCGAN-style conv nets for images.

Every generator maps z of shape (B, z_dim) to samples of shape (B, *sample_shape);
every critic maps samples to one score per sample, shape (B,).

Initialisations (``init``):
  - "toy": the official gan_toy.py (tflib): hidden layers He-uniform U(+-sqrt(6/fan_in)),
    output layers Glorot-uniform U(+-sqrt(6/(fan_in+fan_out))), biases 0.
  - "dcgan": the official WGAN/DCGAN code: weights N(0, 0.02), batch-norm scales N(1, 0.02), biases 0.
  - "tflib": the layer defaults of the official WGAN-GP code (tflib, used by its gan_64x64.py architecture
    study): for an MLP its ReLU layers' He-uniform with a Glorot-uniform output (= "toy"); otherwise Linear
    Glorot-uniform, Conv2d / ConvTranspose2d uniform of std sqrt(4 / (fan_in + fan_out)) with
    the strided side's fan divided by stride², norm scales 1, biases 0. It keeps the signal from z alive
    through conv nets without batch norm, where N(0, 0.02) shrinks it layer by layer.
  - "torch": each layer's own PyTorch default.
  - "auto" (in `build_models`): "toy" for MLPs, "dcgan" for conv nets.
"""
from __future__ import annotations

import math

import minigrad
from minigrad import Tensor, nn
from wgan.architectures import (IMAGE_SIZES, MAX_RESNET_DEPTH, ResNetCritic, ResNetGenerator, max_halvings,
                                nonlinearity, norm_layer, width_factor)


def _mlp(in_dim: int, out_dim: int, width: int, depth: int, activation: str) -> nn.Sequential:
    """`depth` hidden Linear layers of `width` units, each followed by `activation`
    (`architectures.NONLINEARITIES`; a gated layer has 2·width outputs), then a Linear to `out_dim`."""
    layers: list[nn.Module] = []
    dim, k = in_dim, width_factor(activation)
    for _ in range(depth):
        layers += [nn.Linear(dim, width * k), nonlinearity(activation)]
        dim = width
    layers.append(nn.Linear(dim, out_dim))
    return nn.Sequential(*layers)


def _init_toy(net: nn.Module) -> None:
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


def _init_tflib(net: nn.Module) -> None:
    """tflib's layer defaults (module docstring): ``Linear`` as its Glorot default, convs as its ``he_init``."""
    for m in net.modules():
        kind = type(m).__name__
        if kind == "Linear":
            nn.init.xavier_uniform_(m.weight)
        elif kind in ("Conv2d", "ConvTranspose2d"):
            receptive = m.kernel_size[0] * m.kernel_size[1]
            shrink = m.stride[0] * m.stride[1]
            if kind == "Conv2d":   # the output side is the strided one
                fan_in, fan_out = m.in_channels * receptive, m.out_channels * receptive / shrink
            else:                  # a transposed conv's input side is
                fan_in, fan_out = m.in_channels * receptive / shrink, m.out_channels * receptive
            bound = math.sqrt(3.0) * math.sqrt(4.0 / (fan_in + fan_out))
            nn.init.uniform_(m.weight, -bound, bound)
        elif kind.startswith("BatchNorm"):
            nn.init.ones_(m.weight)
        else:
            continue
        if m.bias is not None:
            nn.init.zeros_(m.bias)


def _apply_init(net: nn.Module, init: str) -> None:
    if init == "toy":
        _init_toy(net)
    elif init == "dcgan":
        _init_dcgan(net)
    elif init == "tflib":
        _init_tflib(net)
    elif init != "torch":
        raise ValueError(f"init: unknown initialisation {init!r} (expected toy, dcgan, tflib or torch)")


class MLPGenerator(nn.Module):
    """z (B, z_dim) -> `depth` hidden layers of `width` units -> samples (B, *sample_shape).

    ``output="tanh"`` bounds the samples to (-1, 1), as images need (the image MLP generator of the WGAN
    papers: 4 hidden ReLU layers of 512); ``"linear"`` leaves them unbounded (2-D points).
    """

    def __init__(self, z_dim: int = 2, sample_shape: tuple = (2,), width: int = 512, depth: int = 3,
                 activation: str = "relu", init: str = "toy", output: str = "linear"):
        super().__init__()
        if output not in ("linear", "tanh"):
            raise ValueError(f"MLPGenerator: output must be 'linear' or 'tanh', got {output!r}")
        self.z_dim, self.sample_shape, self.output = z_dim, tuple(sample_shape), output
        self.net = _mlp(z_dim, math.prod(self.sample_shape), width, depth, activation)
        _apply_init(self.net, init)

    def forward(self, z: Tensor) -> Tensor:
        out = self.net(z)
        if self.output == "tanh":
            out = minigrad.tanh(out)
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
    """(start resolution, number of 2x up/down-sampling stages) of the plain DCGAN for an image side."""
    if size not in IMAGE_SIZES:
        raise ValueError(f"DCGAN models support images of side {IMAGE_SIZES}, got {size}")
    if size == 28:
        return 7, 2
    return 4, int(math.log2(size // 4))


def _check_image_shape(sample_shape) -> tuple[int, int, int]:
    if len(sample_shape) != 3 or sample_shape[1] != sample_shape[2]:
        raise ValueError(f"DCGAN models need square images of shape (C, H, H), got sample shape {tuple(sample_shape)}")
    return tuple(sample_shape)


def _conv_plan(size: int, depth: int | None, what: str) -> tuple[int, int]:
    """(stride-2 conv layers, stride-1 conv layers) for `depth` conv layers at an image side: as many
    stride-2 layers as the side allows (`architectures.max_halvings`: 3 at 8x8), the rest stride 1.
    ``depth=None``: the plain DCGAN pyramid down to 4x4 (7x7 at 28), all stride 2."""
    if depth is None:
        return _pyramid(size)[1], 0
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"{what}: depth must be a positive number of conv layers, got {depth!r}")
    halvings = min(depth, max_halvings(size))
    return halvings, depth - halvings


def _block(layers: list, norm: str, act: str, channels: int, side: int | None) -> None:
    """Append the normalisation (if any) and the nonlinearity that follow a layer of `channels`
    (times the nonlinearity's width factor) outputs at `side`."""
    layer = norm_layer(norm, channels * width_factor(act), side)
    if layer is not None:
        layers.append(layer)
    layers.append(nonlinearity(act))


class DCGANGenerator(nn.Module):
    """DCGAN generator: z -> Linear -> (c0, s, s) [norm, act] -> conv layers -> tanh, (B, C, H, W).

    ``depth`` counts conv layers. As many of them as the size allows double the resolution
    (4x4 transposed convs, stride 2; at 8x8 at most three: 1 -> 2 -> 4 -> 8, at 28x28 two: 7 -> 14 -> 28);
    the rest are 3x3 stride-1 convs at the same size, placed just before the output layer at half the
    output resolution (the "extra layers" of the official WGAN code). ``depth=None`` is the plain DCGAN
    pyramid from 4x4 (7x7 at 28): one conv layer at 8x8, three at 32x32. s = side / 2^(stride-2 layers).

    Channels c0 = base_filters·2^(stride-2 layers − 1), halved by each upsampling layer (DCGAN), or
    ``base_filters`` throughout with ``constant_filters``. ``norm`` ("batchnorm", "layernorm", "none";
    ``batchnorm=False`` is the older spelling of "none") and ``nonlinearity`` (`architectures.NONLINEARITIES`;
    gated layers produce twice the channels) follow the projection and every hidden conv; a conv followed
    by batch norm has no bias.
    """

    def __init__(self, z_dim: int = 128, sample_shape: tuple = (1, 32, 32), base_filters: int = 64,
                 batchnorm: bool = True, init: str = "dcgan", depth: int | None = None, norm: str | None = None,
                 nonlinearity: str = "relu", constant_filters: bool = False):
        super().__init__()
        channels, size, _ = _check_image_shape(sample_shape)
        self.z_dim, self.sample_shape = z_dim, tuple(sample_shape)
        norm = norm if norm is not None else ("batchnorm" if batchnorm else "none")
        ups, extra = _conv_plan(size, depth, "DCGANGenerator")
        k = width_factor(nonlinearity)
        side = size // 2 ** ups
        width = (lambda i: base_filters) if constant_filters else (lambda i: base_filters * 2 ** (ups - 1 - i))
        c = width(0)
        layers: list[nn.Module] = [nn.Linear(z_dim, c * k * side * side), nn.Unflatten(1, (c * k, side, side))]
        _block(layers, norm, nonlinearity, c, side)
        for i in range(1, ups):
            side *= 2
            layers.append(nn.ConvTranspose2d(c, width(i) * k, 4, stride=2, padding=1, bias=norm != "batchnorm"))
            c = width(i)
            _block(layers, norm, nonlinearity, c, side)
        for _ in range(extra):
            layers.append(nn.Conv2d(c, c * k, 3, padding=1, bias=norm != "batchnorm"))
            _block(layers, norm, nonlinearity, c, side)
        layers += [nn.ConvTranspose2d(c, channels, 4, stride=2, padding=1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        _apply_init(self.net, init)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class DCGANCritic(nn.Module):
    """DCGAN critic: conv layers [norm, act] down to s x s, then Linear -> one score per sample (B,).

    ``depth`` counts conv layers: as many as the size allows halve the resolution (4x4 convs, stride 2;
    at 8x8 at most three: 8 -> 4 -> 2 -> 1, at 28x28 two), the rest are 3x3 stride-1 convs at the same
    size, placed right after the first conv (the official WGAN code's "extra layers"). ``depth=None`` is
    the plain DCGAN pyramid down to 4x4 (7x7 at 28).

    Channels base_filters, doubled by each further stride-2 conv (or constant with ``constant_filters``);
    ``norm`` ("none", "layernorm", "batchnorm") follows every conv but the first, as in DCGAN;
    ``nonlinearity`` (default leaky_relu 0.2) follows every conv. A penalized critic refuses batch norm
    unless its algorithm is told otherwise (``allow_batchnorm_critic``).
    """

    def __init__(self, sample_shape: tuple = (1, 32, 32), base_filters: int = 64, norm: str = "none",
                 init: str = "dcgan", depth: int | None = None, nonlinearity: str = "leaky_relu",
                 constant_filters: bool = False):
        super().__init__()
        channels, size, _ = _check_image_shape(sample_shape)
        if norm not in ("none", "batchnorm", "layernorm"):
            raise ValueError(f"critic_norm: unknown normalisation {norm!r} (expected none, layernorm or batchnorm)")
        self.sample_shape = tuple(sample_shape)
        downs, extra = _conv_plan(size, depth, "DCGANCritic")
        k = width_factor(nonlinearity)
        layers: list[nn.Module] = []
        c, side = base_filters, size // 2
        layers.append(nn.Conv2d(channels, c * k, 4, stride=2, padding=1))
        _block(layers, "none", nonlinearity, c, side)
        for _ in range(extra):
            layers.append(nn.Conv2d(c, c * k, 3, padding=1, bias=norm != "batchnorm"))
            _block(layers, norm, nonlinearity, c, side)
        for _ in range(downs - 1):
            side //= 2
            c_next = c if constant_filters else c * 2
            layers.append(nn.Conv2d(c, c_next * k, 4, stride=2, padding=1, bias=norm != "batchnorm"))
            c = c_next
            _block(layers, norm, nonlinearity, c, side)
        layers += [nn.Flatten(), nn.Linear(c * side * side, 1)]
        self.net = nn.Sequential(*layers)
        _apply_init(self.net, init)

    def forward(self, x: Tensor) -> Tensor:
        return minigrad.reshape(self.net(x), (x.shape[0],))


class MLPAutoencoderCritic(nn.Module):
    """An autoencoder critic whose score is its reconstruction energy (EBGAN): samples, flattened ->
    MLP encoder (`depth` hidden layers of `width`) -> code (B, code_dim) -> MLP decoder -> reconstruction.

    ``forward(x)`` returns the per-sample energy mean_j (Dec(Enc(x))_j - x_j)^2, shape (B,);
    ``energy_and_code(x)`` returns it with the code (for EBGAN's pulling-away term).
    """

    def __init__(self, sample_shape: tuple = (2,), code_dim: int = 1, width: int = 512, depth: int = 3,
                 activation: str = "relu", init: str = "toy"):
        super().__init__()
        self.sample_shape = tuple(sample_shape)
        features = math.prod(self.sample_shape)
        self.encoder = _mlp(features, code_dim, width, depth, activation)
        self.decoder = _mlp(code_dim, features, width, depth, activation)
        _apply_init(self.encoder, init)
        _apply_init(self.decoder, init)

    def energy_and_code(self, x: Tensor) -> tuple[Tensor, Tensor]:
        flat = x if x.ndim == 2 else minigrad.reshape(x, (x.shape[0], -1))
        code = self.encoder(flat)
        diff = self.decoder(code) - flat
        return minigrad.mean(diff * diff, axis=1), code

    def forward(self, x: Tensor) -> Tensor:
        return self.energy_and_code(x)[0]


class DCGANAutoencoderCritic(nn.Module):
    """The DCGAN critic family as an autoencoder (EBGAN): the `DCGANCritic` conv stack with a Linear to a
    code (B, code_dim), and a `DCGANGenerator`-shaped decoder (no batch norm) back to the image.

    ``forward(x)`` returns the per-sample energy, the mean squared reconstruction error over (C, H, W);
    ``energy_and_code(x)`` returns it with the code.
    """

    def __init__(self, sample_shape: tuple = (1, 32, 32), code_dim: int = 64, base_filters: int = 64,
                 norm: str = "none", init: str = "dcgan"):
        super().__init__()
        self.sample_shape = tuple(sample_shape)
        conv = DCGANCritic(sample_shape, base_filters, norm, init).net
        features = conv[-1].in_features
        self.encoder = nn.Sequential(*list(conv)[:-1], nn.Linear(features, code_dim))
        self.decoder = DCGANGenerator(code_dim, sample_shape, base_filters, batchnorm=False, init=init).net
        _apply_init(self.encoder, init)

    def energy_and_code(self, x: Tensor) -> tuple[Tensor, Tensor]:
        code = self.encoder(x)
        diff = self.decoder(code) - x
        return minigrad.mean(diff * diff, axis=(1, 2, 3)), code

    def forward(self, x: Tensor) -> Tensor:
        return self.energy_and_code(x)[0]


def apply_spectral_norm(module: nn.Module) -> nn.Module:
    """Spectral-normalise the weight of every Linear, Conv2d and ConvTranspose2d inside `module`."""
    for m in list(module.modules()):
        kind = type(m).__name__
        if kind in ("Linear", "Conv2d"):
            nn.utils.spectral_norm(m)
        elif kind == "ConvTranspose2d":
            nn.utils.spectral_norm(m, dim=1)
    return module


def _init_for(kind: str, init: str) -> str:
    """The initialisation of a network of `kind` ("mlp", "dcgan", "resnet") for the config's `init`."""
    if init == "auto":
        return {"mlp": "toy", "dcgan": "dcgan", "resnet": "torch"}[kind]
    if init == "tflib" and kind == "mlp":   # the official scripts' tflib MLPs: He hidden, Glorot output layers
        return "toy"
    if init == "toy" and kind != "mlp":
        raise ValueError("init: 'toy' is the MLP initialisation of gan_toy.py; use 'dcgan', 'tflib' or 'torch'")
    return init


def build_generator(config, sample_shape: tuple) -> nn.Module:
    """The generator of a resolved config: ``g_model`` (default ``model``) with the ``g_*`` options."""
    kind, image = config.g_model or config.model, len(sample_shape) == 3
    init = _init_for(kind, config.init)
    filters = config.g_filters or config.base_filters
    if kind == "mlp":
        return MLPGenerator(config.z_dim, sample_shape, config.width, config.g_depth or config.depth,
                            config.g_nonlinearity or config.activation, init, output="tanh" if image else "linear")
    if not image:
        raise ValueError(f"g_model: {kind!r} needs image data of shape (C, H, W), got samples of shape "
                         f"{tuple(sample_shape)}")
    if kind == "dcgan":
        return DCGANGenerator(config.z_dim, sample_shape, filters, config.g_batchnorm, init, depth=config.g_depth,
                              norm=config.g_norm, nonlinearity=config.g_nonlinearity or "relu",
                              constant_filters=config.g_constant_filters)
    if kind == "resnet":
        net = ResNetGenerator(config.z_dim, sample_shape, config.g_depth or MAX_RESNET_DEPTH, filters,
                              config.g_nonlinearity or "relu", config.g_norm or "none")
        _apply_init(net, init)
        return net
    raise ValueError(f"g_model: unknown model {kind!r} (expected mlp, dcgan or resnet)")


def build_critic(config, sample_shape: tuple) -> nn.Module:
    """The standard critic of a resolved config: ``d_model`` (default ``model``) with the ``d_*`` options
    and ``critic_norm`` (before the algorithm's ``prepare_critic``)."""
    kind, image = config.d_model or config.model, len(sample_shape) == 3
    init = _init_for(kind, config.init)
    filters = config.d_filters or config.base_filters
    if kind == "mlp":
        if config.critic_norm != "none":
            raise ValueError(f"critic_norm: {config.critic_norm!r} is only available for the dcgan and resnet critics")
        return MLPCritic(sample_shape, config.width, config.d_depth or config.depth,
                         config.d_nonlinearity or config.activation, init)
    if not image:
        raise ValueError(f"d_model: {kind!r} needs image data of shape (C, H, W), got samples of shape "
                         f"{tuple(sample_shape)}")
    if kind == "dcgan":
        return DCGANCritic(sample_shape, filters, config.critic_norm, init, depth=config.d_depth,
                           nonlinearity=config.d_nonlinearity or "leaky_relu",
                           constant_filters=config.d_constant_filters)
    if kind == "resnet":
        net = ResNetCritic(sample_shape, config.d_depth or MAX_RESNET_DEPTH, filters,
                           config.d_nonlinearity or "relu", config.critic_norm)
        _apply_init(net, init)
        return net
    raise ValueError(f"d_model: unknown model {kind!r} (expected mlp, dcgan or resnet)")


def build_models(config, sample_shape: tuple, algorithm=None) -> tuple[nn.Module, nn.Module]:
    """The generator and critic a resolved `TrainConfig` asks for, for samples of `sample_shape`.

    The generator is `build_generator`'s. The critic is the algorithm's own (``algorithm.build_critic``)
    when it has one, else `build_critic`'s; either way it then goes through ``algorithm.prepare_critic``
    (spectral norm, the batch-norm refusal of penalised critics). `algorithm` defaults to an instance of
    the config's algorithm class.
    """
    if config.model not in ("mlp", "dcgan"):
        raise ValueError(f"model: unknown model {config.model!r} (expected mlp or dcgan)")
    if algorithm is None:
        algorithm = config.algorithm_class()(config)
    d = algorithm.build_critic(sample_shape)
    if d is None:
        d = build_critic(config, sample_shape)
    return build_generator(config, sample_shape), algorithm.prepare_critic(d)
