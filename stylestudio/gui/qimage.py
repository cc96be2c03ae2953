"""numpy ↔ QImage conversion (safe to call from worker threads: QImage is not a QPixmap)."""

from __future__ import annotations

import numpy as np
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


def qimage_to_numpy(image: QImage) -> np.ndarray:
    """uint8 (H, W, 3) copy of a QImage (any format)."""
    converted = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = converted.width(), converted.height()
    stride = converted.bytesPerLine()
    buffer = np.frombuffer(converted.constBits(), dtype=np.uint8, count=stride * height)
    return buffer.reshape(height, stride)[:, : 3 * width].reshape(height, width, 3).copy()
