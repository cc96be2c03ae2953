"""``stylestudio bench gallery``: every built-in style against Magenta on its own painting."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DESCRIPTION = """\
For each built-in style that records the painting it was learned from, run the style and Magenta
arbitrary stylisation on the same photos against that painting (the quality benchmark) and check
the gallery's bar: style and independent style distance below Magenta's, content distance at most
--content-ratio × Magenta's. With --before, an earlier copy of the styles runs in the same run
and each cell reads "before → after". Writes the table to stdout and gallery.md plus one contact
sheet per style into --out. Needs the shared data (paintings, photos, VGG19, the Magenta models)."""


def register(sub: argparse._SubParsersAction) -> None:
    g = sub.add_parser(
        "gallery", help="the built-in styles against Magenta", description=DESCRIPTION
    )
    g.add_argument("--styles", type=Path, help="folder of style folders (default: the built-ins)")
    g.add_argument("--only", default="", help="comma-separated style ids")
    g.add_argument(
        "--before",
        type=Path,
        metavar="FOLDER",
        help="an earlier copy of the styles (same ids), measured in the same run",
    )
    g.add_argument("--photos", nargs="+", metavar="PATH", help="photos (default: shared val)")
    g.add_argument("--max-photos", type=int, default=None, help="use only the first N photos")
    g.add_argument("--size", type=int, default=384, help="photos' long side (384)")
    g.add_argument("--content-ratio", type=float, default=1.2)
    g.add_argument("--device", default="cpu")
    g.add_argument("--vgg-weights", type=Path)
    g.add_argument("--out", type=Path, default=Path("artifacts/gallery"))
    g.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from stylestudio.cli.bench_cmd import _images, _shared, _vgg_weights
    from stylestudio.core import paths
    from stylestudio.core.atomic import atomic_write_bytes, atomic_write_text
    from stylestudio.core.quality import contact_sheet
    from stylestudio.core.quality.benchmark import BenchConfig, QualityBench, load_average
    from stylestudio.core.quality.gallery_check import (
        GalleryBar,
        check_gallery,
        format_gallery_table,
        gallery_styles,
        style_folders,
    )
    from stylestudio.core.quality.images import QualityBenchError
    from stylestudio.core.quality.magenta import (
        MagentaModels,
        default_magenta_dir,
        unavailable_reason,
    )
    from stylestudio.core.stylepack import read_folder_manifest

    paintings_dir = _shared("styles")
    if paintings_dir is None:
        raise QualityBenchError("The gallery check needs STYLESTUDIO_SHARED_DATA (the paintings).")
    reason = unavailable_reason(default_magenta_dir())
    if reason is not None:
        raise QualityBenchError(f"The gallery check needs the Magenta models: {reason}.")
    before = None
    if args.before is not None:
        if not args.before.is_dir():
            raise QualityBenchError(f"--before: {args.before} is not a folder of styles.")
        earlier = style_folders(args.before)
        before = {read_folder_manifest(p).id: p for p in earlier}
    photos = _images(args.photos, "photo") if args.photos else None
    if photos is None:
        folder = _shared("content", "val")
        if folder is None:
            raise QualityBenchError("Give --photos (the shared data has no content/val).")
        photos = _images([str(folder)], "photo")
    root = args.styles or paths.builtin_styles_dir()
    folders = style_folders(root)
    only = {s for s in args.only.split(",") if s}
    if only:
        folders = [f for f in folders if f.name in only]
    styles = gallery_styles(folders, paintings_dir)
    config = BenchConfig(size=args.size, device=args.device, max_photos=args.max_photos)
    magenta = MagentaModels(default_magenta_dir(), args.device, torch.get_num_threads())
    bench = QualityBench(config, vgg_weights=_vgg_weights(args.vgg_weights), magenta=magenta)
    bar = GalleryBar(content_ratio=args.content_ratio)
    print(
        f"gallery check: {len(styles)} style(s) × {len(photos[: args.max_photos])} photo(s) at "
        f"{args.size} px on {bench.metrics.device} · torch threads {torch.get_num_threads()} · "
        f"load average {load_average()}",
        flush=True,
    )

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    rows, reports = check_gallery(bench, styles, photos, bar, log=log, before=before)
    for row, report in zip(rows, reports, strict=True):
        name = next(iter(report.paintings))
        png = contact_sheet.contact_sheet_png(report, name, 192)
        atomic_write_bytes(args.out / f"contact-{row.style.style_id}.png", png)
    table = format_gallery_table(rows, bar)
    footer = f"\nload average at end {load_average()}\n"
    atomic_write_text(args.out / "gallery.md", table + footer)
    print()
    print(table, end="")
    print(footer, end="")
    print(f"wrote {args.out / 'gallery.md'} and {len(rows)} contact sheet(s)")
    passed = sum(row.passes for row in rows)
    return 0 if passed == len(rows) else 1
