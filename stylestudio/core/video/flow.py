"""A cheap dense optical flow (pyramidal Lucas–Kanade at low resolution) and warping, in torch.

Good enough to carry the previous stylised frame along a slow pan or zoom; where it is wrong
(occlusions, fast motion, cuts) the warped input disagrees with the real one, and
:func:`warp_confidence` turns that disagreement into a weight of 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

_LUMA = (0.299, 0.587, 0.114)


@dataclass(frozen=True)
class FlowConfig:
    """``max_side``: the long side the flow is computed at; ``levels`` of the pyramid (each
    halves the size); ``iterations`` per level; ``window`` of the local least squares (odd);
    ``damping``: Tikhonov term that keeps the flow at 0 where the image is flat."""

    max_side: int = 256
    levels: int = 3
    iterations: int = 3
    window: int = 9
    damping: float = 1e-4


def gray(image: torch.Tensor) -> torch.Tensor:
    """(1, 3, H, W) RGB → (1, 1, H, W) luma."""
    weights = torch.tensor(_LUMA, dtype=image.dtype, device=image.device).view(1, 3, 1, 1)
    return (image * weights).sum(dim=1, keepdim=True)


def downscale(image: torch.Tensor, max_side: int) -> torch.Tensor:
    """``image`` with its long side at most ``max_side`` (area average)."""
    h, w = image.shape[-2:]
    factor = min(1.0, max_side / max(h, w))
    if factor >= 1.0:
        return image
    size = (max(1, round(h * factor)), max(1, round(w * factor)))
    return F.interpolate(image, size=size, mode="area")


def _base_grid(h: int, w: int, device: torch.device) -> torch.Tensor:
    ys, xs = torch.meshgrid(
        torch.arange(h, dtype=torch.float32, device=device),
        torch.arange(w, dtype=torch.float32, device=device),
        indexing="ij",
    )
    return torch.stack((xs, ys), dim=-1)[None]  # (1, H, W, 2) in pixels, x first


def warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Sample ``image`` (N, C, H, W) at ``p + flow(p)``; ``flow`` is (N, 2, H, W) in pixels
    (x, y), border pixels repeated outside."""
    n, _c, h, w = image.shape
    grid = _base_grid(h, w, image.device) + flow.permute(0, 2, 3, 1)
    gx = grid[..., 0] * (2.0 / max(w - 1, 1)) - 1.0
    gy = grid[..., 1] * (2.0 / max(h - 1, 1)) - 1.0
    grid = torch.stack((gx, gy), dim=-1).expand(n, h, w, 2)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=True)


def _box(x: torch.Tensor, size: int) -> torch.Tensor:
    pad = size // 2
    return F.avg_pool2d(F.pad(x, (pad, pad, pad, pad), mode="replicate"), size, stride=1)


def _gradients(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    padded = F.pad(x, (1, 1, 1, 1), mode="replicate")
    gx = (padded[..., 1:-1, 2:] - padded[..., 1:-1, :-2]) * 0.5
    gy = (padded[..., 2:, 1:-1] - padded[..., :-2, 1:-1]) * 0.5
    return gx, gy


def _refine(
    current: torch.Tensor, previous: torch.Tensor, flow: torch.Tensor, config: FlowConfig
) -> torch.Tensor:
    """Lucas–Kanade iterations at one level: ``previous(p + flow) ≈ current(p)``."""
    for _ in range(config.iterations):
        moved = warp(previous, flow)
        gx, gy = _gradients((moved + current) * 0.5)
        diff = current - moved
        sxx = _box(gx * gx, config.window) + config.damping
        syy = _box(gy * gy, config.window) + config.damping
        sxy = _box(gx * gy, config.window)
        bx = _box(gx * diff, config.window)
        by = _box(gy * diff, config.window)
        det = (sxx * syy - sxy * sxy).clamp_min(1e-12)
        dx = (syy * bx - sxy * by) / det
        dy = (sxx * by - sxy * bx) / det
        flow = flow + torch.cat((dx, dy), dim=1).clamp(-2.0, 2.0)
    return flow


def estimate_flow(
    current: torch.Tensor, previous: torch.Tensor, config: FlowConfig = FlowConfig()
) -> torch.Tensor:
    """Backward flow (1, 2, h, w) in pixels of the given luma images (1, 1, h, w): where each
    pixel of ``current`` was in ``previous``."""
    pyramid = [(current, previous)]
    for _ in range(config.levels - 1):
        c, p = pyramid[-1]
        if min(c.shape[-2:]) < 2 * config.window:
            break
        pyramid.append((F.avg_pool2d(c, 2, ceil_mode=True), F.avg_pool2d(p, 2, ceil_mode=True)))
    c, _p = pyramid[-1]
    flow = torch.zeros((1, 2, *c.shape[-2:]), dtype=current.dtype, device=current.device)
    for level, (c, p) in enumerate(reversed(pyramid)):
        if level:
            sy = c.shape[-2] / flow.shape[-2]
            sx = c.shape[-1] / flow.shape[-1]
            flow = F.interpolate(flow, size=c.shape[-2:], mode="bilinear", align_corners=False)
            flow = flow * torch.tensor((sx, sy), dtype=flow.dtype).view(1, 2, 1, 1)
        flow = _refine(c, p, flow, config)
    return flow


def upscale_flow(flow: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A low-resolution flow resized to ``size`` (H, W), its vectors scaled to match."""
    sy = size[0] / flow.shape[-2]
    sx = size[1] / flow.shape[-1]
    up = F.interpolate(flow, size=size, mode="bilinear", align_corners=False)
    return up * torch.tensor((sx, sy), dtype=flow.dtype, device=flow.device).view(1, 2, 1, 1)


def warp_confidence(
    current: torch.Tensor, warped_previous: torch.Tensor, low: float, high: float
) -> torch.Tensor:
    """1 where the warped previous input matches the current one to within ``low`` (mean
    absolute difference per pixel, smoothed over 3×3), 0 from ``high`` on, linear between."""
    error = _box((current - warped_previous).abs().mean(dim=1, keepdim=True), 3)
    return ((high - error) / max(high - low, 1e-6)).clamp(0.0, 1.0)
