"""Instant strength / colour / region-mask re-blending on the cached network output, off the GUI
thread.

Colour preservation converts to Lab in float64, far above the 30 ms budget of a slider step for
screen-size images, so it runs as a background job (``runner.Job``, "latest wins"). Large images
get a strided quick pass first, then the full pass, both painted as they arrive. A region mask is
composited last (``core.mask``); while a mask is painted only the mask changes, so the adjusted
image under it is kept (``BlendCache``) and each stroke costs one composite.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from stylestudio.core.adjust import apply_adjustments
from stylestudio.core.mask import RegionMask, composite
from stylestudio.gui.qimage import display_mips
from stylestudio.gui.resample import quick_view
from stylestudio.gui.runner import Job, JobKind

QUICK_PASS_SIDE = 640
QUICK_PASS_MIN_SIDE = 1200


@dataclass(frozen=True)
class AdjustRequest:
    request_id: int
    base_key: tuple[int, int]  # (preview request id, stage) of the cached network output
    original: np.ndarray
    raw: np.ndarray
    strength: float
    preserve_colors: bool
    mask: RegionMask | None = None

    def blend_key(self, quick: bool) -> tuple[object, ...]:
        return (self.base_key, self.strength, self.preserve_colors, quick)


class BlendCache:
    """The latest unmasked adjustment (quick and full), shared by the jobs (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[bool, tuple[tuple[object, ...], np.ndarray]] = {}

    def adjusted(self, req: AdjustRequest, original: np.ndarray, raw: np.ndarray, quick: bool):
        """``apply_adjustments`` without the mask, computed once per preview and settings."""
        key = req.blend_key(quick)
        with self._lock:
            entry = self._entries.get(quick)
        if entry is not None and entry[0] == key:
            return entry[1]
        rgb = apply_adjustments(original, raw, req.strength, req.preserve_colors)
        with self._lock:
            self._entries[quick] = (key, rgb)
        return rgb


@dataclass
class AdjustResult:
    request_id: int
    base_key: tuple[int, int]
    mips: list[QImage]
    final: bool
    strength: float
    preserve_colors: bool

    @property
    def image(self) -> QImage:
        return self.mips[0]


def _pass(req: AdjustRequest, cache: BlendCache, quick: bool) -> np.ndarray:
    """``apply_adjustments(..., mask)`` of the request (quick: on strided views), the unmasked
    part from the cache."""
    original, raw = req.original, req.raw
    if quick:
        original, raw = quick_view(original, QUICK_PASS_SIDE), quick_view(raw, QUICK_PASS_SIDE)
    rgb = cache.adjusted(req, original, raw, quick)
    if req.mask is None or req.strength <= 0.0:  # strength 0 is the original, mask or not
        return rgb
    return composite(original, rgb, req.mask.fitted(*original.shape[:2]))


def adjust_passes(
    req: AdjustRequest, cache: BlendCache | None = None
) -> Generator[AdjustResult, None, AdjustResult]:
    """Large images with colour preservation or a mask: a strided quick pass first (yielded),
    then the full pass (returned)."""
    cache = cache if cache is not None else BlendCache()
    big = max(req.raw.shape[:2]) > QUICK_PASS_MIN_SIDE
    if big and (req.preserve_colors or req.mask is not None):
        yield _result(req, _pass(req, cache, quick=True), final=False)
    return _result(req, _pass(req, cache, quick=False), final=True)


def _result(req: AdjustRequest, rgb: np.ndarray, final: bool) -> AdjustResult:
    return AdjustResult(
        req.request_id, req.base_key, display_mips(rgb), final, req.strength, req.preserve_colors
    )


class Adjuster(QObject):
    """Runs one adjustment at a time as a background job; "latest wins": a new request while one
    runs is kept (replacing an older pending one) and cancels the running one after its quick
    pass. ``adjusted(AdjustResult)`` and ``failed(message)`` arrive on the GUI thread."""

    adjusted = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pending: AdjustRequest | None = None
        self._job: Job | None = None
        self._next_id = 0
        self._stopped = False
        self._cache = BlendCache()
        self.runs = 0

    def request(
        self,
        base_key: tuple[int, int],
        original: np.ndarray,
        raw: np.ndarray,
        strength: float,
        preserve_colors: bool,
        mask: RegionMask | None = None,
    ) -> int:
        """Re-blend; ``mask`` (a snapshot, not changed afterwards) is composited last."""
        self._next_id += 1
        self._pending = AdjustRequest(
            self._next_id, base_key, original, raw, strength, preserve_colors, mask
        )
        if self._job is not None:
            self._job.cancel()
        else:
            self._start_next()
        return self._next_id

    @property
    def latest_id(self) -> int:
        return self._next_id

    def is_running(self) -> bool:
        return self._job is not None and self._job.isRunning()

    def _start_next(self) -> None:
        req, self._pending = self._pending, None
        if req is None or self._stopped:
            return
        self.runs += 1
        cache = self._cache
        self._job = Job(lambda: adjust_passes(req, cache), JobKind.ADJUST)
        self._job.progress.connect(self._emit)
        self._job.returned.connect(self._emit)
        self._job.errored.connect(self._failed)
        self._job.finished.connect(self._job_finished)
        self._job.start()

    def _emit(self, result: AdjustResult) -> None:
        self.adjusted.emit(result)

    def _failed(self, message: str) -> None:
        self.failed.emit(message)

    def _job_finished(self) -> None:
        if self._job is not None:
            self._job.wait()
        self._job = None
        self._start_next()

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        self._stopped = True
        self._pending = None
        job = self._job
        if job is None:
            return True
        job.cancel()
        return bool(job.wait(timeout_ms))
