"""The engine worker: a QThread-owned object that owns the Engine, the style library and photos.

The GUI thread never runs torch. It posts requests into thread-safe mailboxes and wakes the
worker with a queued signal; the worker answers with signals (delivered on the GUI thread).
View requests are "latest wins": a newer one replaces a pending one and cancels the running one
through the engine's cancel callback, so a slider storm causes only a few network runs.
Torch, the engine and the library are imported here, in the worker thread. Exports run the
core's ``export_photos`` one photo per turn, so previews stay responsive during a batch. The
messages it exchanges with the GUI are in ``messages.py``.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from stylestudio.core import export
from stylestudio.core.errors import CancelledError, StyleStudioError
from stylestudio.core.export import (
    ExportEvent,
    ExportRequest,
    ExportSummary,
    FileFailed,
    FileStarted,
    Look,
)
from stylestudio.core.jobs import LibraryOp, run_library_op
from stylestudio.gui.adjustments import Adjustments
from stylestudio.gui.gallery import StyleCard
from stylestudio.gui.mailbox import FifoBox, LatestSlot
from stylestudio.gui.messages import ExportJob, PhotoLoaded, PreviewResult, ViewRequest
from stylestudio.gui.qimage import display_mips
from stylestudio.gui.resample import downscale
from stylestudio.gui.runner import user_message

if TYPE_CHECKING:
    from stylestudio.core.engine import Engine, StylizeOptions, StylizeResult
    from stylestudio.core.engine.stylize import CancelFn, ProgressFn

    Hook = ProgressFn | CancelFn | None
    from stylestudio.core.imageio import LoadedImage
    from stylestudio.core.library import StyleLibrary
    from stylestudio.core.mixing import StyleSource

log = logging.getLogger(__name__)


QUICK_SIDE = 512
PHOTO_CACHE = 2
#: While requests keep superseding each other (a slider being dragged), wait until they pause
#: for STORM_QUIET_S (at most STORM_MAX_WAIT_S) before starting the next run.
STORM_QUIET_S = 0.03
STORM_MAX_WAIT_S = 0.15


@dataclass(frozen=True)
class WorkerConfig:
    builtin_dir: Path | None = None
    user_dir: Path | None = None
    device: str | None = None
    quick_side: int = QUICK_SIDE


@dataclass
class _ExportState:
    job: ExportJob
    events: Generator[ExportEvent, None, ExportSummary]


WIZARD_MODULE = "stylestudio.gui.wizard"


def probe_wizard() -> bool:
    """Whether the training wizard imports and offers ``TrainingWizard`` (it may import torch,
    so this runs in the worker thread once torch is loaded)."""
    try:
        module = importlib.import_module(WIZARD_MODULE)
    except Exception:
        log.info("training wizard not available", exc_info=True)
        return False
    return callable(getattr(module, "TrainingWizard", None))


class EngineWorker(QObject):
    """Lives in the engine thread. All slots and helpers here run in that thread."""

    engineLoading = Signal(str)
    engineReady = Signal(str)
    wizardChecked = Signal(bool)
    engineFailed = Signal(str)
    stylesListed = Signal(list)
    libraryDone = Signal(object, str)  # LibraryOpKind, message
    libraryFailed = Signal(object, str)  # LibraryOpKind, message
    photoLoaded = Signal(object)
    previewReady = Signal(object)
    progress = Signal(int, float)
    requestFailed = Signal(int, str)
    busyChanged = Signal(bool)
    exportProgress = Signal(int, int, int, str)  # job id, done, total, current file name
    exportFileFailed = Signal(int, str, str)
    exportFinished = Signal(object)

    def __init__(self, config: WorkerConfig) -> None:
        super().__init__()
        self.config = config
        self.views: LatestSlot[ViewRequest] = LatestSlot()
        self.library_ops: FifoBox[LibraryOp] = FifoBox()
        self.exports: FifoBox[ExportJob] = FifoBox()
        self.shutting_down = threading.Event()
        self._cancel_view_id = -1
        self._cancel_export_id = -1
        self._engine: Engine | None = None
        self._library: StyleLibrary | None = None
        self._engine_error: str | None = None
        self._started = False
        self._photos: OrderedDict[tuple[Path, int], LoadedImage] = OrderedDict()  # (path, frame)
        self._scaled: OrderedDict[tuple[Path, int, int], np.ndarray] = OrderedDict()
        self._export: _ExportState | None = None
        self._sent_original: tuple[Path, int] | None = None
        self._storm = False
        self._cpu_threads: int | None = None
        # Counters (read by tests and the benchmark).
        self.network_runs = 0
        self.completed_runs = 0
        self.cancelled_runs = 0

    # Control from the GUI thread (thread-safe) -------------------------------------------
    def cancel_view(self, request_id: int) -> None:
        self._cancel_view_id = max(self._cancel_view_id, request_id)

    def cancel_export(self, job_id: int) -> None:
        self._cancel_export_id = max(self._cancel_export_id, job_id)

    # Worker thread ------------------------------------------------------------------------
    @Slot()
    def process(self) -> None:
        """Drain the mailboxes. Called (queued) after every post; extra wake-ups are cheap."""
        if not self._started:
            self._started = True
            self._start_engine()
        busy = False
        while not self.shutting_down.is_set():
            op = self.library_ops.take()
            if op is not None:
                self._run_library_op(op)
                continue
            view = self.views.take()
            if view is not None:
                if not busy:
                    busy = True
                    self.busyChanged.emit(True)
                self._run_view(self._settle(view))
                continue
            if self._export is None:
                job = self.exports.take()
                if job is not None:
                    self._export = self._begin_export(job)
            if self._export is not None:
                if not busy:
                    busy = True
                    self.busyChanged.emit(True)
                self._export_step()
                continue
            break
        if busy:
            self.busyChanged.emit(False)

    def _start_engine(self) -> None:
        self.engineLoading.emit("")
        try:
            from stylestudio.core.library import StyleLibrary

            self._library = StyleLibrary(self.config.user_dir, self.config.builtin_dir)
            self._emit_styles()
            from stylestudio.core.engine import Engine

            self._engine = Engine(device=self.config.device)
            self._set_threads(interactive=True)
            self.wizardChecked.emit(probe_wizard())
            self.engineReady.emit(str(self._engine.device_description))
        except Exception as exc:  # a broken install must not crash the window
            self._engine_error = user_message(exc)
            self.engineFailed.emit(self._engine_error)

    def _set_threads(self, interactive: bool) -> None:
        """Previews leave one CPU core to the GUI thread (torch's busy worker threads would
        otherwise starve the event loop on small machines); exports use every core."""
        import torch

        cores = os.cpu_count() or 1
        wanted = max(1, cores - 1) if interactive else cores
        if self._cpu_threads is None:
            self._cpu_threads = torch.get_num_threads()
        wanted = min(wanted, max(self._cpu_threads, 1))
        if torch.get_num_threads() != wanted:
            torch.set_num_threads(wanted)

    def _emit_styles(self) -> None:
        assert self._library is not None
        from stylestudio.core.mixing import library_lineages

        records = self._library.list()
        lineages = library_lineages(records)  # what each style may be blended with
        cards = [StyleCard.from_record(record, lineages.get(record.id)) for record in records]
        self.stylesListed.emit(cards)

    # Library ------------------------------------------------------------------------------
    def _run_library_op(self, op: LibraryOp) -> None:
        if self._library is None:
            self.libraryFailed.emit(
                op.kind,
                self._engine_error
                or QCoreApplication.translate("EngineWorker", "The style library is unavailable."),
            )
            return
        try:
            message = run_library_op(self._library, op)
            if op.changes_list:
                self._emit_styles()
            self.libraryDone.emit(op.kind, message)
        except Exception as exc:
            self.libraryFailed.emit(op.kind, user_message(exc))

    # Photos -------------------------------------------------------------------------------
    def _photo(self, path: Path, frame: int = 0) -> LoadedImage:
        """The photo at ``path``, or frame ``frame`` of the video at ``path``."""
        cached = self._photos.get((path, frame))
        if cached is not None:
            self._photos.move_to_end((path, frame))
            return cached
        from stylestudio.core.imageio import load_image
        from stylestudio.core.video import is_video_path
        from stylestudio.core.video.reader import frame_as_image

        loaded = frame_as_image(path, frame) if is_video_path(path) else load_image(path)
        self._photos[(path, frame)] = loaded
        while len(self._photos) > PHOTO_CACHE:
            old, _ = self._photos.popitem(last=False)
            for key in [k for k in self._scaled if k[:2] == old]:
                del self._scaled[key]
        return loaded

    def _scaled_photo(
        self, path: Path, rgb: np.ndarray, side: int | None, frame: int = 0
    ) -> np.ndarray:
        if side is None or max(rgb.shape[:2]) <= side:
            return rgb
        key = (path, frame, side)
        cached = self._scaled.get(key)
        if cached is None:
            cached = downscale(rgb, side)
            self._scaled[key] = cached
            while len(self._scaled) > 6:
                self._scaled.popitem(last=False)
        return cached

    # Views --------------------------------------------------------------------------------
    def _stale(self, request_id: int) -> bool:
        return (
            self.shutting_down.is_set()
            or self.views.has_pending()
            or self._cancel_view_id >= request_id
        )

    def _settle(self, req: ViewRequest) -> ViewRequest:
        """During a storm of superseding requests, take the newest one after a short pause."""
        if not self._storm:
            return req
        start = quiet_since = time.monotonic()
        while not self.shutting_down.is_set():
            time.sleep(0.005)
            now = time.monotonic()
            newer = self.views.take()
            if newer is not None:
                req, quiet_since = newer, now
            elif now - quiet_since >= STORM_QUIET_S or now - start >= STORM_MAX_WAIT_S:
                break
        return req

    def _run_view(self, req: ViewRequest) -> None:
        if self._engine is not None:
            self._set_threads(interactive=True)
        try:
            loaded = self._photo(req.photo, req.frame)
            if self._sent_original != (req.photo, req.canvas_epoch):
                self._sent_original = (req.photo, req.canvas_epoch)
                self.photoLoaded.emit(
                    PhotoLoaded(
                        req.request_id,
                        req.canvas_epoch,
                        req.photo,
                        display_mips(loaded.rgb),
                        loaded.width,
                        loaded.height,
                    )
                )
            if req.style_location is None or req.style_id is None:
                return
            full_side = max(loaded.width, loaded.height)
            final_side = None if req.adjustments.output_size == "full" else req.display_side
            final_side = None if final_side is None or final_side >= full_side else final_side
            stages: list[int | None] = []
            quick = self.config.quick_side
            if quick and (final_side or full_side) > quick * 1.25:
                stages.append(quick)
            stages.append(final_side)
            for number, side in enumerate(stages, start=1):
                if self._stale(req.request_id):
                    return
                image = self._scaled_photo(req.photo, loaded.rgb, side, req.frame)
                result = self._stylize(image, req.style_location, req.adjustments, req.request_id)
                if result is None:
                    return
                self.previewReady.emit(
                    PreviewResult(
                        request_id=req.request_id,
                        photo=req.photo,
                        style_id=req.style_id,
                        stage=number,
                        final=number == len(stages),
                        mips=display_mips(result.image),
                        original=image,
                        raw=result.raw,
                        adjustments=req.adjustments,
                        elapsed_s=float(result.elapsed_s),
                        device=str(result.device),
                        canvas_epoch=req.canvas_epoch,
                        notes=tuple(getattr(result, "notes", ()) or ()),
                    )
                )
        except Exception as exc:
            self.requestFailed.emit(req.request_id, user_message(exc))

    def _stylize(
        self, image: np.ndarray, location: StyleSource, adj: Adjustments, request_id: int
    ) -> StylizeResult | None:
        """One preview run; None when it was cancelled because a newer request arrived."""
        try:
            result = self._run_engine(
                image,
                location,
                _look(adj).options(),
                progress=lambda fraction, _msg: self.progress.emit(request_id, float(fraction)),
                cancel=lambda: self._stale(request_id),
            )
        except CancelledError:
            self.cancelled_runs += 1
            self._storm = self.views.has_pending()
            return None
        self._storm = self.views.has_pending()
        return result

    def _run_engine(
        self, image: np.ndarray, location: StyleSource, options: StylizeOptions, **hooks: Hook
    ) -> StylizeResult:
        """``Engine.stylize`` (``hooks``: its ``progress`` and ``cancel``), counted; previews
        and exports both run through here."""
        if self._engine is None:
            raise StyleStudioError(
                self._engine_error
                or QCoreApplication.translate("EngineWorker", "The engine is not available.")
            )
        self.network_runs += 1
        result = self._engine.stylize(image, location, options, **hooks)
        self.completed_runs += 1
        return result

    # Export -------------------------------------------------------------------------------
    def _begin_export(self, job: ExportJob) -> _ExportState:
        request = ExportRequest(
            photos=job.photos,
            style=job.style,
            destination=job.settings,
            look=_look(job.adjustments),
            quality=job.settings.quality,
            if_exists=job.settings.if_exists,
            masks=job.masks,
        )

        def cancelled() -> bool:
            return self.shutting_down.is_set() or self._cancel_export_id >= job.job_id

        events = export.export_photos(request, self._run_engine, load=self._photo, cancel=cancelled)
        return _ExportState(job, events)

    def _export_step(self) -> None:
        """Advance the export by one photo (views and library operations go in between)."""
        state = self._export
        assert state is not None
        if self._engine is not None:
            self._set_threads(interactive=False)
        job_id = state.job.job_id
        while True:
            try:
                event = next(state.events)
            except StopIteration as stop:
                summary: ExportSummary = stop.value
                summary.job_id = job_id
                self._export = None
                self.exportFinished.emit(summary)
                return
            if isinstance(event, FileStarted):
                self.exportProgress.emit(job_id, event.index - 1, event.total, event.photo.name)
                continue
            if isinstance(event, FileFailed):
                self.exportFileFailed.emit(job_id, str(event.photo), user_message(event.error))
            self.exportProgress.emit(job_id, event.index, event.total, event.photo.name)
            return


class EngineClient(QObject):
    """GUI-side handle: starts the worker thread, posts requests, shuts it down."""

    _wake = Signal()

    def __init__(self, config: WorkerConfig | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.config = config or WorkerConfig()
        self.thread = QThread()
        self.thread.setObjectName("StyleStudio engine")
        self.worker = EngineWorker(self.config)
        self.worker.moveToThread(self.thread)
        self._wake.connect(self.worker.process)
        self.thread.finished.connect(self.worker.deleteLater)
        self._next_id = 0
        self._started = False
        self._stopped = False

    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id

    @property
    def started(self) -> bool:
        return self._started

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.thread.start()
        self._wake.emit()

    def _post(self) -> None:
        if self._started and not self._stopped:
            self._wake.emit()

    def request_view(self, request: ViewRequest) -> None:
        self.worker.views.put(request)
        self._post()

    def make_view(
        self,
        *,
        photo: Path,
        style_id: str | None,
        style_location: StyleSource | None,
        adjustments: Adjustments,
        display_side: int,
        canvas_epoch: int,
        frame: int = 0,
    ) -> ViewRequest:
        return ViewRequest(
            self.next_id(),
            photo,
            style_id,
            style_location,
            adjustments,
            display_side,
            canvas_epoch,
            frame,
        )

    def cancel_views(self) -> None:
        self.worker.views.clear()
        self.worker.cancel_view(self._next_id)

    def library(self, op: LibraryOp) -> None:
        self.worker.library_ops.put(op)
        self._post()

    def export(self, job: ExportJob) -> None:
        self.worker.exports.put(job)
        self._post()

    def cancel_export(self, job_id: int) -> None:
        self.worker.cancel_export(job_id)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel everything, stop the thread; True when it finished within ``timeout_ms``."""
        if self._stopped:
            return not self.thread.isRunning()
        self._stopped = True
        self.worker.shutting_down.set()
        self.worker.views.clear()
        self.worker.library_ops.clear()
        self.worker.exports.clear()
        if not self._started:
            return True
        self.thread.quit()
        return bool(self.thread.wait(timeout_ms))


def _look(adj: Adjustments) -> Look:
    """How ``adj`` stylises, at full size."""
    return Look(
        strength=adj.strength,
        preserve_colors=adj.preserve_colors,
        style_scale=adj.style_scale,
        max_side=None,
    )
