"""The adjustments panel's blend control: a second style, a blend slider, "Save blend as style…".

Only styles of the current style's lineage can be chosen; the others are listed greyed out with
the reason in their tooltip (``core.mixing``: a blend interpolates the networks, which only makes
sense for styles of one base model). The choice lives in ``Adjustments`` (``blend_with``,
``blend_amount``), so undo, the saved settings and the one preview pipeline handle it like any
other adjustment; :func:`effective_style` turns it into what the engine runs and export applies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QPalette, QStandardItemModel
from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QSlider, QWidget

from stylestudio.core.export import StyleRef
from stylestudio.core.mixing import MixMember, blend_problem, make_blend
from stylestudio.gui.gallery import StyleCard
from stylestudio.gui.plain_text import plain_label

CardLookup = Callable[[str], "StyleCard | None"]


def _member(card: StyleCard, weight: float) -> MixMember:
    return MixMember(card.id, card.name, card.location, card.lineage, weight)


def card_problem(primary: StyleCard, other: StyleCard) -> str | None:
    """Why ``other`` cannot be blended into ``primary`` (the core's sentence), or None."""
    return blend_problem(_member(primary, 1.0), _member(other, 1.0))


def effective_style(
    primary: StyleCard, card: CardLookup, blend_with: str, amount: float
) -> StyleRef:
    """What to stylise with: ``primary``, or its blend with ``blend_with`` at ``amount`` (the
    second style's share). A partner that is gone or does not fit leaves ``primary`` alone."""
    plain = StyleRef(primary.location, primary.id, primary.name)
    partner = card(blend_with) if blend_with else None
    if partner is None or partner.id == primary.id or amount <= 0:
        return plain
    if card_problem(primary, partner) is not None:
        return plain
    if amount >= 1:
        return StyleRef(partner.location, partner.id, partner.name)
    blend = make_blend([_member(primary, 1.0 - amount), _member(partner, amount)])
    return StyleRef(blend, blend.style_id, blend.name)


class BlendControl(QObject):
    """The blend widgets (laid out by the panel) and what they may offer.

    ``edited(field)`` fires on user edits only (``"blend_with"`` or ``"blend_amount"``).
    """

    edited = Signal(str)
    saveRequested = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._cards: list[StyleCard] = []
        self._primary: str | None = None
        self._partner = ""
        self._updating = False

        self.combo = QComboBox(parent)
        self.combo.setObjectName("blendStyle")
        self.combo.setToolTip(self.tr("Blend the current style with another style of its family"))
        self.slider = QSlider(Qt.Orientation.Horizontal, parent)
        self.slider.setObjectName("blendSlider")
        self.slider.setRange(0, 100)
        self.slider.setPageStep(10)
        self.slider.setToolTip(self.tr("How much of the second style goes into the blend"))
        self.label = QLabel(parent)
        self.label.setMinimumWidth(48)
        self.label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.save_button = QPushButton(self.tr("Save blend as style…"), parent)
        self.save_button.setObjectName("saveBlend")
        self.save_button.setToolTip(self.tr("Add the blend to your styles"))
        self.note = plain_label(QLabel(parent))
        self.note.setObjectName("blendNote")
        self.note.setWordWrap(True)
        self.note.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.note.hide()

        self.combo.currentIndexChanged.connect(self._combo_changed)
        self.slider.valueChanged.connect(self._slider_changed)
        self.save_button.clicked.connect(self.saveRequested)
        self._refill()

    # values ---------------------------------------------------------------------------------
    def value(self) -> tuple[str, float]:
        """(id of the second style or "", its share 0–1)."""
        return self._partner, self.slider.value() / 100.0

    def set_value(self, blend_with: str, amount: float) -> None:
        """Show a value without emitting ``edited`` (restore, undo/redo)."""
        self._updating = True
        try:
            self._partner = blend_with
            self.slider.setValue(round(min(1.0, max(0.0, amount)) * 100))
        finally:
            self._updating = False
        self._refill()

    def set_styles(self, cards: Sequence[StyleCard]) -> None:
        """The styles on offer; a second style that is no longer among them is dropped."""
        self._cards = list(cards)
        if self._cards and all(c.id != self._partner for c in self._cards):
            self._partner = ""
        self._refill()

    def set_primary(self, style_id: str | None) -> None:
        """The current style: what the second style must fit."""
        self._primary = style_id
        self._refill()

    def active(self) -> bool:
        """Whether the widgets show a blend the engine will run."""
        primary, partner = self._card(self._primary), self._card(self._partner)
        amount = self.slider.value()
        if primary is None or partner is None or partner.id == primary.id:
            return False
        return 0 < amount < 100 and card_problem(primary, partner) is None

    # internals ------------------------------------------------------------------------------
    def _card(self, style_id: str | None) -> StyleCard | None:
        return next((c for c in self._cards if c.id == style_id), None) if style_id else None

    def _refill(self) -> None:
        primary = self._card(self._primary)
        self._updating = True
        try:
            self.combo.clear()
            self.combo.addItem(self.tr("None"), "")
            model = self.combo.model()
            assert isinstance(model, QStandardItemModel)
            fitting = 0
            for card in self._cards:
                self.combo.addItem(card.name, card.id)
                item = model.item(self.combo.count() - 1)
                if primary is None:
                    continue
                if card.id == primary.id:
                    problem: str | None = self.tr("This is the current style.")
                else:
                    problem = card_problem(primary, card)
                if problem is None:
                    fitting += 1
                    continue
                item.setEnabled(False)
                item.setToolTip(problem)
            index = self.combo.findData(self._partner) if self._partner else 0
            self.combo.setCurrentIndex(max(0, index))
        finally:
            self._updating = False
        self._show_state(primary, fitting)

    def _show_state(self, primary: StyleCard | None, fitting: int) -> None:
        note = ""
        if primary is not None and not fitting:
            lonely = card_problem(primary, primary)  # the primary's own lineage problem, if any
            note = lonely or self.tr("No other style comes from the same base model.")
        self.note.setText(note)
        self.note.setVisible(bool(note))
        self.combo.setEnabled(bool(fitting) or bool(self._partner))
        partner = self._card(self._partner)
        usable = (
            primary is not None
            and partner is not None
            and partner.id != primary.id
            and card_problem(primary, partner) is None
        )
        self.slider.setEnabled(usable)
        self.label.setEnabled(usable)
        self.save_button.setEnabled(self.active())
        self.label.setText(self.tr("{0} %").format(self.slider.value()))

    def _combo_changed(self, _index: int) -> None:
        if self._updating:
            return
        self._partner = str(self.combo.currentData() or "")
        self._show_state(self._card(self._primary), self._fitting())
        self.edited.emit("blend_with")

    def _slider_changed(self, _value: int) -> None:
        self.label.setText(self.tr("{0} %").format(self.slider.value()))
        if self._updating:
            return
        self.save_button.setEnabled(self.active())
        self.edited.emit("blend_amount")

    def _fitting(self) -> int:
        primary = self._card(self._primary)
        if primary is None:
            return 0
        return sum(
            1 for c in self._cards if c.id != primary.id and card_problem(primary, c) is None
        )
