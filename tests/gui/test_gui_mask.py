"""Region masks in the app, driven like a user: brush and eraser strokes on the canvas, live
composite, undo/redo, `[`/`]`, invert/clear, the overlay, per-photo masks, saved masks, export."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from stylestudio.core.adjust import apply_adjustments
from stylestudio.core.export import ExportSettings
from stylestudio.core.mask import RegionMask
from stylestudio.gui.mask_brush import BrushSettings, Tool
from stylestudio.gui.mask_store import MaskStore
from stylestudio.gui.qimage import qimage_to_numpy, to_uint8

from .test_gui_window import TIMEOUT, click_style, drop, wait_final

pytestmark = pytest.mark.gui

HARD = BrushSettings(Tool.BRUSH, size=0.3, softness=0.0)  # 29 px across on the 96 px photo


def ready(qtbot, make_window, photos, paths=None):
    window = make_window()
    with qtbot.waitSignal(window.photoShown, timeout=TIMEOUT):
        drop(window, paths or [photos.a])
    click_style(qtbot, window, window.gallery.cards()[0].id)
    wait_final(qtbot, window)
    return window


def to_view(window, x: float, y: float) -> QPoint:
    return window.canvas.mapFromScene(QPointF(x, y))


def stroke(window, points, button=Qt.MouseButton.LeftButton) -> None:
    """Press at the first point (photo pixels), move through the rest, release at the last."""
    viewport = window.canvas.viewport()
    first, *rest = (to_view(window, x, y) for x, y in points)
    QTest.mousePress(viewport, button, pos=first)
    for pos in rest:
        QTest.mouseMove(viewport, pos)
    QTest.mouseRelease(viewport, button, pos=rest[-1] if rest else first)


def enter_mask_mode(window, brush: BrushSettings = HARD) -> None:
    bar = window.masks.toolbar
    QTest.mouseClick(bar.mode_button, Qt.MouseButton.LeftButton)
    assert window.canvas.mask_mode()
    bar.set_brush(brush)


def shown(window) -> np.ndarray:
    return qimage_to_numpy(window.styled_image())


def composited(window, mask: np.ndarray | None) -> np.ndarray:
    result = window.last_result()
    adj = window.adjustments()
    fitted = None if mask is None else RegionMask(mask).fitted(*result.original.shape[:2])
    return to_uint8(
        apply_adjustments(result.original, result.raw, adj.strength, adj.preserve_colors, fitted)
    )


def wait_composite(qtbot, window, mask: np.ndarray | None) -> None:
    def painted() -> bool:
        image = window.styled_image()  # a masked preview is painted once composited
        return image is not None and np.array_equal(shown(window), composited(window, mask))

    qtbot.waitUntil(painted, timeout=TIMEOUT)


def test_brush_stroke_paints_the_mask_and_the_preview_follows_without_the_network(
    qtbot, make_window, photos, screenshot
) -> None:
    window = ready(qtbot, make_window, photos)
    runs = window.client.worker.network_runs
    whole = shown(window)
    enter_mask_mode(window)
    assert window.masks.mask() is None  # no mask yet: the style covers the whole photo

    stroke(window, [(10, 32), (20, 32), (30, 32)])

    mask = window.masks.mask()
    assert mask is not None and mask.shape == (64, 96)  # the photo's own size
    assert mask[32, 20] == 255 and mask[32, 90] == 0 and mask[5, 70] == 0
    wait_composite(qtbot, window, mask)
    painted = shown(window)
    original = to_uint8(window.last_result().original)
    assert np.array_equal(painted[28:36, 14:26], whole[28:36, 14:26])  # styled where painted
    assert np.array_equal(painted[:, 70:], original[:, 70:])  # the original elsewhere
    assert window.client.worker.network_runs == runs  # recomposited, not re-run
    overlay = window.canvas.mask_overlay
    assert overlay.isVisible() and overlay.tint_at(20, 32) > 100 and overlay.tint_at(90, 5) == 0
    screenshot(window, "mask-brush")


def test_undo_and_redo_one_entry_per_stroke(qtbot, make_window, photos) -> None:
    window = ready(qtbot, make_window, photos)
    enter_mask_mode(window)
    stroke(window, [(10, 10), (40, 10)])
    first = window.masks.mask().copy()
    stroke(window, [(10, 50), (30, 50), (50, 50)])
    second = window.masks.mask().copy()
    assert not np.array_equal(first, second)
    stack = window.undo_stack
    assert stack.count() == 2 and stack.undoText() == "Paint mask"

    window.undo_action.trigger()
    assert np.array_equal(window.masks.mask(), first)
    wait_composite(qtbot, window, first)
    window.undo_action.trigger()
    assert window.masks.mask() is None  # the first stroke made the mask
    wait_composite(qtbot, window, None)
    window.redo_action.trigger()
    window.redo_action.trigger()
    assert np.array_equal(window.masks.mask(), second)
    wait_composite(qtbot, window, second)


def test_eraser_first_takes_the_style_away_only_there(qtbot, make_window, photos) -> None:
    window = ready(qtbot, make_window, photos)
    enter_mask_mode(window, BrushSettings(Tool.ERASER, size=0.2, softness=0.5))
    stroke(window, [(48, 32)])
    mask = window.masks.mask()
    assert mask[32, 48] == 0 and mask[0, 0] == 255 and mask[63, 95] == 255
    assert 0 < mask[32, 48 + 8] < 255  # a soft edge
    assert window.undo_stack.undoText() == "Erase mask"


def test_brackets_change_the_brush_size(qtbot, make_window, photos) -> None:
    window = ready(qtbot, make_window, photos)
    enter_mask_mode(window, BrushSettings(size=0.05))
    bar = window.masks.toolbar
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=TIMEOUT)
    before, radius = bar.brush().size, window.canvas.brush_radius()
    QTest.keyClick(window.canvas, Qt.Key.Key_BracketRight)
    assert bar.brush().size == pytest.approx(before * 1.25, rel=1e-6)
    assert window.canvas.brush_radius() == pytest.approx(radius * 1.25, rel=1e-6)
    QTest.keyClick(window.canvas, Qt.Key.Key_BracketLeft)
    QTest.keyClick(window.canvas, Qt.Key.Key_BracketLeft)
    assert bar.brush().size == pytest.approx(before / 1.25, rel=1e-6)
    assert window.settings.mask_brush().size == pytest.approx(before / 1.25, rel=1e-6)


def test_invert_clear_and_the_overlay_switch(qtbot, make_window, photos) -> None:
    window = ready(qtbot, make_window, photos)
    enter_mask_mode(window)
    bar = window.masks.toolbar
    assert not bar.clear_button.isEnabled()
    stroke(window, [(20, 20), (40, 20)])
    painted = window.masks.mask().copy()
    QTest.mouseClick(bar.invert_button, Qt.MouseButton.LeftButton)
    assert np.array_equal(window.masks.mask(), 255 - painted)
    wait_composite(qtbot, window, 255 - painted)

    overlay = window.canvas.mask_overlay
    assert overlay.isVisible()
    bar.overlay.setChecked(False)
    assert not overlay.isVisible()
    bar.overlay.setChecked(True)
    QTest.mouseClick(bar.mode_button, Qt.MouseButton.LeftButton)  # leave mask mode
    assert not window.canvas.mask_mode() and not overlay.isVisible()
    assert window.masks.mask() is not None  # the mask still applies

    QTest.mouseClick(bar.mode_button, Qt.MouseButton.LeftButton)
    QTest.mouseClick(bar.clear_button, Qt.MouseButton.LeftButton)
    assert window.masks.mask() is None and not bar.clear_button.isEnabled()
    wait_composite(qtbot, window, None)
    window.undo_action.trigger()  # undo the clear
    assert np.array_equal(window.masks.mask(), 255 - painted)
    window.undo_action.trigger()  # undo the invert
    assert np.array_equal(window.masks.mask(), painted)


def test_each_photo_keeps_its_own_mask(qtbot, make_window, photos) -> None:
    window = ready(qtbot, make_window, photos, [photos.a, photos.b])
    assert window.current_photo() == photos.a
    enter_mask_mode(window)
    stroke(window, [(10, 10), (30, 10)])
    mask_a = window.masks.mask().copy()

    with qtbot.waitSignal(window.photoShown, timeout=TIMEOUT):
        window.filmstrip.select_path(photos.b)
    assert window.masks.photo == photos.b and window.masks.mask() is None
    wait_final(qtbot, window)
    whole_b = shown(window)
    assert whole_b.shape == (80, 64, 3)  # styled whole
    stroke(window, [(32, 40)])
    mask_b = window.masks.mask().copy()
    assert mask_b.shape == (80, 64)

    with qtbot.waitSignal(window.photoShown, timeout=TIMEOUT):
        window.filmstrip.select_path(photos.a)
    assert np.array_equal(window.masks.mask(), mask_a)
    wait_final(qtbot, window)
    wait_composite(qtbot, window, mask_a)
    assert np.array_equal(window.masks.mask(photos.b), mask_b)

    # Undoing B's stroke while A is shown brings B back on the canvas, without its mask.
    with qtbot.waitSignal(window.photoShown, timeout=TIMEOUT):
        window.undo_action.trigger()
    assert window.current_photo() == photos.b and window.masks.mask() is None


def test_masks_are_saved_as_png_and_come_back_in_the_next_session(
    qtbot, make_window, photos
) -> None:
    window = ready(qtbot, make_window, photos)
    enter_mask_mode(window)
    stroke(window, [(50, 30), (70, 30)])
    mask = window.masks.mask().copy()
    assert window.shutdown()
    saved = MaskStore().file_for(photos.a)
    assert saved.is_file() and saved.parent.name == "masks"
    with Image.open(saved) as image:
        assert image.format == "PNG" and image.mode == "L"
        assert np.array_equal(np.asarray(image), mask)
    assert not [p for p in saved.parent.iterdir() if p.name.startswith(".tmp-")]

    again = ready(qtbot, make_window, photos)
    assert np.array_equal(again.masks.mask(), mask)
    wait_composite(qtbot, again, mask)
    QTest.mouseClick(again.masks.toolbar.mode_button, Qt.MouseButton.LeftButton)
    QTest.mouseClick(again.masks.toolbar.clear_button, Qt.MouseButton.LeftButton)
    again.masks.flush()
    assert not saved.exists()  # no mask: no file


def test_export_all_applies_each_photos_mask_at_full_resolution(
    qtbot, make_window, photos, tmp_path
) -> None:
    window = ready(qtbot, make_window, photos, [photos.a, photos.b])
    enter_mask_mode(window)
    stroke(window, [(2, 32), (20, 32)])  # the left edge of alpine only
    mask = window.masks.mask().copy()
    out = tmp_path / "out"
    with qtbot.waitSignal(window.exportFinished, timeout=TIMEOUT) as finished:
        window.export_photos([photos.a, photos.b], ExportSettings(folder=out, format="png"))
    summary = finished.args[0]
    assert summary.failed == [] and len(summary.written) == 2

    result = np.asarray(Image.open(out / "alpine-Aurora.png").convert("RGB"))
    source = np.asarray(Image.open(photos.a).convert("RGB"))
    assert result.shape == source.shape == (64, 96, 3)
    untouched = (RegionMask(mask).fitted(64, 96) == 0.0)[..., None].repeat(3, axis=2)
    assert untouched.mean() > 0.5
    assert np.array_equal(result[untouched], source[untouched])  # the original, bit for bit
    styled = np.abs(result[28:36, 4:16].astype(int) - source[28:36, 4:16]).mean()
    assert styled > 3
    beach = np.asarray(Image.open(out / "beach-Aurora.png").convert("RGB"))
    beach_source = np.asarray(Image.open(photos.b).convert("RGB"))
    assert np.abs(beach.astype(int) - beach_source.astype(int)).mean() > 3  # no mask: styled


def test_rough_subject_is_one_undoable_starting_mask(qtbot, make_window, photo_factory) -> None:
    rng = np.random.default_rng(5)
    pixels = (rng.random((90, 120, 3)) * 40 + 100).astype(np.uint8)  # a grey, grainy frame
    pixels[25:65, 40:80] = (220, 40, 30)  # and a red subject in the middle
    path = photo_factory("subject.png", 8, 8)
    Image.fromarray(pixels).save(path)
    window = make_window()
    with qtbot.waitSignal(window.photoShown, timeout=TIMEOUT):
        drop(window, [path])
    bar = window.masks.toolbar
    QTest.mouseClick(bar.subject_button, Qt.MouseButton.LeftButton)
    mask = window.masks.mask()
    assert mask is not None and mask.shape == (90, 120)
    assert mask[35:55, 50:70].min() == 255 and mask[:10].max() == 0
    assert window.undo_stack.undoText() == "Rough subject mask"
    window.undo_action.trigger()
    assert window.masks.mask() is None
