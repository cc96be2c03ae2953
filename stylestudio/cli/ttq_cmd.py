"""``stylestudio bench time-to-quality``: quality against training time, paths side by side."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

DESCRIPTION = """\
Train each path (a preset; legacy-quick or legacy-balanced = that preset before warm starts;
NAME-no-gan = the same without the adversarial term) on each painting, copy the generator when the
training clock passes each mark, and measure every copy with the quality benchmark on the same
photos. Writes the table to stdout and time-to-quality.md plus one strip per painting into --out."""


def register(sub: argparse._SubParsersAction) -> None:
    t = sub.add_parser(
        "time-to-quality", help="quality after N seconds of training", description=DESCRIPTION
    )
    t.add_argument("paintings", nargs="+", metavar="PAINTING", help="style images (files or names)")
    t.add_argument("--paths", default="quick,legacy-quick", help="comma-separated training paths")
    t.add_argument("--marks", default="30,60,120,300", help="seconds at which to measure")
    t.add_argument("--budget", type=float, help="stop each path after N s (default: last mark)")
    t.add_argument("--photos", nargs="+", metavar="PATH", help="evaluation photos (default val)")
    t.add_argument("--max-photos", type=int, default=4, help="evaluate on the first N photos (4)")
    t.add_argument("--content", nargs="+", metavar="PATH", help="practice photos (default train)")
    t.add_argument("--size", type=int, default=256, help="evaluation long side (256)")
    t.add_argument("--device", default="cpu")
    t.add_argument("--vgg-weights", type=Path)
    t.add_argument("--out", type=Path, default=Path("artifacts/time-to-quality"))
    t.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from stylestudio.cli.bench_cmd import _images, _painting_path, _shared, _vgg_weights
    from stylestudio.core.atomic import atomic_write_bytes, atomic_write_text
    from stylestudio.core.quality import time_to_quality as ttq
    from stylestudio.core.quality.benchmark import BenchConfig
    from stylestudio.core.quality.images import QualityBenchError

    try:
        marks = sorted(float(m) for m in args.marks.split(",") if m.strip())
        configs = {name: ttq.training_path(name) for name in args.paths.split(",") if name}
    except ValueError as exc:
        print(f"error: {exc}")
        return 2
    paintings = [_painting_path(p) for p in args.paintings]
    photos = _images(args.photos, "photo") if args.photos else None
    if photos is None:
        folder = _shared("content", "val")
        if folder is None:
            raise QualityBenchError("Give --photos (STYLESTUDIO_SHARED_DATA is not set).")
        photos = _images([str(folder)], "photo")
    photos = photos[: args.max_photos]
    content = _images(args.content, "photo") if args.content else _shared("content", "train")
    vgg = _vgg_weights(args.vgg_weights)
    budget = args.budget if args.budget is not None else marks[-1]
    bench_config = BenchConfig(size=args.size, device=args.device)
    args.out.mkdir(parents=True, exist_ok=True)
    sections = []
    for painting in paintings:
        results = []
        for name, config in configs.items():
            print(f"{painting.stem}: training {name} for up to {budget:.0f} s", flush=True)
            results.append(
                ttq.train_with_snapshots(
                    name,
                    config,
                    painting,
                    content,
                    marks,
                    budget_s=budget,
                    vgg_weights=vgg,
                    device=args.device,
                    log=print,
                )
            )
        print(f"{painting.stem}: measuring", flush=True)
        baselines = ttq.measure(results, painting, photos, bench_config, vgg_weights=vgg)
        table = ttq.format_table(results, baselines)
        print(f"\n## {painting.stem}\n\n{table}\n", flush=True)
        strip = ttq.render_strip(results, photos[:2], args.size)
        buffer = io.BytesIO()
        strip.save(buffer, format="PNG")
        atomic_write_bytes(args.out / f"{painting.stem}.png", buffer.getvalue())
        sections.append(
            f"## {painting.stem}\n\n{table}\n\n![{painting.stem}]({painting.stem}.png)\n"
        )
    atomic_write_text(
        args.out / "time-to-quality.md", "# Time to quality\n\n" + "\n".join(sections)
    )
    print(f"wrote {args.out / 'time-to-quality.md'}")
    return 0
