"""Gatys et al. (2016) optimisation-based style transfer: the quality ceiling of the benchmark.

The pixels of the photo itself are optimised (L-BFGS or Adam, a fixed number of iterations) to
minimise ``content_weight · content + style_weight · style``, where both terms are exactly the
scale-free distances of ``metrics`` (relu4_1 content, relu1_1…relu5_1 relative Gram), so the
weights mean the same whatever VGG weights file is used. With several ``style_scales`` the style
term is the mean over scales, the picture and the painting both resized by each scale first, as
the trainer's multi-scale style loss does (``training.step.multi_scale_style_loss``). Pixels are
kept in [0, 1] by clamping before every evaluation. Deterministic on the CPU for a given input
(nothing is random).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from stylestudio.core.quality.images import QualityBenchError, to_array, to_tensor
from stylestudio.core.quality.metrics import (
    CONTENT_LAYER,
    STYLE_LAYERS,
    relative_content_distance,
    relative_gram_distance,
)
from stylestudio.core.training import losses
from stylestudio.core.training.config import valid_style_scales
from stylestudio.core.training.data import resize_long_side
from stylestudio.core.training.step import gram_targets, swd_targets


class GatysOptimizer(str, enum.Enum):
    LBFGS = "lbfgs"
    ADAM = "adam"


@dataclass(frozen=True)
class GatysConfig:
    iterations: int = 100
    optimizer: GatysOptimizer = GatysOptimizer.LBFGS
    content_weight: float = 1.0
    style_weight: float = 3.0
    adam_lr: float = 0.02
    lbfgs_history: int = 50
    style_layers: tuple[str, ...] = STYLE_LAYERS
    content_layer: str = CONTENT_LAYER
    style_scales: tuple[float, ...] = (1.0,)  # Gram terms at these fractions of the size
    # The trainer's two distribution terms (``training.losses``), off by default: the sliced
    # Wasserstein distance of the VGG feature vectors (style layers) and of the pixel colours.
    swd_weight: float = 0.0
    color_weight: float = 0.0

    def validated(self) -> GatysConfig:
        if not valid_style_scales(self.style_scales):
            raise QualityBenchError("Gatys style scales must be numbers between 0.05 and 2.")
        if self.iterations < 1:
            raise QualityBenchError(f"Gatys needs at least 1 iteration, not {self.iterations}.")
        if self.content_weight < 0 or self.style_weight <= 0:
            raise QualityBenchError("Gatys weights must be ≥ 0 (content) and > 0 (style).")
        if self.swd_weight < 0 or self.color_weight < 0:
            raise QualityBenchError("Gatys distribution weights (features, colours) must be ≥ 0.")
        return self


@dataclass(frozen=True)
class GatysResult:
    image: np.ndarray
    loss_start: float
    loss_end: float
    evaluations: int  # forward + backward passes of the feature network
    seconds: float


def _scaled(image: torch.Tensor, scale: float) -> torch.Tensor:
    """``(1, 3, H, W)`` resized by ``scale`` exactly as ``gram_targets`` resizes the painting."""
    long_side = max(16, round(max(image.shape[-2:]) * scale))
    return resize_long_side(image[0], long_side, enlarge=True).unsqueeze(0)


def _style_distance(
    features: nn.Module,
    x: torch.Tensor,
    out: Mapping[str, torch.Tensor],
    grams: Mapping[float, Mapping[str, torch.Tensor]],
) -> torch.Tensor:
    """Mean over scales of the mean relative Gram distance (``out``: the features at scale 1)."""
    per_scale = []
    for scale, targets in grams.items():
        feats = out if scale == 1.0 else features(_scaled(x, scale))
        per_scale.append(torch.stack(list(relative_gram_distance(feats, targets).values())).mean())
    return torch.stack(per_scale).mean()


def gatys_transfer(
    photo: np.ndarray,
    painting: np.ndarray,
    features: nn.Module,
    config: GatysConfig | None = None,
    *,
    device: str | torch.device = "cpu",
    progress: Callable[[int, int], None] | None = None,
) -> GatysResult:
    """Optimise ``photo`` towards ``painting``'s style with the feature network ``features``."""
    cfg = (config or GatysConfig()).validated()
    start = time.perf_counter()
    device = torch.device(device)
    with torch.no_grad():
        painting_t = to_tensor(painting, device)[0]
        grams = gram_targets(features, painting_t, cfg.style_scales, cfg.style_layers, device)
        content = features(to_tensor(photo, device))[cfg.content_layer]
        if cfg.swd_weight:
            swd_directions, swd_goal = swd_targets(
                features, [painting_t], cfg.style_layers, 0, device
            )
        if cfg.color_weight:
            color_directions = losses.color_projections().to(device)
            color_goal = losses.sorted_colors(painting_t, color_directions)
    x = to_tensor(photo, device).requires_grad_(True)
    evaluations = 0
    first: list[float] = []

    def objective() -> torch.Tensor:
        nonlocal evaluations
        with torch.no_grad():
            x.clamp_(0.0, 1.0)
        out = features(x)
        style = _style_distance(features, x, out, grams)
        loss = cfg.style_weight * style
        if cfg.swd_weight:
            loss = loss + cfg.swd_weight * losses.swd_loss(out, swd_goal, swd_directions)
        if cfg.color_weight:
            loss = loss + cfg.color_weight * losses.color_loss(x, color_goal, color_directions)
        if cfg.content_weight:
            loss = loss + cfg.content_weight * relative_content_distance(
                out[cfg.content_layer], content
            )
        evaluations += 1
        if not first:
            first.append(float(loss.detach()))
        return loss

    if cfg.optimizer is GatysOptimizer.LBFGS:
        optimizer: torch.optim.Optimizer = torch.optim.LBFGS(
            [x],
            lr=1.0,
            max_iter=cfg.iterations,
            max_eval=round(cfg.iterations * 1.25),
            history_size=cfg.lbfgs_history,
            tolerance_grad=0.0,
            tolerance_change=0.0,
            line_search_fn="strong_wolfe",
        )

        def closure() -> torch.Tensor:
            optimizer.zero_grad(set_to_none=True)
            loss = objective()
            loss.backward()
            if progress is not None:
                progress(min(evaluations, cfg.iterations), cfg.iterations)
            return loss

        optimizer.step(closure)
    else:
        optimizer = torch.optim.Adam([x], lr=cfg.adam_lr)
        for i in range(cfg.iterations):
            optimizer.zero_grad(set_to_none=True)
            objective().backward()
            optimizer.step()
            if progress is not None:
                progress(i + 1, cfg.iterations)
    with torch.no_grad():
        x.clamp_(0.0, 1.0)
        final = float(objective())
    return GatysResult(
        image=to_array(x),
        loss_start=first[0],
        loss_end=final,
        evaluations=evaluations - 1,
        seconds=time.perf_counter() - start,
    )
