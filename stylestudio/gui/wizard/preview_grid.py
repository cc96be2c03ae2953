"""Before/after pairs of the fixed sample photos, refreshed on each ``Preview`` event."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QWidget

from stylestudio.gui.qimage import numpy_to_qimage

CELL = 150  # displayed side of each sample


class PreviewGrid(QWidget):
    """A "Before" and an "After" column with one row per sample photo."""

    def __init__(self, parent: QWidget | None = None, cell: int = CELL) -> None:
        super().__init__(parent)
        self.cell = cell
        self.step = 0
        self.pairs: list[tuple[QPixmap, QPixmap]] = []
        self._layout = QGridLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self._cells: list[tuple[QLabel, QLabel]] = []
        self.caption = QLabel(self.tr("Previews appear after the first steps."))
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setWordWrap(True)
        before = QLabel(self.tr("Before"))
        after = QLabel(self.tr("After"))
        for label in (before, after):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._layout.addWidget(before, 0, 0)
        self._layout.addWidget(after, 0, 1)
        self._layout.addWidget(self.caption, 99, 0, 1, 2)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    def _cell_label(self) -> QLabel:
        label = QLabel()
        label.setFixedSize(self.cell, self.cell)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setFrameShape(QLabel.Shape.StyledPanel)
        return label

    def set_images(self, step: int, images: Sequence[tuple[np.ndarray, np.ndarray]]) -> None:
        """Show ``(before, after)`` float32 (H, W, 3) pairs from the trainer."""
        while len(self._cells) < len(images):
            row = len(self._cells) + 1
            cells = (self._cell_label(), self._cell_label())
            self._layout.addWidget(cells[0], row, 0)
            self._layout.addWidget(cells[1], row, 1)
            for cell in cells:
                cell.show()  # now, not on the next event-loop pass (screenshots, tests)
            self._cells.append(cells)
        self.pairs = []
        for (before, after), labels in zip(images, self._cells, strict=False):
            pair = (self._pixmap(before), self._pixmap(after))
            self.pairs.append(pair)
            labels[0].setPixmap(pair[0])
            labels[1].setPixmap(pair[1])
        self.step = step
        self.caption.setText(self.tr("Step {0}").format(step))

    def _pixmap(self, rgb: np.ndarray) -> QPixmap:
        image = numpy_to_qimage(rgb)
        pixmap = QPixmap.fromImage(image)
        return pixmap.scaled(
            self.cell,
            self.cell,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
