"""Qt-light building blocks of the GUI: path collection, naming, conversion, mailboxes, undo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtGui import QUndoStack

from stylestudio.core.export import (
    ExportSettings,
    PatternError,
    StyleRef,
    validate_pattern,
)
from stylestudio.gui.adjustments import Adjustments, AdjustmentsPanel
from stylestudio.gui.drops import collect_image_paths, paths_from_mime
from stylestudio.gui.mailbox import FifoBox, LatestSlot
from stylestudio.gui.qimage import numpy_to_qimage, qimage_to_numpy
from stylestudio.gui.resample import downscale, fitted_size
from stylestudio.gui.settings import AppSettings
from stylestudio.gui.undo import AdjustCommand

pytestmark = pytest.mark.gui


def test_collect_files_folders_and_skips(photos) -> None:
    result = collect_image_paths([photos.folder, photos.a, photos.text])
    assert set(result.images) == {photos.a, photos.b, photos.nested}
    assert len(result.images) == 3  # the explicit duplicate of photos.a is dropped
    assert result.skipped == [photos.text]
    assert not result.truncated


def test_collect_missing_path_is_skipped(tmp_path: Path) -> None:
    missing = tmp_path / "gone.png"
    result = collect_image_paths([missing])
    assert result.images == [] and result.skipped == [missing]


def test_paths_from_mime_keeps_local_files_only(tmp_path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "a.png")), QUrl("https://example.com/x.png")])
    assert paths_from_mime(mime) == [tmp_path / "a.png"]
    assert paths_from_mime(QMimeData()) == []


def test_output_names(tmp_path: Path) -> None:
    def named(pattern: str, photo: str, style: str, index: int, strength: float = 1.0) -> str:
        settings = ExportSettings(folder=tmp_path, pattern=pattern)
        ref = StyleRef(Path(), "style-id", style)
        return settings.path_for(Path(photo), ref, index, strength).stem

    assert named("{stem}-{style}", "/x/IMG_1.jpg", "Van Gogh: Night", 1) == "IMG_1-Van Gogh_ Night"
    assert named("{n}_{stem}_{strength}", "a.png", "s", 7, 0.5) == "007_a_50"
    assert named("{index}-{style_id}.{ext}", "a.png", "s", 7) == "7-style-id.png"
    settings = ExportSettings(folder=tmp_path, format="jpeg")
    ink = StyleRef(Path(), "ink", "Ink")
    assert settings.path_for(Path("p.png"), ink, 1, 1.0) == tmp_path / "p-Ink.jpg"
    with pytest.raises(PatternError):
        validate_pattern("{stem}-{nope}")
    with pytest.raises(PatternError):
        validate_pattern("{stem")
    with pytest.raises(PatternError):
        validate_pattern("  ")


def test_qimage_round_trip() -> None:
    rgb = np.random.default_rng(0).random((5, 7, 3), dtype=np.float32)
    image = numpy_to_qimage(rgb)
    assert (image.width(), image.height()) == (7, 5)
    back = qimage_to_numpy(image)
    assert back.shape == (5, 7, 3)
    assert np.abs(back.astype(np.float32) / 255 - rgb).max() <= 0.5 / 255 + 1e-6


def test_downscale_fits_long_side() -> None:
    assert fitted_size(4000, 3000, 512) == (512, 384)
    assert fitted_size(100, 50, 512) == (100, 50)
    rgb = np.random.default_rng(1).random((300, 200, 3), dtype=np.float32)
    small = downscale(rgb, 60)
    assert small.shape == (60, 40, 3) and small.dtype == np.float32
    assert downscale(rgb, None) is rgb


def test_latest_slot_supersedes_and_fifo_keeps_all() -> None:
    slot: LatestSlot[int] = LatestSlot()
    for value in range(5):
        slot.put(value)
    assert slot.has_pending() and slot.superseded == 4
    assert slot.take() == 4 and slot.take() is None
    box: FifoBox[int] = FifoBox()
    for value in range(3):
        box.put(value)
    assert [box.take(), box.take(), box.take(), box.take()] == [0, 1, 2, None]


def test_adjustments_network_rule() -> None:
    base = Adjustments()
    assert not Adjustments(strength=0.3, preserve_colors=True).needs_network(base)
    assert Adjustments(style_scale=1.5).needs_network(base)
    assert Adjustments(output_size="full").needs_network(base)
    assert Adjustments(strength=7, style_scale=9).clamped() == Adjustments(1.0, False, 2.0)


def test_panel_emits_user_edits_only(qtbot) -> None:
    panel = AdjustmentsPanel()
    qtbot.addWidget(panel)
    seen = []
    panel.adjustmentsChanged.connect(lambda new, old, field: seen.append((new, old, field)))
    panel.set_adjustments(Adjustments(strength=0.4))
    assert seen == [] and panel.adjustments().strength == pytest.approx(0.4)
    panel.strength.setValue(70)
    panel.preserve.setChecked(True)
    assert [s[2] for s in seen] == ["strength", "preserve_colors"]
    assert panel.adjustments() == Adjustments(strength=0.7, preserve_colors=True)


def test_undo_merges_slider_drags(qtbot) -> None:
    applied: list[Adjustments] = []
    stack = QUndoStack()
    a, b, c = Adjustments(strength=1.0), Adjustments(strength=0.8), Adjustments(strength=0.5)
    stack.push(AdjustCommand(a, b, "strength", applied.append))
    stack.push(AdjustCommand(b, c, "strength", applied.append))
    assert stack.count() == 1 and applied == []  # merged, first redo is not re-applied
    stack.undo()
    assert applied[-1] == a
    stack.redo()
    assert applied[-1] == c


def test_settings_round_trip(tmp_path: Path) -> None:
    settings = AppSettings()
    adj = Adjustments(strength=0.35, preserve_colors=True, style_scale=1.5, output_size="full")
    settings.save_adjustments(adj)
    photos = [tmp_path / f"{i}.png" for i in range(15)]
    settings.add_recent(photos[:3])
    settings.add_recent(photos[2:])
    settings.sync()
    again = AppSettings()
    assert again.adjustments() == adj
    recent = again.recent_files()
    assert len(recent) == 10 and recent[0] == photos[2]
    assert str(tmp_path / "qs") in again.store.fileName()  # never the real user settings


def test_view_session_drops_answers_that_no_longer_belong(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from stylestudio.gui.view_session import ViewSession

    session = ViewSession()
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    assert session.open_photo(a) and not session.open_photo(a)
    assert session.choose_style("ink") and not session.choose_style("ink")
    epoch = session.canvas_epoch

    def preview(request_id: int, photo: Path = a, style: str = "ink", canvas_epoch: int = epoch):
        return SimpleNamespace(
            request_id=request_id, photo=photo, style_id=style, canvas_epoch=canvas_epoch
        )

    assert session.accept_preview(preview(5)) and session.last_result.request_id == 5
    assert not session.accept_preview(preview(4))  # older than the one shown
    assert not session.accept_preview(preview(6, style="other"))
    assert not session.accept_preview(preview(6, photo=b))
    assert session.photo_is_current(SimpleNamespace(photo=a, canvas_epoch=epoch))
    assert session.open_photo(b) and session.last_result is None
    assert not session.accept_preview(preview(7))  # for the canvas before the reset
    assert not session.photo_is_current(SimpleNamespace(photo=a, canvas_epoch=epoch))
    session.latest_view_id = 9
    assert session.is_latest(9) and not session.is_latest(8)
