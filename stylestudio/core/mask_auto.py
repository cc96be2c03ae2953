"""A rough "subject" mask to start painting from, estimated in numpy (no model, no download).

The estimate assumes what many photos do: the subject is near the middle, and the border of the
frame shows background. Each pixel's saliency is how far its colour (CIELAB) is from the nearest
of a sample of border colours, weighted by a centre prior; the map is smoothed, and pixels well
above Otsu's threshold become subject (1), well below it background (0), with a soft band
between. It is a starting point for the brush and eraser, not a segmentation: it fails on busy
backgrounds, subjects touching the border, and subjects coloured like their background.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stylestudio.core.adjust import rgb_to_lab
from stylestudio.core.mask import feather, resample


@dataclass(frozen=True)
class AutoMaskConfig:
    work_side: int = 128  # the estimate runs on a copy this long (it is smooth anyway)
    border: float = 0.06  # width of the frame taken as background, fraction of each side
    border_samples: int = 256
    centre_sigma: float = 0.35  # of the centre prior, fraction of each side
    centre_weight: float = 0.6  # 0 = colour contrast only, 1 = multiplied in fully
    smoothing: float = 0.02  # blur of the saliency map, fraction of the long side
    soft_band: float = 0.15  # half width of the soft edge around the threshold, in saliency


def _small(rgb: np.ndarray, side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = min(1.0, side / max(h, w))
    size = (max(8, round(h * scale)), max(8, round(w * scale)))
    channels = [resample(np.ascontiguousarray(rgb[..., c]), *size) for c in range(3)]
    return np.stack(channels, axis=-1)


def _otsu(values: np.ndarray, bins: int = 64) -> float:
    """The threshold that best splits ``values`` (in [0, 1]) into two classes."""
    hist, edges = np.histogram(values, bins=bins, range=(0.0, 1.0))
    p = hist.astype(np.float64) / max(1, hist.sum())
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(p)
    m0 = np.cumsum(p * centres)
    total = m0[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total * w0 - m0) ** 2 / (w0 * (1.0 - w0))
    between[~np.isfinite(between)] = -1.0
    return float(edges[int(np.argmax(between)) + 1])


def subject_mask(
    rgb: np.ndarray, shape: tuple[int, int], config: AutoMaskConfig | None = None
) -> np.ndarray:
    """A rough subject mask for the photo ``rgb`` (float (H, W, 3) in [0, 1]), as uint8 of
    ``shape`` (rows, columns); see the module docstring for what it can and cannot do."""
    config = config or AutoMaskConfig()
    small = _small(np.asarray(rgb, dtype=np.float32), config.work_side)
    lab = rgb_to_lab(small).astype(np.float32)
    h, w = lab.shape[:2]
    bh, bw = max(1, round(h * config.border)), max(1, round(w * config.border))
    frame = np.ones((h, w), bool)
    frame[bh : h - bh, bw : w - bw] = False
    border = lab[frame]
    step = max(1, len(border) // config.border_samples)
    samples = border[::step][: config.border_samples]
    distance = np.full((h, w), np.inf, np.float32)
    for colour in samples:  # nearest border colour, one sample at a time (bounded memory)
        np.minimum(distance, np.linalg.norm(lab - colour, axis=-1), out=distance)
    y = (np.arange(h, dtype=np.float32)[:, None] + 0.5) / h - 0.5
    x = (np.arange(w, dtype=np.float32)[None, :] + 0.5) / w - 0.5
    prior = np.exp(-(x * x + y * y) / (2 * config.centre_sigma**2))
    saliency = distance * (1.0 - config.centre_weight + config.centre_weight * prior)
    top = float(np.percentile(saliency, 99.5))
    if top <= 1e-6:  # a flat photo: nothing stands out
        return np.zeros(shape, np.uint8)
    saliency = feather(np.clip(saliency / top, 0.0, 1.0).astype(np.float32), config.smoothing)
    threshold = _otsu(saliency)
    band = config.soft_band
    t = np.clip((saliency - (threshold - band)) / (2 * band), 0.0, 1.0)
    soft = (t * t * (3.0 - 2.0 * t)).astype(np.float32)
    return np.rint(resample(soft, *shape) * 255.0).astype(np.uint8)
