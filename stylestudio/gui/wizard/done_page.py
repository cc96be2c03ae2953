"""Page 6: the result, after the style was added to the library."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWizardPage

from stylestudio.gui.plain_text import plain_label
from stylestudio.gui.wizard.controller import TrainingController
from stylestudio.gui.wizard.preview_grid import PreviewGrid
from stylestudio.gui.wizard.state import WizardState

log = logging.getLogger(__name__)
THUMB = 200


class DonePage(QWizardPage):
    def __init__(self, state: WizardState, controller: TrainingController) -> None:
        super().__init__()
        self.state = state
        self.controller = controller
        self.setTitle(self.tr("Your style is ready"))
        self.message = plain_label(QLabel())
        self.message.setWordWrap(True)
        self.thumbnail = QLabel()
        self.thumbnail.setFixedSize(THUMB, THUMB)
        self.thumbnail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.previews = PreviewGrid(cell=THUMB)
        row = QHBoxLayout()
        row.addWidget(self.thumbnail)
        row.addWidget(self.previews, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addLayout(row)
        layout.addStretch(1)
        self.setFinalPage(True)

    def initializePage(self) -> None:
        self.message.setText(
            self.tr(
                "“{0}” is now in your style gallery and selected. Use it on any photo like the "
                "built-in styles."
            ).format(self.state.name)
        )
        preview = self.controller.last_preview
        if preview is not None:
            self.previews.set_images(preview.step, preview.images)
        self.thumbnail.clear()
        library, style_id = self.state.library, self.controller.style_id
        if library is None or not style_id:
            return
        try:
            record = library.get(style_id)
        except Exception:  # the result page must not fail over a thumbnail
            log.exception("could not read the new style")
            return
        if record.thumbnail is not None:
            pixmap = QPixmap(str(record.thumbnail))
            if not pixmap.isNull():
                self.thumbnail.setPixmap(
                    pixmap.scaled(
                        THUMB,
                        THUMB,
                        Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation,
                    )
                )
