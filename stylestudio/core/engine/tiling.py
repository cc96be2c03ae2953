"""Tile plans and feathered blending for images too large to run through the network at once.

The padded image is cut into tiles whose origins and sizes are multiples of the network's size
multiple, overlapping by at least twice its receptive radius. Each pair of neighbours shares a
*cut* (a multiple of 4, at least one radius away from both tiles' edges): for statistics, a tile
owns exactly the pixels between its cuts (its *core*), so the cores partition the image; for the
output, a tile's weight is zero within a radius of an interior edge and ramps linearly across a
band centred on each cut, so neighbouring weights always sum to one.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

#: Origins and sizes of tiles are multiples of this (the Generator's downsampling factor).
TILE_MULTIPLE = 4
#: Receptive radius assumed for models that do not declare ``receptive_radius``.
DEFAULT_RADIUS = 56
#: Widest feather band centred on a cut, in pixels.
DEFAULT_FEATHER = 32


def _floor_to(value: float, multiple: int) -> int:
    return math.floor(value / multiple) * multiple


def _ceil_to(value: float, multiple: int) -> int:
    return math.ceil(value / multiple) * multiple


def model_radius(model: nn.Module) -> int:
    """The model's receptive radius (its ``receptive_radius`` attribute when present)."""
    return int(getattr(model, "receptive_radius", DEFAULT_RADIUS))


def model_multiple(model: nn.Module) -> int:
    """The size multiple tiles must respect: the model's, rounded up to a multiple of 4."""
    own = int(getattr(model, "size_multiple", TILE_MULTIPLE))
    return _ceil_to(max(own, 1), TILE_MULTIPLE) if own % TILE_MULTIPLE else own


def min_tile_size(radius: int, multiple: int = TILE_MULTIPLE) -> int:
    """The smallest tile with a usable core: two margins plus a 16-pixel stride."""
    return 2 * _ceil_to(radius, multiple) + 4 * multiple


@dataclass(frozen=True)
class Span:
    """One tile's extent along one axis, in padded-image pixels.

    ``cut_lo``/``cut_hi`` bound the pixels the tile owns for statistics. ``ramp_lo``/``ramp_hi``
    are the half-widths of the feather bands around those cuts; None on an image border.
    """

    start: int
    size: int
    cut_lo: int
    cut_hi: int
    ramp_lo: int | None
    ramp_hi: int | None

    @property
    def stop(self) -> int:
        return self.start + self.size

    def weights(self) -> torch.Tensor:
        """Per-pixel blend weight along this axis (float32, length ``size``)."""
        x = torch.arange(self.size, dtype=torch.float64) + self.start + 0.5
        w = torch.ones(self.size, dtype=torch.float64)
        if self.ramp_lo is not None:
            w = torch.minimum(w, _ramp(x - self.cut_lo, self.ramp_lo))
        if self.ramp_hi is not None:
            w = torch.minimum(w, _ramp(self.cut_hi - x, self.ramp_hi))
        return w.float()


def _ramp(distance: torch.Tensor, half: int) -> torch.Tensor:
    """0 → 1 across ``[-half, half]`` of signed distance past a cut (a step when half is 0)."""
    if half <= 0:
        return (distance > 0).double()
    return ((distance + half) / (2 * half)).clamp(0.0, 1.0)


@dataclass(frozen=True)
class Tile:
    rows: Span
    cols: Span

    @property
    def top(self) -> int:
        return self.rows.start

    @property
    def left(self) -> int:
        return self.cols.start

    @property
    def height(self) -> int:
        return self.rows.size

    @property
    def width(self) -> int:
        return self.cols.size

    @property
    def core(self) -> tuple[int, int, int, int]:
        """The owned region ``(top, bottom, left, right)`` in tile coordinates."""
        r, c = self.rows, self.cols
        return (r.cut_lo - r.start, r.cut_hi - r.start, c.cut_lo - c.start, c.cut_hi - c.start)

    def weights(self) -> torch.Tensor:
        """2-D blend weights ``(height, width)``."""
        return self.rows.weights()[:, None] * self.cols.weights()[None, :]


@dataclass(frozen=True)
class TilePlan:
    height: int
    width: int
    tile_size: int
    radius: int
    tiles: tuple[Tile, ...]

    def __len__(self) -> int:
        return len(self.tiles)


