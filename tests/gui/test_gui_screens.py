"""Main states rendered for a human (saved when $STYLESTUDIO_SCREENSHOTS is set), light and dark."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QColor, QPalette

from stylestudio.core.paths import sample_images_dir
from stylestudio.gui.qimage import qimage_to_numpy

from .test_gui_window import click_style, wait_final

pytestmark = pytest.mark.gui


def dark_palette() -> QPalette:
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#2b2b2e",
        QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#1f1f22",
        QPalette.ColorRole.AlternateBase: "#34343a",
        QPalette.ColorRole.Text: "#e6e6e6",
        QPalette.ColorRole.Button: "#38383d",
        QPalette.ColorRole.ButtonText: "#e6e6e6",
        QPalette.ColorRole.Highlight: "#3d7be0",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.PlaceholderText: "#9a9aa0",
        QPalette.ColorRole.Mid: "#55555b",
        QPalette.ColorRole.Midlight: "#48484e",
    }
    for role, color in roles.items():
        palette.setColor(role, QColor(color))
    return palette


def sample_photo(photo_factory):
    sample = sample_images_dir() / "chelsea.jpg"
    return sample if sample.is_file() else photo_factory("sample.png", 450, 300)


def test_stylised_split_light_and_dark(qtbot, make_window, photo_factory, screenshot) -> None:
    window = make_window(quick_side=128)
    window.resize(1100, 720)
    with qtbot.waitSignal(window.photoShown, timeout=30000):
        window.open_paths([sample_photo(photo_factory)])
    click_style(qtbot, window, window.gallery.cards()[0].id)
    wait_final(qtbot, window)
    window.canvas.set_split(0.5)
    light = window.grab().toImage()
    assert not light.isNull() and light.width() >= 1000
    screenshot(window, "02-stylised-split")

    window.setPalette(dark_palette())
    qtbot.wait(50)
    dark = window.grab().toImage()
    # The whole window follows the palette: dark pixels dominate, nothing stays light-themed.
    light_px = qimage_to_numpy(light).mean(axis=2)
    dark_px = qimage_to_numpy(dark).mean(axis=2)
    assert dark_px.mean() < light_px.mean() - 40
    panel = qimage_to_numpy(window.gallery.grab().toImage()).mean(axis=2)
    assert np.median(panel) < 100
    screenshot(window, "04-stylised-split-dark")
