"""The main window driven like a user: drops, styles, sliders, zoom, split view, errors, close."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QThread, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from stylestudio.core.adjust import apply_adjustments
from stylestudio.gui.adjuster import AdjustResult
from stylestudio.gui.adjustments import Adjustments
from stylestudio.gui.banner import BannerKind
from stylestudio.gui.messages import PreviewResult
from stylestudio.gui.qimage import qimage_to_numpy, to_uint8

pytestmark = pytest.mark.gui
TIMEOUT = 30000


def drop(window, paths: list[Path]) -> bool:
    """Simulate dragging ``paths`` from a file manager onto the canvas."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    viewport = window.canvas.viewport()
    pos = viewport.rect().center()
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(viewport, enter)
    event = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(viewport, event)
    return event.isAccepted()


def click_style(qtbot, window, style_id: str) -> None:
    gallery = window.gallery
    for row in range(gallery.list.count()):
        item = gallery.list.item(row)
        if item.data(Qt.ItemDataRole.UserRole) == style_id:
            gallery.list.scrollToItem(item)
            rect = gallery.list.visualItemRect(item)
            QTest.mouseClick(gallery.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
            assert gallery.current_style_id() == style_id
            return
    raise AssertionError(f"style {style_id} is not in the gallery")


def wait_final(qtbot, window) -> PreviewResult:
    """Wait until the final preview for the current settings is painted."""

    def done() -> bool:
        result = window.last_result()
        return bool(
            result is not None
            and result.final
            and result.adjustments.style_scale == window.adjustments().style_scale
            and result.adjustments.output_size == window.adjustments().output_size
            and result.style_id == window.gallery.current_style_id()
            and not window.client.worker.views.has_pending()
        )

    qtbot.waitUntil(done, timeout=TIMEOUT)
    return window.last_result()


def displayed(window) -> np.ndarray:
    image = window.styled_image()
    assert image is not None, "no stylised image is painted"
    return qimage_to_numpy(image)


def expected(result: PreviewResult, adj: Adjustments) -> np.ndarray:
    return to_uint8(
        apply_adjustments(result.original, result.raw, adj.strength, adj.preserve_colors)
    )


def test_empty_state(make_window, screenshot) -> None:
    window = make_window()
    assert not window.canvas.has_image()
    assert "Drop photos here" in window.canvas.empty_text
    assert window.device_label.text() == "CPU"
    assert [c.name for c in window.gallery.cards()] == ["Aurora", "Brushwork"]
    assert not window.export_action.isEnabled()
    screenshot(window, "01-empty")


def test_drop_files_and_folder_lists_skipped(qtbot, make_window, photos, tmp_path) -> None:
    window = make_window()
    stray = tmp_path / "readme.md"
    stray.write_text("hello")
    with qtbot.waitSignal(window.photoShown, timeout=TIMEOUT) as shown:
        assert drop(window, [photos.folder, stray])
    assert set(window.filmstrip.paths()) == {photos.a, photos.b, photos.nested}
    assert shown.args[0] == window.current_photo() == window.filmstrip.paths()[0]
    assert window.canvas.has_image()
    assert window.banner.isVisible() and window.banner.kind is BannerKind.WARNING
    assert "Skipped 2" in window.banner.text()
    assert set(window.banner.detail_lines()) == {str(photos.text), str(stray)}
    # the banner is non-modal: the window keeps working
    assert QApplication.activeModalWidget() is None
    assert window.export_all_action.isEnabled()
    # dropping one more file adds it and shows it
    extra = tmp_path / "extra.png"
    extra.write_bytes(photos.a.read_bytes())
    with qtbot.waitSignal(window.photoShown, timeout=TIMEOUT):
        drop(window, [extra])
    assert window.filmstrip.paths()[-1] == extra and window.current_photo() == extra


def test_select_style_paints_two_stage_preview(qtbot, make_window, photos) -> None:
    window = make_window(quick_side=40)
    stages: list[int] = []
    threads = set()
    window.previewShown.connect(
        lambda r: stages.append(r.stage) if isinstance(r, PreviewResult) else None
    )
    for signal in (window.previewShown, window.photoShown, window.stylesChanged):
        signal.connect(lambda *_a: threads.add(QThread.currentThread()))
    with qtbot.waitSignal(window.photoShown, timeout=TIMEOUT):
        drop(window, [photos.a])
    click_style(qtbot, window, window.gallery.cards()[0].id)
    result = wait_final(qtbot, window)
    assert stages[0] == 1 and stages[-1] == 2  # quick low-resolution result first
    assert threads == {QApplication.instance().thread()}  # results are handled on the GUI thread
    assert result.size == (96, 64)  # final at full photo size (smaller than the screen)
    shown = displayed(window)
    assert shown.shape == (64, 96, 3)
    np.testing.assert_allclose(shown, expected(result, window.adjustments()), atol=1)
    original = qimage_to_numpy(window.canvas.item.original_image())
    assert np.abs(shown.astype(int) - original.astype(int)).mean() > 3  # it was restyled
    assert "96 × 64" in window.run_label.text()

    # another style re-runs the network and changes the picture
    runs = window.client.worker.network_runs
    click_style(qtbot, window, window.gallery.cards()[1].id)
    second = wait_final(qtbot, window)
    assert second.style_id == window.gallery.cards()[1].id
    assert window.client.worker.network_runs > runs
    assert not np.array_equal(displayed(window), shown)


def test_strength_and_colours_do_not_rerun_network(qtbot, make_window, photos) -> None:
    window = make_window()
    with qtbot.waitSignal(window.photoShown, timeout=TIMEOUT):
        drop(window, [photos.a])
    click_style(qtbot, window, window.gallery.cards()[0].id)
    result = wait_final(qtbot, window)
    runs = window.client.worker.network_runs
    with qtbot.waitSignal(
        window.previewShown, timeout=TIMEOUT, check_params_cb=lambda r: isinstance(r, AdjustResult)
    ):
        window.panel.strength.setValue(40)
    np.testing.assert_allclose(displayed(window), expected(result, window.adjustments()), atol=1)
    with qtbot.waitSignal(
        window.previewShown,
        timeout=TIMEOUT,
        check_params_cb=lambda r: isinstance(r, AdjustResult) and r.preserve_colors,
    ):
        QTest.mouseClick(window.panel.preserve, Qt.MouseButton.LeftButton)
    assert window.adjustments() == Adjustments(strength=0.4, preserve_colors=True)
    np.testing.assert_allclose(displayed(window), expected(result, window.adjustments()), atol=1)
    assert window.client.worker.network_runs == runs

    # undo/redo walk the adjustments back and forth and repaint
    with qtbot.waitSignal(window.previewShown, timeout=TIMEOUT):
        window.undo_action.trigger()
    assert window.adjustments() == Adjustments(strength=0.4, preserve_colors=False)
    window.undo_action.trigger()
    assert window.panel.strength.value() == 100
    window.redo_action.trigger()
    assert window.panel.strength.value() == 40
    qtbot.waitUntil(
        lambda: (
            np.abs(
                displayed(window).astype(int) - expected(result, window.adjustments()).astype(int)
            ).max()
            <= 1
        ),
        timeout=TIMEOUT,
    )
    assert window.client.worker.network_runs == runs


def test_style_scale_reruns_network(qtbot, make_window, photos) -> None:
    window = make_window()
    with qtbot.waitSignal(window.photoShown, timeout=TIMEOUT):
        drop(window, [photos.b])
    click_style(qtbot, window, window.gallery.cards()[0].id)
    first = wait_final(qtbot, window)
    window.panel.scale.setValue(150)
    second = wait_final(qtbot, window)
    assert second.request_id > first.request_id
    assert second.adjustments.style_scale == 1.5
    assert not np.array_equal(second.raw, first.raw)


def test_zoom_fit_actual_and_wheel(qtbot, make_window, photo_factory) -> None:
    window = make_window()
    photo = photo_factory("wide.png", 300, 150)
    with qtbot.waitSignal(window.photoShown, timeout=TIMEOUT):
        window.open_paths([photo])
    canvas = window.canvas
    assert canvas.is_fit()
    view = canvas.viewport().rect().adjusted(8, 8, -8, -8)
    fit = min(view.width() / 300, view.height() / 150) * canvas.devicePixelRatioF()
    assert canvas.zoom() == pytest.approx(fit, rel=1e-3)
    canvas.zoom_actual()
    qtbot.waitUntil(lambda: abs(canvas.zoom() - 1.0) < 1e-6, timeout=5000)
    assert not canvas.is_fit()
    canvas.zoom_in()
    qtbot.waitUntil(lambda: abs(canvas.zoom() - 1.25) < 1e-6, timeout=5000)
    pos = QPointF(canvas.viewport().rect().center())
    wheel = QWheelEvent(
        pos,
        QPointF(canvas.viewport().mapToGlobal(pos.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(canvas.viewport(), wheel)
    assert canvas.zoom() > 1.25
    canvas.fit()
    assert canvas.zoom() == pytest.approx(fit, rel=1e-3)
    assert window.zoom_label.text().endswith("%")


def test_divider_drag_and_hold_space(qtbot, make_window, photos) -> None:
    window = make_window()
    with qtbot.waitSignal(window.photoShown, timeout=TIMEOUT):
        drop(window, [photos.a])
    click_style(qtbot, window, window.gallery.cards()[0].id)
    wait_final(qtbot, window)
    canvas = window.canvas
    canvas.set_split(0.5)
    x = canvas._divider_x()
    assert x is not None
    y = canvas.viewport().rect().center().y()
    viewport = canvas.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, pos=QPoint(round(x), y))
    QTest.mouseMove(viewport, QPoint(round(x) + 40, y))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=QPoint(round(x) + 40, y))
    assert canvas.item.split > 0.55

    canvas.setFocus()
    QTest.keyPress(canvas, Qt.Key.Key_Space)
    assert canvas.item.show_original and canvas._divider_x() is None
    QTest.keyRelease(canvas, Qt.Key.Key_Space)
    assert not canvas.item.show_original

    window.split_action.trigger()  # compare off: the whole canvas shows the result
    assert not canvas.split_enabled() and canvas._divider_x() is None


def test_unreadable_photo_shows_error_banner(qtbot, make_window, tmp_path) -> None:
    window = make_window()
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    drop(window, [bad])
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=TIMEOUT)
    assert window.banner.kind is BannerKind.ERROR
    assert "broken.png" in window.banner.text()
    assert QApplication.activeModalWidget() is None


def test_close_during_full_resolution_run(qtbot, make_window, photo_factory) -> None:
    window = make_window()
    photo = photo_factory("large.png", 640, 480)
    window.panel.output.setCurrentIndex(window.panel.output.findData("full"))
    with qtbot.waitSignal(window.photoShown, timeout=TIMEOUT):
        window.open_paths([photo])
    click_style(qtbot, window, window.gallery.cards()[0].id)
    qtbot.waitUntil(lambda: window.client.worker.network_runs >= 1, timeout=TIMEOUT)
    window.close()
    assert not window.client.thread.isRunning()
    assert not window.adjuster.is_running()


def test_settings_persist_between_windows(qtbot, make_window, photos) -> None:
    window = make_window()
    style_id = window.gallery.cards()[1].id
    click_style(qtbot, window, style_id)
    window.panel.strength.setValue(55)
    window.panel.scale.setValue(125)
    window.split_action.trigger()
    window.open_paths([photos.a])
    window.resize(700, 500)
    window.close()

    again = make_window()
    assert again.adjustments() == Adjustments(strength=0.55, style_scale=1.25)
    assert again.gallery.current_style_id() == style_id
    assert not again.canvas.split_enabled()
    assert photos.a in again.settings.recent_files()
    again.recent_menu.aboutToShow.emit()
    assert photos.a.name in [a.text() for a in again.recent_menu.actions()]


def test_close_cancels_a_long_run(qtbot, make_window, photos) -> None:
    """A run that only ends when cancelled: closing must cancel it and stop the thread."""
    import threading

    from stylestudio.core.errors import CancelledError

    window = make_window()
    worker = window.client.worker
    started = threading.Event()

    def endless(image, location, options, progress=None, cancel=None):
        started.set()
        while not cancel():
            threading.Event().wait(0.005)
        raise CancelledError()

    worker._engine.stylize = endless
    with qtbot.waitSignal(window.photoShown, timeout=TIMEOUT):
        drop(window, [photos.a])
    click_style(qtbot, window, window.gallery.cards()[0].id)
    qtbot.waitUntil(started.is_set, timeout=TIMEOUT)
    assert window.shutdown()
    assert worker.cancelled_runs == 1
    assert not window.client.thread.isRunning()


def test_high_dpi_actual_size_is_one_photo_pixel_per_device_pixel(qtbot, make_window, photos):
    window = make_window()
    with qtbot.waitSignal(window.photoShown, timeout=TIMEOUT):
        drop(window, [photos.a])
    canvas = window.canvas
    canvas._dpr = lambda: 2.0  # as on a 200 % screen
    canvas.set_zoom(1.0)
    assert canvas.transform().m11() == pytest.approx(0.5)  # half a logical pixel per photo pixel
    assert canvas.zoom() == pytest.approx(1.0)


def test_bigger_window_refreshes_screen_size_preview(qtbot, make_window, photo_factory):
    window = make_window(quick_side=64)
    window.resize(700, 500)
    photo = photo_factory("big.png", 1600, 1000)
    with qtbot.waitSignal(window.photoShown, timeout=TIMEOUT):
        window.open_paths([photo])
    click_style(qtbot, window, window.gallery.cards()[0].id)
    first = wait_final(qtbot, window)
    assert max(first.size) == 1024  # the smallest screen-size preview
    window.resize(1900, 1300)
    qtbot.waitUntil(
        lambda: window.last_result().request_id > first.request_id and window.last_result().final,
        timeout=TIMEOUT,
    )
    assert max(window.last_result().size) > 1024


def test_engine_notes_reach_the_status_bar(qtbot, make_window, photos) -> None:
    window = make_window()
    engine = window.client.worker._engine
    real = engine.stylize

    def with_note(*args, **kwargs):
        result = real(*args, **kwargs)
        result.notes.append("GPU ran out of memory; finished on the CPU.")
        return result

    engine.stylize = with_note
    with qtbot.waitSignal(window.photoShown, timeout=TIMEOUT):
        drop(window, [photos.a])
    click_style(qtbot, window, window.gallery.cards()[0].id)
    wait_final(qtbot, window)
    assert "finished on the CPU" in window.statusBar().currentMessage()


def test_first_start_selects_the_first_style_so_a_dropped_photo_is_stylised(
    qtbot, make_window, photos
) -> None:
    window = make_window()
    first = window.gallery.cards()[0].id
    assert window.gallery.current_style_id() == first  # nothing chosen before: the first one
    with qtbot.waitSignal(window.photoShown, timeout=TIMEOUT):
        drop(window, [photos.a])
    result = wait_final(qtbot, window)
    assert result.style_id == first


def test_first_start_opens_the_featured_style_when_the_gallery_has_it(
    qtbot, make_window, style_dirs
) -> None:
    import shutil

    from stylestudio.gui.main_window import FIRST_RUN_STYLE_ID

    # A copy of the built-in style under the featured id, sorted after the others.
    folder = style_dirs.builtin / FIRST_RUN_STYLE_ID
    shutil.copytree(style_dirs.builtin / style_dirs.builtin_id, folder)
    manifest = json.loads((folder / "style.json").read_text(encoding="utf-8"))
    manifest.update(id=FIRST_RUN_STYLE_ID, name="Zz Featured")
    (folder / "style.json").write_text(json.dumps(manifest), encoding="utf-8")
    window = make_window()
    assert window.gallery.cards()[0].id != FIRST_RUN_STYLE_ID
    assert window.gallery.current_style_id() == FIRST_RUN_STYLE_ID
