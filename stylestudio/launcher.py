"""Entry point of the installed (PyInstaller-frozen) app.

``main()`` logs to a rotating file in ``paths.user_log_dir()``, installs an exception hook that
shows a readable dialog (with the log file's path) instead of a console traceback, and then either

* ``--self-test``: a headless check that the bundle works without Qt or a display: the first
  built-in style stylises a generated gradient on the CPU; prints ``self-test OK`` and returns 0,
  or prints one readable line and returns 1;
* ``--cli ARGS...``: runs the ``stylestudio`` command line (``StyleStudio --cli styles list``);
* anything else: launches the GUI (``stylestudio gui ARGS``: files to open, ``--device``, ...).

Qt is imported only on the GUI path and by the exception hook, never by the self-test.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from stylestudio import __version__
from stylestudio.core import paths
from stylestudio.core.errors import StyleStudioError

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger("stylestudio.launcher")

LOG_FILE_NAME = "stylestudio.log"
LOG_MAX_BYTES = 2 * 1024 * 1024
LOG_BACKUPS = 3

SELF_TEST_SIZE = 256
SELF_TEST_OK = "self-test OK"


class SelfTestError(StyleStudioError):
    """The bundle's self-test found a problem (missing styles, a broken engine)."""


# ------------------------------------------------------------------------------------- logging


_HANDLERS: list[logging.Handler] = []


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Log to ``user_log_dir()/stylestudio.log`` (rotating); returns the file, or None.

    A log folder that cannot be created is not fatal: the app then logs to stderr only (when it
    has one: a windowed app on Windows has ``sys.stderr is None``).
    """
    root = logging.getLogger()
    root.setLevel(level)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    log_file: Path | None = paths.user_log_dir() / LOG_FILE_NAME
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
    except OSError as exc:
        log_file = None
        if sys.stderr is not None:
            print(f"StyleStudio: cannot write the log file ({exc}).", file=sys.stderr)
    else:
        handler.setFormatter(formatter)
        _add_handler(handler)
    if sys.stderr is not None:
        console = logging.StreamHandler(sys.stderr)
        console.setLevel(logging.WARNING)
        console.setFormatter(formatter)
        _add_handler(console)
    return log_file


def _add_handler(handler: logging.Handler) -> None:
    logging.getLogger().addHandler(handler)
    _HANDLERS.append(handler)


def close_logging() -> None:
    """Flush, close and detach the handlers ``setup_logging`` added."""
    root = logging.getLogger()
    while _HANDLERS:
        handler = _HANDLERS.pop()
        root.removeHandler(handler)
        handler.close()


# ------------------------------------------------------------------------------ exception hook


def describe_exception(exc: BaseException) -> str:
    """One line for a dialog: the user-facing message of our errors, else type and message."""
    if isinstance(exc, StyleStudioError):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def error_dialog_text(exc: BaseException, log_file: Path | None) -> str:
    where = (
        f"The details were written to:\n{log_file}" if log_file else "No log file could be written."
    )
    return (
        f"StyleStudio ran into an unexpected problem.\n\n{describe_exception(exc)}\n\n{where}\n\n"
        "Please include that file if you report the problem."
    )


def _show_error_dialog(text: str, *, can_continue: bool) -> bool:
    """Show ``text`` in a QMessageBox; returns True if the user chose to keep the app running."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    if QApplication.instance() is None:
        _KEEP.append(QApplication([sys.argv[0] if sys.argv else "StyleStudio"]))
    box = QMessageBox()
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle("StyleStudio")
    box.setText(text)
    buttons = QMessageBox.StandardButton.Close
    if can_continue:
        buttons |= QMessageBox.StandardButton.Ignore
    box.setStandardButtons(buttons)
    box.setDefaultButton(QMessageBox.StandardButton.Close)
    choice = box.exec()
    return can_continue and choice == QMessageBox.StandardButton.Ignore


_KEEP: list[object] = []  # a QApplication created just for the dialog must outlive it
_GUI_RUNNING = [False]  # set by launch_gui around run_app; keeps the hook free of Qt imports


@dataclass
class ExceptionHook:
    """``sys.excepthook`` replacement: logs the traceback, then shows a readable dialog.

    An exception that reaches the hook while the GUI runs (a failing slot) offers "Ignore" (keep
    working, e.g. to save) or "Close"; during start-up the app is going down anyway. Exceptions
    raised in other threads are only logged: a dialog must not be opened from a worker thread.
    """

    log_file: Path | None
    #: (text, can_continue) -> keep running?; replaceable in tests.
    show_dialog: Callable[..., bool] = _show_error_dialog
    _active: bool = False

    def __call__(
        self,
        exc_type: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        log.critical("Unhandled exception", exc_info=(exc_type, exc, tb))
        if self._active or threading.current_thread() is not threading.main_thread():
            return  # the dialog itself failed (no recursion), or not on the GUI thread
        self._active = True
        try:
            keep_running = self.show_dialog(
                error_dialog_text(exc, self.log_file), can_continue=_GUI_RUNNING[0]
            )
        except Exception:  # no Qt, no display: fall back to the console, if there is one
            log.exception("Could not show the error dialog")
            if sys.stderr is not None:
                traceback.print_exception(exc_type, exc, tb, file=sys.stderr)
            keep_running = False
        finally:
            self._active = False
        if not keep_running:
            _quit_gui(1)

    def thread_hook(self, args: threading.ExceptHookArgs) -> None:
        """``threading.excepthook``: worker-thread failures are logged (the GUI reports them)."""
        if args.exc_type is SystemExit:
            return
        log.error(
            "Unhandled exception in thread %s",
            args.thread.name if args.thread else "?",
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),  # type: ignore[arg-type]
        )