def _axis_spans(length: int, tile: int, margin: int, feather: int, multiple: int) -> list[Span]:
    if length <= tile:
        return [Span(0, length, 0, length, None, None)]
    # Stride so that neighbours overlap by two margins plus a feather band (none for small
    # tiles, where it would multiply the tile count; exact statistics make it optional).
    band = min(feather, _floor_to((tile - 2 * margin) / 4 - multiple, multiple))
    band = max(band, 0)
    max_stride = tile - 2 * margin - band
    count = math.ceil((length - tile) / max_stride) + 1
    step = (length - tile) / (count - 1)
    starts = [_floor_to(i * step, multiple) for i in range(count - 1)] + [length - tile]
    # Cut between neighbours: the overlap's midpoint, on the grid; ≥ margin from both edges.
    cuts = [0]
    for prev, cur in itertools.pairwise(starts):
        cuts.append(_floor_to((cur + prev + tile) / 2, multiple))
    cuts.append(length)
    halves: list[int | None] = [None]
    for i in range(1, count):
        cut = cuts[i]
        room = min(cut - (starts[i] + margin), starts[i - 1] + tile - margin - cut)
        gaps = min(cut - cuts[i - 1], cuts[i + 1] - cut) // 2
        halves.append(max(0, min(feather // 2, room, gaps)))
    halves.append(None)
    return [
        Span(starts[i], tile, cuts[i], cuts[i + 1], halves[i], halves[i + 1]) for i in range(count)
    ]


def plan_tiles(
    height: int,
    width: int,
    tile_size: int,
    radius: int = DEFAULT_RADIUS,
    *,
    feather: int = DEFAULT_FEATHER,
    multiple: int = TILE_MULTIPLE,
) -> TilePlan:
    """Tiles covering a padded ``height`` × ``width`` image (both multiples of ``multiple``).

    ``tile_size`` is rounded down to the grid and raised to ``min_tile_size(radius)``.
    """
    if height % multiple or width % multiple:
        raise ValueError(f"image size {height}x{width} is not a multiple of {multiple}")
    margin = _ceil_to(radius, multiple)
    tile = max(_floor_to(tile_size, multiple), min_tile_size(radius, multiple))
    rows = _axis_spans(height, tile, margin, feather, multiple)
    cols = _axis_spans(width, tile, margin, feather, multiple)
    tiles = tuple(Tile(r, c) for r in rows for c in cols)
    return TilePlan(height, width, tile, radius, tiles)


def choose_tile_size(
    height: int,
    width: int,
    bytes_per_pixel: float,
    budget_bytes: float,
    *,
    minimum: int,
    multiple: int = 64,
) -> int:
    """0 (run untiled) when the image fits ``budget_bytes``, else the largest tile that fits."""
    if height * width * bytes_per_pixel <= budget_bytes:
        return 0
    side = _floor_to(math.sqrt(max(budget_bytes, 0.0) / bytes_per_pixel), multiple)
    return max(side, minimum)


def estimate_bytes_per_pixel(model: nn.Module, element_size: int = 4) -> float:
    """Rough peak activation memory per input pixel.

    The widest full-resolution layer (the first convolution's output) dominates; a few such
    tensors are alive at once (padding, convolution, norm, activation, float64 statistics).
    """
    channels = 32
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            channels = module.out_channels
            break
    return float(channels * element_size * 12 + 64)


def crop(x: torch.Tensor, tile: Tile) -> torch.Tensor:
    """The tile's region of an ``(N, C, H, W)`` tensor."""
    return x[..., tile.top : tile.top + tile.height, tile.left : tile.left + tile.width]


def blend_tiles(
    x: torch.Tensor,
    plan: TilePlan,
    run: Callable[[torch.Tensor], torch.Tensor],
    before_tile: Callable[[int], None] | None = None,
) -> torch.Tensor:
    """Run ``run`` on every tile of ``x`` (1, 3, H, W) and blend the outputs with feathering.

    ``run`` maps an input tile to an output tile of the same size (float32, CPU).
    ``before_tile(index)`` is called before each tile (progress and cancellation).
    """
    out = torch.zeros((x.shape[0], 3, plan.height, plan.width), dtype=torch.float32)
    total = torch.zeros((plan.height, plan.width), dtype=torch.float32)
    for index, tile in enumerate(plan.tiles):
        if before_tile is not None:
            before_tile(index)
        result = run(crop(x, tile))
        weights = tile.weights()
        rows = slice(tile.top, tile.top + tile.height)
        cols = slice(tile.left, tile.left + tile.width)
        out[..., rows, cols] += result * weights
        total[rows, cols] += weights
    return out / total.clamp_min(1e-12)
