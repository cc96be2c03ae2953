"""Long operations as plain functions for the CLI and the GUI (Qt-free, torch-free at import).

* :func:`user_message`: the one "exception → one sentence for the user" triage;
* :func:`run_library_op`: list, rename, delete, import or export a style;
* :func:`run_training`: one training run, controllable from another thread through a
  :class:`TrainingControl`, ending in a :class:`TrainingOutcome`.

Stylising and exporting photos is ``core.export.export_photos`` (a generator of per-file events).
The GUI runs these on its threads (``gui/runner.py``, ``gui/worker.py``); the CLI calls them.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from stylestudio.core.errors import CancelledError, StyleStudioError, WeightsUnavailableError

if TYPE_CHECKING:
    from stylestudio.core.library import StyleLibrary
    from stylestudio.core.training.events import TrainingEvent
    from stylestudio.core.training.run import TrainingRun
    from stylestudio.core.training.trainer import Trainer

log = logging.getLogger(__name__)

NOT_ENOUGH_MEMORY = "Not enough memory to process this photo."


def user_message(exc: BaseException) -> str:
    """One sentence for the user: a ``StyleStudioError``'s own message, a fixed sentence for
    ``MemoryError``; anything else is a bug, logged with its traceback and named by its type."""
    if isinstance(exc, StyleStudioError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return NOT_ENOUGH_MEMORY
    log.error("unexpected error", exc_info=exc)
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --------------------------------------------------------------------------------------------
# the style library


class LibraryOpKind(enum.Enum):
    """What a library operation does (``LIST`` only re-reads the styles)."""

    LIST = "list"
    RENAME = "rename"
    DELETE = "delete"
    IMPORT = "import"
    EXPORT = "export"


@dataclass(frozen=True)
class LibraryOp:
    """One operation; ``style_id``, ``name`` and ``path`` as ``kind`` needs them."""

    kind: LibraryOpKind
    style_id: str = ""
    name: str = ""
    path: Path | None = None

    @property
    def changes_list(self) -> bool:
        """Whether the list of styles may differ afterwards."""
        return self.kind is not LibraryOpKind.EXPORT


def run_library_op(library: StyleLibrary, op: LibraryOp) -> str:
    """Do ``op``; what to tell the user: the new name (rename), the imported style's id (import)
    or the written pack (export); "" otherwise. Raises ``StyleStudioError`` when refused."""
    if op.kind is LibraryOpKind.RENAME:
        return library.rename(op.style_id, op.name).name
    if op.kind is LibraryOpKind.DELETE:
        library.delete(op.style_id)
    elif op.kind is LibraryOpKind.IMPORT:
        assert op.path is not None
        return str(library.import_pack(op.path).id)
    elif op.kind is LibraryOpKind.EXPORT:
        assert op.path is not None
        return str(library.export_pack(op.style_id, op.path))
    return ""


# --------------------------------------------------------------------------------------------
# training


@dataclass(frozen=True)
class TrainingOutcome:
    """How a run ended (after every event of the run)."""

    kind: OutcomeKind
    style_id: str = ""
    message: str = ""
    weights_missing: bool = False


class OutcomeKind(enum.Enum):
    """How a training run ended."""

    FINISHED = "finished"
    CANCELLED = "cancelled"
    FAILED = "failed"


class TrainingControl:
    """Pause, resume and cancel a run from any thread, also before its Trainer exists: requests
    are remembered and applied when it is created, under one lock, so none is lost or reordered.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._trainer: Trainer | None = None
        self._paused = False
        self._cancel: bool | None = None  # keep_checkpoint of a pending cancel

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        with self._lock:
            self._paused = True
            if self._trainer is not None:
                self._trainer.pause()

    def resume(self) -> None:
        with self._lock:
            self._paused = False
            if self._trainer is not None:
                self._trainer.resume()

    def cancel(self, keep_checkpoint: bool = True) -> None:
        with self._lock:
            self._cancel = keep_checkpoint
            if self._trainer is not None:
                self._trainer.cancel(keep_checkpoint=keep_checkpoint)

    def attach(self, trainer: Trainer) -> None:
        with self._lock:
            self._trainer = trainer
            if self._paused:
                trainer.pause()
            if self._cancel is not None:
                trainer.cancel(keep_checkpoint=self._cancel)


def run_training(
    run: TrainingRun,
    library: StyleLibrary | None,
    on_event: Callable[[TrainingEvent], None] | None = None,
    control: TrainingControl | None = None,
) -> TrainingOutcome:
    """Train ``run`` to the end (blocking; torch is imported here). Never raises for problems
    the user can fix: they come back as a failed outcome with one sentence."""
    try:
        from stylestudio.core.training.trainer import Trainer

        trainer = Trainer(run, library, on_event=on_event)
        if control is not None:
            control.attach(trainer)
        record = trainer.run()
    except CancelledError as exc:
        return TrainingOutcome(OutcomeKind.CANCELLED, message=str(exc))
    except WeightsUnavailableError as exc:
        return TrainingOutcome(OutcomeKind.FAILED, message=str(exc), weights_missing=True)
    except Exception as exc:
        message = user_message(exc)
        if not isinstance(exc, StyleStudioError | MemoryError):
            message = f"Training failed unexpectedly: {exc}"
        return TrainingOutcome(OutcomeKind.FAILED, message=message)
    return TrainingOutcome(OutcomeKind.FINISHED, style_id=record.id if record is not None else "")