def _quit_gui(code: int) -> None:
    """Leave Qt's event loop (if the GUI is running) so that ``run_app`` returns ``code``."""
    qt = sys.modules.get("PySide6.QtCore")
    app = qt.QCoreApplication.instance() if qt is not None else None
    if app is not None and _GUI_RUNNING[0]:
        app.exit(code)


def install_exception_hook(log_file: Path | None) -> ExceptionHook:
    hook = ExceptionHook(log_file)
    sys.excepthook = hook
    threading.excepthook = hook.thread_hook
    return hook


# ---------------------------------------------------------------------------------- self-test


def gradient_image(size: int = SELF_TEST_SIZE) -> np.ndarray:
    """A deterministic float32 RGB test image: horizontal, vertical and diagonal ramps."""
    import numpy as np

    ramp = np.linspace(0.0, 1.0, size, dtype=np.float32)
    red = np.broadcast_to(ramp[None, :], (size, size))
    green = np.broadcast_to(ramp[:, None], (size, size))
    blue = (red + green) / 2.0
    return np.ascontiguousarray(np.stack([red, green, blue], axis=-1), dtype=np.float32)


def self_test(out: Callable[[str], None] = print) -> int:
    """Stylise a generated image with the first built-in style on the CPU; 0 when it works."""
    try:
        message = _run_self_test(out)
    except StyleStudioError as exc:
        log.error("Self-test failed: %s", exc)
        out(f"self-test FAILED: {exc}")
        return 1
    except Exception as exc:  # a broken bundle shows up here: missing module, library, ...
        log.exception("Self-test crashed")
        out(f"self-test FAILED: {describe_exception(exc)}")
        return 1
    out(message)
    out(SELF_TEST_OK)
    return 0


def _run_self_test(out: Callable[[str], None]) -> str:
    import numpy as np

    from stylestudio.core.engine.ort_runner import is_fallback_note
    from stylestudio.core.engine.stylize import Engine, StylizeOptions
    from stylestudio.core.library import StyleLibrary

    resources = paths.resources_dir()
    out(f"StyleStudio {__version__}; resources: {resources}")
    builtins = [record for record in StyleLibrary().list() if record.builtin]
    if not builtins:
        raise SelfTestError(
            f"No built-in style was found in {paths.builtin_styles_dir()}; the installation is "
            "incomplete."
        )
    style = builtins[0]
    out(f"style: {style.name} ({style.id})")
    engine = Engine(device="cpu")
    image = gradient_image()
    result = engine.stylize(image, style.location, StylizeOptions())
    output = np.asarray(result.image)
    if output.shape != image.shape:
        raise SelfTestError(
            f"The style produced an image of shape {output.shape} instead of {image.shape}."
        )
    if not np.isfinite(output).all():
        raise SelfTestError("The style produced non-finite pixel values.")
    if output.min() < -1e-4 or output.max() > 1 + 1e-4:
        raise SelfTestError("The style produced pixel values outside [0, 1].")
    fallbacks = [note for note in result.notes if is_fallback_note(note)]
    if fallbacks:  # e.g. a bundle without onnxruntime's libraries
        raise SelfTestError(fallbacks[0])
    import torch

    return (
        f"stylised {image.shape[1]}x{image.shape[0]} px with {style.id!r} on "
        f"{engine.device_description} through {result.runtime.value} in "
        f"{result.elapsed_s:.2f} s (torch {torch.__version__})"
    )


# ------------------------------------------------------------------------------------------ GUI


def launch_gui(argv: Sequence[str]) -> int:
    """Run the GUI through ``stylestudio gui`` (files to open, ``--device``, ``--lang``)."""
    from stylestudio.cli.main import main as cli_main

    # Finder on old macOS versions adds a process serial number argument.
    args = [arg for arg in argv if not arg.startswith("-psn_")]
    _GUI_RUNNING[0] = True
    try:
        return cli_main(["gui", *args])
    finally:
        _GUI_RUNNING[0] = False


# ----------------------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if getattr(sys, "frozen", False):
        import multiprocessing

        multiprocessing.freeze_support()  # training data loaders spawn workers on Windows/macOS
        sys.dont_write_bytecode = True
    log_file = setup_logging(logging.DEBUG if os.environ.get("STYLESTUDIO_DEBUG") else logging.INFO)
    log.info(
        "StyleStudio %s starting (frozen=%s, python %s, %s)",
        __version__,
        bool(getattr(sys, "frozen", False)),
        sys.version.split()[0],
        sys.platform,
    )
    if "--self-test" in args:
        return self_test(_console_print)
    if args[:1] == ["--cli"]:
        from stylestudio.cli.main import main as cli_main

        return cli_main(args[1:])
    hook = install_exception_hook(log_file)
    try:
        return launch_gui(args)
    except SystemExit:
        raise
    except Exception as exc:  # a failure outside Qt's event loop (start-up, shut-down)
        hook(type(exc), exc, exc.__traceback__)
        return 1


def _console_print(line: str) -> None:
    """Print and log a self-test line; survives a missing console (windowed app on Windows).

    The log copy matters on Windows, where the windowed executable has no stdout to read.
    """
    log.info("self-test: %s", line)
    if sys.stdout is not None:
        print(line, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
