"""A live line chart of the training losses, drawn with QPainter."""

from __future__ import annotations

import math
from collections.abc import Mapping

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

#: The loss terms shown, in legend order, with their colours.
SERIES: tuple[tuple[str, str], ...] = (
    ("content", "#1f77b4"),
    ("style", "#d62728"),
    ("color", "#8c564b"),
    ("swd", "#17becf"),
    ("adversarial", "#2ca02c"),
    ("tv", "#9467bd"),
    ("total", "#ff7f0e"),
)
#: Points kept per series; older points are thinned out two to one beyond this.
MAX_POINTS = 1000


def squash(value: float) -> float:
    """Signed log scale: keeps 1e-3 and 1e5 on one chart and allows negative GAN losses."""
    return math.copysign(math.log10(1.0 + abs(value)), value)


class LossChart(QWidget):
    """Loss terms against the training step on a signed log scale, with a legend."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.series: dict[str, list[tuple[int, float]]] = {name: [] for name, _ in SERIES}
        self.total_steps = 0
        self.last_step = 0
        self.setMinimumSize(260, 150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName(self.tr("Training losses"))

    def sizeHint(self) -> QSize:
        return QSize(420, 200)

    def clear(self, total_steps: int = 0) -> None:
        for points in self.series.values():
            points.clear()
        self.total_steps = total_steps
        self.last_step = 0
        self.update()

    def add_point(self, step: int, losses: Mapping[str, float]) -> None:
        for name, points in self.series.items():
            value = losses.get(name)
            if value is None or not math.isfinite(value):
                continue
            points.append((step, float(value)))
            if len(points) > MAX_POINTS:
                points[:] = points[::2]  # keeps the first point and the shape of the curve
        self.total_steps = max(self.total_steps, step)
        self.last_step = step
        self.update()

    def legend_series(self) -> list[tuple[str, str]]:
        """The series in the legend: those with points once any has (a term that is switched
        off sends none), every one before the first step."""
        shown = [(name, colour) for name, colour in SERIES if self.series[name]]
        return shown or list(SERIES)

    def point_count(self) -> int:
        return sum(len(p) for p in self.series.values())

    # -- painting --------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.base())
        metrics = self.fontMetrics()
        legend_h = metrics.height() + 6
        left = metrics.horizontalAdvance("-0.0e+0") + 10
        bottom_margin = legend_h + metrics.height() + 14
        plot = QRectF(left, 6, self.width() - left - 8, self.height() - bottom_margin)
        text_pen = QPen(palette.text().color())
        grid_pen = QPen(palette.mid().color(), 1, Qt.PenStyle.DotLine)
        painter.setPen(QPen(palette.mid().color()))
        painter.drawRect(plot)

        values = [squash(v) for points in self.series.values() for _, v in points]
        if not values or plot.width() < 10 or plot.height() < 10:
            painter.setPen(text_pen)
            waiting = self.tr("Waiting for the first step…")
            painter.drawText(plot, Qt.AlignmentFlag.AlignCenter, waiting)
            self._draw_legend(painter, legend_h)
            return
        low, high = min(values), max(values)
        if high - low < 1e-6:
            low, high = low - 0.5, high + 0.5
        x_max = max(self.total_steps, 2)

        def to_point(step: int, value: float) -> QPointF:
            x = plot.left() + plot.width() * (step - 1) / max(x_max - 1, 1)
            y = plot.bottom() - plot.height() * (squash(value) - low) / (high - low)
            return QPointF(x, y)

        for i in range(5):  # horizontal grid with labels in loss units
            level = low + (high - low) * i / 4
            y = plot.bottom() - plot.height() * i / 4
            painter.setPen(grid_pen)
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            real = math.copysign(10 ** abs(level) - 1.0, level)
            painter.setPen(text_pen)
            painter.drawText(
                QRectF(0, y - metrics.height() / 2, left - 4, metrics.height()),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                f"{real:.2g}",
            )
        painter.drawText(
            QRectF(plot.left(), plot.bottom() + 2, plot.width(), metrics.height()),
            Qt.AlignmentFlag.AlignRight,
            self.tr("step {0} of {1}").format(self.last_step, self.total_steps),
        )
        painter.setClipRect(plot.adjusted(-1, -1, 1, 1))
        for name, colour in SERIES:
            points = self.series[name]
            if not points:
                continue
            path = QPainterPath(to_point(*points[0]))
            for step, value in points[1:]:
                path.lineTo(to_point(step, value))
            width = 2.2 if name == "total" else 1.4
            painter.setPen(QPen(QColor(colour), width))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            if len(points) == 1:
                painter.drawEllipse(to_point(*points[0]), 2.0, 2.0)
            else:
                painter.drawPath(path)
        painter.setClipping(False)
        self._draw_legend(painter, legend_h)

    def _draw_legend(self, painter: QPainter, legend_h: int) -> None:
        metrics = self.fontMetrics()
        labels = {
            "content": self.tr("content"),
            "style": self.tr("style"),
            "color": self.tr("palette"),
            "swd": self.tr("texture"),
            "adversarial": self.tr("adversarial"),
            "tv": self.tr("smoothness"),
            "total": self.tr("total"),
        }
        x = 8.0
        y = self.height() - legend_h + 3
        for name, colour in self.legend_series():
            painter.fillRect(QRectF(x, y + metrics.height() / 2 - 2, 14, 4), QColor(colour))
            x += 18
            painter.setPen(QPen(self.palette().text().color()))
            text = labels[name]
            painter.drawText(QPointF(x, y + metrics.ascent()), text)
            x += metrics.horizontalAdvance(text) + 14
