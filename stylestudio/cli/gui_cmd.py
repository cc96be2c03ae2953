"""``stylestudio gui [PATHS...]``: open the desktop window (Qt is imported only when it runs)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "gui",
        help="open the StyleStudio window",
        description="Open the StyleStudio window, optionally with photos or folders.",
    )
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="photos or folders")
    parser.add_argument(
        "--device", default=None, help="compute device: auto, cpu, cuda, cuda:N or mps"
    )
    parser.add_argument(
        "--lang", default=None, help="interface language, e.g. en or zh_CN (default: system)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from stylestudio.gui.app import run as run_app

    return run_app(args.paths, device=args.device, lang=args.lang)
