"""``stylestudio bench``: latency and peak memory of the engine, side by side with a reference.

``stylestudio bench quality`` is the quality benchmark instead (see ``_register_quality``);
``stylestudio bench speed`` compares one megapixel with multistyle26.onnx (``speed_cmd``).

For each size, the StyleStudio generator and the reference Johnson et al. TransformerNet run on the
same input, untiled and tiled, on the same device in the same process. Latency is the median of
``--repeats`` runs after ``--warmup`` runs; memory is the allocator peak on CUDA and the growth of
the process's resident memory on the CPU. Weights are random: speed does not depend on them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

DEFAULT_SIZES = "512x512,1024x1024,2048x2048,3840x2160"


@dataclass
class Measurement:
    model: str
    size: str
    mode: str
    median_ms: float
    runs: int
    peak_mb: float | None
    tiles: int


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "bench",
        help="measure latency and memory vs a reference network",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("--sizes", default=DEFAULT_SIZES, help=f"WxH list (default {DEFAULT_SIZES})")
    p.add_argument("--repeats", type=int, default=None, help="timed runs (default 5, CPU 2)")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    p.add_argument("--device", default=None, help="auto (default), cpu, cuda, mps")
    p.add_argument("--tile", type=int, default=512, help="tile size of the tiled runs")
    p.add_argument("--modes", default="untiled,tiled", help="untiled, tiled or both")
    p.add_argument("--no-reference", action="store_true", help="skip the reference network")
    p.add_argument("--json", type=Path, help="also write the measurements as JSON")
    p.set_defaults(func=run)
    sub = p.add_subparsers(
        dest="bench_command", metavar="{quality,time-to-quality,speed,video,gallery}"
    )
    _register_quality(sub)
    from stylestudio.cli import gallery_bench_cmd, speed_cmd, ttq_cmd, video_bench_cmd

    ttq_cmd.register(sub)
    speed_cmd.register(sub)
    video_bench_cmd.register(sub)
    gallery_bench_cmd.register(sub)


def _sizes(text: str) -> list[tuple[int, int]]:
    out = []
    for item in text.split(","):
        w, _, h = item.strip().lower().partition("x")
        out.append((int(w), int(h)))
    return out


def _scales(text: str) -> tuple[float, ...]:
    """``"1,0.5"`` → ``(1.0, 0.5)``."""
    try:
        scales = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        scales = ()
    from stylestudio.core.training.config import valid_style_scales

    if not valid_style_scales(scales):
        raise argparse.ArgumentTypeError(f"scales between 0.05 and 2, e.g. 1,0.5 (not {text!r})")
    return scales


def _measure(
    engine, model, image, options, repeats: int, warmup: int
) -> tuple[float, float | None, int]:
    import torch

    from stylestudio.core.memory import PeakRSS

    device = engine.device
    for _ in range(warmup):
        engine.run_network(image, model, options)
    times = []
    peak: float | None = None
    tiles = 1
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
            base = torch.cuda.memory_allocated(device)
        with PeakRSS() as rss:
            start = time.perf_counter()
            result = engine.run_network(image, model, options)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            times.append(time.perf_counter() - start)
        tiles = result.tiles
        if device.type == "cuda":
            used = (torch.cuda.max_memory_allocated(device) - base) / 2**20
        else:
            used = rss.peak_delta / 2**20 if rss.peak else None
        if used is not None:
            peak = used if peak is None else max(peak, used)
    return statistics.median(times) * 1000, peak, tiles


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from stylestudio.core.engine import Engine, StylizeOptions
    from stylestudio.core.models.generator import Generator
    from stylestudio.core.models.transformer_net import TransformerNet

    engine = Engine(device=args.device)
    repeats = args.repeats or (2 if engine.device.type == "cpu" else 5)
    torch.manual_seed(0)
    models = {"stylestudio": Generator()}
    if not args.no_reference:
        models["reference"] = TransformerNet()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    print(
        f"Device: {engine.device_description} · torch {torch.__version__} · "
        f"{platform.processor() or platform.machine()} · threads {torch.get_num_threads()}"
    )
    if hasattr(os, "getloadavg"):
        print("load average at start: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    print(
        f"median of {repeats} after {args.warmup} warm-up; tiled = {args.tile}px tiles "
        "(StyleStudio: whole-image norm statistics; reference: per-tile)"
    )
    rows: list[Measurement] = []
    header = f"{'size':>10} {'mode':>8} {'ours ms':>10} {'ref ms':>10} {'ratio':>6} " \
             f"{'ours MB':>9} {'ref MB':>9} {'ratio':>6} {'tiles':>5}"  # fmt: skip
    print(header)
    rng = np.random.default_rng(0)
    for w, h in _sizes(args.sizes):
        image = rng.random((h, w, 3), dtype=np.float32)
        for mode in modes:
            options = StylizeOptions(tile_size=0 if mode == "untiled" else args.tile)
            found: dict[str, Measurement] = {}
            for name, model in models.items():
                try:
                    ms, peak, tiles = _measure(engine, model, image, options, repeats, args.warmup)
                except Exception as exc:  # e.g. out of memory at this size: report, go on
                    print(f"{w}x{h} {mode} {name}: failed: {exc}", file=sys.stderr)
                    continue
                found[name] = Measurement(name, f"{w}x{h}", mode, ms, repeats, peak, tiles)
                rows.append(found[name])
            print(_format_row(f"{w}x{h}", mode, found), flush=True)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2))
    return 0


def _format_row(size: str, mode: str, found: dict[str, Measurement]) -> str:
    ours, ref = found.get("stylestudio"), found.get("reference")

    def num(v: float | None, fmt: str) -> str:
        return format(v, fmt) if v is not None else "–"

    def ratio(a: float | None, b: float | None) -> str:
        return f"{a / b:.2f}" if a is not None and b else "–"

    o_ms, r_ms = (ours.median_ms if ours else None), (ref.median_ms if ref else None)
    o_mb, r_mb = (ours.peak_mb if ours else None), (ref.peak_mb if ref else None)
    tiles = ours.tiles if ours else (ref.tiles if ref else 0)
    return (
        f"{size:>10} {mode:>8} {num(o_ms, '10.0f')} {num(r_ms, '10.0f')} {ratio(o_ms, r_ms):>6} "
        f"{num(o_mb, '9.0f')} {num(r_mb, '9.0f')} {ratio(o_mb, r_mb):>6} {tiles:>5}"
    )


# --------------------------------------------------------------------------------------------
# stylestudio bench quality

QUALITY_DESCRIPTION = """\
Quality benchmark: for each painting, run several methods on a set of photos and measure how
close each output is to the painting's style and to the photo's content. Methods: the photo
itself, StyleStudio styles (--style), a style trained now (--train), Gatys optimisation (the
quality ceiling) and Magenta arbitrary stylisation (the zero-shot anchor). Writes a table to
stdout and quality.md, quality.json and one contact sheet per painting into --out.
Paintings are files, or names of files in $STYLESTUDIO_SHARED_DATA/styles."""


def _register_quality(sub: argparse._SubParsersAction) -> None:
    q = sub.add_parser(
        "quality",
        help="style/content quality of methods side by side",
        description=QUALITY_DESCRIPTION,
    )
    q.add_argument("paintings", nargs="+", metavar="PAINTING", help="style images (files or names)")
    q.add_argument(
        "--photos",
        nargs="+",
        metavar="PATH",
        help="photos: files, folders or globs (default $STYLESTUDIO_SHARED_DATA/content/val)",
    )
    q.add_argument("--max-photos", type=int, help="use only the first N photos")
    q.add_argument(
        "--style",
        action="append",
        default=[],
        metavar="STYLE",
        help="a StyleStudio style (library id or name, folder or .stylepack); repeatable",
    )
    q.add_argument(
        "--train",
        choices=["quick", "balanced", "best"],
        help="also train a style on each painting now",
    )
    q.add_argument("--train-steps", type=int, help="training steps (overrides the preset)")
    q.add_argument(
        "--train-content",
        nargs="+",
        metavar="PATH",
        help="practice photos for --train (default $STYLESTUDIO_SHARED_DATA/content/train)",
    )
    q.add_argument("--no-gatys", action="store_true", help="leave out Gatys optimisation")
    q.add_argument("--no-magenta", action="store_true", help="leave out the Magenta method")
    q.add_argument("--gatys-iterations", type=int, default=100, help="L-BFGS/Adam iterations (100)")
    q.add_argument("--gatys-optimizer", choices=["lbfgs", "adam"], default="lbfgs")
    q.add_argument(
        "--gatys-style-weight",
        type=float,
        default=None,
        help="weight of the style distance against the content distance",
    )
    q.add_argument(
        "--gatys-style-scales",
        type=_scales,
        default=(1.0,),
        metavar="S,S,…",
        help="Gram terms at these fractions of the size, as the trainer's style_scales (1)",
    )
    q.add_argument(
        "--gatys-swd-weight",
        type=float,
        default=0.0,
        help="weight of the trainer's feature-distribution (SWD) term in Gatys (0: off)",
    )
    q.add_argument(
        "--gatys-color-weight",
        type=float,
        default=0.0,
        help="weight of the trainer's palette (colour SWD) term in Gatys (0: off)",
    )
    q.add_argument("--no-cache", action="store_true", help="recompute Gatys results")
    q.add_argument("--size", type=int, default=384, help="long side of the photos (384)")
    q.add_argument("--style-size", type=int, help="long side of the paintings (default --size)")
    q.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N or mps")
    q.add_argument("--seed", type=int, default=0, help="seed of training and torch (0)")
    q.add_argument("--vgg-weights", type=Path, help="VGG19 weights file")
    q.add_argument("--magenta", type=Path, help="folder of the Magenta ONNX models")
    q.add_argument(
        "--out",
        type=Path,
        default=Path("artifacts/quality"),
        help="output folder (artifacts/quality)",
    )
    q.add_argument("--cell", type=int, default=256, help="contact sheet cell size in pixels")
    q.add_argument("--save-images", action="store_true", help="also save every output as PNG")
    q.set_defaults(func=run_quality)


def _shared(*parts: str) -> Path | None:
    from stylestudio.core.paths import shared_data_dir

    root = shared_data_dir()
    if root is None:
        return None
    path = root.joinpath(*parts)
    return path if path.exists() else None


def _painting_path(item: str) -> Path:
    from stylestudio.core.quality.images import QualityBenchError

    path = Path(item).expanduser()
    if path.is_file():
        return path
    folder = _shared("styles")
    if folder is not None and "/" not in item:
        for candidate in (folder / item, *(folder / f"{item}{ext}" for ext in (".jpg", ".png"))):
            if candidate.is_file():
                return candidate
    where = f" or in {folder}" if folder else " (and STYLESTUDIO_SHARED_DATA is not set)"
    raise QualityBenchError(f"The painting {item} was not found as a file{where}.")


def _images(items: list[str], what: str) -> list[Path]:
    """:func:`~stylestudio.cli.inputs.require_images` with the benchmarks' error type."""
    from stylestudio.cli.inputs import require_images
    from stylestudio.core.quality.images import QualityBenchError

    return require_images(items, what, QualityBenchError)


