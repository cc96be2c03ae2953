"""Runs one ``Trainer`` on a QThread and re-emits its events as Qt signals on the GUI thread.

The controller outlives the wizard's window (the user may close it while training goes on), so
the main window can keep it for a status indicator: ``stateChanged``, ``progressed`` and
``notification`` are all it needs.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal

from stylestudio.core.errors import (
    CancelledError,
    StyleStudioError,
    WeightsUnavailableError,
)
from stylestudio.core.training.config import TrainingConfig
from stylestudio.core.training.events import (
    Cancelled,
    Finished,
    Paused,
    Preview,
    Progress,
    Resumed,
    Started,
    Status,
)

log = logging.getLogger(__name__)


@dataclass
class TrainingRequest:
    """Everything one run needs; built by the wizard's pages."""

    config: TrainingConfig
    name: str
    style_images: list[Path]
    content: list[Path] | Path | None = None  # files, a folder, or None (bundled samples)
    description: str = ""
    resume: bool = False  # continue from the checkpoint in the run folder
    device: str | None = None
    vgg_weights: Path | None = None
    allow_download: bool = True
    run_dir: Path | None = None


@dataclass(frozen=True)
class Outcome:
    """How ``Trainer.run`` ended (sent once, after every event of the run)."""

    kind: str  # "finished", "cancelled" or "failed"
    style_id: str = ""
    message: str = ""
    weights_missing: bool = False


class _TrainerThread(QThread):
    """Owns the Trainer; ``event`` and ``outcome`` arrive queued on the controller's thread."""

    event = Signal(object)
    outcome = Signal(object)

    def __init__(self, request: TrainingRequest, library: Any) -> None:
        super().__init__()
        self.request = request
        self.library = library
        self.trainer: Any = None
        # Requests may come before the Trainer exists: they are remembered and applied when it
        # is created, under one lock so that none is lost or applied out of order.
        self._lock = threading.Lock()
        self._paused = False
        self._cancel: bool | None = None  # keep_checkpoint of a pending cancel

    def pause(self) -> None:
        with self._lock:
            self._paused = True
            if self.trainer is not None:
                self.trainer.pause()

    def resume(self) -> None:
        with self._lock:
            self._paused = False
            if self.trainer is not None:
                self.trainer.resume()

    def cancel(self, keep_checkpoint: bool) -> None:
        with self._lock:
            self._cancel = keep_checkpoint
            if self.trainer is not None:
                self.trainer.cancel(keep_checkpoint=keep_checkpoint)

    @property
    def paused(self) -> bool:
        return self._paused

    def run(self) -> None:
        try:
            self.outcome.emit(self._train())
        except Exception:  # never let an exception escape a thread
            log.exception("the training thread failed")
            self.outcome.emit(Outcome("failed", message="Training failed unexpectedly."))

    def _train(self) -> Outcome:
        req = self.request
        try:
            from stylestudio.core.training import Trainer  # imports torch: not on the GUI thread

            trainer = Trainer(
                req.config,
                req.style_images,
                req.content,
                self.library,
                name=req.name,
                vgg_weights=req.vgg_weights,
                on_event=self.event.emit,
                device=req.device,
                run_dir=req.run_dir,
                resume_checkpoint=req.resume,
                allow_download=req.allow_download,
                description=req.description,
            )
            with self._lock:
                self.trainer = trainer
                if self._paused:
                    trainer.pause()
                if self._cancel is not None:
                    trainer.cancel(keep_checkpoint=self._cancel)
            record = trainer.run()
        except CancelledError as exc:
            return Outcome("cancelled", message=str(exc))
        except WeightsUnavailableError as exc:
            return Outcome("failed", message=str(exc), weights_missing=True)
        except StyleStudioError as exc:
            return Outcome("failed", message=str(exc))
        except Exception as exc:
            log.exception("training failed")
            return Outcome("failed", message=f"Training failed unexpectedly: {exc}")
        return Outcome("finished", style_id=record.id if record is not None else "")


#: Training threads that have not finished. They have no Qt parent and are referenced here, so
#: deleting a wizard or controller never destroys a running QThread (Qt aborts the process then).
_LIVE_THREADS: set[_TrainerThread] = set()


def _forget_thread(thread: _TrainerThread) -> None:
    _LIVE_THREADS.discard(thread)


