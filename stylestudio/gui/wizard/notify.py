"""A desktop notification through the system tray, where there is one."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

#: How long the temporary tray icon stays after showing its message.
TRAY_LINGER_MS = 15000


def show_tray_message(title: str, text: str, parent: QObject | None = None) -> bool:
    """Show ``text`` as a tray balloon; False when the platform has no system tray.

    A temporary tray icon (the application's icon) is created for the message and removed again
    after a while, so the app does not leave an icon in the tray for good.
    """
    if not QSystemTrayIcon.isSystemTrayAvailable() or not QSystemTrayIcon.supportsMessages():
        return False
    app = QApplication.instance()
    icon = QApplication.windowIcon() if app is not None else QIcon()
    tray = QSystemTrayIcon(icon, parent or app)  # a Qt parent keeps it alive until deleteLater
    tray.show()
    tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information)
    QTimer.singleShot(TRAY_LINGER_MS, tray.deleteLater)
    return True
