"""Painting a region mask with a round brush (numpy only; the canvas feeds it mouse positions).

The mask is uint8 (0 = original, 255 = styled). A stroke keeps its own coverage (the maximum of
its dabs, so a soft edge stays soft however densely the mouse reports positions) and computes the
mask under it from the mask as it was when the stroke began: the brush lays the style over it
(``m + (1 - m) * c``), the eraser takes it away (``m * (1 - c)``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

#: Brush diameter limits, as a fraction of the photo's long side.
MIN_SIZE = 0.002
MAX_SIZE = 0.5
DEFAULT_SIZE = 0.05
DEFAULT_SOFTNESS = 0.5
SIZE_STEP = 1.25  # `[` and `]` divide or multiply the size by this (see mask_toolbar)


class Tool(enum.Enum):
    BRUSH = "brush"  # paints where the style applies
    ERASER = "eraser"  # takes the style away


@dataclass(frozen=True)
class BrushSettings:
    """``size``: diameter as a fraction of the photo's long side; ``softness`` 0 (hard) – 1."""

    tool: Tool = Tool.BRUSH
    size: float = DEFAULT_SIZE
    softness: float = DEFAULT_SOFTNESS

    def clamped(self) -> BrushSettings:
        return BrushSettings(
            self.tool,
            min(MAX_SIZE, max(MIN_SIZE, float(self.size))),
            min(1.0, max(0.0, float(self.softness))),
        )

    def radius_px(self, mask_shape: tuple[int, ...]) -> float:
        return max(0.5, self.size * max(mask_shape[:2]) / 2)


@dataclass(frozen=True)
class Rect:
    """A pixel rectangle of the mask: rows ``top:bottom``, columns ``left:right``."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.top, self.bottom), slice(self.left, self.right)

    def united(self, other: Rect | None) -> Rect:
        if other is None:
            return self
        return Rect(
            min(self.left, other.left),
            min(self.top, other.top),
            max(self.right, other.right),
            max(self.bottom, other.bottom),
        )

    def is_empty(self) -> bool:
        return self.right <= self.left or self.bottom <= self.top


def full_rect(mask: np.ndarray) -> Rect:
    return Rect(0, 0, int(mask.shape[1]), int(mask.shape[0]))


def _falloff(distance: np.ndarray, radius: float, softness: float) -> np.ndarray:
    """Coverage 1 inside the hard core, smoothstep to 0 at ``radius`` (at least 1 px wide)."""
    ramp = max(radius * softness, 1.0)
    t = np.clip((radius - distance) / ramp, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _segment_distance(
    xs: np.ndarray, ys: np.ndarray, a: tuple[float, float], b: tuple[float, float]
) -> np.ndarray:
    """Distance of pixel centres (xs, ys) to the segment a–b."""
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    length2 = dx * dx + dy * dy
    px, py = xs - ax, ys - ay
    if length2 <= 1e-12:
        return np.hypot(px, py)
    t = np.clip((px * dx + py * dy) / length2, 0.0, 1.0)
    return np.hypot(px - t * dx, py - t * dy)


class Stroke:
    """One press–drag–release on ``mask`` (uint8, changed in place); see the module docstring.

    Positions are in mask pixels (x right, y down; pixel centres at +0.5).
    """

    def __init__(self, mask: np.ndarray, settings: BrushSettings) -> None:
        if mask.dtype != np.uint8 or mask.ndim != 2:
            raise ValueError("a mask to paint on is a 2-D uint8 array")
        self.mask = mask
        self.settings = settings.clamped()
        self.radius = self.settings.radius_px(mask.shape)
        self._before = mask.copy()
        self._coverage = np.zeros(mask.shape, np.float32)
        self._last: tuple[float, float] | None = None
        self.dirty: Rect | None = None

    def add_point(self, x: float, y: float) -> Rect | None:
        """Paint from the previous point to (x, y); the changed rectangle (None: off the mask)."""
        start = self._last if self._last is not None else (x, y)
        self._last = (x, y)
        return self._segment(start, (x, y))

    def _segment(self, a: tuple[float, float], b: tuple[float, float]) -> Rect | None:
        h, w = self.mask.shape
        reach = self.radius + 1.0
        rect = Rect(
            max(0, int(np.floor(min(a[0], b[0]) - reach))),
            max(0, int(np.floor(min(a[1], b[1]) - reach))),
            min(w, int(np.ceil(max(a[0], b[0]) + reach))),
            min(h, int(np.ceil(max(a[1], b[1]) + reach))),
        )
        if rect.is_empty():
            return None
        rows, cols = rect.slices
        ys = np.arange(rect.top, rect.bottom, dtype=np.float32)[:, None] + 0.5
        xs = np.arange(rect.left, rect.right, dtype=np.float32)[None, :] + 0.5
        dab = _falloff(_segment_distance(xs, ys, a, b), self.radius, self.settings.softness)
        coverage = np.maximum(self._coverage[rows, cols], dab, out=self._coverage[rows, cols])
        before = self._before[rows, cols].astype(np.float32)
        if self.settings.tool is Tool.BRUSH:
            after = before + (255.0 - before) * coverage
        else:
            after = before * (1.0 - coverage)
        self.mask[rows, cols] = np.rint(after).astype(np.uint8)
        self.dirty = rect.united(self.dirty)
        return rect

    def before(self, rect: Rect) -> np.ndarray:
        """The mask under ``rect`` as it was when the stroke began (a copy)."""
        return self._before[rect.slices].copy()


def mask_shape_for(width: int, height: int, max_side: int) -> tuple[int, int]:
    """(rows, columns) of the mask kept for a ``width`` × ``height`` photo: the photo's own
    size, or smaller with the same aspect so that the long side is at most ``max_side``."""
    scale = min(1.0, max_side / max(width, height, 1))
    return max(1, round(height * scale)), max(1, round(width * scale))
