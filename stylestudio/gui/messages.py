"""What the GUI thread and the engine worker send each other (requests and results).

Library operations (``LibraryOp``) and the export summary (``ExportSummary``) are the core's
(``core.jobs``, ``core.export``); they are re-exported here for the GUI.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtGui import QImage

from stylestudio.core.export import ExportSettings, ExportSummary, StyleRef
from stylestudio.core.jobs import LibraryOp, LibraryOpKind
from stylestudio.core.mask import RegionMask
from stylestudio.gui.adjustments import Adjustments

if TYPE_CHECKING:
    from stylestudio.core.mixing import StyleSource

__all__ = [
    "ExportJob",
    "ExportSummary",
    "LibraryOp",
    "LibraryOpKind",
    "PhotoLoaded",
    "PreviewResult",
    "ViewRequest",
]


@dataclass(frozen=True)
class ViewRequest:
    """Show ``photo`` (and stylise it when ``style_location`` is set: a style, or a blend whose
    first style is ``style_id``)."""

    request_id: int
    photo: Path
    style_id: str | None
    style_location: StyleSource | None
    adjustments: Adjustments
    display_side: int = 2048
    #: Bumped by the GUI whenever its canvas is reset; the original is sent once per epoch.
    canvas_epoch: int = 0
    #: The frame shown when ``photo`` is a video (from 0).
    frame: int = 0


@dataclass
class PhotoLoaded:
    request_id: int
    canvas_epoch: int
    photo: Path
    mips: list[QImage]  # display images, full size first
    width: int
    height: int

    @property
    def image(self) -> QImage:
        return self.mips[0]


@dataclass
class PreviewResult:
    request_id: int
    photo: Path
    style_id: str
    stage: int  # 1 = quick low-resolution, 2 = final
    final: bool
    mips: list[QImage]  # display images of the result, full size first
    original: np.ndarray  # the photo at the result's size, for instant re-adjustment
    raw: np.ndarray  # network output before strength / colour preservation
    adjustments: Adjustments
    elapsed_s: float
    device: str
    canvas_epoch: int = 0
    notes: tuple[str, ...] = ()  # e.g. "GPU ran out of memory; finished on the CPU."

    @property
    def image(self) -> QImage:
        return self.mips[0]

    @property
    def size(self) -> tuple[int, int]:
        return self.image.width(), self.image.height()


@dataclass(frozen=True)
class ExportJob:
    """Export ``photos`` with ``style`` and ``adjustments`` (see ``core.export``), each photo with
    its region mask from ``masks`` (if it has one)."""

    job_id: int
    photos: tuple[Path, ...]
    style: StyleRef
    adjustments: Adjustments
    settings: ExportSettings
    masks: Mapping[Path, RegionMask] = field(default_factory=dict)
