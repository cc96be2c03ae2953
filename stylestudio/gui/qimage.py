"""numpy ↔ QImage conversion (safe to call from worker threads: QImage is not a QPixmap)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    """float32 [0, 1] (H, W, 3) → contiguous uint8 (H, W, 3)."""
    scaled = np.multiply(rgb, np.float32(255.0), dtype=np.float32)
    np.add(scaled, np.float32(0.5), out=scaled)
    np.clip(scaled, 0.0, 255.0, out=scaled)
    return scaled.astype(np.uint8)


def numpy_to_qimage(rgb: np.ndarray) -> QImage:
    """An owned QImage (RGB888) of a float32 or uint8 (H, W, 3) array."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) array, got {rgb.shape}")
    data = rgb if rgb.dtype == np.uint8 else to_uint8(rgb)
    data = np.ascontiguousarray(data)
    height, width = data.shape[:2]
    image = QImage(data.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return image.copy()  # detach from the numpy buffer


def display_mips(rgb: np.ndarray, min_side: int = 384) -> list[QImage]:
    """Display-ready images (RGB32, the raster engine's native format) for a float/uint8 array:
    full size first, then smooth half-size copies down to about ``min_side``.

    Built in worker threads so that the GUI thread never converts or scales big images.
    """
    image = numpy_to_qimage(rgb).convertToFormat(QImage.Format.Format_RGB32)
    levels = [image]
    while min(levels[-1].width(), levels[-1].height()) >= 2 * min_side:
        prev = levels[-1]
        levels.append(
            prev.scaled(
                prev.width() // 2,
                prev.height() // 2,
                Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )
    return levels


def qimage_to_numpy(image: QImage) -> np.ndarray:
    """uint8 (H, W, 3) copy of a QImage (any format)."""
    converted = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = converted.width(), converted.height()
    stride = converted.bytesPerLine()
    buffer = np.frombuffer(converted.constBits(), dtype=np.uint8, count=stride * height)
    return buffer.reshape(height, stride)[:, : 3 * width].reshape(height, width, 3).copy()
