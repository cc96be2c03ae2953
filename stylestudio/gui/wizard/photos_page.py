"""Page 3: practice photos (optional) that the style is learned on, checked in the background."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWizardPage,
)

from stylestudio.core.imageio import is_supported_image_path
from stylestudio.gui.plain_text import literal_rich_text, plain_label
from stylestudio.gui.runner import JobKind, start_job
from stylestudio.gui.wizard.state import (
    PHOTOS_FOLDER,
    PHOTOS_NONE,
    PHOTOS_OPEN,
    WizardState,
)

if TYPE_CHECKING:
    from stylestudio.core.training.data import InputCheck


def _check(
    generation: int, styles: list[Path], content: list[Path] | Path | None
) -> tuple[int, InputCheck | None, str]:
    """(generation, the trainer's InputCheck or None, problem) on a background thread."""
    from stylestudio.core.errors import StyleStudioError
    from stylestudio.core.training import check_inputs

    try:
        return generation, check_inputs(styles, content), ""
    except StyleStudioError as exc:
        return generation, None, str(exc)


def folder_image_count(folder: Path) -> int:
    """Images directly in ``folder``, as the trainer reads a folder (not recursive)."""
    try:
        return sum(
            1
            for p in folder.iterdir()
            if p.is_file() and not p.name.startswith(".") and is_supported_image_path(p)
        )
    except OSError:
        return 0


class PhotosPage(QWizardPage):
    def __init__(self, state: WizardState) -> None:
        super().__init__()
        self.state = state
        self.checking = 0
        self.check_error = ""
        self._generation = 0
        self.setTitle(self.tr("Practice photos"))
        self.setSubTitle(
            self.tr(
                "The style is learned by repainting ordinary photos. Photos like the ones you "
                "will stylise later work best; this step is optional."
            )
        )
        n_open = len(state.open_photos)
        self.open_radio = QRadioButton(
            self.tr("The photos already open in StyleStudio ({0})").format(n_open)
        )
        self.open_radio.setEnabled(n_open > 0)
        self.folder_radio = QRadioButton(self.tr("The photos in a folder:"))
        self.none_radio = QRadioButton(self.tr("None: use StyleStudio's sample photos"))
        self.group = QButtonGroup(self)
        for button in (self.open_radio, self.folder_radio, self.none_radio):
            self.group.addButton(button)
        self.folder_label = plain_label(QLabel(self.tr("(no folder chosen)")))
        self.folder_button = QPushButton(self.tr("C&hoose Folder…"))
        self.count_label = plain_label(QLabel())
        self.note_label = plain_label(QLabel())  # the trainer's messages quote file names
        self.note_label.setWordWrap(True)
        self.note_label.setObjectName("photosNote")
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_radio)
        folder_row.addWidget(self.folder_label, 1)
        folder_row.addWidget(self.folder_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.open_radio)
        layout.addLayout(folder_row)
        layout.addWidget(self.none_radio)
        layout.addSpacing(12)
        layout.addWidget(self.count_label)
        layout.addWidget(self.note_label)
        layout.addStretch(1)
        (self.open_radio if n_open else self.none_radio).setChecked(True)
        self.group.buttonToggled.connect(lambda _b, on: on and self._changed())
        self.folder_button.clicked.connect(self.choose_folder)

    def initializePage(self) -> None:
        self._changed()

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose a Folder of Photos"))
        if folder:
            self.set_folder(Path(folder))

    def set_folder(self, folder: Path) -> None:
        self.state.photo_folder = folder
        self.folder_label.setText(folder.name or str(folder))
        self.folder_label.setToolTip(literal_rich_text(str(folder)))
        if self.folder_radio.isChecked():
            self._changed()
        else:
            self.folder_radio.setChecked(True)

    def source(self) -> str:
        if self.open_radio.isChecked():
            return PHOTOS_OPEN
        if self.folder_radio.isChecked():
            return PHOTOS_FOLDER
        return PHOTOS_NONE

    def _changed(self) -> None:
        state = self.state
        state.photo_source = self.source()
        self.check_error = ""
        if state.photo_source == PHOTOS_OPEN:
            count = len(state.open_photos)
        elif state.photo_source == PHOTOS_FOLDER and state.photo_folder is not None:
            count = folder_image_count(state.photo_folder)
        else:
            count = 0
        if state.photo_source == PHOTOS_FOLDER and state.photo_folder is None:
            self.count_label.setText(self.tr("Choose a folder of photos."))
            self.note_label.clear()
            self.completeChanged.emit()
            return
        if state.photo_source == PHOTOS_NONE:
            self.count_label.setText(self.tr("No practice photos chosen."))
        else:
            self.count_label.setText(self.tr("{0} practice photo(s)").format(count))
        self.note_label.setText(self.tr("Checking the images…"))
        self._generation += 1
        generation = self._generation
        self.checking += 1
        styles, content = state.usable_style_paths(), state.content()
        self.completeChanged.emit()
        start_job(
            lambda: _check(generation, styles, content),
            JobKind.CHECK,
            on_returned=self._checked,
            on_errored=self._crashed,
        )

    def _checked(self, result: tuple[int, InputCheck | None, str]) -> None:
        generation, check, problem = result
        self.checking -= 1
        if generation == self._generation:
            if problem:
                self.check_error = problem
                self.note_label.setText(problem)
            else:
                notes = list(check.notes)
                fine = self.tr("The images are fine.")
                self.note_label.setText("\n".join(notes) if notes else fine)
        self.completeChanged.emit()

    def _crashed(self, message: str) -> None:
        self.checking -= 1
        self.check_error = message
        self.note_label.setText(message)
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        if self.checking or self.check_error:
            return False
        return not (self.state.photo_source == PHOTOS_FOLDER and self.state.photo_folder is None)
