"""Building blocks of the WGAN-GP paper's architecture study, and its ResNet generator and critic.

Gulrajani et al. (2017, section 5.2 and Table 2) train GANs over a family of DCGAN-like networks
whose nonlinearity, depth, normalisation and filter counts vary per network, and over a 101-layer
ResNet. This module holds what those variants share:

- `NONLINEARITIES` / `nonlinearity`: relu, leaky_relu (slope 0.2), softplus, shifted_softplus
  (softplus(2x + 2) / 2 − 1, the paper's smooth ELU-like unit), tanh, and gated (the gated multiplicative
  unit tanh(a) ⊙ sigmoid(b) of PixelCNN, where a and b are the two halves of the channels: a layer
  followed by it produces twice its nominal channels, `width_factor`).
- `NORMS` / `norm_layer`: batchnorm, layernorm (over C, H, W of one sample) or none.
- `ResNetGenerator` / `ResNetCritic`: the bottleneck-block ResNets of the official ``gan_64x64.py``
  (its "101-layer ResNet G and D"), at any built-in image size and any depth 2 + 3·blocks up to 101.
  With gated units, the nonlinearity on the residual stream itself (a block's input, the last block's
  output), which no layer of the block produces, is the self-gated tanh(x) ⊙ sigmoid(x).

Every block is built from minigrad ops with exact second derivatives, so a gradient penalty through
any of these networks is exact (checked by gradgradcheck in ``tests/wgan/test_architectures.py``).
"""
from __future__ import annotations

import math

import minigrad
from minigrad import Tensor, nn

__all__ = ["NONLINEARITIES", "NORMS", "IMAGE_SIZES", "nonlinearity", "width_factor", "norm_layer", "ShiftedSoftplus",
           "GatedUnit", "SelfGatedUnit", "BottleneckBlock", "ResNetGenerator", "ResNetCritic", "max_halvings",
           "resnet_blocks", "MAX_RESNET_DEPTH"]

NONLINEARITIES = ("relu", "leaky_relu", "softplus", "shifted_softplus", "tanh", "gated")
NORMS = ("batchnorm", "layernorm", "none")
IMAGE_SIZES = (8, 16, 28, 32, 64)
MAX_RESNET_DEPTH = 101
#: The residual branch's scale in the official gan_64x64.py blocks: ``shortcut + 0.3 * branch``.
RESIDUAL_SCALE = 0.3


class ShiftedSoftplus(nn.Module):
    """softplus(2x + 2) / 2 − 1 = softplus_β=2(x + 1) − 1: a smooth ELU-like curve, → x for x ≫ 0 and
    → −1 for x ≪ 0."""

    def __init__(self):
        super().__init__()
        self.softplus = nn.Softplus(beta=2.0)

    def forward(self, x: Tensor) -> Tensor:
        return self.softplus(x + 1.0) - 1.0


class GatedUnit(nn.Module):
    """The gated multiplicative unit on channel axis 1: x = [a, b] (2c channels) -> tanh(a) ⊙ sigmoid(b)
    (c channels). Works on (B, 2c) and (B, 2c, H, W)."""

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[1] % 2:
            raise ValueError(f"GatedUnit: expected an even number of channels on axis 1, got shape {x.shape}")
        c = x.shape[1] // 2
        return minigrad.tanh(x[:, :c]) * minigrad.sigmoid(x[:, c:])


def nonlinearity(name: str) -> nn.Module:
    """The nonlinearity module for a name in `NONLINEARITIES`."""
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(0.2)
    if name == "softplus":
        return nn.Softplus()
    if name == "shifted_softplus":
        return ShiftedSoftplus()
    if name == "tanh":
        return nn.Tanh()
    if name == "gated":
        return GatedUnit()
    raise ValueError(f"nonlinearity: unknown nonlinearity {name!r} (expected one of {', '.join(NONLINEARITIES)})")


def width_factor(name: str) -> int:
    """How many times its nominal channels a layer followed by `name` must produce (2 for gated)."""
    nonlinearity(name)
    return 2 if name == "gated" else 1


def norm_layer(kind: str, channels: int, side: int | None = None) -> nn.Module | None:
    """BatchNorm2d / LayerNorm over (C, H, W) / None for `kind` in `NORMS`, for (B, C, side, side) inputs
    (``side=None``: (B, C) inputs, BatchNorm1d / LayerNorm over C)."""
    if kind == "batchnorm":
        return nn.BatchNorm2d(channels) if side is not None else nn.BatchNorm1d(channels)
    if kind == "layernorm":
        return nn.LayerNorm([channels, side, side] if side is not None else [channels])
    if kind == "none":
        return None
    raise ValueError(f"norm: unknown normalisation {kind!r} (expected batchnorm, layernorm or none)")


