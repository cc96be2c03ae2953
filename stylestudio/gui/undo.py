"""Undo/redo of adjustment edits: one QUndoCommand per edit, slider drags merged into one step."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QUndoCommand

from stylestudio.gui.adjustments import Adjustments

_FIELD_IDS = {
    "strength": 1,
    "preserve_colors": 2,
    "style_scale": 3,
    "output_size": 4,
    "blend_amount": 5,
}
#: Discrete edits: never merged with the next edit of the same field.
_STEPS = ("preserve_colors", "blend_with")


def _field_text(field: str) -> str:
    names = {
        "strength": QCoreApplication.translate("AdjustCommand", "Change strength"),
        "preserve_colors": QCoreApplication.translate("AdjustCommand", "Toggle preserve colours"),
        "style_scale": QCoreApplication.translate("AdjustCommand", "Change style scale"),
        "output_size": QCoreApplication.translate("AdjustCommand", "Change preview size"),
        "blend_with": QCoreApplication.translate("AdjustCommand", "Choose the style to blend with"),
        "blend_amount": QCoreApplication.translate("AdjustCommand", "Change the blend"),
    }
    return names.get(field, QCoreApplication.translate("AdjustCommand", "Change adjustments"))


class AdjustCommand(QUndoCommand):
    """Switches between two Adjustments via ``apply`` (which must not push new commands)."""

    def __init__(
        self,
        old: Adjustments,
        new: Adjustments,
        field: str,
        apply: Callable[[Adjustments], None],
    ) -> None:
        super().__init__(_field_text(field))
        self.old = old
        self.new = new
        self.field = field
        self._apply = apply
        self._first_redo = True

    def id(self) -> int:
        # Toggles are discrete steps; slider drags of the same field merge.
        return -1 if self.field in _STEPS else _FIELD_IDS.get(self.field, -1)

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, AdjustCommand) or other.field != self.field:
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        if self._first_redo:  # the panel already shows the new value
            self._first_redo = False
            return
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)
