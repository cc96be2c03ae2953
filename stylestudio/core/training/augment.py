"""Differentiable augmentation for the discriminator's inputs (DiffAugment-style).

With one or a few style images the discriminator would soon memorise the real patches and stop
giving the generator useful gradients. Every real *and* generated batch therefore goes through the
same kinds of random colour, translation and cutout changes (independent draws per batch) before
the discriminator sees it. All operations are differentiable with respect to the image, so the
generator still learns through them. Randomness comes from an explicit CPU ``torch.Generator``
(identical results on every device, reproducible across checkpoint/resume).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.nn import functional as F


def _rand(n: int, gen: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    return torch.rand(n, 1, 1, 1, generator=gen).to(device=like.device, dtype=like.dtype)


def color(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random brightness (±0.5), saturation (×0..2) and contrast (×0.5..1.5)."""
    n = x.shape[0]
    x = x + (_rand(n, gen, x) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_rand(n, gen, x) * 2.0) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_rand(n, gen, x) + 0.5) + mean


def translation(x: torch.Tensor, gen: torch.Generator, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to ``ratio`` of its size, filling with zeros."""
    n, _, h, w = x.shape
    ph, pw = max(1, int(h * ratio)), max(1, int(w * ratio))
    dy = torch.randint(-ph, ph + 1, (n,), generator=gen).tolist()
    dx = torch.randint(-pw, pw + 1, (n,), generator=gen).tolist()
    padded = F.pad(x, (pw, pw, ph, ph))
    rows = [
        padded[i : i + 1, :, ph - dy[i] : ph - dy[i] + h, pw - dx[i] : pw - dx[i] + w]
        for i in range(n)
    ]
    return torch.cat(rows, dim=0)


def cutout(x: torch.Tensor, gen: torch.Generator, ratio: float = 0.5) -> torch.Tensor:
    """Zero one random square (``ratio`` of the size) per image."""
    n, _, h, w = x.shape
    ch, cw = max(1, int(h * ratio)), max(1, int(w * ratio))
    top = torch.randint(0, h - ch + 1, (n,), generator=gen).tolist()
    left = torch.randint(0, w - cw + 1, (n,), generator=gen).tolist()
    mask = torch.ones(n, 1, h, w)
    for i in range(n):
        mask[i, :, top[i] : top[i] + ch, left[i] : left[i] + cw] = 0.0
    return x * mask.to(device=x.device, dtype=x.dtype)


_OPS = {"color": color, "translation": translation, "cutout": cutout}


def diff_augment(x: torch.Tensor, kinds: Sequence[str], gen: torch.Generator) -> torch.Tensor:
    """Apply the named augmentations in a fixed order (``color``, ``translation``, ``cutout``)."""
    for name in ("color", "translation", "cutout"):
        if name in kinds:
            x = _OPS[name](x, gen)
    return x
