"""The fast-neural-style ``TransformerNet`` of pytorch/examples, as a style architecture.

Community styles trained with pytorch/examples' ``fast_neural_style`` are state dicts of this
network (Johnson et al.: 9×9 / 3×3 stride-2 encoder with 32-64-128 channels, five residual blocks,
two nearest-×2 upsampling convolutions, a 9×9 output convolution, affine instance norm). The layer
names here are the ones those checkpoints use (``conv1.conv2d.weight``, ``in1.weight``,
``res1.conv1.conv2d.weight``, ``deconv1.conv2d.weight`` …), so their tensors load unchanged.

Differences from the original module, none of which changes its arithmetic:

* the norms are :class:`StatsInstanceNorm` (same ``weight``/``bias`` tensors), so the engine can
  give large images whole-image statistics when it tiles them;
* the original works on RGB in 0–255; here input and output are RGB in [0, 1] like every
  StyleStudio style (×255 in, ÷255 and clamp out);
* inputs of any size are padded to a multiple of 4 and cropped back, as the Generator does (the
  original returns a larger image for sides that are not multiples of 4).

``models/transformer_net.py`` is a different thing: the benchmark's reference network, with
per-tile plain instance norm and its own tensor names.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn
from torch.nn import functional as F

from stylestudio.core.models.generator import pad_to_multiple
from stylestudio.core.models.norm import StatsInstanceNorm

ARCHITECTURE_NAME = "pytorch-examples.fast-neural-style.transformer-net.v1"
#: The original network's pixel range.
PIXEL_SCALE = 255.0
#: Names of the instance-norm layers, in forward order.
NORM_NAMES: tuple[str, ...] = (
    "in1",
    "in2",
    "in3",
    *(f"res{i}.{n}" for i in range(1, 6) for n in ("in1", "in2")),
    "in4",
    "in5",
)


class ConvLayer(nn.Module):
    """Reflection pad then convolution (``reflection_pad``, ``conv2d``)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1) -> None:
        super().__init__()
        self.reflection_pad = nn.ReflectionPad2d(kernel // 2)
        self.conv2d = nn.Conv2d(cin, cout, kernel, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2d(self.reflection_pad(x))


class UpsampleConvLayer(ConvLayer):
    """Nearest ×2 upsampling, then a :class:`ConvLayer`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class ResidualBlock(nn.Module):
    """``x + in2(conv2(relu(in1(conv1(x)))))``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, 3)
        self.in1 = StatsInstanceNorm(channels)
        self.conv2 = ConvLayer(channels, channels, 3)
        self.in2 = StatsInstanceNorm(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.in2(self.conv2(F.relu(self.in1(self.conv1(x)))))


class FastNeuralStyleNet(nn.Module):
    """Image → stylised image, both ``(N, 3, H, W)`` RGB in [0, 1]."""

    size_multiple = 4
    min_size = 8
    #: Conservative, as for the Generator of the same layout (5 residual blocks).
    receptive_radius = 56

    def __init__(self) -> None:
        super().__init__()
        # Registration order is forward order: the engine numbers the norms that way.
        self.conv1 = ConvLayer(3, 32, 9)
        self.in1 = StatsInstanceNorm(32)
        self.conv2 = ConvLayer(32, 64, 3, 2)
        self.in2 = StatsInstanceNorm(64)
        self.conv3 = ConvLayer(64, 128, 3, 2)
        self.in3 = StatsInstanceNorm(128)
        self.res1 = ResidualBlock(128)
        self.res2 = ResidualBlock(128)
        self.res3 = ResidualBlock(128)
        self.res4 = ResidualBlock(128)
        self.res5 = ResidualBlock(128)
        self.deconv1 = UpsampleConvLayer(128, 64, 3)
        self.in4 = StatsInstanceNorm(64)
        self.deconv2 = UpsampleConvLayer(64, 32, 3)
        self.in5 = StatsInstanceNorm(32)
        self.deconv3 = ConvLayer(32, 3, 9)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        x = pad_to_multiple(x, self.size_multiple, minimum=self.min_size) * PIXEL_SCALE
        y = F.relu(self.in1(self.conv1(x)))
        y = F.relu(self.in2(self.conv2(y)))
        y = F.relu(self.in3(self.conv3(y)))
        y = self.res5(self.res4(self.res3(self.res2(self.res1(y)))))
        y = F.relu(self.in4(self.deconv1(y)))
        y = F.relu(self.in5(self.deconv2(y)))
        y = self.deconv3(y) / PIXEL_SCALE
        return y.clamp(0.0, 1.0)[..., :h, :w]


def build(params: Mapping[str, object]) -> FastNeuralStyleNet:
    """The network; it has no hyper-parameters (ValueError for any)."""
    if params:
        raise ValueError(f"this architecture takes no parameters, got {', '.join(sorted(params))}")
    return FastNeuralStyleNet()
