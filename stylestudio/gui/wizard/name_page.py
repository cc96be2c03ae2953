"""Page 1: the new style's name (and an optional description)."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QWizardPage

from stylestudio.core.errors import StyleFormatError
from stylestudio.core.stylepack import MAX_NAME_LENGTH, MAX_TEXT_LENGTH, clean_name
from stylestudio.gui.wizard.controller import training_runs
from stylestudio.gui.wizard.state import WizardState

log = logging.getLogger(__name__)


class NamePage(QWizardPage):
    def __init__(self, state: WizardState) -> None:
        super().__init__()
        self.state = state
        self.setTitle(self.tr("Name your style"))
        self.setSubTitle(
            self.tr(
                "StyleStudio will learn a new style from a few examples of the look you want, "
                "such as your paintings or drawings."
            )
        )
        self.name_edit = QLineEdit()
        self.name_edit.setMaxLength(MAX_NAME_LENGTH)
        self.name_edit.setPlaceholderText(self.tr("e.g. Watercolour sketches"))
        self.description_edit = QLineEdit()
        self.description_edit.setMaxLength(MAX_TEXT_LENGTH)
        self.description_edit.setPlaceholderText(self.tr("Optional"))
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.busy_note = QLabel(
            self.tr(
                "Another style is still being learned in the background; learning two at once "
                "makes both slower."
            )
        )
        self.busy_note.setWordWrap(True)
        self.busy_note.setVisible(training_runs() > 0)
        layout = QFormLayout(self)
        layout.addRow(self.tr("&Name:"), self.name_edit)
        layout.addRow(self.tr("&Description:"), self.description_edit)
        layout.addRow(self.note)
        layout.addRow(self.busy_note)
        self.name_edit.textChanged.connect(self._name_changed)
        self._names: set[str] | None = None

    def _existing_names(self) -> set[str]:
        """Names in the library, read once (not on every keystroke)."""
        if self._names is None:
            self._names = set()
            library = self.state.library
            try:
                if library is not None:
                    self._names = {record.name.casefold() for record in library.list()}
            except Exception:  # a broken library must not block naming a style
                log.exception("could not list the styles")
        return self._names

    def _name_problem(self) -> str:
        """Why the library would refuse the name (checked here, not after the training)."""
        text = self.name_edit.text()
        if not text.strip():
            return ""
        try:
            clean_name(text)
        except StyleFormatError as exc:
            return str(exc)
        return ""

    def _name_changed(self, text: str) -> None:
        problem = self._name_problem()
        if problem:
            self.note.setText(problem)
        elif text.strip().casefold() in self._existing_names():
            self.note.setText(
                self.tr(
                    "You already have a style with this name; the new one will be added beside it."
                )
            )
        else:
            self.note.setText("")
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return bool(self.name_edit.text().strip()) and not self._name_problem()

    def validatePage(self) -> bool:
        self.state.name = self.name_edit.text().strip()
        self.state.description = self.description_edit.text().strip()
        return self.isComplete()
