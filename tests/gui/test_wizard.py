"""The training wizard: every page with real widgets, a tiny real training run, pause/resume/
cancel, closing while training, failures shown as messages. Uses the tiny random feature network
(STYLESTUDIO_TEST_FEATURES=tiny), so no VGG weights are needed."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QWizard

from stylestudio.core.training.config import TrainingConfig
from stylestudio.gui import runner
from stylestudio.gui.wizard import TrainingWizard, WizardOptions, image_checks
from stylestudio.gui.wizard.loss_chart import LossChart, squash

pytestmark = pytest.mark.gui

TIMEOUT = 120_000  # ms; generous for 2 shared CPU cores


def tiny(config: TrainingConfig) -> TrainingConfig:
    """Shrink the networks and images (the settings page still decides steps, crop and batch)."""
    return config.replace(
        generator_channels=8,
        generator_blocks=1,
        discriminator_channels=8,
        discriminator_layers=2,
        style_size=max(64, config.crop_size),
        content_size=max(64, config.crop_size),
        preview_every=2,
        preview_size=32,
        checkpoint_every=1000,
    )


def tiny_estimate(config: TrainingConfig, device: str | None, inputs):
    from stylestudio.core.training import estimate_duration
    from stylestudio.core.training.features import TinyFeatures

    extractor = TinyFeatures(config.feature_layers)
    return estimate_duration(
        config,
        device,
        bench_steps=1,
        feature_extractor=extractor,
        style_images=list(inputs.style_images) or None,
        content=inputs.content,
        library=inputs.library,
    )


@pytest.fixture
def library(tmp_path: Path):
    from stylestudio.core.library import StyleLibrary

    return StyleLibrary(user_dir=tmp_path / "user-styles", builtin_dir=tmp_path / "no-builtins")


@pytest.fixture
def make_wizard(qtbot, library, photos, monkeypatch, tmp_path):
    """Factory for a wizard on a temp library, with the tiny feature network and networks."""
    monkeypatch.setenv("STYLESTUDIO_TEST_FEATURES", "tiny")  # TEST HOOK: no VGG weights
    wizards: list[TrainingWizard] = []

    def factory(*, track: bool = True, **option_changes) -> TrainingWizard:
        """``track=False``: not closed by qtbot (for a wizard that deletes itself)."""
        options = WizardOptions(
            device="cpu", estimator=tiny_estimate, config_hook=tiny, use_tray=False
        )
        for key, value in option_changes.items():
            setattr(options, key, value)
        wizard = TrainingWizard(None, library, [photos.a, photos.b], options=options)
        if track:
            qtbot.addWidget(wizard)
        wizard.show()
        wizards.append(wizard)
        return wizard

    yield factory
    for wizard in wizards:
        if shiboken6.isValid(wizard):  # a wizard that finished in the background deletes itself
            assert wizard.controller.shutdown(60_000), "the training thread did not stop"
            wizard.deleteLater()
    assert runner.wait_for_jobs(60_000)


@pytest.fixture
def style_images(photo_factory) -> dict[str, Path]:
    first = photo_factory("style/brush.png", 96, 88, seed=11)
    copy = first.with_name("brush copy.png")
    shutil.copyfile(first, copy)
    return {
        "first": first,
        "second": photo_factory("style/ink.png", 88, 96, seed=12),
        "copy": copy,
        "small": photo_factory("style/small.png", 72, 70, seed=13),
        "unusable": photo_factory("style/icon.png", 40, 40, seed=14),
    }


def drop_files(widget, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    widget.dropEvent(event)


def walk_to_training(qtbot, wizard: TrainingWizard, style_images, *, steps: int, crop: int = 32):
    """Fill in every page like a user would, ending on the training page (training started)."""
    qtbot.keyClicks(wizard.name_page.name_edit, "Test Style")
    assert wizard.name_page.isComplete()
    wizard.next()
    page = wizard.style_page
    assert wizard.currentPage() is page and not page.isComplete()
    page.add_paths([style_images["first"], style_images["second"], style_images["unusable"]])
    drop_files(page.list, [style_images["copy"], style_images["small"]])
    qtbot.waitUntil(lambda: page.pending == 0 and page.list.count() == 4, timeout=TIMEOUT)
    assert page.isComplete()
    wizard.next()
    photos_page = wizard.photos_page
    assert photos_page.open_radio.isChecked()
    qtbot.waitUntil(photos_page.isComplete, timeout=TIMEOUT)
    wizard.next()
    settings = wizard.settings_page
    settings.preset_buttons["quick"].click()  # (mouseClick hits the wide row's empty middle)
    assert settings.preset() == "quick"
    qtbot.mouseClick(settings.advanced_button, Qt.MouseButton.LeftButton)
    assert settings.advanced.isVisible()
    settings.fields["steps"].setValue(steps)
    settings.fields["crop_size"].setValue(crop)
    settings.fields["batch_size"].setValue(1)
    qtbot.waitUntil(lambda: "Estimated" in settings.estimate_label.text(), timeout=TIMEOUT)
    assert wizard.button(QWizard.WizardButton.CommitButton).isVisible()
    wizard.next()
    assert wizard.currentPage() is wizard.training_page


def test_image_checks_find_duplicates_and_small_images(style_images) -> None:
    facts = image_checks.inspect_images(
        [style_images["first"], style_images["copy"], style_images["small"]]
    )
    assert image_checks.duplicates(facts) == {style_images["copy"]: style_images["first"]}
    assert [f.path for f in image_checks.small_images(facts, 80)] == [style_images["small"]]
    assert len(image_checks.small_images(facts)) == 3  # all below the default 256 px
    broken = image_checks.inspect_image(style_images["first"].with_name("none.png"))
    assert broken.error and not broken.sha256


def test_loss_chart_keeps_a_bounded_number_of_points(qtbot) -> None:
    chart = LossChart()
    qtbot.addWidget(chart)
    assert len(chart.legend_series()) == 7  # before the first step: every term
    for step in range(1, 2501):
        chart.add_point(step, {"total": 1.0 / step, "adversarial": -0.5, "style": float("nan")})
    assert 0 < len(chart.series["total"]) <= 1000
    assert chart.series["total"][0] == (1, 1.0)
    assert chart.series["style"] == []
    # The legend names only the terms being trained (here: no style, palette or texture term).
    assert [name for name, _ in chart.legend_series()] == ["adversarial", "total"]
    assert squash(-99.0) == -2.0 and squash(0.0) == 0.0
    chart.resize(400, 200)
    assert not chart.grab().isNull()  # paints with negative values without errors


def test_wizard_walks_every_page_and_learns_a_style(
    qtbot, make_wizard, library, style_images, monkeypatch, screenshot
) -> None:
    monkeypatch.setattr(image_checks, "SMALL_SIDE", 80)
    wizard = make_wizard()
    created: list[str] = []
    wizard.styleCreated.connect(created.append)
    shots: list[object] = []

    def shoot_mid_run(event) -> None:
        if not shots and event.step < wizard.state.config.steps:
            QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)  # new preview cells
            shots.append(screenshot(wizard, "wizard-training"))

    wizard.controller.previewed.connect(shoot_mid_run)

    # The pages, checked on the way.
    qtbot.keyClicks(wizard.name_page.name_edit, "  ")
    assert not wizard.name_page.isComplete()
    wizard.name_page.name_edit.clear()
    walk_kwargs = {"steps": 4, "crop": 32}
    with qtbot.waitSignal(wizard.controller.finished, timeout=TIMEOUT) as finished:
        walk_to_training(qtbot, wizard, style_images, **walk_kwargs)
        page = wizard.style_page
        warnings = page.warnings.text()
        assert "brush copy.png is the same image as brush.png" in warnings
        assert "small.png is small (72×70 pixels)" in warnings
        assert "icon.png is only 40×40 pixels" in warnings
        assert [p.name for p in wizard.state.usable_style_paths()] == [
            "brush.png",
            "ink.png",
            "small.png",
        ]
        assert "Only 2 practice photos" in wizard.photos_page.note_label.text()
        assert wizard.state.config.steps == 4 and wizard.state.config.crop_size == 32
        assert wizard.state.config.preset_name == "quick"
        assert wizard.state.config.generator_channels == 8
    style_id = finished.args[0]
    assert style_id and created == [style_id]
    assert [r.id for r in library.list()] == [style_id]
    assert library.get(style_id).name == "Test Style"
    training = wizard.training_page
    assert training.chart.point_count() >= 4 * 5  # 4 steps × 5 loss terms
    assert training.previews.pairs and training.previews.step == 4
    assert training.progress.value() == training.progress.maximum() == 4
    assert wizard.currentPage() is wizard.done_page
    assert "Test Style" in wizard.done_page.message.text()
    assert wizard.done_page.thumbnail.pixmap() is not None
    assert not wizard.done_page.thumbnail.pixmap().isNull()
    assert wizard.controller.state == "finished"
    screenshot(wizard, "wizard-done")


def test_removing_a_duplicate_clears_its_warning(qtbot, make_wizard, style_images) -> None:
    wizard = make_wizard()
    qtbot.keyClicks(wizard.name_page.name_edit, "Dupes")
    wizard.next()
    page = wizard.style_page
    page.add_paths([style_images["first"], style_images["copy"]])
    qtbot.waitUntil(lambda: page.list.count() == 2, timeout=TIMEOUT)
    assert "same image" in page.warnings.text()
    page.list.item(1).setSelected(True)
    qtbot.mouseClick(page.remove_button, Qt.MouseButton.LeftButton)
    assert page.list.count() == 1 and "same image" not in page.warnings.text()
    page.list.item(0).setSelected(True)
    page.remove_selected()
    assert not page.isComplete()


def test_photos_from_a_folder_are_counted(qtbot, make_wizard, style_images, photos) -> None:
    wizard = make_wizard()
    qtbot.keyClicks(wizard.name_page.name_edit, "Folder")
    wizard.next()
    wizard.style_page.add_paths([style_images["first"]])
    qtbot.waitUntil(wizard.style_page.isComplete, timeout=TIMEOUT)
    wizard.next()
    page = wizard.photos_page
    page.set_folder(photos.folder)
    assert page.folder_radio.isChecked()
    assert "2 practice photo" in page.count_label.text()  # not recursive, like the trainer
    qtbot.waitUntil(page.isComplete, timeout=TIMEOUT)
    assert wizard.state.content() == photos.folder
    assert "Only 2 practice photos" in page.note_label.text()


def test_pause_resume_and_cancel_from_the_buttons(qtbot, make_wizard, library, style_images):
    from stylestudio.core.training import default_run_dir, latest_checkpoint

    wizard = make_wizard()
    controller = wizard.controller
    page = wizard.training_page
    with qtbot.waitSignal(controller.progressed, timeout=TIMEOUT):
        walk_to_training(qtbot, wizard, style_images, steps=100_000)
    with qtbot.waitSignal(controller.trainerPaused, timeout=TIMEOUT) as paused:
        qtbot.mouseClick(page.pause_button, Qt.MouseButton.LeftButton)
    assert controller.state == "paused" and "Resume" in page.pause_button.text()
    qtbot.wait(300)
    assert controller.last_progress.step == paused.args[0]  # no steps while paused
    with qtbot.waitSignal(
        controller.progressed, timeout=TIMEOUT, check_params_cb=lambda e: e.step > paused.args[0]
    ):
        qtbot.mouseClick(page.pause_button, Qt.MouseButton.LeftButton)
    assert controller.state == "running" and "Pause" in page.pause_button.text()
    with qtbot.waitSignal(controller.cancelled, timeout=TIMEOUT) as cancelled:
        qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    assert controller.state == "cancelled"
    assert library.list() == []  # cancel leaves no style
    event = cancelled.args[0]
    assert event.step > paused.args[0] and event.run_dir is not None
    assert latest_checkpoint(default_run_dir("Test Style")).step == event.step
    assert f"Stopped at step {event.step}" in page.status_label.text()
    assert not page.retry_button.isHidden() and not wizard.training_page.isComplete()

    # Back to the settings: the kept checkpoint is offered, and training continues from it.
    qtbot.mouseClick(page.settings_button, Qt.MouseButton.LeftButton)
    settings = wizard.settings_page
    assert wizard.currentPage() is settings
    qtbot.waitUntil(lambda: not settings.resume_box.isHidden(), timeout=TIMEOUT)
    assert f"from step {event.step}" in settings.resume_box.text()
    with qtbot.waitSignal(controller.started, timeout=TIMEOUT) as started:
        wizard.next()
    assert started.args[0].start_step == event.step
    with qtbot.waitSignal(controller.cancelled, timeout=TIMEOUT):
        qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(controller.started, timeout=TIMEOUT) as started:
        qtbot.mouseClick(page.retry_button, Qt.MouseButton.LeftButton)
    assert started.args[0].start_step >= event.step  # "Try Again" continues too
    assert library.list() == []


def test_closing_the_wizard_keeps_training_in_the_background(
    qtbot, make_wizard, library, style_images
) -> None:
    wizard = make_wizard(track=False)
    wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)  # as the main window does
    controller = wizard.controller
    moved: list[object] = []
    wizard.movedToBackground.connect(moved.append)
    notes: list[tuple[str, str]] = []
    controller.notification.connect(lambda title, text: notes.append((title, text)))
    created: list[str] = []
    wizard.styleCreated.connect(created.append)
    with qtbot.waitSignal(controller.progressed, timeout=TIMEOUT):
        walk_to_training(qtbot, wizard, style_images, steps=12)
    controller.pause()  # so that the run cannot end before the window is closed
    deleted: list[bool] = []
    wizard.destroyed.connect(lambda *_: deleted.append(True))
    assert wizard.close() is False  # refused: the wizard hides instead
    qtbot.wait(50)  # a refused close must not delete it (WA_DeleteOnClose)
    assert not deleted and not wizard.isVisible() and moved == [controller]
    assert controller.is_active
    second = make_wizard()
    assert not second.name_page.busy_note.isHidden()  # "another style is being learned"
    wizard.reopen()
    assert wizard.isVisible() and wizard.currentPage() is wizard.training_page
    qtbot.keyClick(wizard, Qt.Key.Key_Escape)  # Esc → reject() → hidden, still training
    with qtbot.waitSignal(controller.finished, timeout=TIMEOUT) as finished:
        controller.resume()
        assert not wizard.isVisible() and moved == [controller, controller]
    assert created == [finished.args[0]] and library.get(finished.args[0]).name == "Test Style"
    assert notes and "Test Style" in notes[0][1]
    qtbot.waitUntil(lambda: bool(deleted), timeout=TIMEOUT)  # done in the background: closed


def test_missing_vgg_weights_show_a_readable_message(
    qtbot, make_wizard, library, style_images, monkeypatch, tmp_path
) -> None:
    from stylestudio.core.models import vgg

    wizard = make_wizard()
    monkeypatch.delenv("STYLESTUDIO_TEST_FEATURES")
    monkeypatch.delenv(vgg.ENV_VGG_WEIGHTS, raising=False)
    monkeypatch.setenv(vgg.ENV_OFFLINE, "1")
    monkeypatch.setattr(vgg, "hub_weights_path", lambda: tmp_path / "no-hub.pth")
    monkeypatch.setattr(vgg, "bundled_weights_path", lambda: tmp_path / "no-bundle.safetensors")
    with qtbot.waitSignal(wizard.controller.failed, timeout=TIMEOUT) as failed:
        walk_to_training(qtbot, wizard, style_images, steps=4)
    message, weights_missing = failed.args
    assert weights_missing and "VGG19" in message
    page = wizard.training_page
    assert message in page.status_label.text()
    assert not page.weights_button.isHidden() and not page.retry_button.isHidden()
    assert wizard.controller.state == "failed" and library.list() == []
    qtbot.mouseClick(page.settings_button, Qt.MouseButton.LeftButton)
    assert wizard.currentPage() is wizard.settings_page


def test_bad_training_inputs_fail_without_a_crash(qtbot, make_wizard, style_images) -> None:
    wizard = make_wizard()
    garbage = style_images["first"].with_name("garbage.png")
    garbage.write_bytes(b"not a png")  # e.g. replaced on disk after it was added
    wizard.state.name = "Broken"
    wizard.state.config = tiny(TrainingConfig.preset("quick", steps=2, crop_size=32))
    wizard.state.style_images = [image_checks.ImageFacts(garbage, 96, 96, "x" * 64)]
    with qtbot.waitSignal(wizard.controller.failed, timeout=TIMEOUT) as failed:
        wizard.controller.start(wizard.build_request())
    assert "garbage.png" in failed.args[0] and failed.args[1] is False
    assert wizard.controller.state == "failed"


def test_shutdown_cancels_and_keeps_a_checkpoint(qtbot, make_wizard, style_images) -> None:
    from stylestudio.core.training import default_run_dir, latest_checkpoint

    wizard = make_wizard()
    with qtbot.waitSignal(wizard.controller.progressed, timeout=TIMEOUT):
        walk_to_training(qtbot, wizard, style_images, steps=100_000)
    assert wizard.shutdown(60_000)
    qtbot.waitUntil(lambda: wizard.controller.state == "cancelled", timeout=TIMEOUT)
    assert latest_checkpoint(default_run_dir("Test Style")).step >= 1


def test_preview_grid_shows_pairs(qtbot) -> None:
    from stylestudio.gui.wizard.preview_grid import PreviewGrid

    grid = PreviewGrid(cell=40)
    qtbot.addWidget(grid)
    image = np.random.default_rng(0).random((30, 20, 3), dtype=np.float32)
    grid.set_images(7, [(image, 1 - image), (image, image)])
    assert len(grid.pairs) == 2 and grid.pairs[0][0].height() == 40
    grid.set_images(8, [(image, image)])
    assert len(grid.pairs) == 1 and grid.step == 8


def test_name_page_notes_a_taken_name_and_no_tray_offscreen(qtbot, make_wizard, library) -> None:
    from stylestudio.core.models.generator import ARCHITECTURE_NAME, Generator, GeneratorConfig
    from stylestudio.gui.wizard.notify import show_tray_message

    config = GeneratorConfig(base_channels=4, residual_blocks=1)
    state = Generator(config).state_dict()
    library.add("Ink", state, architecture=ARCHITECTURE_NAME, params=config.to_dict())
    wizard = make_wizard()
    page = wizard.name_page
    qtbot.keyClicks(page.name_edit, "ink")
    assert "already have a style with this name" in page.note.text()
    qtbot.keyClicks(page.name_edit, "y")
    assert page.note.text() == "" and page.isComplete()
    assert page.busy_note.isHidden()  # nothing is training
    assert show_tray_message("t", "x") is False  # offscreen: no tray, the controller signal only