def _vgg_weights(explicit: Path | None) -> Path | None:
    """--vgg-weights, else $STYLESTUDIO_VGG_WEIGHTS, else the shared data's copy, else the usual
    search (user cache, torch hub cache, bundled copy)."""
    from stylestudio.core.models.vgg import ENV_VGG_WEIGHTS

    if explicit is not None or os.environ.get(ENV_VGG_WEIGHTS, "").strip():
        return explicit
    return _shared("vgg", "vgg19_features.safetensors")


def run_quality(args: argparse.Namespace) -> int:
    from stylestudio.core.atomic import atomic_write_bytes, atomic_write_text
    from stylestudio.core.quality import contact_sheet, report
    from stylestudio.core.quality.benchmark import BenchConfig, QualityBench, load_average
    from stylestudio.core.quality.gatys import GatysConfig, GatysOptimizer
    from stylestudio.core.quality.images import QualityBenchError
    from stylestudio.core.quality.magenta import (
        MagentaModels,
        default_magenta_dir,
        unavailable_reason,
    )

    paintings = [_painting_path(p) for p in args.paintings]
    if args.photos:
        photos = _images(args.photos, "photo")
    else:
        default = _shared("content", "val")
        if default is None:
            raise QualityBenchError(
                "No photos: pass --photos or set STYLESTUDIO_SHARED_DATA to the shared data folder."
            )
        photos = _images([str(default)], "photo")
    gatys = GatysConfig(
        iterations=args.gatys_iterations, optimizer=GatysOptimizer(args.gatys_optimizer)
    )
    if args.gatys_style_weight is not None:
        gatys = replace(gatys, style_weight=args.gatys_style_weight)
    gatys = replace(
        gatys,
        style_scales=args.gatys_style_scales,
        swd_weight=args.gatys_swd_weight,
        color_weight=args.gatys_color_weight,
    )
    config = BenchConfig(
        size=args.size,
        style_size=args.style_size,
        device=args.device,
        seed=args.seed,
        gatys=gatys,
        max_photos=args.max_photos,
    )
    notes: list[str] = []
    magenta_dir = args.magenta or default_magenta_dir()
    reason = unavailable_reason(magenta_dir)
    magenta = None
    if reason is None:
        import torch

        magenta = MagentaModels(magenta_dir, args.device, torch.get_num_threads())
    else:
        notes.append(f"Magenta metric and method left out: {reason}")
        if args.magenta is not None:
            raise QualityBenchError(f"The Magenta models cannot be used: {reason}.")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    weights = _vgg_weights(args.vgg_weights)
    bench = QualityBench(config, vgg_weights=weights, magenta=magenta, log=log)
    methods = [bench.photo()]
    methods.extend(bench.style(style) for style in args.style)
    if args.train:
        # Practice photos: never the benchmark's own photos (default: the shared train set,
        # else the Trainer's bundled samples).
        content: list[Path] | None = None
        if args.train_content:
            content = _images(args.train_content, "practice photo")
        elif _shared("content", "train") is not None:
            content = [_shared("content", "train")]
        overrides = {"steps": args.train_steps} if args.train_steps else {}
        methods.append(bench.train(args.train, content, **overrides))
    if not args.no_gatys:
        from stylestudio.core.paths import user_cache_dir

        cache = None if args.no_cache else user_cache_dir() / "quality" / "gatys"
        methods.append(bench.gatys(cache_dir=cache))
    if magenta is not None and not args.no_magenta:
        methods.append(bench.magenta())

    print(
        f"quality benchmark: {len(paintings)} painting(s) × {len(photos[: args.max_photos])} "
        f"photo(s) × {len(methods)} method(s) at {args.size} px on {bench.metrics.device} · "
        f"torch threads {bench.environment()['threads']} · load average {load_average()}",
        flush=True,
    )
    network = bench.environment()["feature network"]
    source = weights or "the usual search (user cache, torch hub, bundled copy)"
    print(f"feature network: {network} ({source if network == 'VGGFeatures' else 'test stand-in'})")
    result = bench.run(paintings, photos, methods)
    result.notes.extend(notes)
    if weights is not None:
        result.environment["VGG weights"] = weights.name

    out: Path = args.out
    sheets: dict[str, str] = {}
    for name in result.paintings:
        file = f"contact-{name}.png"
        atomic_write_bytes(out / file, contact_sheet.contact_sheet_png(result, name, args.cell))
        sheets[name] = file
    if args.save_images:
        import io

        from PIL import Image

        for (painting, photo, method), image in result.outputs.items():
            buffer = io.BytesIO()
            Image.fromarray(image).save(buffer, format="PNG")
            safe = method.replace(":", "-").replace("(", "").replace(")", "").replace(" ", "")
            atomic_write_bytes(
                out / "images" / painting / f"{photo}--{safe}.png", buffer.getvalue()
            )
    atomic_write_text(out / "quality.md", report.format_markdown(result, sheets))
    atomic_write_text(out / "quality.json", report.to_json(result))
    print()
    print(report.format_table(result), end="")
    print(f"\ntotal {result.seconds:.0f} s · load average at end {load_average()}")
    print(f"wrote {out / 'quality.md'}, {out / 'quality.json'} and {len(sheets)} contact sheet(s)")
    return 0
