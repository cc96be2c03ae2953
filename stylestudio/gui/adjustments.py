"""The adjustment settings (a frozen dataclass) and the panel that edits them (the blend with a
second style included: its widgets are ``blend_control``'s)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QWidget,
)

from stylestudio.gui.blend_control import BlendControl
from stylestudio.gui.gallery import StyleCard

OutputSize = Literal["preview", "full"]

STYLE_SCALE_MIN = 0.5
STYLE_SCALE_MAX = 2.0


@dataclass(frozen=True)
class Adjustments:
    """What the user controls besides the style: applied per photo."""

    strength: float = 1.0
    preserve_colors: bool = False
    style_scale: float = 1.0
    output_size: OutputSize = "preview"
    #: The id of a second style blended into the current one ("" = none; see ``core.mixing``).
    blend_with: str = ""
    #: The second style's share of the blend, 0–1.
    blend_amount: float = 0.5

    def clamped(self) -> Adjustments:
        return replace(
            self,
            strength=min(1.0, max(0.0, round(self.strength, 2))),
            style_scale=min(STYLE_SCALE_MAX, max(STYLE_SCALE_MIN, round(self.style_scale, 2))),
            blend_amount=min(1.0, max(0.0, round(self.blend_amount, 2))),
        )

    def _blend(self) -> tuple[str, float] | None:
        return (self.blend_with, self.blend_amount) if self.blend_with else None

    def needs_network(self, other: Adjustments) -> bool:
        """True when going from ``other`` to self needs a new network run (not just a re-blend)."""
        return (
            self.style_scale != other.style_scale
            or self.output_size != other.output_size
            or self._blend() != other._blend()
        )


def _value_label() -> QLabel:
    label = QLabel()
    label.setMinimumWidth(48)
    label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return label


class AdjustmentsPanel(QWidget):
    """Strength, preserve colours, style scale, output size and the blend with a second style.

    ``adjustmentsChanged(new, old, field)`` fires on every user edit (not on ``set_adjustments``),
    with the field name so that the undo stack can merge a slider drag into one step.
    """

    adjustmentsChanged = Signal(object, object, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._current = Adjustments()
        self._updating = False

        self.strength = QSlider(Qt.Orientation.Horizontal)
        self.strength.setRange(0, 100)
        self.strength.setObjectName("strengthSlider")
        self.strength_label = _value_label()
        self.preserve = QCheckBox(self.tr("Preserve colours"))
        self.preserve.setObjectName("preserveColors")
        self.scale = QSlider(Qt.Orientation.Horizontal)
        self.scale.setRange(int(STYLE_SCALE_MIN * 100), int(STYLE_SCALE_MAX * 100))
        self.scale.setSingleStep(5)
        self.scale.setPageStep(25)
        self.scale.setObjectName("scaleSlider")
        self.scale_label = _value_label()
        self.output = QComboBox()
        self.output.setObjectName("outputSize")
        self.output.addItem(self.tr("Screen size (fast)"), "preview")
        self.output.addItem(self.tr("Full resolution"), "full")

        self.strength.setToolTip(self.tr("How strongly the style replaces the photo"))
        self.preserve.setToolTip(self.tr("Keep the photo's colours and take only the texture"))
        self.scale.setToolTip(self.tr("Size of the brush strokes relative to the photo"))
        self.output.setToolTip(self.tr("Resolution of the live preview"))

        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addRow(self.tr("Strength"), self._row(self.strength, self.strength_label))
        layout.addRow("", self.preserve)
        layout.addRow(self.tr("Style scale"), self._row(self.scale, self.scale_label))
        layout.addRow(self.tr("Preview size"), self.output)
        self.blend = BlendControl(self)
        layout.addRow(self.tr("Blend with"), self.blend.combo)
        layout.addRow(self.tr("Blend"), self._row(self.blend.slider, self.blend.label))
        layout.addRow("", self.blend.save_button)
        layout.addRow("", self.blend.note)

        self.strength.valueChanged.connect(lambda _v: self._edited("strength"))
        self.scale.valueChanged.connect(lambda _v: self._edited("style_scale"))
        self.preserve.toggled.connect(lambda _v: self._edited("preserve_colors"))
        self.output.currentIndexChanged.connect(lambda _v: self._edited("output_size"))
        self.blend.edited.connect(self._edited)
        self.set_adjustments(self._current)

    @staticmethod
    def _row(slider: QSlider, label: QLabel) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(slider, 1)
        layout.addWidget(label)
        return row

    def adjustments(self) -> Adjustments:
        return self._current

    def _read_widgets(self) -> Adjustments:
        output = self.output.currentData() or "preview"
        blend_with, blend_amount = self.blend.value()
        return Adjustments(
            strength=self.strength.value() / 100.0,
            preserve_colors=self.preserve.isChecked(),
            style_scale=self.scale.value() / 100.0,
            output_size=output,
            blend_with=blend_with,
            blend_amount=blend_amount,
        )

    def _update_labels(self) -> None:
        self.strength_label.setText(self.tr("{0} %").format(self.strength.value()))
        self.scale_label.setText(self.tr("{0}×").format(f"{self.scale.value() / 100:.2f}"))

    def _edited(self, field: str) -> None:
        self._update_labels()
        if self._updating:
            return
        new = self._read_widgets()
        if new == self._current:
            return
        old, self._current = self._current, new
        self.adjustmentsChanged.emit(new, old, field)

    def set_adjustments(self, adj: Adjustments) -> None:
        """Show ``adj`` without emitting ``adjustmentsChanged`` (used by undo/redo and restore)."""
        adj = adj.clamped()
        self._updating = True
        try:
            self.strength.setValue(round(adj.strength * 100))
            self.preserve.setChecked(adj.preserve_colors)
            self.scale.setValue(round(adj.style_scale * 100))
            index = self.output.findData(adj.output_size)
            self.output.setCurrentIndex(max(0, index))
            self.blend.set_value(adj.blend_with, adj.blend_amount)
        finally:
            self._updating = False
        self._current = self._read_widgets()
        self._update_labels()

    def set_styles(self, cards: Sequence[StyleCard]) -> None:
        """The styles a blend may use (a second style that is gone is dropped, silently)."""
        self.blend.set_styles(cards)
        self._current = self._read_widgets()

    def set_current_style(self, style_id: str | None) -> None:
        """The style being applied: the blend control offers only styles that fit it."""
        self.blend.set_primary(style_id)
