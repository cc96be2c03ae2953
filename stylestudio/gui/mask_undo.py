"""Undo/redo of region-mask edits on the app's one undo stack: one command per stroke, invert,
clear or rough subject mask.

A stroke keeps only the rectangle it touched (before and after); edits that change the whole
mask, or create or remove it, keep both whole states (``None`` = no mask).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtGui import QUndoCommand

from stylestudio.gui.mask_brush import Rect


class MaskEdit(enum.Enum):
    PAINT = QT_TRANSLATE_NOOP("MaskCommand", "Paint mask")
    ERASE = QT_TRANSLATE_NOOP("MaskCommand", "Erase mask")
    INVERT = QT_TRANSLATE_NOOP("MaskCommand", "Invert mask")
    CLEAR = QT_TRANSLATE_NOOP("MaskCommand", "Clear mask")
    AUTO = QT_TRANSLATE_NOOP("MaskCommand", "Rough subject mask")


@dataclass(frozen=True)
class MaskState:
    """What a command puts back: the pixels under ``rect``, or (``rect`` None) the whole mask."""

    rect: Rect | None
    values: np.ndarray | None


#: Puts ``MaskState`` back for the photo (must not push commands).
Restore = Callable[[Path, MaskState], None]


class MaskCommand(QUndoCommand):
    """One mask edit of one photo; the edit is already done when the command is pushed."""

    def __init__(
        self, edit: MaskEdit, photo: Path, before: MaskState, after: MaskState, restore: Restore
    ) -> None:
        super().__init__(QCoreApplication.translate("MaskCommand", edit.value))
        self.edit = edit
        self.photo = photo
        self.before = before
        self.after = after
        self._restore = restore
        self._first_redo = True

    def redo(self) -> None:
        if self._first_redo:
            self._first_redo = False
            return
        self._restore(self.photo, self.after)

    def undo(self) -> None:
        self._restore(self.photo, self.before)
