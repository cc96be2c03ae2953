"""The style generator: a feed-forward encoder / residual / decoder network.

Johnson-style layout with the usual fixes: reflection padding (no dark borders), instance
normalisation, and nearest-neighbour upsampling followed by a convolution instead of transposed
convolutions (no checkerboard artefacts). Fully convolutional; inputs of any size are padded to a
multiple of 4 internally and cropped back. Input and output are RGB in [0, 1].
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from stylestudio.core.models.norm import StatsInstanceNorm

ARCHITECTURE_NAME = "stylestudio.generator.v1"


_WIDTHS = ("mid_channels", "deep_channels", "out_channels")


@dataclass(frozen=True)
class GeneratorConfig:
    """Channel widths and depth. The width at each resolution can be set on its own.

    ``base_channels`` is the first (full-resolution) encoder layer. ``mid_channels`` (1/2
    resolution, encoder and decoder), ``deep_channels`` (1/4 resolution: the residual blocks) and
    ``out_channels`` (the full-resolution decoder layer before the head) default, when 0, to 2×,
    4× and 1× ``base_channels``: the original layout, which every v1 style uses. Slim layouts
    taper the full-resolution decoder (where a conv costs 16× as much per channel as at 1/4).
    """

    base_channels: int = 32
    residual_blocks: int = 5
    mid_channels: int = 0
    deep_channels: int = 0
    out_channels: int = 0

    @property
    def widths(self) -> tuple[int, int, int, int]:
        """(full-res encoder, 1/2 res, 1/4 res, full-res decoder) channel counts."""
        c = self.base_channels
        return (
            c,
            self.mid_channels or 2 * c,
            self.deep_channels or 4 * c,
            self.out_channels or c,
        )

    def to_dict(self) -> dict[str, int]:
        """The parameters; widths left at their default are omitted (old manifests unchanged)."""
        data = asdict(self)
        for name in _WIDTHS:
            if not data[name]:
                del data[name]
        return data

    @classmethod
    def from_dict(cls, params: dict[str, object]) -> GeneratorConfig:
        known = {"base_channels", "residual_blocks", *_WIDTHS}
        unknown = set(params) - known
        if unknown:
            raise ValueError(f"unknown generator parameter(s): {', '.join(sorted(unknown))}")
        for key, value in params.items():
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(
                    f"generator parameter {key!r} must be a whole number, not {value!r}"
                )
        config = cls(**params)  # type: ignore[arg-type]
        if not 4 <= config.base_channels <= 256 or not 0 <= config.residual_blocks <= 32:
            raise ValueError("generator parameters out of range")
        if any(not (getattr(config, n) == 0 or 4 <= getattr(config, n) <= 1024) for n in _WIDTHS):
            raise ValueError("generator channel widths out of range")
        return config


class ConvNormAct(nn.Module):
    """Reflection pad → conv → instance norm → optional ReLU."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, act: bool = True):
        super().__init__()
        self.pad = nn.ReflectionPad2d(kernel // 2)
        self.conv = nn.Conv2d(cin, cout, kernel, stride)
        self.norm = StatsInstanceNorm(cout)
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.conv(self.pad(x)))
        return F.relu(x) if self.act else x


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            ConvNormAct(channels, channels, 3), ConvNormAct(channels, channels, 3, act=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class UpsampleConv(nn.Module):
    """Nearest ×2 upsample then conv: the checkerboard-free alternative to ConvTranspose2d."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.block = ConvNormAct(cin, cout, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Generator(nn.Module):
    """Image → stylised image, both ``(N, 3, H, W)`` in [0, 1]."""

    #: Input sizes must be multiples of this; ``forward`` pads and crops for other sizes.
    size_multiple = 4
    #: Smallest padded side: the 9×9 reflection padding needs more than 4 pixels.
    min_size = 8
    #: Pixels of context on each side that influence one output pixel (conservative bound).
    #: This class value is for the default config; instances set their own (it grows by 8 px
    #: per residual block: 3×3 convs at 1/4 resolution).
    receptive_radius = 56

    def __init__(self, config: GeneratorConfig | None = None) -> None:
        super().__init__()
        self.config = config or GeneratorConfig()
        self.receptive_radius = 16 + 8 * self.config.residual_blocks
        first, mid, deep, last = self.config.widths
        self.encoder = nn.Sequential(
            ConvNormAct(3, first, 9), ConvNormAct(first, mid, 3, 2), ConvNormAct(mid, deep, 3, 2)
        )
        self.residuals = nn.Sequential(
            *[ResidualBlock(deep) for _ in range(self.config.residual_blocks)]
        )
        self.decoder = nn.Sequential(UpsampleConv(deep, mid), UpsampleConv(mid, last))
        self.head = nn.Sequential(nn.ReflectionPad2d(4), nn.Conv2d(last, 3, 9))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        x = pad_to_multiple(x, self.size_multiple, minimum=self.min_size)
        y = self.head(self.decoder(self.residuals(self.encoder(x * 2.0 - 1.0))))
        y = torch.sigmoid(y)
        return y[..., :h, :w]


def pad_to_multiple(x: torch.Tensor, multiple: int, minimum: int = 0) -> torch.Tensor:
    """Pad bottom/right to a multiple of ``multiple``, and to at least ``minimum`` per side.

    Reflects when possible, else replicates. Returns ``x`` itself when no padding is needed.
    """
    h, w = x.shape[-2:]
    pad_h = max(h + (-h) % multiple, minimum + (-minimum) % multiple) - h
    pad_w = max(w + (-w) % multiple, minimum + (-minimum) % multiple) - w
    if not pad_h and not pad_w:
        return x
    mode = "reflect" if pad_h < h and pad_w < w else "replicate"
    return F.pad(x, (0, pad_w, 0, pad_h), mode=mode)
