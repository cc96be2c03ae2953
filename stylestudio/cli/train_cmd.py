"""``stylestudio train``: learn a new style from style images and practice photos.

Runs unchanged under ``torchrun --nproc-per-node N stylestudio train ...`` (multi-GPU DDP).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from stylestudio.cli.progress import ProgressLine
from stylestudio.core.errors import StyleStudioError, TrainingError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="learn a new style from images",
        description="Learn a new style from one or more style images (paintings, drawings) and "
        "add it to your style library. Practice photos are optional; 20 or more varied photos "
        "give the best results. Interrupted runs continue with --resume.",
    )
    p.add_argument("--name", required=True, help="name of the new style")
    p.add_argument(
        "--style-images",
        nargs="+",
        required=True,
        metavar="PATH",
        help="style image files, folders or globs",
    )
    p.add_argument(
        "--content",
        nargs="+",
        metavar="PATH",
        help="practice photos: files, folders or globs (default: the bundled sample photos)",
    )
    p.add_argument(
        "--preset",
        choices=["quick", "balanced", "best"],
        default="balanced",
        help="quality / time trade-off (default balanced)",
    )
    p.add_argument("--steps", type=int, help="number of training steps (overrides the preset)")
    p.add_argument("--crop-size", type=int, help="training crop size in pixels (multiple of 4)")
    p.add_argument("--batch-size", type=int, help="photos per step")
    p.add_argument("--seed", type=int, help="random seed (default 0)")
    p.add_argument(
        "--resume", action="store_true", help="continue the interrupted run of this name"
    )
    p.add_argument(
        "--run-dir",
        type=Path,
        help="folder for checkpoints: a new or empty folder, or the folder of an earlier run "
        "(default: user cache); a folder holding other files is refused",
    )
    p.add_argument("--vgg-weights", type=Path, help="VGG19 weights file (.pth or .safetensors)")
    p.add_argument("--device", default=None, help="auto (default), cpu, cuda, cuda:N or mps")
    p.add_argument(
        "--from",
        dest="start_from",
        metavar="STYLE",
        help="start from this style (id, name, folder or .stylepack) instead of from scratch",
    )
    p.add_argument("--description", default="", help="description stored with the style")
    p.set_defaults(func=run)


def _format_eta(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "--:--"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class _Reporter:
    """Turns training events into a progress line and a few messages on stderr."""

    def __init__(self, resume: bool = False) -> None:
        self.line = ProgressLine()
        self.resume = resume
        self.already_saved = False  # the resumed run had saved its style before it was stopped

    def __call__(self, event: object) -> None:
        from stylestudio.core.training import events

        if isinstance(event, events.Status):
            self.line.done()
            print(event.message, file=sys.stderr)
        elif isinstance(event, events.Started):
            where = f" on {event.world_size} processes" if event.world_size > 1 else ""
            print(f"Training on {event.device}{where}.", file=sys.stderr)
            for note in event.notes:
                print(note, file=sys.stderr)
            if event.start_step:
                print(f"Resuming at step {event.start_step}.", file=sys.stderr)
            elif self.resume:
                print("No interrupted run to resume; starting from the beginning.", file=sys.stderr)
        elif isinstance(event, events.Progress):
            detail = (
                f"{event.step}/{event.total} · {event.it_per_s:.2f} it/s · "
                f"ETA {_format_eta(event.eta_s)} · loss {event.losses.get('total', 0.0):.3g}"
            )
            self.line.update("training", event.step / event.total, detail)
        elif isinstance(event, events.Failed | events.Finished | events.Cancelled):
            self.line.done()
            if isinstance(event, events.Finished):
                self.already_saved = event.already_saved


def run(args: argparse.Namespace) -> int:
    from stylestudio.cli.inputs import require_images
    from stylestudio.core.training import distributed
    from stylestudio.core.training.config import TrainingConfig
    from stylestudio.core.training.run import TrainingRun
    from stylestudio.core.training.trainer import Trainer

    overrides = {
        key: value
        for key, value in (
            ("steps", args.steps),
            ("crop_size", args.crop_size),
            ("batch_size", args.batch_size),
            ("seed", args.seed),
        )
        if value is not None
    }
    config = TrainingConfig.preset(args.preset, **overrides)
    style_images = require_images(args.style_images, "style image", TrainingError)
    content = (
        require_images(args.content, "practice photo", TrainingError) if args.content else None
    )

    import torch

    from stylestudio.core.engine.device import select_device
    from stylestudio.core.library import StyleLibrary

    device: torch.device = select_device(args.device)
    context = distributed.setup_from_env(device)
    if context is not None:
        device = context.device
    reporter = _Reporter(resume=args.resume)
    try:
        run = TrainingRun(
            config,
            tuple(style_images),
            tuple(content) if content else None,
            name=args.name,
            description=args.description,
            start_from=args.start_from,
            vgg_weights=args.vgg_weights,
            device=device,
            run_dir=args.run_dir,
            resume=args.resume,
        )
        trainer = Trainer(run, StyleLibrary(), on_event=reporter)
        try:
            record = trainer.run()
        except KeyboardInterrupt:
            reporter.line.done()
            print("Stopped; continue later with --resume.", file=sys.stderr)
            raise
        except StyleStudioError:
            reporter.line.done()
            raise
    finally:
        distributed.teardown(context)
    if record is not None and reporter.already_saved:
        print(f"The style {record.name!r} (id {record.id}) had already been saved; nothing to do.")
    elif record is not None:
        seconds = float(record.manifest.training.get("time_s", 0.0))
        took = f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"
        print(f"Saved style {record.name!r} (id {record.id}) after {took} of training.")
    return 0
