"""The style gallery: one card (thumbnail + name) per built-in or user style."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QEvent, QPoint, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QIcon, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from stylestudio.core.mixing import LineageInfo
from stylestudio.gui.plain_text import literal_rich_text, plain_label

THUMB_SIZE = 88
ID_ROLE = Qt.ItemDataRole.UserRole
BUILTIN_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class StyleCard:
    """What the gallery needs from a ``StyleRecord`` (kept Qt- and torch-free)."""

    id: str
    name: str
    builtin: bool
    location: Path
    thumbnail: Path | None = None
    description: str = ""
    #: What it may be blended with (``core.mixing``); None: not known.
    lineage: LineageInfo | None = None

    @classmethod
    def from_record(cls, record: object, lineage: LineageInfo | None = None) -> StyleCard:
        manifest = getattr(record, "manifest", None)
        return cls(
            id=str(record.id),  # type: ignore[attr-defined]
            name=str(record.name),  # type: ignore[attr-defined]
            builtin=bool(record.builtin),  # type: ignore[attr-defined]
            location=Path(record.location),  # type: ignore[attr-defined]
            thumbnail=getattr(record, "thumbnail", None),
            description=str(getattr(manifest, "description", "") or ""),
            lineage=lineage,
        )


def placeholder_pixmap(name: str, palette: QPalette, size: int = THUMB_SIZE) -> QPixmap:
    """A neutral tile with the style's initial, drawn from the palette (works in dark mode)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QBrush(palette.color(QPalette.ColorRole.Midlight)))
    painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1))
    painter.drawRoundedRect(QRectF(1, 1, size - 2, size - 2), 10, 10)
    font = painter.font()
    font.setPixelSize(size // 2)
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(palette.color(QPalette.ColorRole.ButtonText))
    painter.drawText(
        QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, (name[:1] or "?").upper()
    )
    painter.end()
    return pixmap


class StyleGallery(QWidget):
    """Cards for every style; emits requests, the main window runs them in the worker."""

    styleSelected = Signal(str)
    renameRequested = Signal(str, str)
    exportRequested = Signal(str, Path)
    deleteRequested = Signal(str)
    importRequested = Signal()
    learnRequested = Signal()

    def __init__(self, parent: QWidget | None = None, *, can_learn: bool = False) -> None:
        super().__init__(parent)
        self._cards: dict[str, StyleCard] = {}
        self.title = QLabel(self.tr("Styles"))
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.status = plain_label(QLabel(self.tr("Loading styles…")))
        self.status.setWordWrap(True)
        self.status.setForegroundRole(QPalette.ColorRole.PlaceholderText)

        self.list = QListWidget()
        self.list.setObjectName("styleList")
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.list.setGridSize(QSize(THUMB_SIZE + 24, THUMB_SIZE + 40))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setWordWrap(True)
        self.list.setUniformItemSizes(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.list.currentItemChanged.connect(self._current_changed)

        self.import_button = QPushButton(self.tr("Import style pack…"))
        self.import_button.clicked.connect(self.importRequested)
        self.learn_button = QPushButton(self.tr("Learn a new style…"))
        self.learn_button.clicked.connect(self.learnRequested)
        self.learn_button.setVisible(can_learn)

        buttons = QHBoxLayout()
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.learn_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.status)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)

    # Content ------------------------------------------------------------------------------
    def set_styles(self, cards: list[StyleCard], select_id: str | None = None) -> None:
        keep = select_id or self.current_style_id()
        self.list.blockSignals(True)
        try:
            self.list.clear()
            self._cards = {card.id: card for card in cards}
            for card in cards:
                item = QListWidgetItem(self._icon(card), card.name)
                item.setData(ID_ROLE, card.id)
                item.setData(BUILTIN_ROLE, card.builtin)
                kind = self.tr("Built-in style") if card.builtin else self.tr("Your style")
                tip = f"{card.name}\n{kind}"
                if card.description:
                    tip += f"\n{card.description}"
                item.setToolTip(literal_rich_text(tip))  # names and descriptions are not HTML
                item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
                self.list.addItem(item)
                if card.id == keep:
                    self.list.setCurrentItem(item)
        finally:
            self.list.blockSignals(False)
        if cards:
            self.status.hide()
        else:
            self.status.setText(self.tr("No styles yet. Import a style pack or learn a new style."))
            self.status.show()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self._cards:
            self.set_styles(self.cards())  # placeholder tiles are drawn from the palette

    def set_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def _icon(self, card: StyleCard) -> QIcon:
        pixmap = QPixmap()
        if card.thumbnail and Path(card.thumbnail).is_file():
            pixmap.load(str(card.thumbnail))
        if pixmap.isNull():
            pixmap = placeholder_pixmap(card.name, self.palette())
        else:
            pixmap = pixmap.scaled(
                THUMB_SIZE,
                THUMB_SIZE,
                Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                Qt.TransformationMode.SmoothTransformation,
            )
        return QIcon(pixmap)

    def cards(self) -> list[StyleCard]:
        return list(self._cards.values())

    def card(self, style_id: str) -> StyleCard | None:
        return self._cards.get(style_id)

    def current_style_id(self) -> str | None:
        item = self.list.currentItem()
        return str(item.data(ID_ROLE)) if item is not None else None

    def select_style(self, style_id: str) -> bool:
        """Select (and announce) a style by id; False when it is not in the gallery."""
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(ID_ROLE) == style_id:
                self.list.setCurrentItem(item)
                return True
        return False

    def _current_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        if current is not None:
            self.styleSelected.emit(str(current.data(ID_ROLE)))

    # Context menu -------------------------------------------------------------------------
    def _context_menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        card = self._cards.get(str(item.data(ID_ROLE)))
        if card is None:
            return
        menu = self.build_context_menu(card)
        menu.exec(self.list.viewport().mapToGlobal(pos))

    def build_context_menu(self, card: StyleCard) -> QMenu:
        menu = QMenu(self)
        rename = menu.addAction(self.tr("Rename…"), lambda: self.ask_rename(card.id))
        menu.addAction(self.tr("Export style pack…"), lambda: self.ask_export(card.id))
        menu.addSeparator()
        delete = menu.addAction(self.tr("Delete…"), lambda: self.ask_delete(card.id))
        for action in (rename, delete):
            action.setEnabled(not card.builtin)
            if card.builtin:
                action.setToolTip(self.tr("Built-in styles cannot be changed"))
        return menu

    def ask_rename(self, style_id: str) -> None:
        card = self._cards.get(style_id)
        if card is None or card.builtin:
            return
        name, ok = QInputDialog.getText(
            self,
            self.tr("Rename style"),
            self.tr("New name:"),
            QLineEdit.EchoMode.Normal,
            card.name,
        )
        name = name.strip()
        if ok and name and name != card.name:
            self.renameRequested.emit(style_id, name)

    def ask_export(self, style_id: str) -> None:
        card = self._cards.get(style_id)
        if card is None:
            return
        suggested = str(Path.home() / f"{card.name}.stylepack")
        path, _filter = QFileDialog.getSaveFileName(
            self,
            self.tr("Export style pack"),
            suggested,
            self.tr("Style packs (*.stylepack)"),
        )
        if path:
            dest = Path(path)
            if dest.suffix.lower() != ".stylepack":
                dest = dest.with_name(dest.name + ".stylepack")
            self.exportRequested.emit(style_id, dest)

    def ask_delete(self, style_id: str) -> None:
        card = self._cards.get(style_id)
        if card is None or card.builtin:
            return
        answer = QMessageBox.question(
            self,
            self.tr("Delete style"),
            literal_rich_text(
                self.tr("Delete the style “{0}”? This cannot be undone.").format(card.name)
            ),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.deleteRequested.emit(style_id)
