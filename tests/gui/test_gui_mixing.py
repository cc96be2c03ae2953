"""The blend control driven like a user: a second style, the slider, preview, export, save."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QInputDialog

from stylestudio.core.engine.stylize import Engine, StylizeOptions
from stylestudio.core.export import ExportSettings
from stylestudio.core.imageio import load_image
from stylestudio.core.library import StyleLibrary
from stylestudio.core.mixing import Blend
from stylestudio.gui.messages import PreviewResult
from tests.conftest import psnr
from tests.mixing_styles import write_lineage_styles

from .test_gui_window import TIMEOUT, click_style, drop

pytestmark = pytest.mark.gui


@pytest.fixture
def lineage(style_dirs) -> dict[str, str]:
    """Name → id of the lineage test styles, added to the user styles (Aurora and Brushwork,
    the fixture's own styles, have no lineage)."""
    return write_lineage_styles(style_dirs.user)


def _items(window) -> dict[str, tuple[bool, str]]:
    """Combo entry id → (enabled, tooltip)."""
    combo = window.panel.blend.combo
    model = combo.model()
    return {
        str(combo.itemData(i)): (model.item(i).isEnabled(), model.item(i).toolTip())
        for i in range(combo.count())
    }


def _choose(window, style_id: str) -> None:
    combo = window.panel.blend.combo
    combo.setCurrentIndex(combo.findData(style_id))


def _wait_current(qtbot, window) -> PreviewResult:
    """The final preview for exactly the current adjustments (blend included)."""

    def done() -> bool:
        result = window.last_result()
        return bool(
            result is not None
            and result.final
            and result.adjustments == window.adjustments()
            and not window.client.worker.views.has_pending()
        )

    qtbot.waitUntil(done, timeout=TIMEOUT)
    return window.last_result()


@pytest.fixture
def sent(make_window, lineage, monkeypatch):
    """A window whose view requests are recorded (they still go to the worker)."""
    window = make_window()
    requests = []
    post = window.client.request_view

    def record(request):
        requests.append(request)
        post(request)

    monkeypatch.setattr(window.client, "request_view", record)
    return window, requests


def test_blend_control_offers_only_styles_of_the_lineage(qtbot, sent, photos, lineage, style_dirs):
    window, _ = sent
    with qtbot.waitSignal(window.photoShown, timeout=TIMEOUT):
        drop(window, [photos.a])
    click_style(qtbot, window, lineage["Starry Night"])
    items = _items(window)
    assert items[""] == (True, "")  # "None"
    assert items[lineage["Great Wave"]][0] and items[lineage["Kanagawa Fine"]][0]
    enabled, tip = items[lineage["Ink Wash"]]
    assert not enabled and "'Ink Wash' cannot be blended: it was not trained" in tip
    enabled, tip = items[lineage["Alien"]]
    assert not enabled and "'Alien' cannot be blended with 'Starry Night'" in tip
    assert not items[style_dirs.builtin_id][0] and not items[style_dirs.user_id][0]
    assert items[lineage["Starry Night"]] == (False, "This is the current style.")
    blend = window.panel.blend
    assert not blend.slider.isEnabled() and not blend.save_button.isEnabled()
    assert blend.note.isHidden()

    # a style of no lineage: nothing to blend with, and the reason is shown
    click_style(qtbot, window, lineage["Ink Wash"])
    assert not blend.combo.isEnabled()
    assert blend.note.isVisibleTo(window)
    assert "'Ink Wash' cannot be blended" in blend.note.text()


def test_choosing_a_second_style_and_the_slider_preview_the_blend(
    qtbot, sent, photos, lineage, tmp_path
) -> None:
    window, requests = sent
    with qtbot.waitSignal(window.photoShown, timeout=TIMEOUT):
        drop(window, [photos.a])
    starry, wave = lineage["Starry Night"], lineage["Great Wave"]
    click_style(qtbot, window, starry)
    plain = _wait_current(qtbot, window)
    assert requests[-1].style_location == window.gallery.card(starry).location

    _choose(window, wave)
    assert window.adjustments().blend_with == wave
    assert window.panel.blend.slider.isEnabled() and window.panel.blend.save_button.isEnabled()
    half = _wait_current(qtbot, window)
    blend = requests[-1].style_location
    assert isinstance(blend, Blend)
    assert [p.style_id for p in blend.parts] == [starry, wave] and blend.weights == (0.5, 0.5)
    assert requests[-1].style_id == starry  # the preview still belongs to the current style

    QTest.keyClick(window.panel.blend.slider, Qt.Key.Key_PageDown)  # 50 % → 40 %
    QTest.keyClick(window.panel.blend.slider, Qt.Key.Key_PageDown)  # → 30 %
    assert window.panel.blend.label.text() == "30 %"
    result = _wait_current(qtbot, window)
    blend = requests[-1].style_location
    assert isinstance(blend, Blend) and blend.weights == pytest.approx((0.7, 0.3))
    # what is painted is the interpolated network's output, not a mix of two pictures
    engine = Engine("cpu")
    expected = engine.stylize(result.original, blend, StylizeOptions()).raw
    assert psnr(result.raw, expected) > 80
    assert psnr(result.raw, half.raw) < 60 and psnr(result.raw, plain.raw) < 60

    # undo goes back to 50 %, and the preview follows
    window.undo_action.trigger()
    assert window.adjustments().blend_amount == 0.5
    again = _wait_current(qtbot, window)
    assert psnr(again.raw, half.raw) > 80
    window.redo_action.trigger()
    _wait_current(qtbot, window)

    # export uses the blend, and names the file after it
    out = tmp_path / "out"
    with qtbot.waitSignal(window.exportFinished, timeout=TIMEOUT) as finished:
        window.export_photos([photos.a], ExportSettings(folder=out, format="png"))
    [written] = finished.args[0].written
    assert written.name == "alpine-Starry Night 70% + Great Wave 30%.png"
    photo = load_image(photos.a).rgb
    full = engine.stylize(photo, blend, StylizeOptions()).image
    with Image.open(written) as image:
        exported = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    assert np.abs(exported - full).max() <= 1.5 / 255

    # choosing "None" ends the blend
    _choose(window, "")
    _wait_current(qtbot, window)
    assert requests[-1].style_location == window.gallery.card(starry).location


def test_save_blend_as_style_adds_it_to_the_gallery(
    qtbot, sent, photos, lineage, style_dirs, monkeypatch
) -> None:
    window, _ = sent
    starry, wave = lineage["Starry Night"], lineage["Great Wave"]
    click_style(qtbot, window, starry)
    _choose(window, wave)
    window.panel.blend.slider.setValue(25)
    asked: list[str] = []

    def answer(_parent, _title, _label, _mode, text):
        asked.append(text)
        return "Night Wave", True

    monkeypatch.setattr(QInputDialog, "getText", answer)
    QTest.mouseClick(window.panel.blend.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: any(c.name == "Night Wave" for c in window.gallery.cards()), timeout=TIMEOUT
    )
    assert asked == ["Starry Night + Great Wave"]
    assert "Night Wave" in window.statusBar().currentMessage()
    record = StyleLibrary(style_dirs.user, style_dirs.builtin).get("Night Wave")
    mix = record.manifest.training["mix"]
    assert [p["id"] for p in mix["parents"]] == [starry, wave]
    assert mix["weights"] == pytest.approx([0.75, 0.25])
    assert record.thumbnail is not None
    # the saved blend keeps the lineage: it is offered for blending with Starry Night
    assert window.gallery.current_style_id() == starry
    assert _items(window)[record.id][0]


def test_the_blend_persists_like_the_other_adjustments(qtbot, make_window, lineage) -> None:
    window = make_window()
    click_style(qtbot, window, lineage["Starry Night"])
    _choose(window, lineage["Great Wave"])
    window.panel.blend.slider.setValue(35)
    window.close()

    again = make_window()
    assert again.gallery.current_style_id() == lineage["Starry Night"]
    assert (again.adjustments().blend_with, again.adjustments().blend_amount) == (
        lineage["Great Wave"],
        0.35,
    )
    assert again.panel.blend.combo.currentData() == lineage["Great Wave"]
    ref = again.style_ref()
    assert ref is not None and isinstance(ref.location, Blend)
    assert ref.location.weights == pytest.approx((0.65, 0.35))
