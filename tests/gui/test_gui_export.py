"""Exporting: files written with the chosen name/format, no overwrites, originals untouched."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QDialog, QDialogButtonBox

from stylestudio.core.errors import CancelledError
from stylestudio.core.export import ExportSettings
from stylestudio.gui.export_dialog import ExportDialog

from .test_gui_window import TIMEOUT, click_style, drop, wait_final

pytestmark = pytest.mark.gui


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ready_window(qtbot, make_window, photos):
    window = make_window()
    with qtbot.waitSignal(window.photoShown, timeout=TIMEOUT):
        drop(window, [photos.a, photos.b])
    click_style(qtbot, window, window.gallery.cards()[0].id)
    return window


def export(qtbot, window, photos_list, settings):
    with qtbot.waitSignal(window.exportFinished, timeout=TIMEOUT) as finished:
        assert window.export_photos(photos_list, settings) is not None
    return finished.args[0]


def test_export_all_then_again_without_overwriting(qtbot, make_window, photos, tmp_path):
    window = ready_window(qtbot, make_window, photos)
    originals = {p: digest(p) for p in (photos.a, photos.b)}
    out = tmp_path / "out"
    settings = ExportSettings(folder=out, format="png", pattern="{stem}-{style}")
    summary = export(qtbot, window, [photos.a, photos.b], settings)
    assert summary.failed == [] and not summary.cancelled
    first = out / "alpine-Aurora.png"
    assert sorted(p.name for p in out.iterdir()) == ["alpine-Aurora.png", "beach-Aurora.png"]
    with Image.open(first) as image:
        assert image.size == (96, 64)  # full resolution
        exported = np.asarray(image.convert("RGB"))
    with Image.open(photos.a) as image:
        assert np.abs(exported.astype(int) - np.asarray(image).astype(int)).mean() > 3
    before = digest(first)

    summary = export(qtbot, window, [photos.a], settings)  # existing file: a new name
    assert [p.name for p in summary.written] == ["alpine-Aurora (2).png"]
    assert digest(first) == before

    replace = ExportSettings(folder=out, format="jpeg", quality=80, replace_existing=True)
    summary = export(qtbot, window, [photos.a], replace)
    assert [p.name for p in summary.written] == ["alpine-Aurora.jpg"]
    assert {p: digest(p) for p in originals} == originals
    assert not window.progress.isVisible() and window.export_action.isEnabled()


def test_export_never_replaces_an_original(qtbot, make_window, photos):
    window = ready_window(qtbot, make_window, photos)
    originals = {p: digest(p) for p in (photos.a, photos.b)}
    # Same folder, same name, same format as alpine.png, and "replace" switched on.
    settings = ExportSettings(
        folder=photos.folder, format="png", pattern="{stem}", replace_existing=True
    )
    summary = export(qtbot, window, [photos.a, photos.b], settings)
    assert [p for p, _msg in summary.failed] == [photos.a]
    assert summary.written == [photos.folder / "beach.png"]
    assert {p: digest(p) for p in originals} == originals
    assert window.banner.isVisible() and "1 failed" in window.banner.text()
    assert any("alpine.png" in line for line in window.banner.detail_lines())


def test_cancel_export(qtbot, make_window, photos, tmp_path):
    window = ready_window(qtbot, make_window, photos)
    wait_final(qtbot, window)  # the stub below must only see the export's runs
    started = threading.Event()

    def endless(image, location, options, progress=None, cancel=None):
        started.set()
        while not cancel():
            threading.Event().wait(0.005)
        raise CancelledError()

    window.client.worker._engine.stylize = endless
    with qtbot.waitSignal(window.exportFinished, timeout=TIMEOUT) as finished:
        window.export_photos([photos.a, photos.b], ExportSettings(folder=tmp_path / "out"))
        assert window.progress.isVisible() and window.cancel_button.isVisible()
        qtbot.waitUntil(started.is_set, timeout=TIMEOUT)
        window.cancel_button.click()
    summary = finished.args[0]
    assert summary.cancelled and summary.written == []
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert "cancelled" in window.banner.text()


def test_export_menu_through_dialog(qtbot, make_window, photos, tmp_path, monkeypatch, screenshot):
    window = ready_window(qtbot, make_window, photos)
    dialog = window.make_export_dialog([photos.a, photos.b])
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.windowTitle() == "Export 2 photos"
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    dialog.pattern.setText("{stem}-{bogus}")
    assert not ok.isEnabled() and dialog.error.isVisible()
    dialog.pattern.setText("{n}-{stem}")
    assert ok.isEnabled() and dialog.preview.text().endswith("001-alpine.png")
    dialog.format.setCurrentIndex(dialog.format.findData("png"))
    assert not dialog.quality.isEnabled()
    dialog.format.setCurrentIndex(dialog.format.findData("webp"))
    assert dialog.quality.isEnabled()
    screenshot(dialog, "03-export-dialog")
    dialog.close()

    out = tmp_path / "via-menu"

    def accept(self):
        self.folder.setText(str(out))
        self.format.setCurrentIndex(self.format.findData("jpeg"))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(ExportDialog, "exec", accept)
    with qtbot.waitSignal(window.exportFinished, timeout=TIMEOUT):
        window.export_all_action.trigger()
    assert sorted(p.name for p in out.iterdir()) == ["alpine-Aurora.jpg", "beach-Aurora.jpg"]
    assert window.settings.export_value("folder", "") == str(out)  # remembered
