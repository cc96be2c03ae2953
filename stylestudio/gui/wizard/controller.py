"""Runs one training run as a background job and re-emits its events as Qt signals.

The run itself is the core's ``run_training`` (a ``TrainingRun`` in, a ``TrainingOutcome`` out,
paused, resumed and cancelled through a ``TrainingControl``); it runs as a ``runner.Job``.
The controller outlives the wizard's window (the user may close it while training goes on), so
the main window can keep it for a status indicator: ``stateChanged``, ``progressed`` and
``notification`` are all it needs.
"""

from __future__ import annotations

import enum
import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, Signal

from stylestudio.core.jobs import (
    OutcomeKind,
    TrainingControl,
    TrainingOutcome,
    run_training,
)
from stylestudio.core.training.events import (
    Cancelled,
    Finished,
    Paused,
    Preview,
    Progress,
    Resumed,
    Started,
    Status,
    TrainingEvent,
)
from stylestudio.core.training.run import TrainingRun
from stylestudio.gui.runner import Job, JobKind, running_jobs

if TYPE_CHECKING:
    from stylestudio.core.library import StyleLibrary

log = logging.getLogger(__name__)


class TrainingState(str, enum.Enum):
    """Where a run is (a ``str`` enum: ``stateChanged`` sends the value)."""

    IDLE = "idle"
    PREPARING = "preparing"  # loading images and weights
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"
    FINISHED = "finished"
    CANCELLED = "cancelled"
    FAILED = "failed"


ACTIVE_STATES = frozenset(
    {TrainingState.PREPARING, TrainingState.RUNNING, TrainingState.PAUSED, TrainingState.STOPPING}
)


def training_runs() -> int:
    """How many training runs are going on in this process (all wizards together)."""
    return running_jobs(JobKind.TRAINING)


