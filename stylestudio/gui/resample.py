"""Downscaling photos for previews (numpy/PIL only, runs in worker threads)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from stylestudio.gui.qimage import to_uint8


def fitted_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """(w, h) scaled down so that the long side is at most ``max_side`` (never up)."""
    if not max_side or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def downscale(rgb: np.ndarray, max_side: int | None) -> np.ndarray:
    """float32 (H, W, 3) fitted into ``max_side`` (the same array when already small enough)."""
    height, width = rgb.shape[:2]
    size = fitted_size(width, height, max_side)
    if size == (width, height):
        return rgb
    image = Image.fromarray(to_uint8(rgb), "RGB")
    small = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return np.asarray(small, dtype=np.float32) / np.float32(255.0)


def quick_view(array: np.ndarray, max_side: int) -> np.ndarray:
    """A strided (nearest-neighbour) view, long side ≈ ``max_side``: free, for instant feedback."""
    step = max(1, int(np.ceil(max(array.shape[:2]) / max_side)))
    return array[::step, ::step]
