"""``stylestudio bench``: latency and peak memory of the engine, side by side with a reference.

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
from dataclasses import asdict, dataclass
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


def _sizes(text: str) -> list[tuple[int, int]]:
    out = []
    for item in text.split(","):
        w, _, h = item.strip().lower().partition("x")
        out.append((int(w), int(h)))
    return out


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
