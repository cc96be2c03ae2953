"""The style gallery: cards, context menu rules, rename / export / delete / import."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from stylestudio.gui.worker import probe_wizard

from .test_gui_window import TIMEOUT, click_style

pytestmark = pytest.mark.gui


def menu_state(gallery, card):
    menu = gallery.build_context_menu(card)
    state = {a.text(): a.isEnabled() for a in menu.actions() if a.text()}
    menu.deleteLater()
    return state


def test_cards_and_context_menu(make_window) -> None:
    window = make_window()
    gallery = window.gallery
    builtin, user = gallery.cards()
    assert builtin.builtin and not user.builtin
    assert gallery.list.item(0).icon().isNull() is False
    assert menu_state(gallery, builtin) == {
        "Rename…": False,
        "Export style pack…": True,
        "Delete…": False,
    }
    assert all(menu_state(gallery, user).values())
    # "Learn a new style…" only when the wizard module imports (checked in the worker)
    assert window.can_learn() == probe_wizard()
    assert gallery.learn_button.isVisibleTo(gallery) == window.can_learn()
    assert window.learn_action.isVisible() == window.can_learn()


def test_rename_export_delete_import(qtbot, make_window, tmp_path, monkeypatch) -> None:
    window = make_window()
    gallery = window.gallery
    user = gallery.cards()[1]
    click_style(qtbot, window, user.id)

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Ink Wash", True))
    with qtbot.waitSignal(window.stylesChanged, timeout=TIMEOUT):
        gallery.ask_rename(user.id)
    assert gallery.card(user.id).name == "Ink Wash"
    assert gallery.current_style_id() == user.id

    pack = tmp_path / "ink.stylepack"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(pack), ""))
    gallery.ask_export(user.id)
    qtbot.waitUntil(lambda: "saved" in window.statusBar().currentMessage(), timeout=TIMEOUT)
    assert pack.is_file()

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    gallery.ask_delete(user.id)  # declined: nothing happens
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(window.stylesChanged, timeout=TIMEOUT):
        gallery.ask_delete(user.id)
    assert [c.name for c in gallery.cards()] == ["Aurora"]
    assert window.current_style() is None

    gallery.ask_delete(gallery.cards()[0].id)  # built-in: refused without asking
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(pack), ""))
    with qtbot.waitSignal(window.stylesChanged, timeout=TIMEOUT):
        window.import_style_pack()
    assert sorted(c.name for c in gallery.cards()) == ["Aurora", "Ink Wash"]


def test_library_error_is_shown_not_raised(qtbot, make_window, tmp_path, monkeypatch) -> None:
    window = make_window()
    bogus = tmp_path / "bogus.stylepack"
    bogus.write_bytes(b"PK\x03\x04 definitely not a valid pack")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bogus), ""))
    window.import_style_pack()
    qtbot.waitUntil(window.banner.isVisible, timeout=TIMEOUT)
    assert "bogus.stylepack" in window.banner.text()
    assert len(window.gallery.cards()) == 2


def test_learn_entry_opens_one_training_wizard(qtbot, make_window, photos) -> None:
    window = make_window()
    if not window.can_learn():
        pytest.skip("the training wizard is not part of this build")
    window.open_paths([photos.a])
    window.gallery.learn_button.click()
    wizard = window.training_wizard()
    assert wizard is not None and wizard.isVisible()
    window.learn_action.trigger()  # a second request shows the same wizard
    assert window.training_wizard() is wizard
    with qtbot.waitSignal(wizard.destroyed, timeout=5000):
        wizard.close()  # not training: closing deletes it
    assert window.training_wizard() is None
    assert not window.training_button.isVisibleTo(window)


def test_dropped_or_opened_stylepack_is_imported(qtbot, make_window, style_dirs, tmp_path):
    from PySide6.QtGui import QFileOpenEvent

    from stylestudio.core.library import StyleLibrary
    from stylestudio.gui.app import FileOpenForwarder
    from stylestudio.gui.messages import LibraryOp, LibraryOpKind

    from .test_gui_window import drop

    window = make_window()
    user = window.gallery.cards()[1]
    library = StyleLibrary(user_dir=style_dirs.user, builtin_dir=style_dirs.builtin)
    pack = library.export_pack(user.id, tmp_path / "shared.stylepack")

    def delete_user_style() -> None:
        style_id = next(c.id for c in window.gallery.cards() if not c.builtin)
        with qtbot.waitSignal(window.stylesChanged, timeout=TIMEOUT):
            window.client.library(LibraryOp(LibraryOpKind.DELETE, style_id))
        assert len(window.gallery.cards()) == 1

    delete_user_style()
    with qtbot.waitSignal(window.stylesChanged, timeout=TIMEOUT):
        assert drop(window, [pack])  # dropped on the canvas: imported, not "unsupported"
    assert [c.name for c in window.gallery.cards()] == ["Aurora", user.name]
    assert not window.banner.isVisible()
    assert window.current_photo() is None

    # macOS delivers Finder's "Open With" as a FileOpen event instead of an argument
    delete_user_style()
    forwarder = FileOpenForwarder(window)
    with qtbot.waitSignal(window.stylesChanged, timeout=TIMEOUT):
        assert forwarder.eventFilter(window, QFileOpenEvent(str(pack)))
    assert [c.name for c in window.gallery.cards()] == ["Aurora", user.name]