def max_halvings(size: int) -> int:
    """How many stride-2 layers an image side allows: down to 1x1 for powers of two (3 at 8x8, 4 at 16x16,
    5 at 32x32, 6 at 64x64), and 2 at 28x28 (28 -> 14 -> 7, which is odd)."""
    if size not in IMAGE_SIZES:
        raise ValueError(f"image models support images of side {IMAGE_SIZES}, got {size}")
    return 2 if size == 28 else int(math.log2(size))


def check_image_shape(sample_shape) -> tuple[int, int, int]:
    """(C, H, H) of a square image sample shape at a built-in size, or a ValueError naming the shape."""
    if len(sample_shape) != 3 or sample_shape[1] != sample_shape[2]:
        raise ValueError(f"image models need square images of shape (C, H, H), got sample shape "
                         f"{tuple(sample_shape)}")
    max_halvings(sample_shape[1])
    channels, height, width = (int(s) for s in sample_shape)
    return channels, height, width


# ------------------------------------------------------------------------------------------------ ResNet
def resnet_blocks(depth: int) -> int:
    """Bottleneck blocks of a ResNet of `depth` layers: depth = 2 + 3·blocks (the input layer, three convs
    per block, the output layer; shortcut 1x1 convs are not counted, as in the ResNet papers)."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 5 or depth > MAX_RESNET_DEPTH \
            or (depth - 2) % 3:
        raise ValueError(f"resnet depth: expected 2 + 3·blocks layers between 5 and {MAX_RESNET_DEPTH} "
                         f"(5, 8, ..., 101), got {depth!r}")
    return (depth - 2) // 3


def _resnet_plan(size: int, depth: int) -> tuple[int, list[int]]:
    """(start side, blocks per resolution stage): the generator starts at 4x4 (7x7 for 28) and doubles
    `stages - 1` times; the non-resampling blocks are spread evenly over the stages, the resampling block
    closing each stage but the last (the official 101-layer layout is 6, up, 6, up, 6, up, 6, up, 5)."""
    blocks = resnet_blocks(depth)
    start = 7 if size == 28 else 4
    ups = int(round(math.log2(size // start)))
    if blocks < ups:
        raise ValueError(f"resnet depth: {depth} layers hold {blocks} blocks, fewer than the {ups} resampling "
                         f"blocks a {size}x{size} image needs (use depth >= {2 + 3 * ups})")
    plain = blocks - ups
    per_stage = [plain // (ups + 1) + (1 if i < plain % (ups + 1) else 0) for i in range(ups + 1)]
    return start, per_stage


class BottleneckBlock(nn.Module):
    """out = shortcut(x) + 0.3 · norm(conv1x1(act(conv3x3(act(conv1x1(act(x)))))))  (gan_64x64.py).

    The branch narrows to half the channels: 1x1 conv c_in -> c_in/2, 3x3 conv -> c_out/2 (stride 2 for
    ``resample="down"``, a 4x4 stride-2 transposed conv for "up"), 1x1 conv -> c_out. The shortcut is the
    identity, or a 1x1 conv (stride 2 for "down"; a 2x2 stride-2 transposed conv, i.e. a sub-pixel 1x1 conv,
    for "up") when the channels or the size change. ``side`` is the output side (for layer norm).
    """

    def __init__(self, c_in: int, c_out: int, resample: str | None, act: str, norm: str, side: int):
        super().__init__()
        if resample not in (None, "up", "down"):
            raise ValueError(f"BottleneckBlock: resample must be None, 'up' or 'down', got {resample!r}")
        k = width_factor(act)
        mid_in, mid_out = max(1, c_in // 2), max(1, c_out // 2)
        self.act1 = _block_output_nonlinearity(act)
        self.act2, self.act3 = nonlinearity(act), nonlinearity(act)
        self.conv1 = nn.Conv2d(c_in, mid_in * k, 1)
        if resample == "up":
            self.conv2: nn.Module = nn.ConvTranspose2d(mid_in, mid_out * k, 4, stride=2, padding=1)
            self.shortcut: nn.Module | None = nn.ConvTranspose2d(c_in, c_out, 2, stride=2)
        elif resample == "down":
            self.conv2 = nn.Conv2d(mid_in, mid_out * k, 3, stride=2, padding=1)
            self.shortcut = nn.Conv2d(c_in, c_out, 1, stride=2)
        else:
            self.conv2 = nn.Conv2d(mid_in, mid_out * k, 3, padding=1)
            self.shortcut = None if c_in == c_out else nn.Conv2d(c_in, c_out, 1)
        self.conv3 = nn.Conv2d(mid_out, c_out, 1, bias=norm != "batchnorm")
        self.norm = norm_layer(norm, c_out, side)

    def forward(self, x: Tensor) -> Tensor:
        h = self.act2(self.conv1(self.act1(x)))
        h = self.act3(self.conv2(h))
        h = self.conv3(h)
        if self.norm is not None:
            h = self.norm(h)
        skip = x if self.shortcut is None else self.shortcut(x)
        return skip + RESIDUAL_SCALE * h


class SelfGatedUnit(nn.Module):
    """tanh(x) ⊙ sigmoid(x): the gated unit where no layer precedes it that could produce the 2c channels
    (a residual block's input, the last block's output); a, b are then both x."""

    def forward(self, x: Tensor) -> Tensor:
        return minigrad.tanh(x) * minigrad.sigmoid(x)


class ResNetGenerator(nn.Module):
    """z (B, z_dim) -> Linear -> (c0, s, s) -> bottleneck blocks (upsampling ones between stages)
    -> act -> 3x3 conv -> tanh -> (B, C, H, W).

    s = 4 (7 for 28x28); the channels start at c0 = base_filters·2^ups and halve at each upsampling block,
    ending at base_filters. ``depth`` = 2 + 3·blocks layers (101 = 33 blocks, the paper's); ``norm`` follows
    each block's branch.
    """

    def __init__(self, z_dim: int = 128, sample_shape: tuple = (1, 8, 8), depth: int = 101,
                 base_filters: int = 16, nonlinearity: str = "relu", norm: str = "none"):
        super().__init__()
        channels, size, _ = check_image_shape(sample_shape)
        self.z_dim, self.sample_shape, self.depth = z_dim, tuple(sample_shape), depth
        start, per_stage = _resnet_plan(size, depth)
        c = base_filters * 2 ** (len(per_stage) - 1)
        self.input = nn.Linear(z_dim, c * start * start)
        self.unflatten = nn.Unflatten(1, (c, start, start))
        blocks: list[nn.Module] = []
        side = start
        for stage, count in enumerate(per_stage):
            blocks += [BottleneckBlock(c, c, None, nonlinearity, norm, side) for _ in range(count)]
            if stage < len(per_stage) - 1:
                side *= 2
                blocks.append(BottleneckBlock(c, c // 2, "up", nonlinearity, norm, side))
                c //= 2
        self.blocks = nn.Sequential(*blocks)
        self.out_act = _block_output_nonlinearity(nonlinearity)
        self.output = nn.Conv2d(c, channels, 3, padding=1)

    def forward(self, z: Tensor) -> Tensor:
        h = self.blocks(self.unflatten(self.input(z)))
        return minigrad.tanh(self.output(self.out_act(h)))


class ResNetCritic(nn.Module):
    """(B, C, H, W) -> 3x3 conv -> bottleneck blocks (downsampling ones between stages) -> act -> Linear
    -> (B,): the mirror of `ResNetGenerator` (channels base_filters, doubling at each downsampling block)."""

    def __init__(self, sample_shape: tuple = (1, 8, 8), depth: int = 101, base_filters: int = 16,
                 nonlinearity: str = "relu", norm: str = "none"):
        super().__init__()
        channels, size, _ = check_image_shape(sample_shape)
        self.sample_shape, self.depth = tuple(sample_shape), depth
        start, per_stage = _resnet_plan(size, depth)
        c, side = base_filters, size
        self.input = nn.Conv2d(channels, c, 3, padding=1)
        blocks: list[nn.Module] = []
        for stage, count in enumerate(reversed(per_stage)):
            blocks += [BottleneckBlock(c, c, None, nonlinearity, norm, side) for _ in range(count)]
            if stage < len(per_stage) - 1:
                side //= 2
                blocks.append(BottleneckBlock(c, c * 2, "down", nonlinearity, norm, side))
                c *= 2
        self.blocks = nn.Sequential(*blocks)
        self.out_act = _block_output_nonlinearity(nonlinearity)
        self.flatten = nn.Flatten()
        self.output = nn.Linear(c * start * start, 1)

    def forward(self, x: Tensor) -> Tensor:
        h = self.out_act(self.blocks(self.input(x)))
        return minigrad.reshape(self.output(self.flatten(h)), (x.shape[0],))


def _block_output_nonlinearity(name: str) -> nn.Module:
    """The nonlinearity on a residual stream (c channels, no layer of its own): `SelfGatedUnit` for gated."""
    return SelfGatedUnit() if name == "gated" else nonlinearity(name)
