"""Hand-written image filters that the built-in styles are distilled from.

The painting and VGG data a perceptual/GAN style needs were not available when the first built-in
styles were made, so StyleStudio's built-ins are generators *trained to reproduce* these
deterministic filters (see ``distill_style``). The filters are local (small receptive field), so
the generator learns them well, and a distilled network runs tiled and at any size like any style.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch.nn import functional as F


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = max(1, math.ceil(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-(t * t) / (2 * sigma * sigma))
    k = k / k.sum()
    c = x.shape[1]
    x = F.pad(x, (radius, radius, radius, radius), mode="reflect")
    x = F.conv2d(x, k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def _luma(x: torch.Tensor) -> torch.Tensor:
    return (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]).clamp(0, 1)


def _xdog(lum: torch.Tensor, sigma: float, k: float, tau: float, eps: float, phi: float):
    """Extended difference of Gaussians (Winnemöller et al. 2012): soft ink lines, 1 = paper."""
    d = _gaussian_blur(lum, sigma) - tau * _gaussian_blur(lum, sigma * k)
    return torch.where(d >= eps, torch.ones_like(d), 1 + torch.tanh(phi * (d - eps))).clamp(0, 1)


def _soft_quantize(v: torch.Tensor, levels: int, sharpness: float) -> torch.Tensor:
    """Posterise values in [0, 1] into ``levels`` bands with smooth transitions."""
    scaled = v * (levels - 1)
    base = torch.floor(scaled)
    frac = scaled - base
    step = torch.sigmoid(sharpness * (frac - 0.5))
    return ((base + step) / (levels - 1)).clamp(0, 1)


def ink_wash(x: torch.Tensor) -> torch.Tensor:
    """Ink lines over a soft, posterised, lightened watercolour wash on warm paper."""
    smooth = _gaussian_blur(x, 1.5)
    lum = _luma(smooth)
    chroma = smooth / lum.clamp_min(0.04)
    chroma = 1.0 + 0.6 * (chroma.clamp(0, 3) - 1.0)  # softer colour, like a wash
    q = _soft_quantize(lum, 5, 10.0)
    light = 0.3 + 0.75 * q  # lift the shadows: washes are transparent
    paper = torch.tensor([1.0, 0.96, 0.87], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    wash = (chroma * light).clamp(0, 1) * paper
    lines = _xdog(_luma(x), sigma=1.0, k=1.6, tau=0.98, eps=0.03, phi=30.0)
    return (wash * (0.2 + 0.8 * lines)).clamp(0, 1)


def pencil_sketch(x: torch.Tensor) -> torch.Tensor:
    """Graphite sketch: fine XDoG strokes and banded shading on grey-white paper."""
    lum = _luma(x)
    strokes = _xdog(lum, sigma=0.8, k=1.6, tau=0.98, eps=0.01, phi=25.0)
    shade = _soft_quantize(_gaussian_blur(lum, 2.0), 4, 8.0)
    tone = 0.62 + 0.4 * shade
    grey = (tone * (0.1 + 0.9 * strokes)).clamp(0, 1)
    tint = torch.tensor([0.97, 0.97, 1.0], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return grey * tint


FILTERS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "ink-wash": ink_wash,
    "pencil-sketch": pencil_sketch,
}