class TrainingController(QObject):
    """Start, pause, resume and cancel one training run at a time, from the GUI thread.

    States (``TrainingState``): idle, preparing, running, paused, stopping, then finished,
    cancelled or failed (a new run may then start).
    """

    stateChanged = Signal(str)
    statusMessage = Signal(str)  # what the trainer is doing before the first step
    started = Signal(object)  # core ``Started`` event
    progressed = Signal(object)  # core ``Progress`` event
    previewed = Signal(object)  # core ``Preview`` event
    trainerPaused = Signal(int)  # the trainer stopped at this step boundary
    finished = Signal(str)  # the new style's id ("" when no library was given)
    cancelled = Signal(object)  # core ``Cancelled`` event, or None when stopped before it began
    failed = Signal(str, bool)  # one-sentence message; True when VGG weights are missing
    #: (title, text) when a run ends: the main window may show it; see ``notify.py``.
    notification = Signal(str, str)

    ACTIVE_STATES = ACTIVE_STATES

    def __init__(self, library: StyleLibrary | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.state = TrainingState.IDLE
        self.request: TrainingRun | None = None
        self.last_progress: Progress | None = None
        self.last_preview: Preview | None = None
        self.started_event: Started | None = None
        self.cancelled_event: Cancelled | None = None
        self.style_id = ""
        self.error = ""
        self._job: Job | None = None
        self._control = TrainingControl()
        app = QCoreApplication.instance()
        if app is not None:  # closing the app while training: keep a checkpoint, stop the thread
            app.aboutToQuit.connect(self.shutdown)

    # -- queries ---------------------------------------------------------------------------
    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE_STATES

    @property
    def name(self) -> str:
        return self.request.name if self.request is not None else ""

    @property
    def fraction(self) -> float:
        p = self.last_progress
        return p.step / p.total if p is not None and p.total else 0.0

    # -- control ---------------------------------------------------------------------------
    def start(self, request: TrainingRun) -> None:
        if self.is_active:
            raise RuntimeError("a training run is already active")
        if self._job is not None:
            self._job.wait()
        self.request = request
        self.last_progress = self.last_preview = None
        self.started_event = self.cancelled_event = None
        self.style_id = self.error = ""
        library, control = self.library, TrainingControl()
        self._control = control
        job = Job(lambda: run_training(request, library, job.report, control), JobKind.TRAINING)
        job.progress.connect(self._on_event)
        job.returned.connect(self._on_outcome)
        job.errored.connect(self._on_crash)
        self._job = job
        self._set_state(TrainingState.PREPARING)
        job.start()

    def pause(self) -> None:
        """Pause at the next step boundary (also before the first step)."""
        if self._job is not None and self.state in (TrainingState.PREPARING, TrainingState.RUNNING):
            self._control.pause()
            if self.state == TrainingState.RUNNING:
                self._set_state(TrainingState.PAUSED)

    def resume(self) -> None:
        if self._job is not None and self.state in (TrainingState.PREPARING, TrainingState.PAUSED):
            self._control.resume()
            if self.state == TrainingState.PAUSED:
                self._set_state(TrainingState.RUNNING)

    @property
    def pause_requested(self) -> bool:
        return self._job is not None and self._control.paused

    def cancel(self, keep_checkpoint: bool = True) -> None:
        """Stop at the next step; no style is written. A checkpoint is kept unless told not to."""
        if not self.is_active or self._job is None:
            return
        self._control.cancel(keep_checkpoint)
        self._set_state(TrainingState.STOPPING)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel (checkpoint kept) and wait for the run; True when it stopped in time."""
        job = self._job
        if job is None:
            return True
        if job.isRunning():
            self.cancel(keep_checkpoint=True)
        stopped = job.wait(timeout_ms)
        if not stopped:
            log.warning("the training thread did not stop within %d ms", timeout_ms)
        return stopped

    def _set_state(self, state: TrainingState) -> None:
        if state != self.state:
            self.state = state
            self.stateChanged.emit(state.value)

    # -- events (GUI thread) ---------------------------------------------------------------
    def _on_event(self, event: TrainingEvent) -> None:
        if isinstance(event, Status):
            self.statusMessage.emit(event.message)
        elif isinstance(event, Started):
            self.started_event = event
            if self.state == TrainingState.PREPARING:
                paused = self.pause_requested
                self._set_state(TrainingState.PAUSED if paused else TrainingState.RUNNING)
            self.started.emit(event)
        elif isinstance(event, Progress):
            self.last_progress = event
            self.progressed.emit(event)
        elif isinstance(event, Preview):
            self.last_preview = event
            self.previewed.emit(event)
        elif isinstance(event, Paused):
            if self.state == TrainingState.RUNNING:
                self._set_state(TrainingState.PAUSED)
            self.trainerPaused.emit(event.step)
        elif isinstance(event, Resumed) and self.state == TrainingState.PAUSED:
            self._set_state(TrainingState.RUNNING)
        elif isinstance(event, Cancelled):
            self.cancelled_event = event
        elif isinstance(event, Finished) and event.record is not None:
            self.style_id = event.record.id

    def _on_crash(self, message: str) -> None:
        self._on_outcome(TrainingOutcome(OutcomeKind.FAILED, message=message))

    def _on_outcome(self, outcome: TrainingOutcome) -> None:
        name = self.name
        if outcome.kind is OutcomeKind.FINISHED:
            self.style_id = outcome.style_id or self.style_id
            self._set_state(TrainingState.FINISHED)
            self.finished.emit(self.style_id)
            self.notification.emit(
                self.tr("Style ready"),
                self.tr("“{0}” has been learned and added to your styles.").format(name),
            )
        elif outcome.kind is OutcomeKind.CANCELLED:
            self._set_state(TrainingState.CANCELLED)
            self.cancelled.emit(self.cancelled_event)
        else:
            self.error = outcome.message
            self._set_state(TrainingState.FAILED)
            self.failed.emit(outcome.message, outcome.weights_missing)
            self.notification.emit(
                self.tr("Training stopped"),
                self.tr("“{0}” could not be learned: {1}").format(name, outcome.message),
            )
