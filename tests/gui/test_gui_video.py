"""Videos in the app: a dropped clip shows its first frame styled, the scrubber previews other
frames, Export renders the whole clip with progress, and Cancel leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.video_clips import audio_payloads, gradient_frame, make_clip

from .test_gui_window import TIMEOUT, click_style, drop, wait_final

pytest.importorskip("av")
pytestmark = pytest.mark.gui


def moving(index: int) -> np.ndarray:
    """Frames that differ clearly from each other (so the scrubber's frame can be told)."""
    frame = gradient_frame(64, 48, 0)
    return np.roll(frame, 6 * index, axis=1)


def open_video(qtbot, make_window, clip: Path):
    window = make_window()
    with qtbot.waitSignal(window.photoShown, timeout=TIMEOUT):
        assert drop(window, [clip])
    click_style(qtbot, window, window.gallery.cards()[0].id)
    qtbot.waitUntil(window.scrubber.isVisible, timeout=TIMEOUT)
    return window


def test_dropping_a_video_shows_its_first_frame_styled(qtbot, make_window, tmp_path) -> None:
    from stylestudio.core.video.reader import read_frame

    clip = make_clip(tmp_path / "clip.mp4", frames=6, picture=moving)
    window = open_video(qtbot, make_window, clip)
    assert window.filmstrip.paths() == [clip] and window.current_photo() == clip
    result = wait_final(qtbot, window)
    first = read_frame(clip, 0).rgb.astype(np.float32) / 255
    assert result.original.shape == first.shape and np.abs(result.original - first).max() < 1e-6
    assert np.abs(result.raw - result.original).mean() > 0.01  # styled
    assert window.styled_image() is not None and not window.styled_image().isNull()
    scrubber = window.scrubber
    assert scrubber.slider.maximum() == 5 and scrubber.frame() == 0
    assert scrubber.label.text().startswith("Frame 1 / 6")


def test_the_scrubber_previews_another_frame(qtbot, make_window, tmp_path) -> None:
    from stylestudio.core.video.reader import read_frame

    clip = make_clip(tmp_path / "clip.mp4", frames=6, picture=moving)
    window = open_video(qtbot, make_window, clip)
    wait_final(qtbot, window)
    window.scrubber.slider.setValue(4)

    def shows_frame_4() -> bool:
        result = window.last_result()
        return bool(result is not None and result.final and window.scrubber.frame() == 4) and (
            np.abs(result.original - read_frame(clip, 4).rgb / 255).max() < 1e-6
        )

    qtbot.waitUntil(shows_frame_4, timeout=TIMEOUT)
    assert window.scrubber.label.text().startswith("Frame 5 / 6")
    frame0 = read_frame(clip, 0).rgb / 255
    assert np.abs(window.last_result().original - frame0).mean() > 0.05


def test_export_renders_the_whole_video(qtbot, make_window, tmp_path) -> None:
    from stylestudio.core.video.reader import probe

    clip = make_clip(tmp_path / "clip.mp4", frames=5)
    window = open_video(qtbot, make_window, clip)
    target = tmp_path / "out" / "styled.mp4"
    seen: list[int] = []
    window.video_export.progress.valueChanged.connect(seen.append)
    with qtbot.waitSignal(window.video_export.finished, timeout=60000) as finished:
        assert window.video_export.export(clip, target) is not None
        assert not window.export_action.isEnabled()  # one export at a time
    summary = finished.args[0]
    assert summary.written == target and summary.frames == 5
    info = probe(target)
    assert (info.width, info.height, info.frame_count) == (64, 48, 5)
    assert audio_payloads(target) == audio_payloads(clip)
    assert 5 in seen and not window.video_export.progress.isVisible()
    assert window.export_action.isEnabled()
    assert "styled.mp4" in window.banner.text()


def test_cancelling_the_export_leaves_no_file(qtbot, make_window, tmp_path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=40, width=96, height=64)
    window = open_video(qtbot, make_window, clip)
    out = tmp_path / "out"
    flow = window.video_export
    with qtbot.waitSignal(flow.finished, timeout=60000) as finished:
        flow.export(clip, out / "styled.mp4")
        qtbot.waitUntil(lambda: flow.progress.value() >= 1, timeout=TIMEOUT)
        flow.cancel()
    summary = finished.args[0]
    assert summary.written is None
    assert not out.exists() or list(out.iterdir()) == []  # no output, no temporary file
    assert "cancelled" in window.statusBar().currentMessage()


def test_a_photo_after_a_video_hides_the_scrubber(qtbot, make_window, photos, tmp_path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=3)
    window = open_video(qtbot, make_window, clip)
    with qtbot.waitSignal(window.photoShown, timeout=TIMEOUT):
        drop(window, [photos.a])
    assert window.current_photo() == photos.a
    qtbot.waitUntil(lambda: not window.scrubber.isVisible(), timeout=TIMEOUT)
    assert window.scrubber.frame() == 0


def test_a_broken_video_is_reported(qtbot, make_window, tmp_path) -> None:
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00" * 4000)
    window = make_window()
    click_style(qtbot, window, window.gallery.cards()[0].id)
    drop(window, [bad])
    qtbot.waitUntil(lambda: "broken.mp4" in window.banner.text(), timeout=TIMEOUT)
    assert "not a readable video" in window.banner.text()
    assert not window.scrubber.isVisible()
