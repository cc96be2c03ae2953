"""The videos of ``stylestudio stylize``: each one through ``core.video.export.export_video``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from stylestudio.cli.progress import ProgressLine, format_eta
from stylestudio.core.errors import StyleStudioError
from stylestudio.core.export import Look, OutputSpec, StyleRef
from stylestudio.core.jobs import user_message
from stylestudio.core.output_names import IfExists
from stylestudio.core.video import is_video_path
from stylestudio.core.video.export import (
    FrameDone,
    VideoRequest,
    VideoStarted,
    VideoSummary,
    export_video,
    video_path_for,
)
from stylestudio.core.video.writer import Encoding

if TYPE_CHECKING:
    from stylestudio.core.mask import RegionMask
    from stylestudio.core.video.temporal import FrameEngine


def split_videos(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """``(photos, videos)`` among the inputs, order kept."""
    videos = [p for p in paths if is_video_path(p)]
    return [p for p in paths if not is_video_path(p)], videos


def check_video_options(args: argparse.Namespace) -> None:
    if args.format is not None:
        raise StyleStudioError(
            "--format is for photos; a video keeps its type unless -o names another "
            "(.mp4, .mov, .webm or .gif)."
        )


class _VideoProgress:
    """One progress line per video: frames, speed and the time left."""

    def __init__(self, label: str) -> None:
        self.bar = ProgressLine()
        self.label = label
        self.detail = ""
        self.started: VideoStarted | None = None

    def fraction(self, fraction: float) -> None:
        self.bar.update(self.label, fraction, self.detail)

    def event(self, event: VideoStarted | FrameDone) -> None:
        if isinstance(event, VideoStarted):
            self.started = event
            info = event.info
            width, height = event.output_size
            audio = f", audio {info.audio_codec}" if info.audio_codec else ", no audio"
            print(
                f"{self.label}: {info.frame_count} frames at {float(info.frame_rate):.3g} fps, "
                f"{width}×{height}{audio}",
                file=sys.stderr,
            )
            return
        eta = format_eta(event.eta_s)
        self.detail = f"frame {event.done}/{event.total} · {event.fps:.2f} fps {eta}".rstrip()
        self.bar.update(self.label, event.fraction, self.detail)


def stylize_video(request: VideoRequest, engine: FrameEngine, label: str) -> VideoSummary:
    """Run one video export with a progress line; Ctrl+C stops it with nothing written."""
    reporter = _VideoProgress(label)
    events = export_video(request, engine, progress=reporter.fraction)
    try:
        while True:
            try:
                reporter.event(next(events))
            except StopIteration as stop:
                return stop.value
    finally:
        events.close()  # an interrupt between frames: the job removes its temporary file
        reporter.bar.done()


def stylize_videos(
    videos: list[Path],
    args: argparse.Namespace,
    style: StyleRef,
    engine: FrameEngine,
    output: OutputSpec,
    mask: RegionMask | None = None,
) -> tuple[int, list[tuple[Path, str]]]:
    """Stylise each of ``videos`` (``mask``: one region mask for every frame); (how many were
    written, the failures)."""
    failures: list[tuple[Path, str]] = []
    written = 0
    look = Look(
        strength=args.strength,
        preserve_colors=args.preserve_colors,
        style_scale=args.scale,
        max_side=args.max_side,
        tile_size=args.tile,
    )
    protect = {p.resolve() for p in videos}
    for number, video in enumerate(videos, start=1):
        label = f"[{number}/{len(videos)}] {video.name}"
        try:
            destination = video_path_for(output, video, style, number, args.strength)
            if destination.resolve() in protect:
                raise StyleStudioError(f"“{destination.name}” would overwrite an original video.")
            request = VideoRequest(
                source=video,
                style=style,
                destination=destination,
                look=look,
                encoding=Encoding(args.quality),
                if_exists=IfExists.REPLACE if args.overwrite else IfExists.NEW_NAME,
                mask=mask,
            )
            summary = stylize_video(request, engine, label)
        except StyleStudioError as exc:
            failures.append((video, user_message(exc)))
            print(f"{label}: {user_message(exc)}", file=sys.stderr)
            continue
        if summary.written is None:
            failures.append((video, "cancelled"))
            continue
        written += 1
        notes = "; ".join(summary.notes)
        took = f"({summary.frames} frames, {summary.elapsed_s:.1f} s)"
        print(
            f"{label} → {summary.written} {took}{' · ' + notes if notes else ''}", file=sys.stderr
        )
    return written, failures
