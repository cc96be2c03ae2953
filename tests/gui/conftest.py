"""Fixtures for the GUI tests: offscreen Qt, temp data/settings folders, tiny styles and photos."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any Qt import

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QWidget


@dataclass
class StyleDirs:
    builtin: Path
    user: Path
    builtin_id: str
    user_id: str


def _tiny_state_dict(seed: int):
    import torch

    from stylestudio.core.models.generator import Generator, GeneratorConfig

    torch.manual_seed(seed)
    config = GeneratorConfig(base_channels=4, residual_blocks=1)
    return Generator(config).state_dict(), config


def _add_style(folder: Path, name: str, seed: int) -> str:
    from stylestudio.core.library import StyleLibrary
    from stylestudio.core.models.generator import ARCHITECTURE_NAME

    state, config = _tiny_state_dict(seed)
    thumb = Image.fromarray(np.full((32, 32, 3), 40 * seed % 255, dtype=np.uint8))
    record = StyleLibrary(user_dir=folder, builtin_dir=folder / "none").add(
        name, state, architecture=ARCHITECTURE_NAME, params=config.to_dict(), thumbnail=thumb
    )
    return record.id


@pytest.fixture(scope="session")
def _style_template(tmp_path_factory: pytest.TempPathFactory) -> StyleDirs:
    root = tmp_path_factory.mktemp("styles")
    builtin_id = _add_style(root / "builtin", "Aurora", 1)
    user_id = _add_style(root / "user", "Brushwork", 2)
    return StyleDirs(root / "builtin", root / "user", builtin_id, user_id)


@pytest.fixture
def style_dirs(_style_template: StyleDirs, tmp_path: Path) -> StyleDirs:
    """A built-in and a user style, copied fresh for every test (tests may rename/delete)."""
    builtin = tmp_path / "builtin-styles"
    user = tmp_path / "user-styles"
    shutil.copytree(_style_template.builtin, builtin)
    shutil.copytree(_style_template.user, user)
    return StyleDirs(builtin, user, _style_template.builtin_id, _style_template.user_id)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """User data, cache and QSettings inside tmp_path; English UI unless a test asks."""
    monkeypatch.setenv("STYLESTUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STYLESTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("STYLESTUDIO_DEVICE", "cpu")
    monkeypatch.setenv("STYLESTUDIO_LANG", "en")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qs"))
    yield


@pytest.fixture(autouse=True)
def _no_cross_thread_qt_calls(qtlog) -> Iterator[None]:
    """Fail on Qt's warnings about widgets/timers touched from the worker threads."""
    yield
    bad = [r.message for r in qtlog.records if "thread" in r.message.lower()]
    assert bad == [], bad


def write_photo(path: Path, width: int, height: int, seed: int = 0) -> Path:
    """A smooth, non-trivial test photo (gradients plus a little noise)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack(
        [x / max(width - 1, 1), y / max(height - 1, 1), 0.5 + 0.5 * np.sin((x + y) / 9.0)], axis=-1
    )
    rgb = np.clip(rgb + rng.normal(0, 0.03, rgb.shape), 0, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((rgb * 255).astype(np.uint8)).save(path)
    return path


@dataclass
class Photos:
    folder: Path
    a: Path
    b: Path
    nested: Path
    text: Path


@pytest.fixture
def photos(tmp_path: Path) -> Photos:
    folder = tmp_path / "photos"
    a = write_photo(folder / "alpine.png", 96, 64, seed=1)
    b = write_photo(folder / "beach.jpg", 64, 80, seed=2)
    nested = write_photo(folder / "more" / "city.png", 72, 48, seed=3)
    text = folder / "notes.txt"
    text.write_text("not an image")
    return Photos(folder, a, b, nested, text)


@pytest.fixture
def make_window(qtbot, style_dirs: StyleDirs):
    """Factory for a MainWindow on the temp styles, with the engine started and styles listed."""
    from stylestudio.gui.main_window import MainWindow
    from stylestudio.gui.worker import WorkerConfig

    windows = []

    def factory(quick_side: int = 40, wait_ready: bool = True, **kwargs) -> MainWindow:
        config = WorkerConfig(
            builtin_dir=style_dirs.builtin, user_dir=style_dirs.user, device="cpu",
            quick_side=quick_side,
        )  # fmt: skip
        window = MainWindow(config, start_engine=False, **kwargs)
        qtbot.addWidget(window)
        windows.append(window)
        window.resize(900, 600)
        window.show()
        if wait_ready:
            with qtbot.waitSignals([window.engineReady, window.stylesChanged], timeout=30000):
                window.start_engine()
        return window

    yield factory
    for window in windows:
        assert window.shutdown(), "the worker threads did not stop"


def _save_screenshot(widget: QWidget, name: str) -> Path | None:
    folder = os.environ.get("STYLESTUDIO_SCREENSHOTS")
    if not folder:
        return None
    target = Path(folder) / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(target))
    return target


@pytest.fixture
def screenshot():
    """``screenshot(widget, name)``: saves a PNG into $STYLESTUDIO_SCREENSHOTS when it is set."""
    return _save_screenshot


@pytest.fixture
def photo_factory(tmp_path: Path):
    """``photo_factory(name, width, height, seed=0)`` → a PNG/JPEG test photo in tmp_path."""
    return lambda name, width, height, seed=0: write_photo(tmp_path / name, width, height, seed)
