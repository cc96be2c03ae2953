"""The one way the GUI runs background work (besides the long-lived engine worker).

A :class:`Job` runs one function on its own QThread. The function returns a value, or is a
generator whose yielded values are reported as they come (in the mould of superqt's
``thread_worker``). Every job has the same signals, delivered queued to receivers on the GUI
thread:

* ``started`` and ``finished`` (QThread's own);
* ``progress(value)``: each yielded value, and each value passed to :meth:`Job.report`;
* ``returned(value)``: the function's result (not sent when the job was cancelled);
* ``errored(message)``: the exception as one sentence (:func:`user_message`).

:meth:`Job.cancel` closes a generator at its next ``yield``; plain functions check
:meth:`Job.is_cancelled` themselves or take their own cancel flag.

Running jobs are kept in one live set: they have no Qt parent, so closing a page or a window never
destroys a running thread (which would abort the process).

Connect bound methods of QObjects (PySide runs lambdas and plain functions connected to another
thread's signal in that thread; Qt drops connections to deleted receivers).
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable, Generator

from PySide6.QtCore import QCoreApplication, QThread, Signal

from stylestudio.core import jobs

log = logging.getLogger(__name__)


def user_message(exc: BaseException) -> str:
    """The GUI's "error → message" triage: the core's, with its fixed sentences translated."""
    if isinstance(exc, MemoryError):
        return QCoreApplication.translate(
            "EngineWorker", "Not enough memory to process this photo."
        )
    return jobs.user_message(exc)


class JobKind(enum.Enum):
    CHECK = "check"  # image checks of the wizard's pages
    ESTIMATE = "estimate"  # training time estimates
    ADJUST = "adjust"  # strength / colour re-blending
    TRAINING = "training"
    LIBRARY = "library"  # library changes that run beside the engine (community model imports)
    VIDEO = "video"  # reading and exporting videos (the export runs its own engine)


class Job(QThread):
    """One background call; see the module docstring."""

    progress = Signal(object)
    returned = Signal(object)
    errored = Signal(str)

    def __init__(
        self, function: Callable[[], object | Generator[object, None, object]], kind: JobKind
    ) -> None:
        super().__init__()
        self.kind = kind
        self.setObjectName(f"StyleStudio {kind.value}")
        self._function = function
        self._cancel = threading.Event()
        self.error: BaseException | None = None
        self.finished.connect(self._forget)

    # control (any thread) ---------------------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def report(self, value: object) -> None:
        """Send ``value`` as progress (thread-safe; for callbacks of plain functions)."""
        self.progress.emit(value)

    def start(self, priority: QThread.Priority = QThread.Priority.InheritPriority) -> None:
        _LIVE.add(self)
        super().start(priority)

    # the thread -------------------------------------------------------------------------------
    def run(self) -> None:
        try:
            result = self._function()
            if isinstance(result, Generator):
                result = self._drain(result)
                if self.is_cancelled():
                    return
        except Exception as exc:  # never let an exception escape a thread
            self.error = exc
            self.errored.emit(user_message(exc))
        else:
            self.returned.emit(result)

    def _drain(self, generator: Generator[object, None, object]) -> object:
        while True:
            try:
                value = next(generator)
            except StopIteration as stop:
                return stop.value
            self.progress.emit(value)
            if self.is_cancelled():
                generator.close()
                return None

    def _forget(self) -> None:
        self.wait()  # ``finished`` is sent just before the thread ends
        _LIVE.discard(self)


_LIVE: set[Job] = set()


def start_job(
    function: Callable[[], object],
    kind: JobKind,
    *,
    on_returned: Callable[[object], None] | None = None,
    on_errored: Callable[[str], None] | None = None,
    on_progress: Callable[[object], None] | None = None,
) -> Job:
    """Create, connect and start a :class:`Job` (connect bound methods of QObjects)."""
    job = Job(function, kind)
    for signal, slot in (
        (job.returned, on_returned),
        (job.errored, on_errored),
        (job.progress, on_progress),
    ):
        if slot is not None:
            signal.connect(slot)
    job.start()
    return job


def running_jobs(kind: JobKind | None = None) -> int:
    """How many jobs (of ``kind``) have not finished, in the whole process."""
    return sum(1 for job in list(_LIVE) if not job.isFinished() and kind in (None, job.kind))


def wait_for_jobs(timeout_ms: int, kind: JobKind | None = None) -> bool:
    """Wait for every running job (of ``kind``), at most ``timeout_ms`` each; True when all
    stopped."""
    return all(job.wait(timeout_ms) for job in list(_LIVE) if kind in (None, job.kind))
