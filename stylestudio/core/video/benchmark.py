"""The video benchmark behind ``stylestudio bench video``: flicker and speed, naive vs stabilised.

The clip is made from one photo: a slow pan and zoom (sub-pixel steps, resampled bicubically)
with fresh sensor noise in every frame, the situation in which per-frame stylisation flickers
most visibly. Every temporal mode stylises the same frames; flicker is
``core.video.flicker``'s, *deviation* is how far a mode's frames are from the per-frame result
(the price of stability; 0 for naive). Speed is whole frames per second of the full pipeline
(network, statistics smoothing, flow and blend) at each size, after one warm-up frame.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from stylestudio.core.video.flicker import FlickerMeter
from stylestudio.core.video.temporal import (
    FrameEngine,
    TemporalConfig,
    TemporalMode,
    TemporalStylizer,
)

if TYPE_CHECKING:
    from stylestudio.core.engine.stylize import StylizeOptions
    from stylestudio.core.mixing import StyleSource


@dataclass(frozen=True)
class ClipSpec:
    """A synthetic clip: ``frames`` of ``size`` (width, height) panning ``pan`` pixels and
    zooming in by ``zoom`` (relative) per frame, with Gaussian noise of ``noise`` levels."""

    size: tuple[int, int] = (480, 270)
    frames: int = 24
    pan: float = 0.3
    zoom: float = 0.0015
    noise: float = 2.0
    seed: int = 0


def pan_zoom_clip(photo: np.ndarray, spec: ClipSpec) -> list[np.ndarray]:
    """uint8 (H, W, 3) frames of ``spec`` cut from ``photo`` (uint8 RGB)."""
    image = Image.fromarray(photo)
    width, height = spec.size
    aspect = width / height
    # The first view: 80 % of the photo, centred, at the clip's aspect ratio.
    view_w = min(image.width * 0.8, image.height * 0.8 * aspect)
    view_h = view_w / aspect
    cx, cy = image.width / 2 - spec.pan * spec.frames / 2, image.height / 2
    rng = np.random.default_rng(spec.seed)
    frames = []
    for index in range(spec.frames):
        scale = 1.0 / (1.0 + spec.zoom * index)
        w, h = view_w * scale, view_h * scale
        x = cx + spec.pan * index
        box = (x - w / 2, cy - h / 2, x + w / 2, cy + h / 2)
        view = image.transform(
            (width, height), Image.Transform.EXTENT, box, Image.Resampling.BICUBIC
        )
        pixels = np.asarray(view, dtype=np.float32)
        pixels = pixels + rng.normal(0.0, spec.noise, pixels.shape).astype(np.float32)
        frames.append(np.clip(np.rint(pixels), 0, 255).astype(np.uint8))
    return frames


@dataclass
class ModeResult:
    mode: TemporalMode
    flicker: float  # 8-bit levels
    deviation: float  # mean absolute difference from the per-frame result, 8-bit levels
    outputs: list[np.ndarray] = field(repr=False, default_factory=list)  # float32 frames


@dataclass(frozen=True)
class Speed:
    size: tuple[int, int]
    mode: TemporalMode
    fps: float
    frames: int


def run_modes(
    engine: FrameEngine,
    style: StyleSource,
    frames: list[np.ndarray],
    options: StylizeOptions,
    modes: tuple[TemporalMode, ...] = tuple(TemporalMode),
    on_frame: Callable[[TemporalMode, int], None] | None = None,
) -> tuple[list[ModeResult], float]:
    """Each mode on ``frames``; the results and the share of still pixels."""
    results: list[ModeResult] = []
    naive: list[np.ndarray] | None = None
    still = 0.0
    for mode in modes:
        stylizer = TemporalStylizer(engine, style, options, TemporalConfig(mode=mode))
        meter = FlickerMeter()
        outputs = []
        for index, frame in enumerate(frames):
            out = stylizer(frame.astype(np.float32) / np.float32(255.0))
            meter.add(frame, out)
            outputs.append(out)
            if on_frame is not None:
                on_frame(mode, index)
        still = meter.still_fraction
        if mode is TemporalMode.NAIVE:
            naive = outputs
        deviation = (
            255.0
            * float(np.mean([np.abs(a - b).mean() for a, b in zip(outputs, naive, strict=True)]))
            if naive is not None
            else float("nan")
        )
        results.append(ModeResult(mode, meter.value, deviation, outputs))
    return results, still


def measure_speed(
    engine: FrameEngine,
    style: StyleSource,
    frames: list[np.ndarray],
    options: StylizeOptions,
    mode: TemporalMode,
) -> Speed:
    """Frames per second of ``mode`` on ``frames`` (the first one is a warm-up, not timed)."""
    stylizer = TemporalStylizer(engine, style, options, TemporalConfig(mode=mode))
    images = [f.astype(np.float32) / np.float32(255.0) for f in frames]
    stylizer(images[0])
    start = time.perf_counter()
    for image in images[1:]:
        stylizer(image)
    took = time.perf_counter() - start
    height, width = frames[0].shape[:2]
    timed = len(images) - 1
    return Speed((width, height), mode, timed / took if took > 0 else 0.0, timed)


def frame_strip(
    frames: list[np.ndarray],
    results: list[ModeResult],
    start: int,
    count: int = 4,
    crop: tuple[int, int, int, int] | None = None,
    gain: float = 8.0,
) -> np.ndarray:
    """A picture (uint8) of ``count`` consecutive frames from ``start``: a row of inputs, then
    for each mode a row of outputs and a row of the change since the previous output, times
    ``gain`` (flicker shows as bright speckle there)."""
    top, left, height, width = crop or (0, 0, *frames[0].shape[:2])

    def cut(image: np.ndarray) -> np.ndarray:
        return image[top : top + height, left : left + width]

    rows = [np.concatenate([cut(frames[i]) for i in range(start, start + count)], axis=1)]
    for result in results:
        outs = result.outputs
        row = [cut(outs[i]) for i in range(start, start + count)]
        diff = [np.abs(cut(outs[i]) - cut(outs[i - 1])) * gain for i in range(start, start + count)]
        for images in (row, diff):
            strip = np.concatenate(images, axis=1)
            rows.append(np.clip(np.rint(strip * 255.0), 0, 255).astype(np.uint8))
    gap = np.full((4, rows[0].shape[1], 3), 255, np.uint8)
    out = []
    for row in rows:
        out.extend([row, gap])
    return np.concatenate(out[:-1], axis=0)
