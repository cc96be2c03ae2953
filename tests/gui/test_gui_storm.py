"""A storm of slider changes must not queue a storm of network runs (latest request wins)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication

from stylestudio.core.engine import Engine, StylizeOptions
from stylestudio.gui.qimage import qimage_to_numpy, to_uint8

from .test_gui_window import TIMEOUT, click_style, drop, wait_final

pytestmark = pytest.mark.gui


def test_slider_storm_runs_few_times_and_ends_on_final_settings(qtbot, make_window, photos):
    window = make_window(quick_side=40)
    with qtbot.waitSignal(window.photoShown, timeout=TIMEOUT):
        drop(window, [photos.a])
    style = window.gallery.cards()[0]
    click_style(qtbot, window, style.id)
    wait_final(qtbot, window)
    worker = window.client.worker
    before = worker.network_runs

    values = [50 + (i * 37) % 151 for i in range(199)] + [175]
    for value in values:  # 200 changes as fast as a dragged slider can deliver them
        window.panel.scale.setValue(value)
        window.panel.strength.setValue(100 - value // 4)
        QCoreApplication.processEvents()
    final = wait_final(qtbot, window)

    runs = worker.network_runs - before
    assert 1 <= runs <= 25, f"{runs} network runs for 200 slider changes"
    assert worker.views.superseded + worker.cancelled_runs > 0
    assert final.adjustments.style_scale == 1.75
    settings = window.adjustments()
    assert settings.strength == pytest.approx(1 - 175 // 4 / 100)

    # The painted image is what a direct engine run with the final settings produces.
    direct = Engine(device="cpu").stylize(
        final.original,
        style.location,
        StylizeOptions(
            strength=settings.strength,
            preserve_colors=settings.preserve_colors,
            style_scale=settings.style_scale,
        ),
    )
    qtbot.waitUntil(
        lambda: (
            np.abs(
                qimage_to_numpy(window.styled_image()).astype(int)
                - to_uint8(direct.image).astype(int)
            ).max()
            <= 2
        ),
        timeout=TIMEOUT,
    )
