"""User-supplied strings (style names, file names, manifest fields, error texts) are shown
literally everywhere in the GUI: a style named ``<b>bold</b><img src=x>`` must not inject markup.

``shown()`` decides what Qt displays the way Qt does: plain text as is; rich text (set, or guessed
by ``Qt.mightBeRichText`` for AutoText, which every tooltip and QMessageBox.question use) through
a QTextDocument round trip.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QTextDocument
from PySide6.QtGui import Qt as QtGuiNamespace
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QWidget

from stylestudio.gui.banner import Banner, BannerKind
from stylestudio.gui.gallery import StyleCard, StyleGallery

from .conftest import write_photo
from .test_gui_window import TIMEOUT

pytestmark = pytest.mark.gui

NAME = "<b>bold</b><img src=x>"
DESCRIPTION = "by <i>me</i> &amp; a &lt; b\n  two  spaces"
#: File names cannot hold "/", so no closing tags; "&" and "[*]" are special in menus/titles.
FILE_NAME = "[*]<img src=x><b>Tom & Jerry.png"


def shown(text: str, text_format: Qt.TextFormat = Qt.TextFormat.AutoText) -> str:
    """What Qt displays for ``text`` in ``text_format``."""
    assert text_format != Qt.TextFormat.MarkdownText
    rich = text_format == Qt.TextFormat.RichText or (
        text_format == Qt.TextFormat.AutoText and QtGuiNamespace.mightBeRichText(text)
    )
    if not rich:
        return text
    document = QTextDocument()
    document.setHtml(text)
    return document.toPlainText()


def label_shows(label: QLabel) -> str:
    return shown(label.text(), label.textFormat())


def assert_labels_literal(widget: QWidget) -> int:
    """Every label under ``widget`` whose text holds markup characters shows them literally."""
    checked = 0
    for label in widget.findChildren(QLabel):
        if any(ch in label.text() for ch in "<&"):
            assert label_shows(label) == label.text(), label.objectName() or label.text()
            checked += 1
    return checked


def test_the_check_itself_sees_injected_markup() -> None:
    assert shown(NAME) == "bold\ufffc"  # Qt renders the name as markup: "bold" and an image
    assert shown(NAME, Qt.TextFormat.PlainText) == NAME
    assert shown("a &lt; b") == "a < b"


def test_gallery_tooltip_and_card_show_the_name_literally(qtbot, tmp_path: Path) -> None:
    gallery = StyleGallery()
    qtbot.addWidget(gallery)
    card = StyleCard("ink", NAME, False, tmp_path, description=DESCRIPTION)
    gallery.set_styles([card])
    item = gallery.list.item(0)
    assert item.text() == NAME  # the view paints item texts as plain text
    assert shown(item.toolTip()) == f"{NAME}\nYour style\n{DESCRIPTION}"
    gallery.set_status(NAME)
    assert label_shows(gallery.status) == NAME


def answer_next_message_box(qtbot, button: QMessageBox.StandardButton) -> dict[str, str]:
    """Click ``button`` in the next modal message box; returns what it showed."""
    seen: dict[str, str] = {}

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        try:
            seen["text"] = shown(box.text(), box.textFormat())
        finally:  # never leave the test hanging in exec()
            box.button(button).click()

    QTimer.singleShot(0, answer)
    return seen


def test_delete_dialog_shows_the_name_literally(qtbot, tmp_path: Path) -> None:
    gallery = StyleGallery()
    qtbot.addWidget(gallery)
    gallery.set_styles([StyleCard("ink", NAME, False, tmp_path)])
    deleted: list[str] = []
    gallery.deleteRequested.connect(deleted.append)

    seen = answer_next_message_box(qtbot, QMessageBox.StandardButton.Cancel)
    gallery.ask_delete("ink")
    assert seen["text"] == f"Delete the style “{NAME}”? This cannot be undone."
    assert deleted == []
    answer_next_message_box(qtbot, QMessageBox.StandardButton.Yes)
    gallery.ask_delete("ink")
    assert deleted == ["ink"]


def test_banner_shows_message_and_details_literally(qtbot) -> None:
    banner = Banner()
    qtbot.addWidget(banner)
    banner.show_message(f"{NAME} failed", BannerKind.ERROR, [NAME, DESCRIPTION])
    assert label_shows(banner.message) == f"{NAME} failed"
    assert banner.detail_lines() == [NAME, *DESCRIPTION.splitlines()]


def test_main_window_shows_style_and_file_names_literally(
    qtbot, make_window, tmp_path: Path
) -> None:
    window = make_window()
    gallery = window.gallery
    user = gallery.cards()[1]

    with qtbot.waitSignal(window.stylesChanged, timeout=TIMEOUT):  # through the library
        gallery.renameRequested.emit(user.id, NAME)
    item = next(
        gallery.list.item(r)
        for r in range(gallery.list.count())
        if gallery.list.item(r).text() == NAME
    )
    assert shown(item.toolTip()).splitlines()[0] == NAME
    qtbot.waitUntil(lambda: NAME in window.statusBar().currentMessage(), timeout=TIMEOUT)

    photo = write_photo(tmp_path / "in" / FILE_NAME, 48, 32)
    window.open_paths([photo])
    window.show()
    assert window.windowHandle().title() == f"{FILE_NAME} — StyleStudio"  # what the OS gets
    assert shown(window.filmstrip.item(0).toolTip()) == str(photo)
    window.recent_menu.aboutToShow.emit()
    recent = window.recent_menu.actions()[0]
    assert recent.iconText() == FILE_NAME  # "&" not taken as a mnemonic
    assert shown(recent.toolTip()) == str(photo)

    bogus = tmp_path / "<img src=x><b>bogus.stylepack"
    bogus.write_bytes(b"PK\x03\x04 not a pack")
    window.open_paths([bogus])
    qtbot.waitUntil(window.banner.isVisible, timeout=TIMEOUT)
    assert bogus.name in label_shows(window.banner.message)
    window.show_error(NAME)
    assert label_shows(window.banner.message) == NAME
    assert assert_labels_literal(window) >= 1


@pytest.fixture
def wizard(qtbot, tmp_path: Path):
    from stylestudio.core.library import StyleLibrary
    from stylestudio.gui import runner
    from stylestudio.gui.wizard import TrainingWizard, WizardOptions

    def failing_estimate(_config, _device, _inputs):
        raise RuntimeError(f"{NAME} cannot be measured")

    library = StyleLibrary(user_dir=tmp_path / "user", builtin_dir=tmp_path / "none")
    options = WizardOptions(device="cpu", estimator=failing_estimate, use_tray=False)
    wizard = TrainingWizard(None, library, [], options=options)
    qtbot.addWidget(wizard)
    wizard.show()
    yield wizard
    assert runner.wait_for_jobs(60_000)


def test_wizard_pages_show_names_and_errors_literally(qtbot, wizard, tmp_path: Path) -> None:
    style = wizard.style_page
    big = write_photo(tmp_path / "style" / FILE_NAME, 300, 280, seed=4)
    tiny = write_photo(tmp_path / "style" / f"tiny {FILE_NAME}", 40, 40, seed=5)
    style.add_paths([big, tiny])
    qtbot.waitUntil(lambda: style.pending == 0, timeout=TIMEOUT)
    assert shown(style.list.item(0).toolTip()) == f"{big}\n300×280"
    assert tiny.name in label_shows(style.warnings)

    folder = tmp_path / "<b>photos<img src=x>"
    folder.mkdir()
    (folder / "notes.txt").write_text("no photos here")
    photos = wizard.photos_page
    photos.set_folder(folder)  # checked in the background: the trainer names the folder
    assert label_shows(photos.folder_label) == folder.name
    assert shown(photos.folder_label.toolTip()) == str(folder)
    qtbot.waitUntil(lambda: photos.checking == 0, timeout=TIMEOUT)
    assert folder.name in label_shows(photos.note_label)

    settings = wizard.settings_page
    settings.initializePage()  # measures the time: the estimator fails with markup in its text
    qtbot.waitUntil(lambda: NAME in settings.estimate_label.text(), timeout=TIMEOUT)
    assert label_shows(settings.estimate_label).endswith(f"{NAME} cannot be measured")

    controller = wizard.controller
    controller.statusMessage.emit(f"Reading {NAME}")
    assert label_shows(wizard.training_page.status_label) == f"Reading {NAME}"
    controller.failed.emit(f"{NAME} could not be read", False)
    assert label_shows(wizard.training_page.status_label).endswith(f"{NAME} could not be read")

    wizard.state.name = NAME
    wizard.done_page.initializePage()
    assert NAME in label_shows(wizard.done_page.message)
    assert assert_labels_literal(wizard) >= 5


def test_menu_texts_and_window_titles_keep_ampersands_and_markers(qtbot) -> None:
    from stylestudio.gui.plain_text import literal_rich_text, menu_text, window_title

    assert shown(literal_rich_text(DESCRIPTION)) == DESCRIPTION
    assert literal_rich_text("") == ""
    widget = QWidget()
    qtbot.addWidget(widget)
    action = QAction(menu_text(FILE_NAME), widget)
    assert action.iconText() == FILE_NAME  # what menus and tool buttons display
    widget.setWindowTitle(window_title(FILE_NAME))
    widget.show()
    assert widget.windowHandle().title() == FILE_NAME


@pytest.mark.parametrize(
    ("style_name", "file_name"),
    [
        ("<b>x</b>", "_b_x_b_"),  # "<", ">" and "/" cannot stand in a file name
        ("&lt;b&gt;x", "&lt;b&gt;x"),  # escaped markup can: Qt would guess rich text
    ],
)
def test_export_dialog_preview_and_errors_show_names_literally(
    qtbot, tmp_path: Path, style_name: str, file_name: str
) -> None:
    from stylestudio.core.export import ExportSettings
    from stylestudio.gui.export_dialog import ExportDialog

    settings = ExportSettings(folder=tmp_path, format="png", pattern="{style}")
    dialog = ExportDialog(
        None, settings, count=1, sample_photo=tmp_path / "photo.jpg", style_name=style_name
    )
    qtbot.addWidget(dialog)
    assert label_shows(dialog.preview) == f"Example: {file_name}.png"
    dialog.pattern.setText("{style}-{bogus}")  # the reason quotes the pattern
    assert dialog.error.isVisibleTo(dialog) and "{bogus}" in label_shows(dialog.error)
    # Qt guesses the format from the first line only, a fixed sentence here: check the format.
    assert dialog.error.textFormat() == Qt.TextFormat.PlainText
