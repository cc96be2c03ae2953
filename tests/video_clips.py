"""Tiny videos made by the tests themselves with PyAV (never downloaded)."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np

FrameFn = Callable[[int], np.ndarray]

_VIDEO_CODECS = {".mp4": "libx264", ".mov": "libx264", ".m4v": "libx264", ".webm": "libvpx-vp9"}


def gradient_frame(width: int, height: int, index: int) -> np.ndarray:
    """A smooth picture with a bright marker in the top-left corner, drifting with ``index``."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack(
        [x / max(width - 1, 1), y / max(height - 1, 1), 0.5 + 0.4 * np.sin((x + y + index) / 7)],
        axis=-1,
    )
    rgb[: height // 4, : width // 4] = 1.0
    return (rgb * 255).astype(np.uint8)


def noisy_still(width: int, height: int, sigma: float = 3.0, seed: int = 0) -> FrameFn:
    """A static scene with fresh sensor noise (``sigma`` levels of 255) in every frame."""
    base = gradient_frame(width, height, 0).astype(np.float32)
    rng = np.random.default_rng(seed)

    def frame(_index: int) -> np.ndarray:
        noisy = base + rng.normal(0.0, sigma, base.shape)
        return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)

    return frame


def make_clip(
    path: Path,
    frames: int = 6,
    width: int = 64,
    height: int = 48,
    rate: int = 12,
    *,
    audio: bool = True,
    rotation: int = 0,
    picture: FrameFn | None = None,
) -> Path:
    """A clip of ``frames`` upright frames (stored turned back when ``rotation`` is set, with a
    display matrix saying so) and, when ``audio``, an AAC tone of the same length (Opus for
    .webm). GIFs get a palette per frame and no audio."""
    import av
    from PIL import Image

    picture = picture or (lambda i: gradient_frame(width, height, i))
    suffix = path.suffix.lower()
    gif = suffix == ".gif"
    container = av.open(str(path), mode="w")
    turns = round(rotation / 90) % 4
    stored_w, stored_h = (height, width) if turns % 2 else (width, height)
    video = container.add_stream("gif" if gif else _VIDEO_CODECS[suffix], rate=rate)
    video.width, video.height = stored_w, stored_h
    even = stored_w % 2 == 0 and stored_h % 2 == 0
    video.pix_fmt = "pal8" if gif else "yuv420p" if even else "yuv444p"
    if rotation:
        video.set_display_rotation(rotation)
    sound = None
    if audio and not gif:
        sound = container.add_stream("libopus" if suffix == ".webm" else "aac", rate=48000)
        sound.layout = "mono"
    for index in range(frames):
        pixels = np.ascontiguousarray(np.rot90(picture(index), -turns))
        if gif:
            q = Image.fromarray(pixels).quantize(256, method=Image.Quantize.MEDIANCUT, dither=0)
            palette = np.asarray(q.getpalette(), np.uint8).reshape(-1, 3)[:256]
            palette = np.pad(palette, ((0, 256 - len(palette)), (0, 0)))
            argb = np.concatenate([np.full((256, 1), 255, np.uint8), palette], axis=1)
            frame = av.VideoFrame.from_ndarray((np.asarray(q), argb), format="pal8")
        else:
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
        container.mux(video.encode(frame))
    container.mux(video.encode(None))
    if sound is not None:
        samples = round(48000 * frames / rate)
        t = np.arange(samples, dtype=np.float32) / 48000
        tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        step = 960
        for start in range(0, samples, step):
            chunk = tone[start : start + step]
            chunk = np.pad(chunk, (0, step - len(chunk)))[None]
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
            frame.sample_rate = 48000
            frame.pts = start
            frame.time_base = Fraction(1, 48000)
            container.mux(sound.encode(frame))
        container.mux(sound.encode(None))
    container.close()
    return path


def audio_payloads(path: Path) -> list[bytes]:
    """The bytes of every audio packet of ``path``'s first audio track."""
    import av

    with av.open(str(path)) as container:
        if not container.streams.audio:
            return []
        stream = container.streams.audio[0]
        return [bytes(p) for p in container.demux(stream) if p.size]


def decoded_frames(path: Path) -> list[np.ndarray]:
    from stylestudio.core.video.reader import VideoReader

    with VideoReader(path) as reader:
        return [frame.rgb for frame in reader.frames()]
