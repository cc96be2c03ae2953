"""Region masks: where a style applies (Qt- and torch-free).

A mask is one channel: white (1) = stylised, black (0) = the original, grey = a mix. It may have
any resolution; it is resampled to the image it is applied to (stretched to cover it: a mask
always covers the whole photo) and then feathered, so one mask serves a screen-size preview and
a full-resolution export alike. Feathering is a Gaussian-like blur (three box blurs) whose
radius is a fraction of the image's long side, so it looks the same at every size.

Compositing is ``out = mask * stylised + (1 - mask) * original``, written so that a mask value
of exactly 1 gives the stylised pixel and exactly 0 the original pixel, bit for bit.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from stylestudio.core.errors import ImageLoadError, StyleStudioError

#: Default feathering: the blur's standard deviation as a fraction of the image's long side.
DEFAULT_FEATHER = 0.002
MAX_FEATHER = 0.05
#: Values this close to 0 or 1 after resampling/blurring are made exactly 0 or 1, so fully
#: masked areas stay bit-exact (far below one 8-bit or 16-bit step of the output).
_SNAP = 1e-5
_BOX_PASSES = 3
_ROW_BLOCK = 256  # rows (or columns) blurred at a time: bounds the float64 temporaries
_BLUR_SIGMA_PX = 2.0  # wider blurs run on a smaller copy (see feather)
_COMPOSITE_ROWS = 64  # rows composited at a time: small temporaries, cache-friendly
# Rec. 709 luma weights: a colour mask counts by its brightness.
_LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


class MaskError(StyleStudioError):
    """A mask file or mask array cannot be used (one sentence)."""


def _snap(values: np.ndarray) -> np.ndarray:
    np.clip(values, 0.0, 1.0, out=values)
    values[values < _SNAP] = 0.0
    values[values > 1.0 - _SNAP] = 1.0
    return values


def as_unit_float(values: np.ndarray) -> np.ndarray:
    """A (H, W) mask as float32 in [0, 1]: uint8 / uint16 are scaled, floats are clipped."""
    if values.dtype == np.uint8:
        return np.divide(values, np.float32(255.0), dtype=np.float32)
    if values.dtype == np.uint16:
        return np.divide(values, np.float32(65535.0), dtype=np.float32)
    if values.dtype == np.bool_:
        return values.astype(np.float32)
    if np.issubdtype(values.dtype, np.floating):
        return np.clip(values, 0.0, 1.0).astype(np.float32, copy=False)
    raise MaskError(f"A mask must hold 8-bit, 16-bit or float values, not {values.dtype}.")


def resample(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """float32 (H, W) mask stretched to ``height`` × ``width`` (bilinear, antialiased)."""
    if mask.shape == (height, width):
        return mask.astype(np.float32, copy=True)
    low, high = float(mask.min()), float(mask.max())
    if low == high:  # uniform: exact, and free
        return np.full((height, width), low, dtype=np.float32)
    from PIL import Image

    plane = Image.fromarray(np.ascontiguousarray(mask, dtype=np.float32), mode="F")
    resized = plane.resize((width, height), Image.Resampling.BILINEAR)
    return _snap(np.array(resized, dtype=np.float32))


def _box_radii(sigma: float) -> list[int]:
    """Radii of ``_BOX_PASSES`` boxes (widths 2r+1) whose repetition has a std close to
    ``sigma``: two neighbouring odd widths, mixed so that the variances add up to sigma²."""
    n = _BOX_PASSES
    ideal = math.sqrt(12.0 * sigma * sigma / n + 1.0)
    lower = int(ideal) if int(ideal) % 2 else int(ideal) - 1
    lower = max(lower, 1)
    upper = lower + 2
    m = round((12.0 * sigma * sigma - n * lower * lower - 4 * n * lower - 3 * n) / (-4 * lower - 4))
    m = min(n, max(0, m))
    return [(lower - 1) // 2] * m + [(upper - 1) // 2] * (n - m)


def _box_blur(values: np.ndarray, radius: int, axis: int) -> np.ndarray:
    """Mean over a window of 2r+1 along ``axis``, edges replicated; float64 running sums."""
    out = np.empty_like(values)
    size = values.shape[1 - axis]
    width = 2 * radius + 1
    for start in range(0, size, _ROW_BLOCK):
        stop = start + _ROW_BLOCK
        block = values[start:stop] if axis == 1 else values[:, start:stop]
        pad = [(0, 0), (0, 0)]
        pad[axis] = (radius + 1, radius)
        sums = np.cumsum(np.pad(block, pad, mode="edge"), axis=axis, dtype=np.float64)
        n = block.shape[axis]
        if axis == 1:
            window = sums[:, width : width + n] - sums[:, :n]
            out[start:stop] = window / width
        else:
            window = sums[width : width + n] - sums[:n]
            out[:, start:stop] = window / width
    return out


def feather(mask: np.ndarray, amount: float) -> np.ndarray:
    """``mask`` (float32 (H, W)) blurred with a std of ``amount`` × its long side.

    A wide blur runs on a copy shrunk so that its std is 2–4 pixels, then is scaled back up:
    a Gaussian that wide leaves nothing the shrinking could lose, and it costs a fraction.
    """
    sigma = amount * max(mask.shape)
    if sigma < 0.5 or float(mask.min()) == float(mask.max()):
        return mask
    factor = max(1, int(sigma // _BLUR_SIGMA_PX))
    height, width = mask.shape
    work = mask
    if factor > 1:
        work = resample(mask, max(1, -(-height // factor)), max(1, -(-width // factor)))
        sigma *= max(work.shape) / max(height, width)
    blurred = work
    for radius in _box_radii(sigma):
        if radius > 0:
            blurred = _box_blur(_box_blur(blurred, radius, axis=1), radius, axis=0)
    blurred = _snap(blurred.astype(np.float32, copy=False))
    return resample(blurred, height, width) if factor > 1 else blurred


@dataclass(frozen=True, eq=False)
class RegionMask:
    """Where the style applies, at the mask's own resolution, and how soft its edges are.

    ``values``: (H, W) uint8 (0–255), uint16 or float in [0, 1]. ``feather``: the blur's
    standard deviation as a fraction of the long side of the image the mask is applied to.
    """

    values: np.ndarray
    feather: float = DEFAULT_FEATHER

    def __post_init__(self) -> None:
        values = self.values
        if not isinstance(values, np.ndarray) or values.ndim != 2 or 0 in values.shape:
            shape = getattr(values, "shape", type(values).__name__)
            raise MaskError(f"A mask must be one non-empty channel (height × width), not {shape}.")
        if np.issubdtype(values.dtype, np.floating) and not np.isfinite(values).all():
            raise MaskError("The mask contains invalid (NaN or infinite) values.")
        if not (math.isfinite(self.feather) and 0.0 <= self.feather <= MAX_FEATHER):
            raise MaskError(
                f"Mask feathering must be between 0 and {MAX_FEATHER * 100:g} % of the image, "
                f"not {self.feather * 100:g} %."
            )

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the stored mask."""
        return int(self.values.shape[1]), int(self.values.shape[0])

    def fitted(self, height: int, width: int) -> np.ndarray:
        """The mask for an image of ``height`` × ``width``: resampled and feathered.

        The blur runs at the smaller of the two sizes (it is relative to the long side, so the
        result is the same up to interpolation, and a full-resolution export is not slowed by
        blurring tens of megapixels).
        """
        values = as_unit_float(self.values)
        if height * width > values.size:
            return resample(feather(values, self.feather), height, width)
        return feather(resample(values, height, width), self.feather)


