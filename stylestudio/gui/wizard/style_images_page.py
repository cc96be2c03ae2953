"""Page 2: the style images (drag-and-drop or a button), as thumbnails with size checks."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from stylestudio.core.imageio import SUPPORTED_EXTENSIONS
from stylestudio.gui.drops import accept_file_drag, collect_image_paths, paths_from_mime
from stylestudio.gui.plain_text import literal_rich_text, plain_label
from stylestudio.gui.runner import JobKind, start_job
from stylestudio.gui.thumbnails import read_thumbnail
from stylestudio.gui.wizard import image_checks
from stylestudio.gui.wizard.image_checks import ImageFacts
from stylestudio.gui.wizard.state import WizardState

THUMB = 96
#: The trainer refuses images smaller than this (``core.training.data.MIN_IMAGE_SIDE``).
MIN_SIDE = 64
PATH_ROLE = Qt.ItemDataRole.UserRole


class DropList(QListWidget):
    """A thumbnail list that accepts dropped image files and folders."""

    pathsDropped = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setGridSize(QSize(THUMB + 28, THUMB + 36))
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWordWrap(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        accept_file_drag(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        accept_file_drag(event)

    def dropEvent(self, event: QDropEvent) -> None:
        paths = paths_from_mime(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.pathsDropped.emit(paths)


def _inspect(paths: list[Path]) -> list[tuple[ImageFacts, object]]:
    """Facts and a thumbnail QImage per path (runs on a background thread)."""
    return [(image_checks.inspect_image(p), read_thumbnail(p, THUMB)) for p in paths]


class StyleImagesPage(QWizardPage):
    def __init__(self, state: WizardState) -> None:
        super().__init__()
        self.state = state
        self.pending = 0  # batches of files queued or being inspected
        self._queue: list[list[Path]] = []  # inspected one batch at a time, in order
        self.skipped: list[str] = []  # messages about files that were not added
        self.setTitle(self.tr("Add style images"))
        self.setSubTitle(
            self.tr(
                "Drop a few images in the style you want to learn (3–10 is plenty), or click "
                "Add Images. Larger images show brush strokes and textures best."
            )
        )
        self.list = DropList()
        self.list.setAccessibleName(self.tr("Style images"))
        self.add_button = QPushButton(self.tr("&Add Images…"))
        self.remove_button = QPushButton(self.tr("&Remove"))
        self.remove_button.setEnabled(False)
        self.count_label = plain_label(QLabel())
        self.warnings = plain_label(QLabel())  # lines quote file names
        self.warnings.setWordWrap(True)
        self.warnings.setObjectName("styleImageWarnings")
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.warnings)
        self.list.pathsDropped.connect(self.add_paths)
        self.add_button.clicked.connect(self.choose_files)
        self.remove_button.clicked.connect(self.remove_selected)
        self.list.itemSelectionChanged.connect(
            lambda: self.remove_button.setEnabled(bool(self.list.selectedItems()))
        )
        self._refresh()

    # -- adding and removing ---------------------------------------------------------------
    def choose_files(self) -> None:
        patterns = " ".join(f"*{ext}" for ext in sorted(SUPPORTED_EXTENSIONS))
        files, _ = QFileDialog.getOpenFileNames(
            self, self.tr("Add Style Images"), "", self.tr("Images ({0})").format(patterns)
        )
        if files:
            self.add_paths([Path(f) for f in files])

    def add_paths(self, paths: Iterable[Path]) -> None:
        """Add image files (folders are searched); inspected off the GUI thread."""
        collected = collect_image_paths([Path(p) for p in paths])
        for path in collected.skipped:
            if not path.is_dir():
                self.skipped.append(self.tr("{0} is not a supported image.").format(path.name))
        known = {f.path for f in self.state.style_images}
        known.update(p for batch in self._queue for p in batch)
        new = [p for p in collected.images if p not in known]
        if new:
            self._queue.append(new)
            self.pending += 1
            if self.pending == 1:
                self._inspect_next()
        self._refresh()

    def _inspect_next(self) -> None:
        batch = self._queue[0]
        start_job(
            lambda: _inspect(batch),
            JobKind.CHECK,
            on_returned=self._inspected,
            on_errored=self._inspect_failed,
        )

    def _batch_done(self) -> None:
        self._queue.pop(0)
        self.pending -= 1
        if self._queue:
            self._inspect_next()

    def _inspected(self, results: list[tuple[ImageFacts, object]]) -> None:
        self._batch_done()
        for facts, thumb in results:
            if facts.error:
                self.skipped.append(self.tr("{0} could not be read.").format(facts.path.name))
                continue
            if facts.short_side < MIN_SIDE:
                self.skipped.append(
                    self.tr("{0} is only {1}×{2} pixels; it is too small to learn from.").format(
                        facts.path.name, facts.width, facts.height
                    )
                )
                continue
            self.state.style_images.append(facts)
            item = QListWidgetItem(facts.path.name)
            item.setData(PATH_ROLE, str(facts.path))
            item.setToolTip(literal_rich_text(f"{facts.path}\n{facts.width}×{facts.height}"))
            if thumb is not None and not thumb.isNull():
                item.setIcon(QIcon(QPixmap.fromImage(thumb)))
            self.list.addItem(item)
        self._refresh()

    def _inspect_failed(self, message: str) -> None:
        self._batch_done()
        self.skipped.append(message)
        self._refresh()

    def remove_selected(self) -> None:
        chosen = {item.data(PATH_ROLE) for item in self.list.selectedItems()}
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))
        self.state.style_images = [f for f in self.state.style_images if str(f.path) not in chosen]
        self.skipped.clear()
        self._refresh()

    # -- checks ----------------------------------------------------------------------------
    def warning_lines(self) -> list[str]:
        facts = self.state.style_images
        lines = list(self.skipped)
        for item in image_checks.small_images(facts):
            lines.append(
                self.tr(
                    "{0} is small ({1}×{2} pixels); images of at least {3} pixels on each side "
                    "teach details better."
                ).format(item.path.name, item.width, item.height, image_checks.SMALL_SIDE)
            )
        for copy, original in image_checks.duplicates(facts).items():
            lines.append(
                self.tr("{0} is the same image as {1}; it will be used once.").format(
                    copy.name, original.name
                )
            )
        return lines

    def _refresh(self) -> None:
        count = len(self.state.usable_style_paths())
        text = self.tr("{0} image(s)").format(count)
        if self.pending:
            text = self.tr("Checking images…")
        self.count_label.setText(text)
        lines = self.warning_lines()
        self.warnings.setText("\n".join(f"⚠ {line}" for line in lines))
        self.warnings.setVisible(bool(lines))
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.pending == 0 and bool(self.state.usable_style_paths())
