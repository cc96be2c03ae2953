"""Decoding videos with PyAV: what a clip is (:class:`VideoInfo`), its frames, one frame.

Frames come out upright as uint8 RGB (H, W, 3): the rotation of the container's display matrix
(a phone held upright) is applied to the pixels, so the network sees what a viewer sees; the
writer turns them back and writes the same rotation, so the output displays like the input.
Every failure is a :class:`VideoError` with one sentence.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from stylestudio.core.video import VideoError, is_video_path

if TYPE_CHECKING:
    import av.container
    import av.stream
    import av.video.frame

    from stylestudio.core.imageio import LoadedImage

#: Frame rate assumed when a container gives none (rare: raw streams).
FALLBACK_RATE = Fraction(25)


@dataclass(frozen=True)
class VideoInfo:
    """One clip, as displayed (``width`` × ``height`` upright)."""

    path: Path
    width: int
    height: int
    #: Counter-clockwise degrees the stored frames are turned for display (0, 90, 180, -90).
    rotation: int
    frame_rate: Fraction  # average frames per second
    #: Exact when the container records it, else estimated from the duration (≥ 1).
    frame_count: int
    duration_s: float
    time_base: Fraction  # of the video stream's timestamps
    codec: str
    audio_codec: str | None  # None: no audio track

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None


@dataclass(frozen=True)
class Frame:
    """A decoded frame: ``index`` from 0, upright uint8 RGB, timestamp in ``info.time_base``."""

    index: int
    rgb: np.ndarray
    pts: int


def _name(path: Path) -> str:
    return path.name or str(path)


def _describe(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text.rstrip(".").split("\n")[0]


def _open(path: Path) -> av.container.InputContainer:
    import av

    name = _name(path)
    if not path.exists():
        raise VideoError(f"{name}: no such file.")
    if path.is_dir():
        raise VideoError(f"{name} is a folder, not a video.")
    try:
        return av.open(str(path), mode="r")
    except (av.FFmpegError, OSError, UnicodeDecodeError, ValueError) as exc:
        raise VideoError(f"{name} is not a readable video ({_describe(exc)}).") from None


def _video_stream(container: av.container.InputContainer, path: Path) -> av.stream.Stream:
    if not container.streams.video:
        raise VideoError(f"{_name(path)} has no video track.")
    stream = container.streams.video[0]
    if stream.codec_context is None:
        raise VideoError(f"{_name(path)} uses a video codec StyleStudio cannot decode.")
    stream.thread_type = "AUTO"
    return stream


def upright(stored: np.ndarray, rotation: int) -> np.ndarray:
    """The frame as displayed: ``stored`` turned ``rotation`` degrees counter-clockwise."""
    turns = round(rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(stored, turns)) if turns else stored


def stored(rgb: np.ndarray, rotation: int) -> np.ndarray:
    """The inverse of :func:`upright`: what to encode so that it displays as ``rgb``."""
    turns = round(rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, -turns)) if turns else rgb


def _rgb(frame: av.video.frame.VideoFrame) -> np.ndarray:
    return frame.to_ndarray(format="rgb24")


def _frame_count(stream: av.stream.Stream, rate: Fraction, duration_s: float) -> int:
    if stream.frames:
        return int(stream.frames)
    return max(1, round(duration_s * float(rate))) if duration_s > 0 else 1


class VideoReader:
    """An open clip: ``info``, ``frames()`` from the start, ``frame_at(i)`` anywhere.

    Use as a context manager (or call :meth:`close`). Not thread-safe.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not is_video_path(self.path):
            raise VideoError(
                f"{_name(self.path)} is not a video type StyleStudio reads "
                "(.mp4, .mov, .m4v, .webm, .gif)."
            )
        self._container = _open(self.path)
        try:
            self.info = self._probe()
        except BaseException:
            self.close()
            raise

    def _probe(self) -> VideoInfo:
        import av

        stream = _video_stream(self._container, self.path)
        try:
            first = next(self._container.decode(stream), None)
        except (av.FFmpegError, OSError) as exc:
            raise VideoError(f"{_name(self.path)} is damaged ({_describe(exc)}).") from None
        if first is None:
            raise VideoError(f"{_name(self.path)} contains no video frames.")
        rotation = round(first.rotation or 0) if hasattr(first, "rotation") else 0
        if rotation % 90:
            rotation = 0  # a skewed display matrix: show the frames as stored
        rate = stream.average_rate or stream.guessed_rate or FALLBACK_RATE
        rate = Fraction(rate)
        tb = Fraction(stream.time_base or Fraction(1, 1000))
        if stream.duration is not None:
            duration = float(stream.duration * tb)
        elif self._container.duration is not None:
            duration = self._container.duration / 1_000_000
        else:
            duration = 0.0
        width, height = int(first.width), int(first.height)
        if rotation % 180:
            width, height = height, width
        audio = self._container.streams.audio
        audio_codec = audio[0].codec_context.name if audio and audio[0].codec_context else None
        info = VideoInfo(
            path=self.path,
            width=width,
            height=height,
            rotation=rotation,
            frame_rate=rate,
            frame_count=_frame_count(stream, rate, duration),
            duration_s=duration,
            time_base=tb,
            codec=stream.codec_context.name,
            audio_codec=audio_codec,
        )
        self._seek_start()
        return info

    def _stream(self) -> av.stream.Stream:
        return self._container.streams.video[0]

    def _seek_start(self) -> None:
        import av

        try:
            self._container.seek(0, stream=self._stream(), backward=True)
        except (av.FFmpegError, OSError):  # not seekable: reopen
            self._container.close()
            self._container = _open(self.path)
            _video_stream(self._container, self.path)

    def frames(self) -> Iterator[Frame]:
        """Every frame from the first, upright (``VideoError`` if the file is damaged)."""
        import av

        self._seek_start()
        stream = self._stream()
        step = 1 / (self.info.frame_rate * self.info.time_base)
        index = 0
        last_pts: int | None = None
        try:
            for frame in self._container.decode(stream):
                pts = frame.pts
                if pts is None:
                    pts = 0 if last_pts is None else last_pts + max(1, round(step))
                last_pts = pts
                yield Frame(index, upright(_rgb(frame), self.info.rotation), int(pts))
                index += 1
        except (av.FFmpegError, OSError) as exc:
            raise VideoError(
                f"{_name(self.path)} is damaged after frame {index} ({_describe(exc)})."
            ) from None
        if index == 0:
            raise VideoError(f"{_name(self.path)} contains no video frames.")

    def frame_at(self, index: int) -> Frame:
        """The frame ``index`` (from 0; past the end: the last one), for previews.

        Seeks to the key frame before its time and decodes forward; timing is taken from the
        average frame rate, which is exact for constant-rate clips.
        """
        import av

        index = max(0, int(index))
        stream = self._stream()
        tb = self.info.time_base
        start = stream.start_time or 0
        target = start + math.floor(Fraction(index) / self.info.frame_rate / tb)
        half = max(1, int(1 / (self.info.frame_rate * tb) / 2))
        try:
            self._container.seek(max(start, target), stream=stream, backward=True)
            best: av.video.frame.VideoFrame | None = None
            for frame in self._container.decode(stream):
                best = frame
                if frame.pts is None or frame.pts >= target - half:
                    break
        except (av.FFmpegError, OSError) as exc:
            raise VideoError(f"{_name(self.path)} is damaged ({_describe(exc)}).") from None
        if best is None:  # past the end of a clip whose duration was overestimated
            last: Frame | None = None
            for last in self.frames():  # noqa: B007 (the last one is wanted)
                pass
            assert last is not None
            return last
        return Frame(index, upright(_rgb(best), self.info.rotation), int(best.pts or 0))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._container.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def probe(path: str | Path) -> VideoInfo:
    """What ``path`` is (``VideoError`` when it is not a readable video)."""
    with VideoReader(path) as reader:
        return reader.info


def read_frame(path: str | Path, index: int = 0) -> Frame:
    """Frame ``index`` of ``path``, upright (see :meth:`VideoReader.frame_at`)."""
    with VideoReader(path) as reader:
        return reader.frame_at(index)


def frame_as_image(path: str | Path, index: int = 0) -> LoadedImage:
    """Frame ``index`` of ``path`` in the photos' format (``core.imageio.LoadedImage``), so the
    places that show photos (the app's canvas, the engine worker) show a video's frame alike."""
    from stylestudio.core.imageio import LoadedImage

    frame = read_frame(path, index)
    return LoadedImage(
        rgb=frame.rgb.astype(np.float32) / np.float32(255.0),
        alpha=None,
        icc_profile=None,
        exif=None,
        source_path=Path(path),
        source_format="VIDEO",
        bit_depth=8,
    )
