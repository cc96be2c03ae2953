"""Instant strength / colour re-blending on the cached network output, off the GUI thread.

Colour preservation converts to Lab in float64, far above the 30 ms budget of a slider step for
screen-size images, so it runs in its own small thread ("latest wins"). Large images get a
strided quick pass first, then the full pass, both painted as they arrive.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtGui import QImage

from stylestudio.core.adjust import apply_adjustments
from stylestudio.gui.mailbox import LatestSlot
from stylestudio.gui.qimage import display_mips
from stylestudio.gui.resample import quick_view

log = logging.getLogger(__name__)

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


class AdjustWorker(QObject):
    adjusted = Signal(object)
    failed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.requests: LatestSlot[AdjustRequest] = LatestSlot()
        self.stopping = threading.Event()
        self.runs = 0

    @Slot()
    def process(self) -> None:
        while not self.stopping.is_set():
            req = self.requests.take()
            if req is None:
                return
            try:
                self._run(req)
            except Exception as exc:
                log.exception("adjustment failed")
                self.failed.emit(f"{type(exc).__name__}: {exc}")

    def _run(self, req: AdjustRequest) -> None:
        self.runs += 1
        big = max(req.raw.shape[:2]) > QUICK_PASS_MIN_SIDE
        if big and req.preserve_colors:
            quick = apply_adjustments(
                quick_view(req.original, QUICK_PASS_SIDE),
                quick_view(req.raw, QUICK_PASS_SIDE),
                req.strength,
                req.preserve_colors,
            )
            self._emit(req, quick, final=False)
            if self.requests.has_pending() or self.stopping.is_set():
                return
        result = apply_adjustments(req.original, req.raw, req.strength, req.preserve_colors)
        self._emit(req, result, final=True)

    def _emit(self, req: AdjustRequest, rgb: np.ndarray, final: bool) -> None:
        self.adjusted.emit(
            AdjustResult(
                req.request_id,
                req.base_key,
                display_mips(rgb),
                final,
                req.strength,
                req.preserve_colors,
            )
        )


class Adjuster(QObject):
    """GUI-side handle of the adjustment thread."""

    _wake = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread = QThread()
        self.thread.setObjectName("StyleStudio adjust")
        self.worker = AdjustWorker()
        self.worker.moveToThread(self.thread)
        self._wake.connect(self.worker.process)
        self.thread.finished.connect(self.worker.deleteLater)
        self.thread.start()
        self._next_id = 0
        self._stopped = False

    def request(
        self,
        base_key: tuple[int, int],
        original: np.ndarray,
        raw: np.ndarray,
        strength: float,
        preserve_colors: bool,
    ) -> int:
        self._next_id += 1
        self.worker.requests.put(
            AdjustRequest(self._next_id, base_key, original, raw, strength, preserve_colors)
        )
        if not self._stopped:
            self._wake.emit()
        return self._next_id

    @property
    def latest_id(self) -> int:
        return self._next_id

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        self._stopped = True
        self.worker.stopping.set()
        self.worker.requests.clear()
        self.thread.quit()
        return bool(self.thread.wait(timeout_ms))
