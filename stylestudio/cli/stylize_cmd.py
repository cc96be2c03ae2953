"""``stylestudio stylize``: apply a style to files, folders or globs."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

from stylestudio.cli.common import resolve_style
from stylestudio.cli.inputs import OutputSpec, expand_inputs, parse_output
from stylestudio.cli.progress import ProgressLine
from stylestudio.core.atomic import clean_stale_temps
from stylestudio.core.errors import StyleStudioError
from stylestudio.core.output_names import IfExists


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "stylize",
        help="apply a style to photos",
        description="Apply a style to image files, folders (recursively) or glob patterns. "
        "Originals are never modified.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders or globs")
    p.add_argument("-s", "--style", help="style id, name, folder or .stylepack (default: first)")
    p.add_argument(
        "-o",
        "--output",
        help="output folder, or a pattern using {stem} {style} {ext} {index} "
        "(format specs such as {index:03d} allowed; write {{ }} for literal braces; "
        "default: next to each input as {stem}-{style}.{ext})",
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
    p.add_argument("--format", choices=["png", "jpg", "webp", "tiff"], help="output format")
    p.add_argument("--quality", type=int, default=92, help="JPEG/WebP quality (default 92)")
    p.add_argument(
        "--overwrite", action="store_true", help="replace existing outputs (never the inputs)"
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
    return parse_output(args.output)


class _TempSweeper:
    """Removes stale temp files (of killed runs) from each output folder before its first write."""

    def __init__(self) -> None:
        self._done: set[Path] = set()

    def before_writing_into(self, folder: Path) -> None:
        key = folder.absolute()
        if key not in self._done:
            self._done.add(key)
            with contextlib.suppress(OSError):  # an unreadable folder: the write reports it
                clean_stale_temps(folder)


def run(args: argparse.Namespace) -> int:
    output = _validate(args)
    found = expand_inputs(args.inputs)
    failures: list[tuple[Path, str]] = list(found.missing)
    for path in found.ignored:
        print(f"skipped {path}: not an image type StyleStudio reads", file=sys.stderr)
    if not found.images:
        for path, why in failures:
            print(f"{path}: {why}", file=sys.stderr)
        raise StyleStudioError("No images to stylise.")

    from stylestudio.core.engine import Engine, StylizeOptions
    from stylestudio.core.imageio import load_image, save_image

    style = resolve_style(args.style)
    engine = Engine(device=args.device)
    options = StylizeOptions(
        strength=args.strength,
        preserve_colors=args.preserve_colors,
        style_scale=args.scale,
        max_side=args.max_side,
        tile_size=args.tile,
    )
    protect = [p.resolve() for p in found.images]
    if_exists = IfExists.REPLACE if args.overwrite else IfExists.NEW_NAME
    sweeper = _TempSweeper()
    bar = ProgressLine()
    total = len(found.images)
    written = 0
    print(f"Style: {style.name} · device: {engine.device_description}", file=sys.stderr)
    for index, source in enumerate(found.images, start=1):
        label = f"[{index}/{total}] {source.name}"
        try:
            start = time.perf_counter()
            image = load_image(source)
            result = engine.stylize(
                image.rgb,
                style.location,
                options,
                progress=lambda f, _msg, label=label: bar.update(label, f),
            )
            target = output.path_for(source, style.style_id, args.format, index)
            sweeper.before_writing_into(target.parent)
            alpha = image.alpha
            if alpha is not None and alpha.shape[:2] != result.image.shape[:2]:
                alpha = None  # preview size differs; alpha cannot be reused
            target = save_image(
                target,
                result.image,
                alpha=alpha,
                icc_profile=image.icc_profile,
                exif=image.exif,
                quality=args.quality,
                protect=protect,
                if_exists=if_exists,
            )
            written += 1
            notes = "; ".join(result.notes)
            took = time.perf_counter() - start
            bar.done(f"{label} → {target} ({took:.1f} s){' · ' + notes if notes else ''}")
        except StyleStudioError as exc:
            bar.done()
            print(f"{label}: {exc}", file=sys.stderr)
            failures.append((source, str(exc)))
    print(f"Done: {written} of {total} image(s) stylised.", file=sys.stderr)
    if failures:
        print(f"{len(failures)} problem(s):", file=sys.stderr)
        for path, why in failures:
            print(f"  {path}: {why}", file=sys.stderr)
        return 1
    return 0
