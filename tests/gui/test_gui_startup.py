"""Start-up: the window appears before torch is imported; the ``gui`` sub-command is registered."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from stylestudio.cli.main import build_parser

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import sys
    from PySide6.QtCore import QEventLoop, QTimer
    from stylestudio.gui.app import create_application
    from stylestudio.gui.main_window import MainWindow
    from stylestudio.gui.worker import WorkerConfig

    HEAVY = ("torch", "stylestudio.core.engine.stylize", "stylestudio.core.stylepack",
             "stylestudio.core.library")
    app = create_application()
    window = MainWindow(WorkerConfig(builtin_dir=sys.argv[1], user_dir=sys.argv[2]),
                        start_engine=False)
    window.show()
    app.processEvents()
    loaded = [name for name in HEAVY if name in sys.modules]
    print("HEAVY_BEFORE_ENGINE", loaded)
    print("STATE", window.device_label.text())
    loop = QEventLoop()
    window.engineReady.connect(lambda desc: loop.quit())
    window.engineReady.connect(lambda desc: print("READY", desc))
    QTimer.singleShot(60000, loop.quit)
    window.start_engine()
    print("LOADING", window.device_label.text())
    loop.exec()
    print("TORCH_AFTER", "torch" in sys.modules)
    print("CLEAN_SHUTDOWN", window.shutdown())
    """
)


def test_window_shows_before_torch_is_imported(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        STYLESTUDIO_DATA_DIR=str(tmp_path / "data"),
        STYLESTUDIO_CACHE_DIR=str(tmp_path / "cache"),
        STYLESTUDIO_DEVICE="cpu",
        XDG_CONFIG_HOME=str(tmp_path / "config"),  # QSettings of the child process
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "builtin"), str(tmp_path / "user")],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert "HEAVY_BEFORE_ENGINE []" in out, out
    assert "STATE Engine not started" in out
    assert "LOADING Loading engine…" in out
    assert "READY CPU" in out and "TORCH_AFTER True" in out
    assert "CLEAN_SHUTDOWN True" in out
    assert "Traceback" not in result.stderr


def test_gui_subcommand_is_registered() -> None:
    args = build_parser().parse_args(
        ["gui", "a.jpg", "photos", "--device", "cpu", "--lang", "zh_CN"]
    )
    assert args.command == "gui"
    assert [str(p) for p in args.paths] == ["a.jpg", "photos"]
    assert args.device == "cpu" and args.lang == "zh_CN"
    assert callable(args.func)


def test_cli_does_not_import_qt_for_help() -> None:
    code = "import sys; from stylestudio.cli.main import build_parser; build_parser(); " \
        "print('PySide6' in sys.modules)"  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.stdout.strip().endswith("False"), out.stderr[-2000:]


def test_long_sessions_survive_pyside_none_refcount_leak() -> None:
    """More void Qt calls than None has references must not abort the process."""
    code = textwrap.dedent(
        """
        import sys
        import stylestudio.gui
        from PySide6.QtCore import QObject
        probe = QObject()
        for _ in range(min(sys.getrefcount(None) + 5000, 10**6)):
            probe.setObjectName("x")
        print("ALIVE")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.returncode == 0 and "ALIVE" in out.stdout, out.stderr[-2000:]
