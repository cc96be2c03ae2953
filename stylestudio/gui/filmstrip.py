"""The filmstrip: the queue of opened photos, one thumbnail each; selecting one shows it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QListWidget, QListWidgetItem, QWidget

from stylestudio.gui.plain_text import literal_rich_text
from stylestudio.gui.thumbnails import ThumbnailLoader

THUMB = 72
PATH_ROLE = Qt.ItemDataRole.UserRole


class Filmstrip(QListWidget):
    """Horizontal strip of queued photos. ``photoSelected(Path)`` when the current one changes."""

    photoSelected = Signal(Path)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filmstrip")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setGridSize(QSize(THUMB + 16, THUMB + 30))
        self.setMovement(QListView.Movement.Static)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFixedHeight(THUMB + 50)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self._loader = ThumbnailLoader(THUMB, self)
        self._loader.thumbnailReady.connect(self._thumbnail_ready)
        self.currentItemChanged.connect(self._current_changed)

    def paths(self) -> list[Path]:
        return [Path(self.item(row).data(PATH_ROLE)) for row in range(self.count())]

    def add_paths(self, paths: list[Path]) -> list[Path]:
        """Append photos not yet queued; returns the ones added."""
        known = set(self.paths())
        added: list[Path] = []
        for path in paths:
            if path in known:
                continue
            known.add(path)
            item = QListWidgetItem(QIcon(), path.name)
            item.setData(PATH_ROLE, str(path))
            item.setToolTip(literal_rich_text(str(path)))
            self.addItem(item)
            self._loader.request(path)
            added.append(path)
        self.setVisible(self.count() > 0)
        return added

    def remove_current(self) -> None:
        row = self.currentRow()
        if row >= 0:
            self.takeItem(row)
        self.setVisible(self.count() > 0)

    def current_path(self) -> Path | None:
        item = self.currentItem()
        return Path(item.data(PATH_ROLE)) if item is not None else None

    def select_path(self, path: Path) -> None:
        for row in range(self.count()):
            if Path(self.item(row).data(PATH_ROLE)) == path:
                self.setCurrentRow(row)
                return

    def _current_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        if current is not None:
            self.photoSelected.emit(Path(current.data(PATH_ROLE)))

    def _thumbnail_ready(self, path: str, image: QImage) -> None:
        if image.isNull():
            return
        for row in range(self.count()):
            item = self.item(row)
            if item.data(PATH_ROLE) == path:
                item.setIcon(QIcon(QPixmap.fromImage(image)))

    def shutdown(self) -> None:
        self._loader.shutdown()
