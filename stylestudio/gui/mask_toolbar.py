"""The region-mask tool bar above the canvas: mask mode, brush or eraser, size, softness, invert,
clear, a rough subject mask and the overlay switch. It only shows and reports values;
``MaskEditor`` acts on them."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QLabel,
    QSlider,
    QToolBar,
    QToolButton,
    QWidget,
)

from stylestudio.gui.mask_brush import (
    MAX_SIZE,
    MIN_SIZE,
    SIZE_STEP,
    BrushSettings,
    Tool,
)

#: The size slider moves in quarter steps of SIZE_STEP; `[` and `]` move a whole step.
SLIDER_STEPS_PER_SIZE_STEP = 4
_SIZE_POSITIONS = math.floor(SLIDER_STEPS_PER_SIZE_STEP * math.log(MAX_SIZE / MIN_SIZE, SIZE_STEP))


def size_at(position: int) -> float:
    return MIN_SIZE * SIZE_STEP ** (position / SLIDER_STEPS_PER_SIZE_STEP)


def position_for(size: float) -> int:
    position = round(
        SLIDER_STEPS_PER_SIZE_STEP * math.log(max(size, MIN_SIZE) / MIN_SIZE, SIZE_STEP)
    )
    return max(0, min(_SIZE_POSITIONS, position))


class MaskToolBar(QToolBar):
    """``modeToggled(bool)``, ``brushChanged(BrushSettings)``, ``overlayToggled(bool)``,
    ``invertRequested()``, ``clearRequested()``, ``subjectRequested()``."""

    modeToggled = Signal(bool)
    brushChanged = Signal(object)
    overlayToggled = Signal(bool)
    invertRequested = Signal()
    clearRequested = Signal()
    subjectRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Region mask"), parent)
        self.setObjectName("maskToolBar")
        self.setMovable(False)
        self._updating = False

        self.mode_button = self._button(self.tr("Paint Mask"), checkable=True)
        self.mode_button.setObjectName("maskModeButton")
        self.mode_button.setToolTip(
            self.tr(
                "Paint where the style applies. The first brush stroke styles only where you "
                "paint; the first eraser stroke takes the style away where you erase."
            )
        )
        self.brush_button = self._button(self.tr("Brush"), checkable=True)
        self.brush_button.setToolTip(self.tr("Paint the style on (white in the mask)"))
        self.eraser_button = self._button(self.tr("Eraser"), checkable=True)
        self.eraser_button.setToolTip(self.tr("Take the style away (black in the mask)"))
        self.tools = QButtonGroup(self)
        self.tools.setExclusive(True)
        self.tools.addButton(self.brush_button)
        self.tools.addButton(self.eraser_button)
        self.brush_button.setChecked(True)

        self.size = QSlider(Qt.Orientation.Horizontal)
        self.size.setObjectName("maskSizeSlider")
        self.size.setRange(0, _SIZE_POSITIONS)
        self.size.setPageStep(SLIDER_STEPS_PER_SIZE_STEP)
        self.size.setMaximumWidth(110)
        self.size.setToolTip(self.tr("Brush size, in % of the photo's long side ([ and ])"))
        self.size_label = QLabel()
        self.size_label.setMinimumWidth(44)
        self.softness = QSlider(Qt.Orientation.Horizontal)
        self.softness.setObjectName("maskSoftnessSlider")
        self.softness.setRange(0, 100)
        self.softness.setMaximumWidth(90)
        self.softness.setToolTip(self.tr("Softness of the brush's edge"))
        self.softness_label = QLabel()
        self.softness_label.setMinimumWidth(36)

        self.invert_button = self._button(self.tr("Invert"))
        self.invert_button.setToolTip(self.tr("Swap the styled and the original areas"))
        self.clear_button = self._button(self.tr("Clear"))
        self.clear_button.setToolTip(self.tr("Remove the mask: the style covers the whole photo"))
        self.subject_button = self._button(self.tr("Rough Subject"))
        self.subject_button.setToolTip(
            self.tr(
                "A rough starting mask: the subject guessed from colour contrast with the "
                "photo's border and a centre prior (no model). Refine it with the brush and "
                "the eraser; it fails on busy backgrounds and subjects touching the border."
            )
        )
        self.overlay = QCheckBox(self.tr("Show Mask"))
        self.overlay.setObjectName("maskOverlayCheck")
        self.overlay.setToolTip(self.tr("Tint the areas that get the style"))
        self.overlay.setChecked(True)

        self.addWidget(self.mode_button)
        self.addSeparator()
        self.addWidget(self.brush_button)
        self.addWidget(self.eraser_button)
        self.addWidget(QLabel(self.tr("Size")))
        self.addWidget(self.size)
        self.addWidget(self.size_label)
        self.addWidget(QLabel(self.tr("Softness")))
        self.addWidget(self.softness)
        self.addWidget(self.softness_label)
        self.addSeparator()
        self.addWidget(self.invert_button)
        self.addWidget(self.clear_button)
        self.addWidget(self.subject_button)
        self.addWidget(self.overlay)

        self.mode_button.toggled.connect(self._mode_toggled)
        self.tools.buttonToggled.connect(lambda _b, on: on and self._brush_edited())
        self.size.valueChanged.connect(lambda _v: self._brush_edited())
        self.softness.valueChanged.connect(lambda _v: self._brush_edited())
        self.overlay.toggled.connect(self.overlayToggled)
        self.invert_button.clicked.connect(self.invertRequested)
        self.clear_button.clicked.connect(self.clearRequested)
        self.subject_button.clicked.connect(self.subjectRequested)
        self.set_brush(BrushSettings())
        self._mode_toggled(False)

    def _button(self, text: str, checkable: bool = False) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setCheckable(checkable)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        return button

    def _mode_toggled(self, on: bool) -> None:
        for widget in (self.brush_button, self.eraser_button, self.size, self.softness):
            widget.setEnabled(on)
        if not self._updating:
            self.modeToggled.emit(on)

    def brush(self) -> BrushSettings:
        tool = Tool.ERASER if self.eraser_button.isChecked() else Tool.BRUSH
        return BrushSettings(tool, size_at(self.size.value()), self.softness.value() / 100.0)

    def set_brush(self, settings: BrushSettings) -> None:
        """Show ``settings`` without emitting ``brushChanged``."""
        settings = settings.clamped()
        self._updating = True
        try:
            button = self.eraser_button if settings.tool is Tool.ERASER else self.brush_button
            button.setChecked(True)
            self.size.setValue(position_for(settings.size))
            self.softness.setValue(round(settings.softness * 100))
        finally:
            self._updating = False
        self._update_labels()

    def step_size(self, steps: int) -> None:
        """Bigger (positive) or smaller brush by whole size steps (`]` and `[`)."""
        self.size.setValue(self.size.value() + steps * SLIDER_STEPS_PER_SIZE_STEP)

    def set_mode(self, on: bool) -> None:
        self.mode_button.setChecked(on)

    def mode(self) -> bool:
        return self.mode_button.isChecked()

    def set_has_mask(self, has_mask: bool) -> None:
        self.clear_button.setEnabled(has_mask)

    def _update_labels(self) -> None:
        self.size_label.setText(self.tr("{0} %").format(f"{size_at(self.size.value()) * 100:.1f}"))
        self.softness_label.setText(self.tr("{0} %").format(self.softness.value()))

    def _brush_edited(self) -> None:
        self._update_labels()
        if not self._updating:
            self.brushChanged.emit(self.brush())
