"""PatchGAN discriminator: a spectral-normalised conv stack giving a map of real/fake logits.

Each output logit judges one overlapping patch (70×70 pixels with the default 3 strided layers),
which is what style needs: local texture and brushwork, not global layout.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


@dataclass(frozen=True)
class DiscriminatorConfig:
    base_channels: int = 64
    strided_layers: int = 3

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


class PatchDiscriminator(nn.Module):
    """``(N, 3, H, W)`` in [0, 1] → ``(N, 1, h, w)`` logits (positive = looks like the style)."""

    def __init__(self, config: DiscriminatorConfig | None = None) -> None:
        super().__init__()
        self.config = config or DiscriminatorConfig()
        c = self.config.base_channels
        layers: list[nn.Module] = [spectral_norm(nn.Conv2d(3, c, 4, 2, 1)), nn.LeakyReLU(0.2)]
        channels = c
        for i in range(1, self.config.strided_layers):
            out = min(c * 2**i, 8 * c)
            layers += [spectral_norm(nn.Conv2d(channels, out, 4, 2, 1)), nn.LeakyReLU(0.2)]
            channels = out
        out = min(channels * 2, 8 * c)
        layers += [spectral_norm(nn.Conv2d(channels, out, 4, 1, 1)), nn.LeakyReLU(0.2)]
        layers += [spectral_norm(nn.Conv2d(out, 1, 4, 1, 1))]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 2.0 - 1.0)
