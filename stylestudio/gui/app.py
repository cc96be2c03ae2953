"""Creating the QApplication and running the main window."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QLocale, QObject, Qt, QTimer
from PySide6.QtGui import QFileOpenEvent, QGuiApplication
from PySide6.QtWidgets import QApplication

from stylestudio import __version__
from stylestudio.gui.i18n import install_translators
from stylestudio.gui.icon import app_icon
from stylestudio.gui.main_window import MainWindow
from stylestudio.gui.settings import APPLICATION, ORGANIZATION
from stylestudio.gui.worker import WorkerConfig

log = logging.getLogger(__name__)


def create_application(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication (reused when one exists), with names, icon and translations."""
    existing = QApplication.instance()
    if existing is not None:
        return existing  # type: ignore[return-value]
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    QCoreApplication.setApplicationVersion(__version__)
    app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    QGuiApplication.setApplicationDisplayName("StyleStudio")
    QGuiApplication.setDesktopFileName("stylestudio")
    app.setWindowIcon(app_icon())
    app._stylestudio_translators = install_translators(app)  # type: ignore[attr-defined]
    return app


def _quit_on_interrupt(app: QApplication, window: MainWindow) -> QTimer:
    """Ctrl+C / SIGTERM in the terminal close the window cleanly (Qt's event loop would
    otherwise never give Python the chance to handle the signal)."""

    def close(*_args: object) -> None:
        window.close()
        app.quit()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError, OSError):  # not the main thread / unsupported
            signal.signal(sig, close)
    ticker = QTimer()
    ticker.timeout.connect(lambda: None)  # lets the interpreter run its signal handlers
    ticker.start(250)
    return ticker


class FileOpenForwarder(QObject):
    """Sends files the OS asks us to open (macOS Finder/Dock: ``QEvent.FileOpen``) to the window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
            path = event.file()
            if path:
                self._window.open_paths([Path(path)])
                return True
        return super().eventFilter(watched, event)


def run(paths: Sequence[Path] = (), *, device: str | None = None, lang: str | None = None) -> int:
    """Show the main window (opening ``paths``) and run the event loop; the exit code."""
    if lang:
        os.environ["STYLESTUDIO_LANG"] = lang
    app = create_application()
    if lang:
        QLocale.setDefault(QLocale(lang))
    window = MainWindow(WorkerConfig(device=device), icon=app.windowIcon())
    opener = FileOpenForwarder(window)
    app.installEventFilter(opener)
    window.show()
    _ticker = _quit_on_interrupt(app, window)
    if paths:
        QTimer.singleShot(0, lambda: window.open_paths([Path(p) for p in paths]))
    code = app.exec()
    if not window.shutdown():
        # A non-cancellable step (e.g. torch still importing) is running in the worker thread.
        # Destroying a running QThread would abort with a Qt fatal error, so leave directly.
        log.warning("leaving while the engine thread is still busy")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
