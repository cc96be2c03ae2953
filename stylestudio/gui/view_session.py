"""What the main window is showing, as a small Qt-free model.

The worker answers asynchronously, so every answer is checked against the session before it is
painted: a photo loaded for a canvas that has since been reset, a preview for another photo or
style, or an older request than the one already shown is dropped.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stylestudio.gui.messages import PhotoLoaded, PreviewResult


class EngineState(str, enum.Enum):
    STOPPED = "stopped"
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


@dataclass
class ViewSession:
    photo: Path | None = None
    style_id: str | None = None
    #: Bumped whenever the canvas is reset (another photo, or none).
    canvas_epoch: int = 0
    latest_view_id: int = 0  # the newest view request sent
    shown_view_id: int = 0  # the newest one painted
    last_result: PreviewResult | None = None  # the newest network result painted
    engine: EngineState = EngineState.STOPPED

    def open_photo(self, path: Path | None) -> bool:
        """Show ``path`` (None: nothing); False when it is already shown."""
        if path is not None and path == self.photo:
            return False
        self.photo = path
        self.canvas_epoch += 1
        self.last_result = None
        return True

    def choose_style(self, style_id: str) -> bool:
        """False when ``style_id`` is already chosen."""
        if style_id == self.style_id:
            return False
        self.style_id = style_id
        return True

    def forget_style(self) -> None:
        self.style_id = None
        self.last_result = None

    def photo_is_current(self, loaded: PhotoLoaded) -> bool:
        return loaded.photo == self.photo and loaded.canvas_epoch == self.canvas_epoch

    def accept_preview(self, result: PreviewResult) -> bool:
        """Whether ``result`` belongs on the canvas now; if so it becomes the last result."""
        if result.photo != self.photo or result.style_id != self.style_id:
            return False
        if result.canvas_epoch != self.canvas_epoch or result.request_id < self.shown_view_id:
            return False
        self.shown_view_id = result.request_id
        self.last_result = result
        return True

    def is_latest(self, request_id: int) -> bool:
        return request_id == self.latest_view_id
