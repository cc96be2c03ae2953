"""``stylestudio`` console entry point: dispatches to the sub-command modules."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from stylestudio import __version__
from stylestudio.core.errors import StyleStudioError

#: Sub-command modules in the order ``--help`` lists them. Each defines
#: ``register(subparsers) -> None`` and sets ``func`` (args -> exit code) on its parser.
COMMAND_MODULES = (
    "stylestudio.cli.stylize_cmd",
    "stylestudio.cli.styles_cmd",
    "stylestudio.cli.train_cmd",
    "stylestudio.cli.info_cmd",
    "stylestudio.cli.bench_cmd",
    "stylestudio.cli.gui_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stylestudio",
        description="Learn an artistic style and apply it to your photos.",
    )
    parser.add_argument("--version", action="version", version=f"StyleStudio {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a command that this build does not include
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except StyleStudioError as exc:
        print(f"stylestudio: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stylestudio: interrupted", file=sys.stderr)
        return 130


def gui_main() -> int:
    """Entry point of the windowed ``stylestudio-gui`` script."""
    return main(["gui", *sys.argv[1:]])
