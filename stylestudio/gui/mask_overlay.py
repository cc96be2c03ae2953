"""The mask overlay on the canvas: a translucent tint over the areas the style covers.

The tint is an ARGB32 (premultiplied) image at the mask's resolution, drawn scaled over the photo.
Strokes update only the rectangle they touched, so painting stays cheap on big masks.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from stylestudio.gui.mask_brush import Rect, full_rect

TINT = QColor(64, 96, 255)
TINT_OPACITY = 0.45  # of a fully styled pixel


class MaskOverlayItem(QGraphicsItem):
    """Scene item over the photo (scene units = photo pixels) showing the mask as a tint."""

    def __init__(self) -> None:
        super().__init__()
        self.setZValue(1)
        self._rect = QRectF()
        self._pixels: np.ndarray | None = None  # (H, W, 4) uint8, B G R A (little-endian)
        self._image: QImage | None = None
        self.setVisible(False)

    def boundingRect(self) -> QRectF:
        return self._rect

    def set_photo_rect(self, rect: QRectF) -> None:
        self.prepareGeometryChange()
        self._rect = QRectF(rect)
        self.update()

    def set_mask(self, mask: np.ndarray | None) -> None:
        """Show ``mask`` (uint8 (H, W)); None shows nothing."""
        if mask is None:
            self._pixels = self._image = None
        else:
            h, w = mask.shape
            if self._pixels is None or self._pixels.shape[:2] != (h, w):
                self._pixels = np.zeros((h, w, 4), np.uint8)
                self._image = QImage(
                    self._pixels.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied
                )
            self.refresh(mask, full_rect(mask))
        self.update()

    def refresh(self, mask: np.ndarray, rect: Rect) -> None:
        """Recolour the tint under ``rect`` from ``mask``."""
        if self._pixels is None or self._pixels.shape[:2] != mask.shape:
            self.set_mask(mask)
            return
        rows, cols = rect.slices
        alpha = (mask[rows, cols].astype(np.uint16) * round(255 * TINT_OPACITY) + 127) // 255
        region = self._pixels[rows, cols]
        for channel, value in enumerate((TINT.blue(), TINT.green(), TINT.red())):
            region[..., channel] = (alpha * value + 127) // 255
        region[..., 3] = alpha
        self.update()

    def has_mask(self) -> bool:
        return self._image is not None

    def tint_at(self, x: int, y: int) -> int:
        """Alpha of the tint at mask pixel (x, y) (for tests)."""
        return 0 if self._pixels is None else int(self._pixels[y, x, 3])

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        if self._image is None or self._rect.isEmpty():
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(self._rect, self._image)
