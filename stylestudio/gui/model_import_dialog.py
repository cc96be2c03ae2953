"""Styles ▸ Import Community Model…: a fast-neural-style checkpoint becomes a style.

A file dialog picks the checkpoint, :class:`ModelImportDialog` asks for the style's name, licence
and attribution, and the conversion (``core.model_import.import_model``: strict validation, no
unpickling) runs on a runner :class:`Job`. Then the gallery re-lists and shows the new style; a
refusal is shown as the core's one sentence. The core modules are imported when first used: the
window must appear before ``stylepack`` (and torch) are loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, SignalInstance
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QStatusBar,
    QVBoxLayout,
    QWidget,
)

from stylestudio.core.errors import StyleFormatError
from stylestudio.core.jobs import LibraryOp, LibraryOpKind
from stylestudio.gui.plain_text import plain_label
from stylestudio.gui.runner import Job, JobKind, start_job
from stylestudio.gui.settings import AppSettings
from stylestudio.gui.worker import EngineClient

if TYPE_CHECKING:
    from stylestudio.core.model_import import ModelImportRequest

#: The settings key of the folder the file dialog opens in.
LAST_DIR_KEY = "models"
#: As ``stylepack.MAX_NAME_LENGTH`` (not imported here: see the module docstring).
MAX_NAME_LENGTH = 80
MAX_FIELD_LENGTH = 2000


class ModelImportHost(Protocol):
    """What the flow needs from the main window."""

    client: EngineClient
    settings: AppSettings
    stylesChanged: SignalInstance

    def select_style(self, style_id: str) -> None: ...
    def show_error(self, message: str) -> None: ...
    def statusBar(self) -> QStatusBar: ...


@dataclass(frozen=True)
class ModelFields:
    """What the user typed into the dialog."""

    name: str
    license: str
    attribution: str


def default_name(path: Path) -> str:
    """A style name suggested by the file name (``rain_princess.pth`` → ``Rain Princess``)."""
    words = path.stem.replace("_", " ").replace("-", " ").split()
    return " ".join(w[:1].upper() + w[1:] for w in words)[:MAX_NAME_LENGTH]


class ModelImportDialog(QDialog):
    """Asks for the name, licence and attribution of the style made from ``file_name``."""

    def __init__(self, parent: QWidget | None, file_name: str, suggested_name: str) -> None:
        super().__init__(parent)
        self.setObjectName("modelImportDialog")
        self.setWindowTitle(self.tr("Import community model"))
        self.setMinimumWidth(440)
        intro = plain_label(
            QLabel(
                self.tr(
                    "{0} will become a new style. Its tensors are checked against the "
                    "fast-neural-style network; no code in the file is run."
                ).format(file_name)
            )
        )
        intro.setWordWrap(True)
        self.name = QLineEdit(suggested_name)
        self.name.setMaxLength(MAX_NAME_LENGTH)
        self.license = QLineEdit()
        self.license.setMaxLength(MAX_FIELD_LENGTH)
        self.license.setPlaceholderText(self.tr("for example CC BY 4.0"))
        self.attribution = QLineEdit()
        self.attribution.setMaxLength(MAX_FIELD_LENGTH)
        self.attribution.setPlaceholderText(self.tr("who trained the model, and where it is from"))
        self.error = plain_label(QLabel())
        self.error.setObjectName("modelImportError")
        self.error.setWordWrap(True)
        form = QFormLayout()
        form.addRow(self.tr("Style name"), self.name)
        form.addRow(self.tr("Licence"), self.license)
        form.addRow(self.tr("Attribution"), self.attribution)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Import"))
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.name.textChanged.connect(self._refresh)
        self._refresh()

    def fields(self) -> ModelFields:
        return ModelFields(
            self.name.text().strip(), self.license.text().strip(), self.attribution.text().strip()
        )

    def _problem(self) -> str:
        from stylestudio.core.stylepack import clean_name

        try:
            clean_name(self.name.text())
        except StyleFormatError:
            return self.tr("Give the style a name (one line, at most {0} characters).").format(
                MAX_NAME_LENGTH
            )
        return ""

    def _refresh(self) -> None:
        problem = self._problem()
        self.error.setText(problem)
        self.error.setVisible(bool(problem))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)

    def accept(self) -> None:
        """Close with "Import" only for a valid name (also for Enter or a script)."""
        if self._problem():
            self._refresh()
            return
        super().accept()


class ModelImportFlow(QObject):
    """One import at a time, for one main window (its child)."""

    def __init__(self, host: ModelImportHost, window: QMainWindow) -> None:
        super().__init__(window)
        self.setObjectName("modelImportFlow")
        self._host = host
        self._window = window
        self._job: Job | None = None
        self._select_when_listed = ""
        host.stylesChanged.connect(self._styles_changed)

    @property
    def running(self) -> bool:
        return self._job is not None

    def start(self) -> None:
        """Ask for a checkpoint and its details, then import it in the background."""
        if self.running:
            return
        path, _ = QFileDialog.getOpenFileName(
            self._window,
            self.tr("Import community model"),
            self._host.settings.last_dir(LAST_DIR_KEY),
            self.tr("Fast-neural-style models (*.pth *.pt *.model *.safetensors);;All files (*)"),
        )
        if not path:
            return
        checkpoint = Path(path)
        self._host.settings.set_last_dir(LAST_DIR_KEY, checkpoint.parent)
        dialog = ModelImportDialog(self._window, checkpoint.name, default_name(checkpoint))
        try:
            if not dialog.exec():  # rejected
                return
            fields = dialog.fields()
        finally:
            dialog.deleteLater()
        from stylestudio.core.model_import import ModelImportRequest

        self.run(ModelImportRequest(checkpoint, fields.name, fields.license, fields.attribution))

    def run(self, request: ModelImportRequest) -> Job:
        """Import ``request`` on a background job (the GUI stays responsive)."""
        from stylestudio.core.library import StyleLibrary
        from stylestudio.core.model_import import import_model

        config = self._host.client.config
        library = StyleLibrary(config.user_dir, config.builtin_dir)
        self._host.statusBar().showMessage(self.tr("Importing {0}…").format(request.path.name))
        self._job = start_job(
            lambda: import_model(library, request),
            JobKind.LIBRARY,
            on_returned=self._returned,
            on_errored=self._errored,
        )
        return self._job

    def _returned(self, result: object) -> None:
        from stylestudio.core.model_import import ModelImportResult

        self._job = None
        assert isinstance(result, ModelImportResult)
        text = self.tr("Imported “{0}” as a new style.").format(result.record.name)
        self._host.statusBar().showMessage(" ".join([text, *result.notes]), 10000)
        self._select_when_listed = result.record.id
        self._host.client.library(LibraryOp(LibraryOpKind.LIST))

    def _errored(self, message: str) -> None:
        self._job = None
        self._host.statusBar().clearMessage()
        self._host.show_error(message)

    def _styles_changed(self, _cards: list) -> None:
        style_id, self._select_when_listed = self._select_when_listed, ""
        if style_id:
            self._host.select_style(style_id)


def model_import_flow(window: QMainWindow) -> ModelImportFlow:
    """The window's flow, created on first use."""
    flow = window.findChild(ModelImportFlow, "modelImportFlow")
    if flow is None:
        flow = ModelImportFlow(window, window)  # type: ignore[arg-type]  # a MainWindow
    return flow


def start_model_import(window: QMainWindow) -> None:
    """The Styles menu's entry point (see ``gui/menus.py``)."""
    model_import_flow(window).start()