def training_runs() -> int:
    """How many training threads are running in this process (all wizards together)."""
    return len(_LIVE_THREADS)


class TrainingController(QObject):
    """Start, pause, resume and cancel one training run at a time, from the GUI thread.

    States: ``idle``, ``preparing`` (loading images and weights), ``running``, ``paused``,
    ``stopping``, then ``finished``, ``cancelled`` or ``failed`` (a new run may then start).
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

    ACTIVE_STATES = frozenset({"preparing", "running", "paused", "stopping"})

    def __init__(self, library: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.state = "idle"
        self.request: TrainingRequest | None = None
        self.last_progress: Progress | None = None
        self.last_preview: Preview | None = None
        self.started_event: Started | None = None
        self.cancelled_event: Cancelled | None = None
        self.style_id = ""
        self.error = ""
        self._thread: _TrainerThread | None = None
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
    def start(self, request: TrainingRequest) -> None:
        if self.is_active:
            raise RuntimeError("a training run is already active")
        if self._thread is not None:
            self._thread.wait()
        self.request = request
        self.last_progress = self.last_preview = None
        self.started_event = self.cancelled_event = None
        self.style_id = self.error = ""
        thread = _TrainerThread(request, self.library)
        thread.event.connect(self._on_event)
        thread.outcome.connect(self._on_outcome)
        thread.finished.connect(lambda: _forget_thread(thread))
        _LIVE_THREADS.add(thread)
        self._thread = thread
        self._set_state("preparing")
        thread.start()

    def pause(self) -> None:
        """Pause at the next step boundary (also before the first step)."""
        if self._thread is not None and self.state in ("preparing", "running"):
            self._thread.pause()
            if self.state == "running":
                self._set_state("paused")

    def resume(self) -> None:
        if self._thread is not None and self.state in ("preparing", "paused"):
            self._thread.resume()
            if self.state == "paused":
                self._set_state("running")

    @property
    def pause_requested(self) -> bool:
        return self._thread is not None and self._thread.paused

    def cancel(self, keep_checkpoint: bool = True) -> None:
        """Stop at the next step; no style is written. A checkpoint is kept unless told not to."""
        if not self.is_active or self._thread is None:
            return
        self._thread.cancel(keep_checkpoint)
        self._set_state("stopping")

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel (checkpoint kept) and wait for the thread; True when it stopped in time."""
        thread = self._thread
        if thread is None:
            return True
        if thread.isRunning():
            self.cancel(keep_checkpoint=True)
        stopped = thread.wait(timeout_ms)
        if not stopped:
            log.warning("the training thread did not stop within %d ms", timeout_ms)
        return stopped

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.stateChanged.emit(state)

    # -- events (GUI thread) ---------------------------------------------------------------
    def _on_event(self, event: object) -> None:
        if isinstance(event, Status):
            self.statusMessage.emit(event.message)
        elif isinstance(event, Started):
            self.started_event = event
            if self.state == "preparing":
                self._set_state("paused" if self.pause_requested else "running")
            self.started.emit(event)
        elif isinstance(event, Progress):
            self.last_progress = event
            self.progressed.emit(event)
        elif isinstance(event, Preview):
            self.last_preview = event
            self.previewed.emit(event)
        elif isinstance(event, Paused):
            if self.state == "running":
                self._set_state("paused")
            self.trainerPaused.emit(event.step)
        elif isinstance(event, Resumed) and self.state == "paused":
            self._set_state("running")
        elif isinstance(event, Cancelled):
            self.cancelled_event = event
        elif isinstance(event, Finished) and event.record is not None:
            self.style_id = event.record.id

    def _on_outcome(self, outcome: Outcome) -> None:
        name = self.name
        if outcome.kind == "finished":
            self.style_id = outcome.style_id or self.style_id
            self._set_state("finished")
            self.finished.emit(self.style_id)
            self.notification.emit(
                self.tr("Style ready"),
                self.tr("“{0}” has been learned and added to your styles.").format(name),
            )
        elif outcome.kind == "cancelled":
            self._set_state("cancelled")
            self.cancelled.emit(self.cancelled_event)
        else:
            self.error = outcome.message
            self._set_state("failed")
            self.failed.emit(outcome.message, outcome.weights_missing)
            self.notification.emit(
                self.tr("Training stopped"),
                self.tr("“{0}” could not be learned: {1}").format(name, outcome.message),
            )
