"""Image preparation for the quality benchmark: loading, resizing and 8-bit rounding.

Every method sees exactly the same photo array, and every output is rounded to 8 bits before it
is measured (that is what gets saved and looked at, and it makes cached results identical to
fresh ones).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from stylestudio.core.errors import StyleStudioError

ImageLike = np.ndarray | str | os.PathLike[str]


class QualityBenchError(StyleStudioError):
    """A benchmark input or setting is unusable (the message says which and why)."""


def as_float_image(image: np.ndarray, what: str = "image") -> np.ndarray:
    """``image`` as contiguous float32 (H, W, 3) in [0, 1]; uint8/uint16 are scaled."""
    if not isinstance(image, np.ndarray):
        raise QualityBenchError(f"The {what} must be a numpy array, not {type(image).__name__}.")
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 1:
        raise QualityBenchError(f"The {what} must be RGB (height × width × 3), not {image.shape}.")
    if image.dtype == np.uint8:
        out = image.astype(np.float32) / 255.0
    elif image.dtype == np.uint16:
        out = image.astype(np.float32) / 65535.0
    elif np.issubdtype(image.dtype, np.floating):
        out = image.astype(np.float32)
        if not np.isfinite(out).all():
            raise QualityBenchError(f"The {what} contains NaN or infinite values.")
        out = np.clip(out, 0.0, 1.0)
    else:
        raise QualityBenchError(f"The {what} has an unsupported data type {image.dtype}.")
    return np.ascontiguousarray(out)


def quantize(image: np.ndarray) -> np.ndarray:
    """Round a float image to the 256 levels an 8-bit file holds (still float32)."""
    return np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.float32) / 255.0


def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def to_tensor(image: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """(H, W, 3) array → (1, 3, H, W) float32 tensor."""
    array = np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32)
    return torch.from_numpy(array)[None].to(device)


def to_array(x: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) tensor → (H, W, 3) float32 array clipped to [0, 1]."""
    array = x.detach()[0].clamp(0.0, 1.0).permute(1, 2, 0).cpu().float().numpy()
    return np.ascontiguousarray(array)


def fit_long_side(image: np.ndarray, long_side: int) -> np.ndarray:
    """Scale so the long side is ``long_side`` (bicubic, antialiased; enlarges too), 8-bit."""
    from stylestudio.core.engine.stylize import resize

    h, w = image.shape[:2]
    if long_side < 16:
        raise QualityBenchError(f"The image size must be at least 16 pixels, not {long_side}.")
    if max(h, w) == long_side:
        return quantize(image)
    factor = long_side / max(h, w)
    size = (max(1, round(h * factor)), max(1, round(w * factor)))
    return quantize(to_array(resize(to_tensor(image), size)))


def resize_to(image: np.ndarray, height: int, width: int) -> np.ndarray:
    from stylestudio.core.engine.stylize import resize

    if image.shape[:2] == (height, width):
        return image
    return to_array(resize(to_tensor(image), (height, width)))


def load_rgb(item: ImageLike, what: str = "image") -> np.ndarray:
    """A file (EXIF orientation applied, alpha composited on white) or an array → float RGB."""
    if isinstance(item, np.ndarray):
        return as_float_image(item, what)
    from stylestudio.core.imageio import composite_on_white, load_image

    loaded = load_image(Path(item))
    rgb = loaded.rgb
    if loaded.alpha is not None:
        rgb = composite_on_white(rgb, loaded.alpha)
    return as_float_image(rgb, what)


def image_name(item: ImageLike, index: int) -> str:
    """A short label: the file stem, or ``#n`` for arrays."""
    if isinstance(item, np.ndarray):
        return f"#{index + 1}"
    return Path(item).stem
