"""``stylestudio bench video``: flicker of naive vs stabilised stylisation, and frames per second.

See ``core.video.benchmark`` for what is measured. The machine's load average is printed before
and after: on a shared CPU the speeds are only comparable at similar loads.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

DEFAULT_SPEED_SIZES = "1280x720,1920x1080"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "video",
        help="flicker of naive vs stabilised video stylisation, and frames per second",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("-s", "--style", help="style id, name, folder or .stylepack (default: first)")
    p.add_argument(
        "--photo", type=Path, help="the photo the clip pans over (default: a bundled sample)"
    )
    p.add_argument("--size", default="480x270", help="WxH of the flicker clip (default 480x270)")
    p.add_argument("--frames", type=int, default=24, help="frames of the flicker clip")
    p.add_argument("--noise", type=float, default=2.0, help="sensor noise, 8-bit levels")
    p.add_argument("--pan", type=float, default=0.3, help="pan per frame in pixels")
    p.add_argument(
        "--speed-sizes",
        default=DEFAULT_SPEED_SIZES,
        help=f"WxH list (default {DEFAULT_SPEED_SIZES})",
    )
    p.add_argument("--speed-frames", type=int, default=3, help="timed frames per size")
    p.add_argument("--device", default=None, help="auto (default), cpu, cuda, mps")
    p.add_argument("--strip", type=Path, help="write a PNG frame strip: input, naive, stabilised")
    p.add_argument("--json", type=Path, help="also write the numbers as JSON")
    p.set_defaults(func=run)


def _size(text: str) -> tuple[int, int]:
    w, _, h = text.strip().lower().partition("x")
    return int(w), int(h)


def _load() -> str:
    if not hasattr(os, "getloadavg"):
        return "n/a"
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _photo(path: Path | None):
    import numpy as np
    from PIL import Image

    from stylestudio.core.paths import resources_dir

    source = path or resources_dir() / "samples" / "coffee.jpg"
    with Image.open(source) as image:
        return source, np.asarray(image.convert("RGB"))


def run(args: argparse.Namespace) -> int:
    import torch
    from PIL import Image

    from stylestudio.cli.common import resolve_style
    from stylestudio.core.engine import Engine, StylizeOptions
    from stylestudio.core.video.benchmark import (
        ClipSpec,
        frame_strip,
        measure_speed,
        pan_zoom_clip,
        run_modes,
    )
    from stylestudio.core.video.temporal import TemporalMode

    style = resolve_style(args.style)
    engine = Engine(device=args.device)
    source, photo = _photo(args.photo)
    load_before = _load()
    print(
        f"Style: {style.name} · device: {engine.device_description} · "
        f"torch threads {torch.get_num_threads()} · load average {load_before}"
    )
    options = StylizeOptions()
    moving = ClipSpec(size=_size(args.size), frames=args.frames, pan=args.pan, noise=args.noise)
    clips = {
        "still": replace(moving, pan=0.0, zoom=0.0),
        "pan/zoom": moving,
    }
    width, height = moving.size
    print(
        f"Flicker clips: {moving.frames} frames of {width}×{height} from {source.name} with "
        f"noise σ {moving.noise} levels; still: a static camera; pan/zoom: {moving.pan} px and "
        f"{moving.zoom * 100:.2g} % per frame"
    )

    def tick(mode: TemporalMode, index: int) -> None:
        if sys.stderr.isatty():
            print(f"\r  {mode.value}: frame {index + 1}/{moving.frames} ", end="", file=sys.stderr)

    measured = {}
    for name, spec in clips.items():
        frames = pan_zoom_clip(photo, spec)
        results, still = run_modes(engine, style.location, frames, options, on_frame=tick)
        if sys.stderr.isatty():
            print("\r" + " " * 40 + "\r", end="", file=sys.stderr)
        measured[name] = (frames, results, still)
        naive = results[0].flicker
        print(f"{name} clip, still pixels (input change < 4 levels): {still * 100:.0f} %")
        print(f"  {'mode':<10} {'flicker':>8} {'vs naive':>9} {'deviation':>10}   (8-bit levels)")
        for r in results:
            share = f"{r.flicker / naive * 100:.0f} %" if naive else "–"
            print(f"  {r.mode.value:<10} {r.flicker:>8.3f} {share:>9} {r.deviation:>10.2f}")

    speeds = []
    for text in args.speed_sizes.split(","):
        if not text.strip():
            continue
        size = _size(text)
        clip = pan_zoom_clip(photo, ClipSpec(size=size, frames=args.speed_frames + 1))
        for mode in (TemporalMode.NAIVE, TemporalMode.NORM_FLOW):
            speed = measure_speed(engine, style.location, clip, options, mode)
            speeds.append(speed)
            print(
                f"{size[0]}×{size[1]} {mode.value:<10} {speed.fps:6.3f} frames/s "
                f"({1 / speed.fps if speed.fps else float('inf'):.1f} s/frame, "
                f"{speed.frames} timed) · load {_load()}",
                flush=True,
            )
    load_after = _load()
    print(f"load average: {load_before} at start, {load_after} at the end")

    if args.strip and moving.frames >= 5:
        for name, (frames, results, _still) in measured.items():
            start = max(1, min(len(frames) - 4, len(frames) // 2))
            crop_h, crop_w = min(height, 200), min(width, 240)
            crop = ((height - crop_h) // 2, (width - crop_w) // 2, crop_h, crop_w)
            shown = [r for r in results if r.mode in (TemporalMode.NAIVE, TemporalMode.NORM_FLOW)]
            target = (
                args.strip if name == "still" else args.strip.with_stem(args.strip.stem + "-pan")
            )
            Image.fromarray(frame_strip(frames, shown, start, 4, crop)).save(target)
            print(
                f"frame strip ({name}): {target} (rows: input; naive; its frame-to-frame change "
                "×8; stabilised; its change ×8)"
            )
    if args.json:
        record = {
            "style": style.name,
            "device": engine.device_description,
            "clip": {"size": [width, height], "frames": moving.frames, "noise": moving.noise},
            "flicker": {
                name: {
                    "still_pixels": still,
                    **{r.mode.value: {"flicker": r.flicker, "deviation": r.deviation} for r in res},
                }
                for name, (_frames, res, still) in measured.items()
            },
            "speed": [
                {"size": list(s.size), "mode": s.mode.value, "fps": s.fps, "frames": s.frames}
                for s in speeds
            ],
            "load_average": {"start": load_before, "end": load_after},
        }
        args.json.write_text(json.dumps(record, indent=2), encoding="utf-8")
    return 0
