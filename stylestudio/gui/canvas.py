"""The photo canvas: zoom, pan, before/after split with a draggable divider, drop target, and
the mask mode (the left button paints strokes, reported as signals in photo pixels; the middle
button pans; a circle shows the brush)."""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import (
    QEasingCurve,
    QPointF,
    QRectF,
    QSize,
    Qt,
    QVariantAnimation,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QImage,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPalette,
    QPen,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsItem,
    QGraphicsScene,
    QGraphicsView,
    QStyleOptionGraphicsItem,
    QWidget,
)

from stylestudio.gui.drops import accept_file_drag, paths_from_mime
from stylestudio.gui.mask_overlay import MaskOverlayItem

MIN_ZOOM = 0.02
MAX_ZOOM = 32.0
ZOOM_STEP = 1.25
DIVIDER_GRAB_PX = 8


class _Mips:
    """An image plus half-size copies, so zoomed-out views stay smooth and sharp.

    Levels normally come pre-built from a worker thread (``qimage.display_mips``); missing ones
    are built here on first use. Images are drawn directly (no QPixmap conversion copies).
    """

    def __init__(self, images: QImage | list[QImage]) -> None:
        self.levels: list[QImage] = list(images) if isinstance(images, list) else [images]

    @property
    def size(self) -> QSize:
        return self.levels[0].size()

    def for_scale(self, device_px_per_px: float) -> QImage:
        """The smallest level still at least as detailed as ``device_px_per_px`` needs."""
        level = 0
        while device_px_per_px * (2 ** (level + 1)) <= 1.0 and level < 6:
            level += 1
        while len(self.levels) <= level:
            prev = self.levels[-1]
            if prev.width() < 128 or prev.height() < 128:
                break
            half = prev.scaled(
                max(1, prev.width() // 2),
                max(1, prev.height() // 2),
                Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            self.levels.append(half)
        return self.levels[min(level, len(self.levels) - 1)]


def _valid(image: QImage | list[QImage] | None) -> bool:
    if isinstance(image, list):
        return bool(image) and not image[0].isNull()
    return image is not None and not image.isNull()


class SplitImageItem(QGraphicsItem):
    """Draws the original and the stylised image in the same rectangle (scene units = photo px).

    Left of ``split`` (a fraction of the width) shows the original, right of it the result; the
    result may have a lower resolution than the original and is scaled into place.
    """

    def __init__(self) -> None:
        super().__init__()
        self._rect = QRectF()
        self._original: _Mips | None = None
        self._styled: _Mips | None = None
        self.split = 0.5
        self.split_enabled = True
        self.show_original = False

    def boundingRect(self) -> QRectF:
        return self._rect

    def set_original(self, image: QImage | list[QImage] | None) -> None:
        self.prepareGeometryChange()
        self._original = _Mips(image) if _valid(image) else None
        self._styled = None
        self._rect = QRectF(0, 0, *self._size()) if self._original else QRectF()
        self.update()

    def set_styled(self, image: QImage | list[QImage] | None) -> None:
        self._styled = _Mips(image) if _valid(image) else None
        self.update()

    def has_styled(self) -> bool:
        return self._styled is not None

    def styled_size(self) -> QSize | None:
        return self._styled.size if self._styled else None

    def styled_image(self) -> QImage | None:
        return self._styled.levels[0] if self._styled else None

    def original_image(self) -> QImage | None:
        return self._original.levels[0] if self._original else None

    def _size(self) -> tuple[int, int]:
        if not self._original:
            return (0, 0)
        size = self._original.size
        return (size.width(), size.height())

    def divider_visible(self) -> bool:
        return self.split_enabled and self._styled is not None and not self.show_original

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        if not self._original:
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        dpr = painter.device().devicePixelRatioF() if painter.device() else 1.0
        scale = abs(painter.worldTransform().m11()) * dpr
        rect = self._rect
        exposed = option.exposedRect.intersected(rect)
        self._draw(painter, self._original, rect, exposed, scale)
        if self._styled is None or self.show_original:
            return
        styled_area = QRectF(rect)
        if self.split_enabled:
            styled_area.setLeft(rect.width() * self.split)
        styled_area = styled_area.intersected(exposed)
        if not styled_area.isEmpty():
            self._draw(painter, self._styled, rect, styled_area, scale)

    @staticmethod
    def _draw(
        painter: QPainter, mip: _Mips, rect: QRectF, area: QRectF, device_scale: float
    ) -> None:
        full = mip.size
        ratio = full.width() / rect.width() if rect.width() else 1.0
        image = mip.for_scale(device_scale / ratio)
        sx = image.width() / rect.width()
        sy = image.height() / rect.height()
        source = QRectF(area.x() * sx, area.y() * sy, area.width() * sx, area.height() * sy)
        painter.drawImage(area, image, source)


class Canvas(QGraphicsView):
    """Shows the current photo; accepts dropped files and folders.

    Zoom is measured in photo pixels per *device* pixel, so 100 % is pixel-exact on high-DPI
    screens.
    """

    pathsDropped = Signal(list)
    zoomChanged = Signal(float)
    resized = Signal()
    #: Another photo (or none) is shown.
    originalChanged = Signal()
    #: Mask mode: a stroke began / went on at a point (photo pixels) / ended.
    strokeStarted = Signal(QPointF)
    strokeMoved = Signal(QPointF)
    strokeFinished = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("canvas")
        self.setScene(QGraphicsScene(self))
        self.item = SplitImageItem()
        self.scene().addItem(self.item)
        self.mask_overlay = MaskOverlayItem()
        self.scene().addItem(self.mask_overlay)
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setRenderHints(
            QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform
        )
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setBackgroundRole(QPalette.ColorRole.Window)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._fit_mode = True
        self._dragging_divider = False
        self._drag_hover = False
        self._mask_mode = False
        self._painting = False
        self._brush_radius = 0.0  # photo pixels
        self._pointer: QPointF | None = None  # viewport position of the brush outline
        self._pan_from: QPointF | None = None
        self._animation = QVariantAnimation(self)
        self._animation.setDuration(140)
        self._animation.setEasingCurve(QEasingCurve.Type.OutCubic)
        self._animation.valueChanged.connect(lambda v: self._apply_zoom(float(v)))
        self.empty_text = self.tr("Drop photos here or press {0}").format(
            QKeySequence(QKeySequence.StandardKey.Open).toString(
                QKeySequence.SequenceFormat.NativeText
            )
        )

    # Content ------------------------------------------------------------------------------
    def has_image(self) -> bool:
        return not self.item.boundingRect().isEmpty()

    def set_original(self, image: QImage | list[QImage] | None) -> None:
        """Show a photo: one image, or a mip chain (full size first) from a worker."""
        self.item.set_original(image)
        self.scene().setSceneRect(self.item.boundingRect())
        self.mask_overlay.set_photo_rect(self.item.boundingRect())
        self._painting = False
        self._fit_mode = True
        self.fit()
        self.viewport().update()
        self.originalChanged.emit()

    def set_styled(self, image: QImage | list[QImage] | None) -> None:
        self.item.set_styled(image)
        self.viewport().update()

    def clear(self) -> None:
        self.set_original(None)

    def set_split_enabled(self, enabled: bool) -> None:
        self.item.split_enabled = enabled
        self.item.update()
        self.viewport().update()

    def split_enabled(self) -> bool:
        return self.item.split_enabled

    def set_split(self, fraction: float) -> None:
        self.item.split = min(1.0, max(0.0, fraction))
        self.item.update()
        self.viewport().update()

    def set_show_original(self, on: bool) -> None:
        if self.item.show_original != on:
            self.item.show_original = on
            self.item.update()
            self.viewport().update()

    # Mask mode ----------------------------------------------------------------------------
    def set_mask_mode(self, on: bool) -> None:
        """Left-button drags paint (``stroke*`` signals) instead of panning."""
        if on == self._mask_mode:
            return
        if self._painting:
            self._end_stroke()
        self._mask_mode = on
        self.setDragMode(
            QGraphicsView.DragMode.NoDrag if on else QGraphicsView.DragMode.ScrollHandDrag
        )
        self.viewport().setCursor(
            Qt.CursorShape.CrossCursor if on else Qt.CursorShape.OpenHandCursor
        )
        self.viewport().update()

    def mask_mode(self) -> bool:
        return self._mask_mode

    def set_brush_radius(self, radius: float) -> None:
        """The brush outline's radius in photo pixels."""
        self._brush_radius = max(0.0, radius)
        self.viewport().update()

    def brush_radius(self) -> float:
        return self._brush_radius

    def is_painting(self) -> bool:
        return self._painting

    def _scene_point(self, event: QMouseEvent) -> QPointF:
        return self.mapToScene(event.position().toPoint())

    def _end_stroke(self) -> None:
        self._painting = False
        self.strokeFinished.emit()

    def _mask_press(self, event: QMouseEvent) -> bool:
        if event.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = event.position()
            return True
        if event.button() != Qt.MouseButton.LeftButton or not self.has_image():
            return False
        self._painting = True
        self.strokeStarted.emit(self._scene_point(event))
        return True

    def _mask_move(self, event: QMouseEvent) -> None:
        self._pointer = event.position()
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            bar_x, bar_y = self.horizontalScrollBar(), self.verticalScrollBar()
            bar_x.setValue(bar_x.value() - round(delta.x()))
            bar_y.setValue(bar_y.value() - round(delta.y()))
        elif self._painting:
            self.strokeMoved.emit(self._scene_point(event))
        self.viewport().update()

    def _mask_release(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = None
        elif event.button() == Qt.MouseButton.LeftButton and self._painting:
            self.strokeMoved.emit(self._scene_point(event))
            self._end_stroke()

    def leaveEvent(self, event) -> None:
        self._pointer = None
        self.viewport().update()
        super().leaveEvent(event)

    # Zoom ---------------------------------------------------------------------------------
    def _dpr(self) -> float:
        return self.devicePixelRatioF() or 1.0

    def zoom(self) -> float:
        """Photo pixels per device pixel (1.0 = 100 %)."""
        return self.transform().m11() * self._dpr()

    def _apply_zoom(self, zoom: float) -> None:
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        factor = zoom / self._dpr()
        current = self.transform().m11() or 1.0
        self.scale(factor / current, factor / current)
        self.zoomChanged.emit(self.zoom())

    def set_zoom(self, zoom: float, animate: bool = False) -> None:
        self._fit_mode = False
        self._animation.stop()
        if animate and self.isVisible():
            self._animation.setStartValue(self.zoom())
            self._animation.setEndValue(min(MAX_ZOOM, max(MIN_ZOOM, zoom)))
            self._animation.start()
        else:
            self._apply_zoom(zoom)

    def zoom_in(self) -> None:
        self.set_zoom(self._target_zoom() * ZOOM_STEP, animate=True)

    def zoom_out(self) -> None:
        self.set_zoom(self._target_zoom() / ZOOM_STEP, animate=True)

    def zoom_actual(self) -> None:
        self.set_zoom(1.0, animate=True)

    def _target_zoom(self) -> float:
        running = self._animation.state() == QVariantAnimation.State.Running
        return float(self._animation.endValue()) if running else self.zoom()

    def fit(self) -> None:
        self._fit_mode = True
        self._animation.stop()
        rect = self.item.boundingRect()
        if rect.isEmpty():
            self.resetTransform()
            return
        view = self.viewport().rect().adjusted(8, 8, -8, -8)
        if view.width() <= 0 or view.height() <= 0:
            return
        factor = min(view.width() / rect.width(), view.height() / rect.height())
        self.resetTransform()
        self.scale(factor, factor)
        self.centerOn(rect.center())
        self.zoomChanged.emit(self.zoom())

    def is_fit(self) -> bool:
        return self._fit_mode

    def wheelEvent(self, event: QWheelEvent) -> None:
        if not self.has_image():
            return
        delta = event.angleDelta().y() or event.pixelDelta().y()
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier and not (
            event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            super().wheelEvent(event)  # shift+wheel scrolls
            return
        if delta:
            self._animation.stop()
            self._fit_mode = False
            self._apply_zoom(self.zoom() * math.pow(1.0015, delta))
        event.accept()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fit_mode:
            self.fit()
        self.resized.emit()

    # Divider and panning ------------------------------------------------------------------
    def _divider_x(self) -> float | None:
        if not self.item.divider_visible():
            return None
        rect = self.item.boundingRect()
        return self.mapFromScene(QPointF(rect.width() * self.item.split, 0)).x()

    def _near_divider(self, x: float) -> bool:
        divider = self._divider_x()
        return divider is not None and abs(divider - x) <= DIVIDER_GRAB_PX

    def _move_divider(self, x: float) -> None:
        rect = self.item.boundingRect()
        if rect.width():
            self.set_split(self.mapToScene(int(x), 0).x() / rect.width())

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._mask_mode:
            if self._mask_press(event):
                event.accept()
                return
        elif event.button() == Qt.MouseButton.LeftButton and self._near_divider(
            event.position().x()
        ):
            self._dragging_divider = True
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._mask_mode:
            self._mask_move(event)
            event.accept()
            return
        if self._dragging_divider:
            self._move_divider(event.position().x())
            event.accept()
            return
        if self._near_divider(event.position().x()):
            self.viewport().setCursor(Qt.CursorShape.SplitHCursor)
        elif not event.buttons():
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._mask_mode:
            self._mask_release(event)
            event.accept()
            return
        if self._dragging_divider:
            self._dragging_divider = False
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self.set_show_original(True)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self.set_show_original(False)
            event.accept()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:
        self.set_show_original(False)  # never get stuck if Space is released elsewhere
        super().focusOutEvent(event)

    # Drops --------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if accept_file_drag(event):
            self._drag_hover = True
            self.viewport().update()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        accept_file_drag(event)

    def dragLeaveEvent(self, event) -> None:
        self._drag_hover = False
        self.viewport().update()
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self._drag_hover = False
        self.viewport().update()
        paths: list[Path] = paths_from_mime(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.pathsDropped.emit(paths)

    # Painting -----------------------------------------------------------------------------
    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        painter.save()
        painter.resetTransform()
        palette = self.palette()
        viewport = QRectF(self.viewport().rect())
        if not self.has_image():
            self._draw_empty_state(painter, viewport, palette)
        else:
            divider = self._divider_x()
            if divider is not None:
                self._draw_divider(painter, divider, viewport, palette)
            if self._mask_mode and self._pointer is not None:
                self._draw_brush(painter, self._pointer, palette)
        if self._drag_hover:
            pen = QPen(palette.color(QPalette.ColorRole.Highlight), 3, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(viewport.adjusted(4, 4, -4, -4), 10, 10)
        painter.restore()

    def _draw_empty_state(self, painter: QPainter, viewport: QRectF, palette: QPalette) -> None:
        color = palette.color(QPalette.ColorRole.PlaceholderText)
        box = viewport.adjusted(24, 24, -24, -24)
        pen = QPen(color, 2, Qt.PenStyle.DashLine)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(pen)
        painter.drawRoundedRect(box, 16, 16)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        painter.setFont(font)
        painter.setPen(palette.color(QPalette.ColorRole.WindowText))
        painter.drawText(
            box, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.empty_text
        )

    def _draw_brush(self, painter: QPainter, at: QPointF, palette: QPalette) -> None:
        radius = self._brush_radius * self.transform().m11()
        if radius < 1:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Base), 3))
        painter.drawEllipse(at, radius, radius)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Text), 1))
        painter.drawEllipse(at, radius, radius)

    def _draw_divider(
        self, painter: QPainter, x: float, viewport: QRectF, palette: QPalette
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        light = palette.color(QPalette.ColorRole.Base)
        dark = palette.color(QPalette.ColorRole.Text)
        painter.setPen(QPen(dark, 3))
        painter.drawLine(QPointF(x, viewport.top()), QPointF(x, viewport.bottom()))
        painter.setPen(QPen(light, 1))
        painter.drawLine(QPointF(x, viewport.top()), QPointF(x, viewport.bottom()))
        center = QPointF(x, viewport.center().y())
        painter.setBrush(light)
        painter.setPen(QPen(dark, 1.5))
        painter.drawEllipse(center, 11, 11)
        painter.setPen(QPen(dark, 1.5))
        for sign in (-1, 1):
            tip = QPointF(x + sign * 7, center.y())
            painter.drawLine(tip, QPointF(x + sign * 3, center.y() - 4))
            painter.drawLine(tip, QPointF(x + sign * 3, center.y() + 4))
        self._draw_label(painter, QPointF(x - 10, viewport.top() + 10), self.tr("Before"), True)
        self._draw_label(painter, QPointF(x + 10, viewport.top() + 10), self.tr("After"), False)

    def _draw_label(self, painter: QPainter, anchor: QPointF, text: str, left: bool) -> None:
        palette = self.palette()
        metrics = painter.fontMetrics()
        width = metrics.horizontalAdvance(text) + 12
        height = metrics.height() + 4
        x = anchor.x() - width if left else anchor.x()
        box = QRectF(x, anchor.y(), width, height)
        background = QColor(palette.color(QPalette.ColorRole.Window))
        background.setAlpha(200)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(background)
        painter.drawRoundedRect(box, 4, 4)
        painter.setPen(palette.color(QPalette.ColorRole.WindowText))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


__all__ = ["Canvas", "MaskOverlayItem", "SplitImageItem"]
