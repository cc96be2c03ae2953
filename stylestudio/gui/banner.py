"""A non-modal message strip above the canvas (errors, skipped files), themed by the palette."""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from stylestudio.gui.plain_text import plain_label


class BannerKind(Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


_ICONS = {
    BannerKind.INFO: QStyle.StandardPixmap.SP_MessageBoxInformation,
    BannerKind.WARNING: QStyle.StandardPixmap.SP_MessageBoxWarning,
    BannerKind.ERROR: QStyle.StandardPixmap.SP_MessageBoxCritical,
}


class Banner(QFrame):
    """One message with optional details; never blocks; closed by the user or a timeout."""

    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.kind = BannerKind.INFO
        self.icon = QLabel()
        self.message = plain_label(QLabel())  # messages quote file and style names
        self.message.setObjectName("bannerMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_button = QToolButton()
        self.details_button.setText(self.tr("Details"))
        self.details_button.setCheckable(True)
        self.close_button = QToolButton()
        self.close_button.setAutoRaise(True)
        self.close_button.setIcon(
            self.style().standardIcon(QStyle.StandardPixmap.SP_TitleBarCloseButton)
        )
        self.close_button.setToolTip(self.tr("Close"))
        self.details = QPlainTextEdit()
        self.details.setObjectName("bannerDetails")
        self.details.setReadOnly(True)
        self.details.setMaximumHeight(120)
        self.details.hide()

        top = QHBoxLayout()
        top.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.message, 1)
        top.addWidget(self.details_button, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(top)
        layout.addWidget(self.details)

        self.details_button.toggled.connect(self.details.setVisible)
        self.close_button.clicked.connect(self.dismiss)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.dismiss)
        self.hide()

    def show_message(
        self,
        text: str,
        kind: BannerKind = BannerKind.INFO,
        details: list[str] | None = None,
        timeout_ms: int = 0,
    ) -> None:
        self.kind = kind
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        self.icon.setPixmap(self.style().standardIcon(_ICONS[kind]).pixmap(size, size))
        self.message.setText(text)
        self.details.setPlainText("\n".join(details or []))
        self.details_button.setVisible(bool(details))
        self.details_button.setChecked(False)
        self.details.hide()
        self.show()
        if timeout_ms > 0 and not details:
            self._timer.start(timeout_ms)
        else:
            self._timer.stop()

    def text(self) -> str:
        return self.message.text()

    def detail_lines(self) -> list[str]:
        text = self.details.toPlainText()
        return text.splitlines() if text else []

    def dismiss(self) -> None:
        self._timer.stop()
        self.hide()
        self.closed.emit()
