"""Page 5: the running training: progress, time left, loss chart, previews and controls."""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWizardPage,
)

from stylestudio.core.training.events import Cancelled, Preview, Progress, Started
from stylestudio.gui.plain_text import plain_label
from stylestudio.gui.wizard.controller import TrainingController, TrainingState
from stylestudio.gui.wizard.loss_chart import LossChart
from stylestudio.gui.wizard.preview_grid import PreviewGrid
from stylestudio.gui.wizard.state import WizardState


class TrainingPage(QWizardPage):
    """Starts the run when shown (through the wizard) and mirrors the controller's signals."""

    def __init__(self, state: WizardState, controller: TrainingController) -> None:
        super().__init__()
        self.state = state
        self.controller = controller
        self.setTitle(self.tr("Learning your style"))
        self.setSubTitle(
            self.tr(
                "You can close this window: training continues in the background and "
                "StyleStudio tells you when the style is ready."
            )
        )
        self.status_label = plain_label(QLabel(self.tr("Starting…")))  # quotes file names
        self.status_label.setObjectName("trainingStatus")
        self.status_label.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.eta_label = QLabel()
        self.eta_label.setObjectName("etaLabel")
        self.chart = LossChart()
        self.previews = PreviewGrid()
        self.pause_button = QPushButton(self.tr("&Pause"))
        self.cancel_button = QPushButton(self.tr("&Stop Training"))
        self.cancel_button.setToolTip(
            self.tr("Stops without creating the style; the progress is kept so you can continue.")
        )
        self.retry_button = QPushButton(self.tr("&Try Again"))
        self.settings_button = QPushButton(self.tr("Change &Settings"))
        self.weights_button = QPushButton(self.tr("Choose VGG19 &Weights File…"))
        for button in (self.retry_button, self.settings_button, self.weights_button):
            button.hide()

        top = QHBoxLayout()
        top.addWidget(self.progress, 1)
        top.addWidget(self.eta_label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.pause_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.weights_button)
        buttons.addWidget(self.settings_button)
        buttons.addWidget(self.retry_button)
        splitter = QSplitter()
        splitter.addWidget(self.chart)
        splitter.addWidget(self.previews)
        splitter.setStretchFactor(0, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status_label)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)

        self.pause_button.clicked.connect(self.toggle_pause)
        self.cancel_button.clicked.connect(lambda: self.controller.cancel(keep_checkpoint=True))
        self.retry_button.clicked.connect(self.start)
        self.settings_button.clicked.connect(self._change_settings)
        self.weights_button.clicked.connect(self.choose_weights)
        c = controller
        c.stateChanged.connect(self._state_changed)
        c.statusMessage.connect(self.status_label.setText)
        c.started.connect(self._started)
        c.progressed.connect(self._progressed)
        c.previewed.connect(self._previewed)
        c.cancelled.connect(self._cancelled)
        c.failed.connect(self._failed)

    # -- starting --------------------------------------------------------------------------
    def initializePage(self) -> None:
        if not self.controller.is_active and self.controller.state != TrainingState.FINISHED:
            self.start()

    def start(self) -> None:
        stopped = self.controller.cancelled_event
        if stopped is not None and stopped.run_dir is not None and stopped.step > 0:
            self.state.resume = True  # "Try Again" after a stop continues; it never starts over
        wizard = self.wizard()
        request = wizard.build_request() if wizard is not None else None
        if request is None:
            return
        self.chart.clear(request.config.steps)
        self.progress.setRange(0, request.config.steps)
        self.progress.setValue(0)
        self.eta_label.clear()
        self.status_label.setText(self.tr("Starting…"))
        self.controller.start(request)

    def choose_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Choose VGG19 Weights"),
            "",
            self.tr("Weights (*.safetensors *.pth *.pt);;All files (*)"),
        )
        if path:
            self.state.options.vgg_weights = Path(path)
            self.start()

    def _change_settings(self) -> None:
        wizard = self.wizard()
        if wizard is not None:
            wizard.back()

    def toggle_pause(self) -> None:
        if self.controller.state == TrainingState.PAUSED or self.controller.pause_requested:
            self.controller.resume()
        else:
            self.controller.pause()
        self._state_changed(self.controller.state)

    # -- controller signals ----------------------------------------------------------------
    def _state_changed(self, state: str) -> None:
        active = self.controller.is_active
        paused = state == TrainingState.PAUSED or (active and self.controller.pause_requested)
        self.pause_button.setText(self.tr("&Resume") if paused else self.tr("&Pause"))
        controllable = state in (
            TrainingState.PREPARING,
            TrainingState.RUNNING,
            TrainingState.PAUSED,
        )
        self.pause_button.setEnabled(controllable)
        self.cancel_button.setEnabled(controllable)
        ended = state in (TrainingState.CANCELLED, TrainingState.FAILED)
        self.retry_button.setVisible(ended)
        self.settings_button.setVisible(ended)
        if not ended:
            self.weights_button.hide()
        if state == TrainingState.PAUSED:
            self.status_label.setText(self.tr("Paused."))
        elif state == TrainingState.STOPPING:
            self.status_label.setText(self.tr("Stopping and saving the progress…"))
        elif state == TrainingState.RUNNING:
            self.status_label.setText(self.tr("Training…"))
        elif state == TrainingState.FINISHED:
            self.status_label.setText(self.tr("Done: the style was added to your styles."))
            self.eta_label.clear()
        self.completeChanged.emit()

    def _started(self, event: Started) -> None:
        self.progress.setRange(0, event.total)
        self.progress.setValue(event.start_step)
        text = self.tr("Training on {0}.").format(event.device)
        if event.start_step:
            text += " " + self.tr("Continuing from step {0}.").format(event.start_step)
        if event.notes:
            text += " " + " ".join(event.notes)
        self.status_label.setText(text)

    def _progressed(self, event: Progress) -> None:
        self.progress.setRange(0, event.total)
        self.progress.setValue(event.step)
        self.chart.add_point(event.step, event.losses)
        if math.isfinite(event.eta_s) and event.step < event.total:
            self.eta_label.setText(
                self.tr("{0} left · {1:.1f} steps/s").format(
                    format_duration(event.eta_s), event.it_per_s
                )
            )

    def _previewed(self, event: Preview) -> None:
        self.previews.set_images(event.step, event.images)

    def _cancelled(self, event: Cancelled | None) -> None:
        if event is not None and event.run_dir is not None and event.step > 0:
            text = self.tr(
                "Stopped at step {0}. No style was created; the progress was kept, so starting "
                "again with the same name and settings continues from there."
            ).format(event.step)
        else:
            text = self.tr("Stopped. No style was created.")
        self.status_label.setText(text)
        self.eta_label.clear()

    def _failed(self, message: str, weights_missing: bool) -> None:
        text = self.tr("Training stopped: {0}").format(message)
        if weights_missing:
            text += "\n" + self.tr(
                "StyleStudio needs the VGG19 image-recognition weights (548 MB) to learn styles. "
                "Connect to the internet and try again, or choose a downloaded weights file."
            )
        self.status_label.setText(text)
        self.weights_button.setVisible(weights_missing)
        self.eta_label.clear()

    def isComplete(self) -> bool:
        return self.controller.state == TrainingState.FINISHED


def format_duration(seconds: float) -> str:
    """``1:05:09`` / ``5:09`` (language-neutral)."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
