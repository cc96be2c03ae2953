"""Stylise a video and save it: the video sibling of ``core.export.export_photos``.

:func:`export_video` is a generator of events (:class:`VideoStarted`, then a :class:`FrameDone`
per frame with an ETA) that returns a :class:`VideoSummary`; the CLI prints them, the GUI's job
runner forwards them as progress. The same rules as for photos apply: the source is never the
target; the output folder's stale temporaries of killed exports are removed first; the file is
written under a temporary name in the output folder and published only when complete (claimed
atomically without replacing anyone's file unless asked), so a cancel, Ctrl+C, a crash or an
error leaves no partial output and no temporary file. Frames go through the engine exactly as
photos do (``look``), tied together by ``core.video.temporal``.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from stylestudio.core.atomic import clean_stale_temps, temp_name
from stylestudio.core.errors import CancelledError, ImageSaveError
from stylestudio.core.export import (
    Look,
    OutputSpec,
    StyleRef,
)
from stylestudio.core.output_names import IfExists, publish_file
from stylestudio.core.video import VideoError
from stylestudio.core.video.writer import Container, Encoding

if TYPE_CHECKING:
    from stylestudio.core.mask import RegionMask
    from stylestudio.core.video.reader import VideoInfo
    from stylestudio.core.video.temporal import FrameEngine, TemporalConfig


@dataclass(frozen=True)
class VideoRequest:
    """Stylise ``source`` into ``destination`` (its extension picks the container)."""

    source: Path
    style: StyleRef
    destination: Path
    look: Look = field(default_factory=Look)
    temporal: TemporalConfig | None = None  # None: the default stabiliser
    encoding: Encoding = field(default_factory=Encoding)
    if_exists: IfExists = IfExists.NEW_NAME
    #: Where the style applies (one mask for every frame, fitted to its size); None: everywhere.
    mask: RegionMask | None = None


@dataclass(frozen=True)
class VideoStarted:
    source: Path
    info: VideoInfo
    output_size: tuple[int, int]  # (width, height) written


@dataclass(frozen=True)
class FrameDone:
    done: int  # frames finished so far
    total: int  # the clip's frame count (an estimate for some containers; never below done)
    elapsed_s: float

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0

    @property
    def eta_s(self) -> float:
        """Seconds left at the speed so far."""
        return self.elapsed_s / self.done * max(0, self.total - self.done) if self.done else 0.0

    @property
    def fps(self) -> float:
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0


VideoEvent = VideoStarted | FrameDone


@dataclass
class VideoSummary:
    source: Path
    written: Path | None = None
    frames: int = 0
    cancelled: bool = False
    elapsed_s: float = 0.0
    notes: list[str] = field(default_factory=list)


def output_size(info: VideoInfo, max_side: int | None) -> tuple[int, int]:
    """(width, height) of the result: the clip's own, or fitted to ``max_side`` with even
    sides (what 4:2:0 video needs)."""
    width, height = info.width, info.height
    if max_side is None or max(width, height) <= max_side:
        return width, height
    factor = max_side / max(width, height)
    return max(2, round(width * factor / 2) * 2), max(2, round(height * factor / 2) * 2)


def _resize(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """uint8 (H, W, 3) → float32 at ``size`` (width, height), antialiased."""
    image = rgb.astype(np.float32) / 255.0
    if (rgb.shape[1], rgb.shape[0]) == size:
        return image
    import torch

    from stylestudio.core.engine.stylize import resize

    x = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None]
    y = resize(x, (size[1], size[0]))
    return np.ascontiguousarray(y[0].permute(1, 2, 0).numpy())


def _to_uint8(image: np.ndarray) -> np.ndarray:
    from stylestudio.core.imageio import to_uint8

    return to_uint8(image)


def _check_target(request: VideoRequest) -> None:
    Container.for_path(request.destination)  # a video type, or a one-line error
    source = request.source.resolve()
    if request.destination.resolve() == source:
        raise ImageSaveError(f"“{request.destination.name}” would overwrite the original video.")
    if request.destination.is_dir():
        raise ImageSaveError(f"Cannot save {request.destination.name}: it is a folder.")


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def export_video(
    request: VideoRequest,
    engine: FrameEngine,
    *,
    cancel: Callable[[], bool] = lambda: False,
    progress: Callable[[float], None] | None = None,
) -> Generator[VideoEvent, None, VideoSummary]:
    """Stylise every frame of ``request.source`` and publish the video; see the module docstring.

    ``cancel()`` is asked before each frame and during each network run (the summary then says
    ``cancelled`` and nothing is written); ``progress(fraction)`` follows the whole clip, frame
    parts included. Errors (unreadable source, unwritable target) raise ``StyleStudioError``.
    """
    from stylestudio.core.video.reader import VideoReader
    from stylestudio.core.video.temporal import TemporalConfig, TemporalStylizer
    from stylestudio.core.video.writer import VideoWriter

    start = time.perf_counter()
    summary = VideoSummary(request.source)
    _check_target(request)
    folder = request.destination.parent
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        clean_stale_temps(folder)
    with VideoReader(request.source) as reader:
        info = reader.info
        size = output_size(info, request.look.max_side)
        written_info = replace(info, width=size[0], height=size[1])
        options = replace(replace(request.look, max_side=None).options(), mask=request.mask)
        stylizer = TemporalStylizer(
            engine, request.style.location, options, request.temporal or TemporalConfig()
        )
        yield VideoStarted(request.source, info, size)
        tmp = folder / temp_name(request.destination.suffix)
        writer: VideoWriter | None = None
        done = 0
        try:
            writer = VideoWriter(
                tmp, written_info, audio_from=request.source, encoding=request.encoding
            )
            summary.notes = writer.notes
            for frame in reader.frames():
                if cancel():
                    raise CancelledError()
                total = max(info.frame_count, done + 1)

                def frame_progress(
                    fraction: float, _message: str, done: int = done, total: int = total
                ) -> None:
                    if progress is not None:
                        progress(min(1.0, (done + fraction) / total))

                image = _resize(frame.rgb, size)
                styled = stylizer(image, progress=frame_progress, cancel=cancel)
                writer.write(_to_uint8(styled), frame.pts)
                done += 1
                yield FrameDone(done, max(info.frame_count, done), time.perf_counter() - start)
            writer.close()
            writer = None
            _fsync(tmp)
            summary.written = publish_file(tmp, request.destination, request.if_exists)
        except CancelledError:
            summary.cancelled = True
        except OSError as exc:
            from stylestudio.core.atomic import describe_os_error

            raise ImageSaveError(describe_os_error(exc, request.destination)) from exc
        finally:  # also on GeneratorExit (a closed job) and KeyboardInterrupt
            if writer is not None:
                writer.abort()
            with contextlib.suppress(OSError):
                tmp.unlink()
        summary.frames = done
        summary.elapsed_s = time.perf_counter() - start
        summary.notes = [*summary.notes, *stylizer.notes]
        return summary


def check_video_target(path: Path) -> None:
    """``VideoError`` unless ``path`` names a container a video can be written as."""
    Container.for_path(path)


__all__ = [
    "FrameDone",
    "VideoError",
    "VideoEvent",
    "VideoRequest",
    "VideoStarted",
    "VideoSummary",
    "check_video_target",
    "export_video",
    "output_size",
    "video_path_for",
]


def video_path_for(
    spec: OutputSpec, source: Path, style: StyleRef, index: int, strength: float
) -> Path:
    """Where the CLI's ``-o`` puts the stylised ``source`` video. Like photos' names (the same
    placeholders and default ``{stem}-{style_id}.{ext}``), but ``{ext}`` is the video's own
    extension: a clip stays a clip of its type unless ``-o`` names another one."""
    ext = source.suffix.lstrip(".").lower() or "mp4"
    return spec.path_for(source, style, index, strength, ext=ext)
