"""Painting region masks in the main window: the tool bar, the canvas's mask mode, the per-photo
masks (``MaskStore``) and their undo commands.

Each photo shown gets its own mask, kept while the app runs and saved (debounced, and on
shutdown) for the next session. No mask means the style covers the whole photo; the first brush
stroke starts from an empty mask (style only where painted), the first eraser stroke from a full
one (style everywhere but where erased). ``changed`` asks the window to recomposite the preview
from its cached network output; the network never re-runs for a stroke.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QObject, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import QMainWindow

from stylestudio.core.mask import RegionMask
from stylestudio.core.mask_auto import AutoMaskConfig, subject_mask
from stylestudio.core.video import is_video_path
from stylestudio.gui.canvas import Canvas
from stylestudio.gui.mask_brush import BrushSettings, Stroke, Tool, mask_shape_for
from stylestudio.gui.mask_store import MaskStore
from stylestudio.gui.mask_toolbar import MaskToolBar
from stylestudio.gui.mask_undo import MaskCommand, MaskEdit, MaskState
from stylestudio.gui.qimage import qimage_to_numpy
from stylestudio.gui.settings import AppSettings

#: Long side of the stored masks (photos that are smaller keep their own size). Exports scale
#: the mask up to the photo and feather it (``core.mask``).
MASK_MAX_SIDE = 2048
SAVE_DELAY_MS = 800
#: Strokes ask for at most one recomposite per interval (the adjuster keeps only the latest).
RECOMPOSITE_MS = 30


class MaskEditor(QObject):
    """See the module docstring. ``problem(message)`` reports a mask that could not be saved;
    ``photoRequested(path)``: undo/redo changed the mask of a photo not shown now."""

    changed = Signal()
    problem = Signal(str)
    photoRequested = Signal(Path)

    def __init__(
        self,
        canvas: Canvas,
        undo_stack: QUndoStack,
        settings: AppSettings,
        window: QMainWindow,
        store: MaskStore | None = None,
    ) -> None:
        super().__init__(window)
        self.canvas = canvas
        self.undo_stack = undo_stack
        self.settings = settings
        self.window = window
        self.store = store if store is not None else MaskStore()
        self.toolbar = MaskToolBar(window)
        self.photo: Path | None = None
        self._shape: tuple[int, int] | None = None  # mask rows, columns for the shown photo
        self._stroke: Stroke | None = None
        self._stroke_before: MaskState | None = None

        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self.flush)
        self._changed_timer = QTimer(self)
        self._changed_timer.setSingleShot(True)
        self._changed_timer.setInterval(RECOMPOSITE_MS)
        self._changed_timer.timeout.connect(self.changed)

        self.smaller_action = self._action(self.tr("Smaller Brush"), "[", -1)
        self.bigger_action = self._action(self.tr("Bigger Brush"), "]", 1)

        bar = self.toolbar
        bar.set_brush(settings.mask_brush())
        bar.overlay.setChecked(settings.mask_overlay())
        bar.modeToggled.connect(self._mode_toggled)
        bar.brushChanged.connect(self._brush_changed)
        bar.overlayToggled.connect(self._overlay_toggled)
        bar.invertRequested.connect(self.invert)
        bar.clearRequested.connect(self.clear)
        bar.subjectRequested.connect(self.rough_subject)
        canvas.strokeStarted.connect(self._stroke_started)
        canvas.strokeMoved.connect(self._stroke_moved)
        canvas.strokeFinished.connect(self._stroke_finished)
        canvas.originalChanged.connect(self.detach)
        self._update_controls()

    def _action(self, text: str, key: str, steps: int) -> QAction:
        action = QAction(text, self.window)
        action.setShortcut(QKeySequence(key))
        action.triggered.connect(lambda _checked=False: self.toolbar.step_size(steps))
        self.window.addAction(action)
        return action

    # The photo ------------------------------------------------------------------------------
    def attach(self, photo: Path) -> None:
        """``photo`` is on the canvas now (its original painted): show and edit its mask."""
        image = self.canvas.item.original_image()
        if image is None or is_video_path(photo):  # video exports take no mask: none to paint
            self.detach()
            return
        self.photo = photo
        self._shape = mask_shape_for(image.width(), image.height(), MASK_MAX_SIDE)
        values = self.store.get(photo)
        if values is not None and values.shape != self._shape:  # the file on disk changed
            resized = Image.fromarray(values).resize(
                (self._shape[1], self._shape[0]), Image.Resampling.BILINEAR
            )
            self.store.set(photo, np.array(resized, dtype=np.uint8))
        self._show_mask()
        self._update_controls()

    def detach(self) -> None:
        """The canvas shows another photo, or none."""
        if self._stroke is not None:
            self._stroke_finished()
        self.photo = None
        self._shape = None
        self.canvas.mask_overlay.set_mask(None)
        self._update_controls()

    def mask(self, photo: Path | None = None) -> np.ndarray | None:
        """The mask of ``photo`` (default: the one shown), uint8; not a copy."""
        photo = photo if photo is not None else self.photo
        return None if photo is None else self.store.get(photo)

    def region_mask(self, photo: Path | None) -> RegionMask | None:
        """A snapshot of the photo's mask for compositing elsewhere (None: style everywhere)."""
        values = None if photo is None else self.store.get(photo)
        return None if values is None else RegionMask(values.copy())

    def masks_for(self, photos: list[Path]) -> dict[Path, RegionMask]:
        """The masks Export and Export All apply, by photo."""
        masks = {photo: self.region_mask(photo) for photo in photos}
        return {photo: mask for photo, mask in masks.items() if mask is not None}

    # Tools ----------------------------------------------------------------------------------
    def _mode_toggled(self, on: bool) -> None:
        self.canvas.set_mask_mode(on)
        self._brush_changed(self.toolbar.brush())
        self._show_mask()
        self._update_controls()
        if on:
            self.window.statusBar().showMessage(
                self.tr(
                    "Mask mode: drag to paint where the style applies; the middle button pans; "
                    "[ and ] change the brush size."
                ),
                8000,
            )
        self.canvas.setFocus()

    def _brush_changed(self, brush: BrushSettings) -> None:
        image = self.canvas.item.original_image()
        long_side = max(image.width(), image.height()) if image is not None else 0
        self.canvas.set_brush_radius(brush.size * long_side / 2)
        self.settings.save_mask_brush(brush)

    def _overlay_toggled(self, on: bool) -> None:
        self.settings.set_mask_overlay(on)
        self._show_mask()

    def _show_mask(self) -> None:
        values = self.mask()
        overlay = self.canvas.mask_overlay
        overlay.set_mask(values)
        overlay.setVisible(
            values is not None and self.toolbar.mode() and self.toolbar.overlay.isChecked()
        )

    def _update_controls(self) -> None:
        shown = self.photo is not None
        self.toolbar.setEnabled(shown)
        self.toolbar.set_has_mask(self.mask() is not None)
        self.toolbar.invert_button.setEnabled(shown)
        if self.toolbar.mode():  # the brush outline follows the photo's size
            self._brush_changed(self.toolbar.brush())

    # Strokes --------------------------------------------------------------------------------
    def _to_mask(self, point: QPointF) -> tuple[float, float]:
        image = self.canvas.item.original_image()
        assert image is not None and self._shape is not None
        return (
            point.x() * self._shape[1] / max(1, image.width()),
            point.y() * self._shape[0] / max(1, image.height()),
        )

    def _stroke_started(self, point: QPointF) -> None:
        if self.photo is None or self._shape is None:
            return
        brush = self.toolbar.brush()
        values = self.store.get(self.photo)
        self._stroke_before = None
        if values is None:  # brush: style only where painted; eraser: everywhere but there
            self._stroke_before = MaskState(None, None)
            fill = 0 if brush.tool is Tool.BRUSH else 255
            values = np.full(self._shape, fill, np.uint8)
            self.store.set(self.photo, values)
        self._stroke = Stroke(values, brush)
        self._stroke_moved(point)
        self._show_mask()
        self._update_controls()

    def _stroke_moved(self, point: QPointF) -> None:
        if self._stroke is None:
            return
        rect = self._stroke.add_point(*self._to_mask(point))
        if rect is not None:
            self.canvas.mask_overlay.refresh(self._stroke.mask, rect)
            self._changed_timer.start()

    def _stroke_finished(self) -> None:
        stroke, self._stroke = self._stroke, None
        if stroke is None or self.photo is None:
            return
        edit = MaskEdit.PAINT if stroke.settings.tool is Tool.BRUSH else MaskEdit.ERASE
        if self._stroke_before is not None:  # the stroke created the mask
            before, after = self._stroke_before, MaskState(None, stroke.mask.copy())
        elif stroke.dirty is None:
            return
        else:
            rect = stroke.dirty
            before = MaskState(rect, stroke.before(rect))
            after = MaskState(rect, stroke.mask[rect.slices].copy())
            self.store.changed(self.photo)
        self._push(edit, before, after)
        self._edited()

    # Whole-mask edits -----------------------------------------------------------------------
    def invert(self) -> None:
        """Styled areas become original and the other way round (no mask: nothing styled)."""
        if self.photo is None or self._shape is None:
            return
        values = self.store.get(self.photo)
        before = MaskState(None, None if values is None else values.copy())
        inverted = (
            np.zeros(self._shape, np.uint8)
            if values is None
            else np.subtract(255, values, dtype=np.uint8)
        )
        self.store.set(self.photo, inverted)
        self._push(MaskEdit.INVERT, before, MaskState(None, inverted.copy()))
        self._edited()

    def clear(self) -> None:
        """Remove the mask: the style covers the whole photo again."""
        if self.photo is None:
            return
        values = self.store.get(self.photo)
        if values is None:
            return
        self.store.set(self.photo, None)
        self._push(MaskEdit.CLEAR, MaskState(None, values.copy()), MaskState(None, None))
        self._edited()

    def rough_subject(self) -> None:
        """Replace the mask by ``core.mask_auto``'s rough subject estimate (a starting point)."""
        image = self.canvas.item.original_image()
        if self.photo is None or self._shape is None or image is None:
            return
        side = AutoMaskConfig().work_side * 2
        small = image.scaled(
            side,
            side,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        rgb = qimage_to_numpy(small).astype(np.float32) / np.float32(255.0)
        values = self.store.get(self.photo)
        before = MaskState(None, None if values is None else values.copy())
        estimate = subject_mask(rgb, self._shape)
        self.store.set(self.photo, estimate)
        self._push(MaskEdit.AUTO, before, MaskState(None, estimate.copy()))
        self._edited()

    def _push(self, edit: MaskEdit, before: MaskState, after: MaskState) -> None:
        assert self.photo is not None
        self.undo_stack.push(MaskCommand(edit, self.photo, before, after, self._restore))

    def _restore(self, photo: Path, state: MaskState) -> None:
        """Undo/redo: put ``state`` back into the photo's mask."""
        if state.rect is None:
            self.store.set(photo, None if state.values is None else state.values.copy())
        else:
            values = self.store.get(photo)
            if values is None or state.values is None:
                return
            values[state.rect.slices] = state.values
            self.store.changed(photo)
        if photo != self.photo:
            self._save_timer.start()
            self.photoRequested.emit(photo)
            return
        self._edited()

    def _edited(self) -> None:
        """The shown photo's mask changed: show it, recomposite, save soon."""
        self._show_mask()
        self._update_controls()
        self._changed_timer.stop()
        self.changed.emit()
        self._save_timer.start()

    # Saving ---------------------------------------------------------------------------------
    def flush(self) -> None:
        self._save_timer.stop()
        for message in self.store.flush():
            self.problem.emit(message)

    def shutdown(self) -> None:
        if self._stroke is not None:
            self._stroke_finished()
        self.flush()


__all__ = ["MaskEditor"]
