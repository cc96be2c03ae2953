"""``stylestudio stylize``: apply a style to files, folders or globs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stylestudio.cli.common import resolve_style
from stylestudio.cli.inputs import expand_inputs
from stylestudio.cli.progress import ProgressLine
from stylestudio.cli.stylize_video import check_video_options, split_videos, stylize_videos
from stylestudio.core.errors import StyleStudioError
from stylestudio.core.export import (
    ExportEvent,
    ExportRequest,
    FileStarted,
    FileWritten,
    Look,
    OutputSpec,
    StyleRef,
    parse_output,
    run_export,
)
from stylestudio.core.mask import DEFAULT_FEATHER, RegionMask, load_mask
from stylestudio.core.output_names import IfExists


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "stylize",
        help="apply a style to photos and videos",
        description="Apply a style to image files, folders (recursively) or glob patterns, and "
        "to videos (.mp4, .mov, .webm, .gif) named as inputs. Originals are never modified.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders or globs")
    p.add_argument(
        "-s",
        "--style",
        help="style id, name, folder or .stylepack, or a blend of 2-4 styles of one base model "
        'such as "starry-night:0.6,great-wave:0.4" (default: the first style)',
    )
    p.add_argument(
        "-o",
        "--output",
        help="output folder, or a pattern using {stem} {style} {style_id} {ext} {index} {n} "
        "{strength} (format specs such as {index:03d} allowed; write {{ }} for literal braces; "
        "default: next to each input as {stem}-{style_id}.{ext})",
    )
    p.add_argument("--strength", type=float, default=1.0, help="0 = original … 1 = full style")
    p.add_argument(
        "--preserve-colors", action="store_true", help="keep the photo's colours, take only tone"
    )
    p.add_argument(
        "--scale", type=float, default=1.0, help="style scale 0.25–4 (bigger = larger strokes)"
    )
    p.add_argument("--tile", type=int, default=None, help="tile size in pixels (0 = never tile)")
    p.add_argument("--max-side", type=int, default=None, help="downscale so the long side ≤ N")
    p.add_argument("--device", default=None, help="auto (default), cpu, cuda, cuda:N or mps")
    p.add_argument(
        "--cpu-runtime",
        choices=("auto", "fp32", "int8", "torch"),
        default="auto",
        help="what runs the network on a CPU: auto (ONNX Runtime float32 where it applies), "
        "fp32, int8 (faster, about 45 dB from float32; calibrated when a style loads) or torch",
    )
    p.add_argument("--format", choices=["png", "jpg", "webp", "tiff"], help="output format")
    p.add_argument("--quality", type=int, default=92, help="JPEG/WebP quality (default 92)")
    p.add_argument(
        "--overwrite", action="store_true", help="replace existing outputs (never the inputs)"
    )
    p.add_argument(
        "--mask",
        type=Path,
        help="where the style applies: an image, white = styled, black = original, grey = a "
        "mix (resampled to each photo)",
    )
    p.add_argument(
        "--mask-feather",
        type=float,
        default=DEFAULT_FEATHER * 100,
        metavar="PERCENT",
        help="softening of the mask's edges, in %% of the photo's long side "
        f"(default {DEFAULT_FEATHER * 100:g})",
    )
    p.set_defaults(func=run)


def _validate(args: argparse.Namespace) -> OutputSpec:
    """Check the options before any work; returns the parsed ``-o``."""
    if not 0.0 <= args.strength <= 1.0:
        raise StyleStudioError("--strength must be between 0 and 1.")
    if not 0.25 <= args.scale <= 4.0:
        raise StyleStudioError("--scale must be between 0.25 and 4.")
    if not 1 <= args.quality <= 100:
        raise StyleStudioError("--quality must be between 1 and 100.")
    return parse_output(args.output, args.format)


class _Reporter:
    """Prints the export's events: a progress line per photo, then where it went or why not."""

    def __init__(self) -> None:
        self.bar = ProgressLine()
        self.label = ""

    def progress(self, _index: int, fraction: float) -> None:
        self.bar.update(self.label, fraction)

    def __call__(self, event: ExportEvent) -> None:
        if isinstance(event, FileStarted):
            self.label = f"[{event.index}/{event.total}] {event.photo.name}"
        elif isinstance(event, FileWritten):
            notes = "; ".join(event.notes)
            took = f"({event.elapsed_s:.1f} s)"
            self.bar.done(f"{self.label} → {event.path} {took}{' · ' + notes if notes else ''}")
        else:
            self.bar.done()
            print(f"{self.label}: {event.message}", file=sys.stderr)


def _mask(args: argparse.Namespace) -> RegionMask | None:
    """``--mask``, read before any work (a bad file is a one-line error)."""
    return None if args.mask is None else load_mask(args.mask, args.mask_feather / 100)


def run(args: argparse.Namespace) -> int:
    output = _validate(args)
    mask = _mask(args)
    found = expand_inputs(args.inputs)
    failures: list[tuple[Path, str]] = list(found.missing)
    for path in found.ignored:
        print(f"skipped {path}: not an image type StyleStudio reads", file=sys.stderr)
    if not found.images:
        for path, why in failures:
            print(f"{path}: {why}", file=sys.stderr)
        raise StyleStudioError("No images to stylise.")
    photos, videos = split_videos(found.images)
    if videos:
        check_video_options(args)

    from stylestudio.core.engine import Engine

    style = resolve_style(args.style)
    engine = Engine(device=args.device, cpu_runtime=args.cpu_runtime)
    request = ExportRequest(
        photos=tuple(photos),
        style=StyleRef(style.location, style.style_id, style.name),
        destination=output,
        look=Look(
            strength=args.strength,
            preserve_colors=args.preserve_colors,
            style_scale=args.scale,
            max_side=args.max_side,
            tile_size=args.tile,
        ),
        quality=args.quality,
        if_exists=IfExists.REPLACE if args.overwrite else IfExists.NEW_NAME,
        masks={} if mask is None else dict.fromkeys(photos, mask),
    )
    print(f"Style: {style.name} · device: {engine.device_description}", file=sys.stderr)
    if photos:
        reporter = _Reporter()
        summary = run_export(request, engine.stylize, reporter, progress=reporter.progress)
        failures += summary.failed
        done = len(summary.written)
        print(f"Done: {done} of {summary.total} image(s) stylised.", file=sys.stderr)
    if videos:
        done, problems = stylize_videos(videos, args, request.style, engine, output, mask)
        failures += problems
        print(f"Done: {done} of {len(videos)} video(s) stylised.", file=sys.stderr)
    if failures:
        print(f"{len(failures)} problem(s):", file=sys.stderr)
        for path, why in failures:
            print(f"  {path}: {why}", file=sys.stderr)
        return 1
    return 0
