"""Feature extractors for the perceptual losses.

Real training uses ``VGGFeatures`` (pretrained VGG19). Any ``nn.Module`` mapping an RGB [0, 1]
batch to ``{layer_name: tensor}`` can be injected instead; ``TinyFeatures`` is such a module with
random frozen weights, for tests only. Setting ``STYLESTUDIO_TEST_FEATURES=tiny`` makes
``build_feature_extractor`` return it (TEST HOOK: it lets the CLI be tested end to end without the
80 MB VGG weights; never use it for real training, the styles it makes are meaningless).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

ENV_TEST_FEATURES = "STYLESTUDIO_TEST_FEATURES"

#: VGG19 conv channels per block, and number of convs per block (for the timing proxy).
_VGG_BLOCKS = ((64, 2), (128, 2), (256, 4), (512, 4), (512, 4))


def _block_of(layer: str) -> int:
    return int(layer[4])  # "relu3_1" → 3


class TinyFeatures(nn.Module):
    """A small random conv stack with VGG's layer names ``relu1_1`` … ``relu5_1`` (tests only).

    Block *k* halves the resolution (except the first), like VGG, so layer sizes line up.
    """

    def __init__(self, layers: Sequence[str], seed: int = 1234, width: int = 8) -> None:
        super().__init__()
        self.layers = tuple(dict.fromkeys(layers))
        depth = max(_block_of(n) for n in self.layers)
        gen = torch.Generator().manual_seed(seed)
        convs = []
        cin = 3
        for k in range(depth):
            cout = width * min(2**k, 4)
            conv = nn.Conv2d(cin, cout, 3, padding=1)
            with torch.no_grad():
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen) / (3 * cin) ** 0.5)
                conv.bias.zero_()
            convs.append(conv)
            cin = cout
        self.convs = nn.ModuleList(convs)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> TinyFeatures:
        return super().train(False)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        h = x * 2.0 - 1.0
        found = {}
        for k, conv in enumerate(self.convs, start=1):
            if k > 1:
                h = F.avg_pool2d(h, 2)
            h = F.relu(conv(h))
            found[f"relu{k}_1"] = h
        return {name: found[name] for name in self.layers}


class VGGShapedProxy(nn.Module):
    """Random-weight network with VGG19's exact conv shapes: same cost, no weights needed.

    Used only to time training steps (``estimate.py``); its outputs mean nothing.
    """

    def __init__(self, layers: Sequence[str]) -> None:
        super().__init__()
        self.layers = tuple(dict.fromkeys(layers))
        depth = max(_block_of(n) for n in self.layers)
        self.blocks = nn.ModuleList()
        cin = 3
        for channels, convs in _VGG_BLOCKS[:depth]:
            block = nn.ModuleList()
            for _ in range(convs):
                block.append(nn.Conv2d(cin, channels, 3, padding=1))
                cin = channels
            self.blocks.append(block)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> VGGShapedProxy:
        return super().train(False)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        found = {}
        h = x
        for k, block in enumerate(self.blocks, start=1):
            if k > 1:
                h = F.max_pool2d(h, 2)
            for i, conv in enumerate(block):
                h = F.relu(conv(h))
                if i == 0:
                    found[f"relu{k}_1"] = h
        return {name: found[name] for name in self.layers}


def build_feature_extractor(
    layers: Sequence[str],
    vgg_weights: Path | None = None,
    *,
    allow_download: bool = True,
    progress: Callable[[float, str], None] | None = None,
) -> nn.Module:
    """VGG19 features for ``layers`` (WeightsUnavailableError when no weights can be found).

    ``progress`` hears about a download of the weights (and replaces the console bar).
    """
    if os.environ.get(ENV_TEST_FEATURES, "").strip().lower() == "tiny":
        return TinyFeatures(layers)
    from stylestudio.core.models.vgg import VGGFeatures, resolve_vgg_weights

    path = resolve_vgg_weights(vgg_weights, allow_download=allow_download, progress=progress)
    return VGGFeatures(list(layers), weights=path, allow_download=False)
