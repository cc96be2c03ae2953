"""Styles ▸ Import Community Model…: file dialog, name/licence dialog, background import."""

from __future__ import annotations

import pickle

import pytest
import torch
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog

from stylestudio.core.library import StyleLibrary
from stylestudio.gui.model_import_dialog import ModelImportDialog, default_name
from tests.test_import_model import fake_checkpoint

from .test_gui_window import TIMEOUT

pytestmark = pytest.mark.gui


def _styles_menu_actions(window) -> dict[str, object]:
    for menu_action in window.menuBar().actions():
        if menu_action.text() == "&Styles":
            return {a.text(): a for a in menu_action.menu().actions() if a.text()}
    raise AssertionError("no Styles menu")


def _answer_dialog(monkeypatch, license: str = "", attribution: str = "", name: str | None = None):
    seen: list[str] = []

    def fake_exec(dialog: ModelImportDialog) -> int:
        seen.append(dialog.name.text())
        if name is not None:
            dialog.name.setText(name)
        dialog.license.setText(license)
        dialog.attribution.setText(attribution)
        dialog.accept()
        return dialog.result()

    monkeypatch.setattr(ModelImportDialog, "exec", fake_exec)
    return seen


def test_menu_entry_imports_a_checkpoint_and_shows_the_new_style(
    qtbot, make_window, style_dirs, tmp_path, monkeypatch
) -> None:
    window = make_window()
    actions = _styles_menu_actions(window)
    assert actions["Import &Community Model…"] is window.import_model_action
    ckpt = tmp_path / "rain_princess.pth"
    torch.save(fake_checkpoint(seed=1, running_stats=True), ckpt)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(ckpt), ""))
    suggested = _answer_dialog(monkeypatch, "BSD-3-Clause", "pytorch/examples")

    window.import_model_action.trigger()
    qtbot.waitUntil(
        lambda: (
            (window.current_style() is not None) and window.current_style().name == "Rain Princess"
        ),
        timeout=TIMEOUT,
    )
    assert suggested == ["Rain Princess"]  # the dialog suggested a name from the file
    assert sorted(c.name for c in window.gallery.cards()) == [
        "Aurora",
        "Brushwork",
        "Rain Princess",
    ]
    assert "running statistics" in window.statusBar().currentMessage()
    record = StyleLibrary(style_dirs.user, style_dirs.builtin).get("Rain Princess")
    assert (record.manifest.license, record.manifest.attribution) == (
        "BSD-3-Clause",
        "pytorch/examples",
    )
    assert window.settings.last_dir("models") == str(tmp_path)


def test_a_refused_checkpoint_is_shown_and_nothing_runs(
    qtbot, make_window, tmp_path, monkeypatch
) -> None:
    window = make_window()
    marker = tmp_path / "payload-created"

    class CreatesFile:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    ckpt = tmp_path / "evil.pth"
    ckpt.write_bytes(pickle.dumps({"conv1.conv2d.weight": CreatesFile()}, protocol=2))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(ckpt), ""))
    _answer_dialog(monkeypatch, name="Evil")

    window.import_model_action.trigger()
    qtbot.waitUntil(window.banner.isVisible, timeout=TIMEOUT)
    assert "evil.pth is not a plain state dict of tensors" in window.banner.text()
    assert not marker.exists()
    assert len(window.gallery.cards()) == 2


def test_cancelled_file_dialog_does_nothing(qtbot, make_window, monkeypatch) -> None:
    window = make_window()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: ("", ""))
    opened = _answer_dialog(monkeypatch)
    window.import_model_action.trigger()
    assert opened == [] and len(window.gallery.cards()) == 2


def test_dialog_needs_a_one_line_name(qtbot) -> None:
    dialog = ModelImportDialog(None, "candy.pth", "Candy")
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert ok.isEnabled() and ok.text() == "Import"
    dialog.name.setText("   ")
    assert not ok.isEnabled() and dialog.error.text()
    dialog.accept()  # refused: stays open
    assert dialog.result() == 0
    dialog.name.setText(" Candy ")
    dialog.license.setText(" MIT ")
    assert ok.isEnabled()
    assert (dialog.fields().name, dialog.fields().license) == ("Candy", "MIT")


def test_default_name_from_file_name(tmp_path) -> None:
    from stylestudio.core import stylepack
    from stylestudio.gui import model_import_dialog

    assert model_import_dialog.MAX_NAME_LENGTH == stylepack.MAX_NAME_LENGTH
    assert default_name(tmp_path / "rain_princess.pth") == "Rain Princess"
    assert default_name(tmp_path / "la-muse.model") == "La Muse"