def composite(original: np.ndarray, stylized: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``mask * stylized + (1 - mask) * original`` for (H, W, 3) images and an (H, W) mask.

    Mask 1 gives ``stylized`` and mask 0 ``original`` exactly (x*1 + y*0 == x in floats).
    """
    if original.shape != stylized.shape:
        raise ValueError(f"shape mismatch: {original.shape} vs {stylized.shape}")
    if mask.shape != original.shape[:2]:
        raise ValueError(f"mask shape {mask.shape} does not match image {original.shape[:2]}")
    weight = mask.astype(np.float32, copy=False)
    out = np.empty(stylized.shape, np.float32)
    one = np.float32(1.0)
    for top in range(0, out.shape[0], _COMPOSITE_ROWS):
        rows = slice(top, top + _COMPOSITE_ROWS)
        w = weight[rows, :, None]
        band = out[rows]
        np.multiply(stylized[rows], w, out=band, dtype=np.float32)
        band += np.multiply(original[rows], one - w, dtype=np.float32)
        np.clip(band, 0.0, 1.0, out=band)  # rounding may pass 1 by an ulp; exact ends unchanged
    return out


def mask_from_image(rgb: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    """float32 (H, W) mask of a decoded image: its grey level (luma for colour images), with
    transparent pixels counting as black (original)."""
    if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]):
        grey = rgb[..., 0].astype(np.float32, copy=True)
    else:
        grey = _snap(np.asarray(rgb, dtype=np.float32) @ _LUMA)
    if alpha is not None:
        grey *= as_unit_float(alpha)
    return grey


def load_mask(path: str | os.PathLike[str], feather_amount: float = DEFAULT_FEATHER) -> RegionMask:
    """Read a mask image (any mode; EXIF orientation applied); ``MaskError`` (one sentence)
    for a missing, non-image or damaged file."""
    from stylestudio.core.imageio import load_image

    try:
        loaded = load_image(path)
    except ImageLoadError as exc:
        raise MaskError(f"The mask cannot be used: {exc}") from exc
    return RegionMask(mask_from_image(loaded.rgb, loaded.alpha), feather_amount)


__all__ = [
    "DEFAULT_FEATHER",
    "MaskError",
    "RegionMask",
    "as_unit_float",
    "composite",
    "feather",
    "load_mask",
    "mask_from_image",
    "resample",
]
