"""Page 4: preset, the time it will take here (measured in the background), advanced settings."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QButtonGroup,
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QRadioButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from stylestudio.core.errors import TrainingError
from stylestudio.core.training.config import TrainingConfig
from stylestudio.gui.plain_text import plain_label
from stylestudio.gui.runner import JobKind, start_job
from stylestudio.gui.wizard.options import EstimateInputs
from stylestudio.gui.wizard.state import WizardState

if TYPE_CHECKING:
    from stylestudio.core.training.estimate import Estimate

SPINNER = "◐◓◑◒"
#: (field, minimum, maximum, decimals or None for whole numbers, single step)
ADVANCED_FIELDS: tuple[tuple[str, float, float, int | None, float], ...] = (
    ("steps", 1, 1_000_000, None, 100),
    ("crop_size", 32, 2048, None, 4),
    ("batch_size", 1, 64, None, 1),
    ("lr_g", 1e-6, 0.5, 6, 1e-4),
    ("lr_d", 1e-6, 0.5, 6, 1e-4),
    ("content_weight", 0, 1e9, 3, 0.1),
    ("style_weight", 0, 1e9, 1, 1e4),
    ("adversarial_weight", 0, 1e9, 4, 0.01),
    ("tv_weight", 0, 1e9, 3, 0.1),
    ("color_weight", 0, 1e9, 2, 1.0),
    ("swd_weight", 0, 1e9, 2, 1.0),
    ("seed", 0, 2**31 - 1, None, 1),
)


def _latest_step(run_dir: Path | None, name: str) -> int | None:
    """Step of a resumable checkpoint of this run, if any (background thread: imports torch)."""
    from stylestudio.core.training import default_run_dir, latest_checkpoint

    found = latest_checkpoint(run_dir or default_run_dir(name))
    return found.step if found is not None else None


#: Settings that do not change the time per step (besides the number of steps).
_COST_FREE = (
    "seed",
    "lr_g",
    "lr_d",
    "content_weight",
    "style_weight",
    "tv_weight",
    "color_weight",
)


def _cost_key(config: TrainingConfig, inputs: EstimateInputs) -> str:
    """The settings and inputs that decide the costs: one measurement serves all the others
    (the number of steps and how often previews and checkpoints come are applied to it)."""
    key: dict[str, Any] = config.resume_key()
    for name in _COST_FREE:
        key.pop(name, None)
    content = inputs.content
    key["inputs"] = {
        "style_images": [str(p) for p in inputs.style_images],
        "content": [str(p) for p in content] if isinstance(content, tuple) else str(content),
    }
    return json.dumps(key, sort_keys=True)


class SettingsPage(QWizardPage):
    def __init__(self, state: WizardState) -> None:
        super().__init__()
        self.state = state
        self.estimates: dict[str, Estimate] = {}
        self.device_name = ""
        self.estimating = False
        self.estimate_error = ""
        self._spin_index = 0
        self.setTitle(self.tr("Settings"))
        self.setSubTitle(self.tr("Longer training gives a more faithful style."))
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, self.tr("Start &Training"))

        self.preset_buttons: dict[str, QRadioButton] = {
            "quick": QRadioButton(self.tr("&Quick: a first impression")),
            "balanced": QRadioButton(self.tr("&Balanced: good results (recommended)")),
            "best": QRadioButton(self.tr("B&est: finest detail, takes longest")),
        }
        self.presets = QButtonGroup(self)
        for button in self.preset_buttons.values():
            self.presets.addButton(button)
        self.preset_buttons["balanced"].setChecked(True)
        self.estimate_label = plain_label(QLabel())  # error texts may quote names
        self.estimate_label.setObjectName("estimateLabel")
        self.estimate_label.setWordWrap(True)
        self.resume_box = QCheckBox()
        self.resume_box.hide()
        self.error_label = plain_label(QLabel())
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c0392b")

        self.advanced_button = QToolButton()
        self.advanced_button.setText(self.tr("&Advanced settings"))
        self.advanced_button.setCheckable(True)
        self.advanced_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_button.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced = QWidget()
        self.advanced.setVisible(False)
        form = QFormLayout(self.advanced)
        labels = {
            "steps": self.tr("Steps:"),
            "crop_size": self.tr("Crop size (pixels):"),
            "batch_size": self.tr("Batch size:"),
            "lr_g": self.tr("Learning rate (generator):"),
            "lr_d": self.tr("Learning rate (discriminator):"),
            "content_weight": self.tr("Content weight:"),
            "style_weight": self.tr("Style weight:"),
            "adversarial_weight": self.tr("Adversarial weight:"),
            "tv_weight": self.tr("Smoothness weight:"),
            "color_weight": self.tr("Palette weight:"),
            "swd_weight": self.tr("Texture-distribution weight:"),
            "seed": self.tr("Random seed:"),
        }
        self.fields: dict[str, QSpinBox | QDoubleSpinBox] = {}
        for name, low, high, decimals, step in ADVANCED_FIELDS:
            box: QSpinBox | QDoubleSpinBox
            if decimals is None:
                box = QSpinBox()
                box.setRange(int(low), int(high))
                box.setSingleStep(int(step))
            else:
                box = QDoubleSpinBox()
                box.setDecimals(decimals)
                box.setRange(low, high)
                box.setSingleStep(step)
            box.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
            box.setObjectName(name)
            box.valueChanged.connect(self._settings_changed)
            form.addRow(labels[name], box)
            self.fields[name] = box

        layout = QVBoxLayout(self)
        for button in self.preset_buttons.values():
            layout.addWidget(button)
        layout.addWidget(self.estimate_label)
        layout.addWidget(self.resume_box)
        layout.addWidget(self.advanced_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.advanced)
        layout.addStretch(1)
        layout.addWidget(self.error_label)

        self._loading = False
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(300)
        self._debounce.timeout.connect(self._update_estimate)
        self._spinner = QTimer(self)
        self._spinner.setInterval(150)
        self._spinner.timeout.connect(self._spin)
        self.advanced_button.toggled.connect(self.set_advanced_visible)
        self.presets.buttonToggled.connect(lambda _b, on: on and self.load_preset(self.preset()))
        self.load_preset("balanced")

    # -- presets and fields ----------------------------------------------------------------
    def preset(self) -> str:
        for name, button in self.preset_buttons.items():
            if button.isChecked():
                return name
        return "balanced"

    def choose_preset(self, name: str) -> None:
        self.preset_buttons[name].setChecked(True)

    def load_preset(self, name: str) -> None:
        """Show ``name``'s values in the advanced fields (overriding earlier edits)."""
        config = TrainingConfig.preset(name)
        self._loading = True
        try:
            for field, box in self.fields.items():
                box.setValue(getattr(config, field))
        finally:
            self._loading = False
        self._settings_changed()

    def set_advanced_visible(self, visible: bool) -> None:
        self.advanced_button.setChecked(visible)
        self.advanced_button.setArrowType(
            Qt.ArrowType.DownArrow if visible else Qt.ArrowType.RightArrow
        )
        self.advanced.setVisible(visible)

    def build_config(self) -> TrainingConfig:
        """The preset with the advanced fields applied (TrainingError when a value is unusable)."""
        name = self.preset()
        base = TrainingConfig.preset(name)
        changes: dict[str, Any] = {}
        for field, box in self.fields.items():
            value = box.value()
            changes[field] = int(value) if isinstance(box, QSpinBox) else float(value)
        crop = changes["crop_size"]
        changes["style_size"] = max(base.style_size, crop)
        changes["content_size"] = max(base.content_size, crop)
        config = dataclasses.replace(base, **changes).validated()
        hook = self.state.options.config_hook
        return hook(config).validated() if hook is not None else config

    def _settings_changed(self) -> None:
        if self._loading:
            return
        try:
            config = self.build_config()
        except TrainingError as exc:
            self.error_label.setText(str(exc))
            self.completeChanged.emit()
            return
        self.error_label.clear()
        self.completeChanged.emit()
        if _cost_key(config, self.estimate_inputs()) in self.estimates:
            self._show_estimate(config)
        else:
            self._debounce.start()

    # -- time estimate ---------------------------------------------------------------------
    def initializePage(self) -> None:
        self._settings_changed()

    def look_for_checkpoint(self) -> None:
        """Offer to continue a stopped run of this style (whenever the page is shown: going back
        after a stop does not call ``initializePage``)."""
        self.resume_box.hide()
        self.resume_box.setChecked(False)
        state = self.state
        start_job(
            lambda: _latest_step(state.options.run_dir, state.name),
            JobKind.CHECK,
            on_returned=self._checkpoint_found,
        )

    def _checkpoint_found(self, step: int | None) -> None:
        if step is None:
            return
        self.resume_box.setText(
            self.tr("Continue the stopped run of this style from step {0}").format(step)
        )
        self.resume_box.setChecked(True)
        self.resume_box.show()

    def _update_estimate(self) -> None:
        try:
            config = self.build_config()
        except TrainingError:
            return
        if self.estimating:
            self._debounce.start()  # measure the latest settings once this one is done
            return
        inputs = self.estimate_inputs()
        key = _cost_key(config, inputs)
        if key in self.estimates:
            self._show_estimate(config)
            return
        self.estimating = True
        self.estimate_error = ""
        self._spinner.start()
        self._spin()
        estimator, device = self.state.options.estimator, self.state.options.device
        start_job(
            lambda: (key, estimator(config, device, inputs)),
            JobKind.ESTIMATE,
            on_returned=self._estimated,
            on_errored=self._not_estimated,
        )

    def estimate_inputs(self) -> EstimateInputs:
        """What the run will read, as the wizard will hand it to the Trainer."""
        state = self.state
        content = state.content()
        return EstimateInputs(
            style_images=tuple(state.usable_style_paths()),
            content=tuple(content) if isinstance(content, list) else content,
            library=state.library,
            vgg_weights=state.options.vgg_weights,
        )

    def _spin(self) -> None:
        self._spin_index = (self._spin_index + 1) % len(SPINNER)
        text = self.tr("{0} Measuring how fast this computer trains…")
        self.estimate_label.setText(text.format(SPINNER[self._spin_index]))

    def _estimated(self, result: tuple[str, Estimate]) -> None:
        key, estimate = result
        self.estimating = False
        self._spinner.stop()
        self.estimates[key] = estimate
        self.device_name = str(estimate.device)
        with contextlib.suppress(TrainingError):
            self._show_estimate(self.build_config())

    def _not_estimated(self, message: str) -> None:
        self.estimating = False
        self._spinner.stop()
        self.estimate_error = message
        self.estimate_label.setText(self.tr("The time could not be estimated: {0}").format(message))

    def _show_estimate(self, config: TrainingConfig) -> None:
        if self.estimating:
            return
        estimate = self.estimates.get(_cost_key(config, self.estimate_inputs()))
        if estimate is None:
            self._debounce.start()
            return
        # The whole wait, setup to saved style, for this config's steps, previews, checkpoints.
        self.estimate_label.setText(
            self.tr("Estimated time on this computer ({0}): {1}").format(
                self.device_name, self.describe_duration(estimate.total_for(config))
            )
        )

    def describe_duration(self, seconds: float) -> str:
        minutes = seconds / 60
        if not math.isfinite(minutes):
            return self.tr("unknown")
        if minutes < 1.5:
            return self.tr("about a minute")
        if minutes < 90:
            return self.tr("about {0} minutes").format(round(minutes))
        return self.tr("about {0} hours").format(f"{minutes / 60:.1f}")

    # -- leaving the page ------------------------------------------------------------------
    def isComplete(self) -> bool:
        return not self.error_label.text()

    def validatePage(self) -> bool:
        try:
            self.state.config = self.build_config()
        except TrainingError as exc:
            self.error_label.setText(str(exc))
            return False
        self.state.resume = not self.resume_box.isHidden() and self.resume_box.isChecked()
        return True
