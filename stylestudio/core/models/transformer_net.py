"""Reference network for benchmarks: the TransformerNet of Johnson et al. (2016).

Built from the paper's description (9×9 / 3×3 / 3×3 encoder with 32-64-128 channels, five
residual blocks, two ×2 upsampling stages, 9×9 output conv, instance norm) so that the benchmark can
run it side by side with StyleStudio's generator on the same inputs. Not used for stylisation.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class _ConvLayer(nn.Module):
    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1) -> None:
        super().__init__()
        self.pad = nn.ReflectionPad2d(kernel // 2)
        self.conv = nn.Conv2d(cin, cout, kernel, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.pad(x))


class _Residual(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.c1 = _ConvLayer(channels, channels, 3)
        self.n1 = nn.InstanceNorm2d(channels, affine=True)
        self.c2 = _ConvLayer(channels, channels, 3)
        self.n2 = nn.InstanceNorm2d(channels, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.n2(self.c2(F.relu(self.n1(self.c1(x)))))


class _Upsample(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = _ConvLayer(cin, cout, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class TransformerNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            _ConvLayer(3, 32, 9), nn.InstanceNorm2d(32, affine=True), nn.ReLU(),
            _ConvLayer(32, 64, 3, 2), nn.InstanceNorm2d(64, affine=True), nn.ReLU(),
            _ConvLayer(64, 128, 3, 2), nn.InstanceNorm2d(128, affine=True), nn.ReLU(),
            *[_Residual(128) for _ in range(5)],
            _Upsample(128, 64), nn.InstanceNorm2d(64, affine=True), nn.ReLU(),
            _Upsample(64, 32), nn.InstanceNorm2d(32, affine=True), nn.ReLU(),
            _ConvLayer(32, 3, 9),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)
