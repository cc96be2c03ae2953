"""Small photo thumbnails decoded on a thread pool (QImageReader scales while decoding)."""

from __future__ import annotations

import contextlib
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QImageReader

from stylestudio.core.video import is_video_path


def read_thumbnail(path: Path, size: int) -> QImage:
    """A thumbnail fitting ``size``×``size`` (EXIF orientation applied; a video's first frame,
    upright); null on failure."""
    if is_video_path(path):
        return _video_thumbnail(path, size)
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    original = reader.size()
    if original.isValid() and original.width() > 0 and original.height() > 0:
        scale = min(1.0, size / max(original.width(), original.height()))
        reader.setScaledSize(
            QSize(max(1, round(original.width() * scale)), max(1, round(original.height() * scale)))
        )
    image = reader.read()
    if image.isNull():
        return image
    if max(image.width(), image.height()) > size:  # orientation swapped width and height
        image = image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio)
    return image


def _video_thumbnail(path: Path, size: int) -> QImage:
    from stylestudio.core.video import VideoError
    from stylestudio.core.video.reader import read_frame

    try:
        rgb = read_frame(path, 0).rgb
    except VideoError:
        return QImage()
    height, width = rgb.shape[:2]
    image = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
    return image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio)


class ThumbnailLoader(QObject):
    """Decodes thumbnails off the GUI thread; ``thumbnailReady(path_str, QImage)``."""

    thumbnailReady = Signal(str, QImage)

    def __init__(self, size: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.size = size
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)

    def request(self, path: Path) -> None:
        self.pool.start(_ThumbnailTask(self, path))

    def shutdown(self, timeout_ms: int = 2000) -> None:
        self.pool.clear()
        self.pool.waitForDone(timeout_ms)


class _ThumbnailTask(QRunnable):
    def __init__(self, loader: ThumbnailLoader, path: Path) -> None:
        super().__init__()
        self.loader = loader
        self.path = path

    def run(self) -> None:
        image = read_thumbnail(self.path, self.loader.size)
        with contextlib.suppress(RuntimeError):  # the loader was deleted while we decoded
            self.loader.thumbnailReady.emit(str(self.path), image)
