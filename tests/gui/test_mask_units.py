"""The mask brush maths and the mask store, without windows."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylestudio.core.errors import ImageSaveError
from stylestudio.gui.mask_brush import BrushSettings, Rect, Stroke, Tool, mask_shape_for
from stylestudio.gui.mask_store import MaskStore
from stylestudio.gui.mask_toolbar import position_for, size_at


def _paint(points, settings: BrushSettings, base: int = 0) -> np.ndarray:
    mask = np.full((60, 80), base, np.uint8)
    stroke = Stroke(mask, settings)
    for x, y in points:
        stroke.add_point(x, y)
    return mask


def test_a_soft_stroke_does_not_harden_however_densely_it_is_sampled() -> None:
    soft = BrushSettings(Tool.BRUSH, size=0.4, softness=1.0)  # 32 px across, all falloff
    sparse = _paint([(10, 30), (70, 30)], soft)
    dense = _paint([(10 + k * 0.5, 30) for k in range(121)], soft)
    assert np.array_equal(sparse, dense)
    profile = sparse[:, 40]
    assert profile[30] >= 250 and profile[0] == 0
    assert 0 < profile[30 - 10] < 255 and np.all(np.diff(profile[14:31].astype(int)) >= 0)


def test_eraser_over_brush_and_a_hard_brush_edge() -> None:
    mask = np.zeros((60, 80), np.uint8)
    Stroke(mask, BrushSettings(Tool.BRUSH, size=0.5, softness=0.0)).add_point(40, 30)
    assert mask[30, 40] == 255 and mask[30, 40 + 21] == 0  # radius 20 px, 1 px antialiasing
    eraser = Stroke(mask, BrushSettings(Tool.ERASER, size=0.1, softness=0.0))
    rect = eraser.add_point(40, 30)
    assert mask[30, 40] == 0 and mask[30, 40 + 10] == 255
    assert rect is not None and eraser.dirty == rect
    before = eraser.before(rect)
    assert before.min() == 255 and before.shape == (rect.bottom - rect.top, rect.right - rect.left)


def test_points_off_the_mask_touch_nothing() -> None:
    mask = np.zeros((60, 80), np.uint8)
    stroke = Stroke(mask, BrushSettings(size=0.05))
    assert stroke.add_point(-500, -500) is None
    assert not mask.any() and stroke.dirty is None


def test_stroke_refuses_a_float_mask() -> None:
    with pytest.raises(ValueError):
        Stroke(np.zeros((4, 4), np.float32), BrushSettings())


def test_rect_union_and_mask_shape() -> None:
    assert Rect(1, 2, 3, 4).united(Rect(0, 5, 2, 9)) == Rect(0, 2, 3, 9)
    assert Rect(3, 3, 3, 9).is_empty()
    assert mask_shape_for(6000, 4000, 2048) == (1365, 2048)
    assert mask_shape_for(96, 64, 2048) == (64, 96)


def test_size_slider_positions_are_steps_of_the_bracket_keys() -> None:
    assert size_at(position_for(0.05)) == pytest.approx(0.05, rel=0.03)
    assert size_at(position_for(0.05) + 4) / size_at(position_for(0.05)) == pytest.approx(1.25)
    assert position_for(0.0) == 0 and size_at(position_for(10.0)) <= 0.5


def test_store_round_trips_masks_and_removes_cleared_ones(tmp_path: Path) -> None:
    photo = tmp_path / "photos" / "cat.jpg"
    store = MaskStore(tmp_path / "masks")
    assert store.get(photo) is None
    values = np.arange(48 * 64, dtype=np.uint32).reshape(48, 64).astype(np.uint8)
    store.set(photo, values)
    assert store.has_unsaved() and store.flush() == [] and not store.has_unsaved()
    assert np.array_equal(MaskStore(tmp_path / "masks").get(photo), values)
    assert MaskStore(tmp_path / "masks").get(tmp_path / "other.jpg") is None
    store.set(photo, None)
    assert store.flush() == []
    assert not store.file_for(photo).exists()


def test_store_ignores_damaged_and_foreign_files(tmp_path: Path) -> None:
    photo = tmp_path / "dog.png"
    store = MaskStore(tmp_path / "masks")
    path = store.file_for(photo)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    assert store.get(photo) is None
    assert path.read_bytes().endswith(b"garbage")  # left in place, nothing lost
    Image.fromarray(np.full((8, 8), 255, np.uint8)).save(path)  # a PNG without our photo key
    assert MaskStore(tmp_path / "masks").get(photo) is None


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_store_reports_a_mask_it_cannot_write(tmp_path: Path) -> None:
    folder = tmp_path / "masks"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        store = MaskStore(folder)
        store.set(tmp_path / "x.png", np.zeros((4, 4), np.uint8))
        problems = store.flush()
        assert len(problems) == 1 and "Permission denied" in problems[0]
        assert store.has_unsaved()  # kept, and saved on a later flush
    finally:
        folder.chmod(0o700)


def test_store_write_failure_is_one_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "masks"
    blocker.write_text("a file where the folder should be")
    store = MaskStore(blocker)
    store.set(tmp_path / "x.png", np.zeros((4, 4), np.uint8))
    problems = store.flush()
    assert len(problems) == 1 and "\n" not in problems[0] and str(blocker) in problems[0]
    with pytest.raises(ImageSaveError):
        store._write(tmp_path / "x.png", np.zeros((4, 4), np.uint8))
