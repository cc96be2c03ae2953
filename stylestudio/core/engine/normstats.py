"""Whole-image instance-norm statistics for tiled inference.

Plain instance norm on a tile normalises with that tile's statistics, so tiles disagree (seams,
colour shifts). Instead, the statistics of every norm layer are computed for the whole image.

``exact_stats`` (the default) does it layer by layer: pass *k* runs every tile with the exact
statistics of layers ``0..k-1`` fixed, records the input of layer *k* over the tile's core (the
cores partition the image) and stops the forward there. Each pass is exact because everything
before layer *k* is; the cost is about half a network pass per norm layer. (The engine uses
``staged`` instead for Generators: it caches the 1/4-resolution activations and costs far less.)

``iterated_stats`` is the cheaper-looking alternative: statistics of a downscaled copy of the
image, then full-resolution passes that re-record every layer with the current statistics fixed.
Undamped, this diverges before it converges (a layer's recorded statistics describe activations
produced with its predecessors' *old* statistics, and the mismatch compounds through the
network); damped by ``mix`` it converges, but needs several full passes (see the engine tests).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

from stylestudio.core.engine.tiling import TilePlan, crop
from stylestudio.core.models.generator import pad_to_multiple
from stylestudio.core.models.norm import StatsRecorder, fixed_stats, recording, stats_norms

Stats = dict[int, tuple[torch.Tensor, torch.Tensor]]
RunFn = Callable[[torch.Tensor], torch.Tensor]
TileHook = Callable[[int], None]


class _StopForward(Exception):
    """Raised by a pre-hook once the layer being measured has been recorded."""


def norm_layer_count(model: nn.Module) -> int:
    """How many norm layers can use whole-image statistics (0: per-tile norm only)."""
    return len(stats_norms(model))


def exact_stats(
    model: nn.Module,
    x: torch.Tensor,
    plan: TilePlan,
    run: RunFn,
    before_tile: Callable[[int, int], None] | None = None,
) -> Stats:
    """Exact whole-image statistics, one truncated pass over the tiles per norm layer.

    Norm layers are assumed to run in registration order (true for the Generator).
    ``before_tile(layer, tile)`` is called before each tile (progress and cancellation).
    """
    stats: Stats = {}
    for norm in stats_norms(model):
        layer = norm.layer_id
        recorder = StatsRecorder()

        def stop_here(module: nn.Module, args: tuple[torch.Tensor, ...], r=recorder, k=layer):
            r.record(k, args[0])
            raise _StopForward

        handle = norm.register_forward_pre_hook(stop_here)
        try:
            with fixed_stats(model, stats):
                for index, tile in enumerate(plan.tiles):
                    if before_tile is not None:
                        before_tile(layer, index)
                    recorder.input_size = (tile.height, tile.width)
                    recorder.core = tile.core
                    with contextlib.suppress(_StopForward):
                        run(crop(x, tile))
        finally:
            handle.remove()
        stats.update(recorder.frozen())
    return stats


def initial_stats(
    model: nn.Module, x: torch.Tensor, run: RunFn, max_pixels: int, multiple: int = 4
) -> Stats:
    """Statistics of a downscaled copy of the whole image (at most ``max_pixels``)."""
    h, w = x.shape[-2:]
    factor = min(1.0, math.sqrt(max_pixels / float(h * w)))
    if factor < 1.0:
        size = (max(multiple, round(h * factor)), max(multiple, round(w * factor)))
        x = F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
    x = pad_to_multiple(x, multiple)
    recorder = StatsRecorder(input_size=(x.shape[-2], x.shape[-1]), core=None)
    with recording(model, recorder):
        run(x)
    return recorder.frozen()


def refine_stats(
    model: nn.Module,
    x: torch.Tensor,
    plan: TilePlan,
    stats: Stats,
    run: RunFn,
    before_tile: TileHook | None = None,
    mix: float = 0.5,
) -> Stats:
    """One iterated pass: every tile with ``stats`` fixed, recording over the tile cores.

    The result moves ``mix`` of the way from ``stats`` to the recorded statistics.
    """
    recorder = StatsRecorder()
    with fixed_stats(model, stats), recording(model, recorder):
        for index, tile in enumerate(plan.tiles):
            if before_tile is not None:
                before_tile(index)
            recorder.input_size = (tile.height, tile.width)
            recorder.core = tile.core
            run(crop(x, tile))
    recorded = recorder.frozen()
    mixed: Stats = {}
    for layer, (mean, var) in recorded.items():
        old_mean, old_var = stats.get(layer, (mean, var))
        old_mean, old_var = old_mean.to(mean.device), old_var.to(var.device)
        mixed[layer] = (old_mean + mix * (mean - old_mean), old_var + mix * (var - old_var))
    return mixed
