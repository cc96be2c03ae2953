"""Turning dropped or opened paths (files and folders) into a list of photos to queue."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtGui import QDropEvent

from stylestudio.core.atomic import is_temp_name
from stylestudio.core.imageio import is_supported_image_path
from stylestudio.core.video import is_video_path

#: Safety net against dropping a whole disk: stop collecting after this many photos.
MAX_COLLECTED = 5000


@dataclass
class CollectedPaths:
    images: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    truncated: bool = False


def _walk_folder(folder: Path) -> Iterable[Path]:
    for root, dirs, files in os.walk(folder, onerror=None):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(root) / name


def collect_image_paths(paths: Iterable[Path]) -> CollectedPaths:
    """Images and videos among ``paths`` (folders searched recursively); everything else is
    ``skipped``.

    Duplicates are dropped, order is kept (folder contents sorted by name). Unfinished writes
    (``.tmp-*``, e.g. of a killed export) are left out altogether, even when dropped by name.
    """
    result = CollectedPaths()
    seen: set[Path] = set()

    def consider(path: Path) -> None:
        key = path.resolve() if path.exists() else path
        if key in seen:
            return
        seen.add(key)
        if path.is_file() and (is_supported_image_path(path) or is_video_path(path)):
            result.images.append(path)
        else:
            result.skipped.append(path)

    for path in paths:
        if len(result.images) >= MAX_COLLECTED:
            result.truncated = True
            break
        path = Path(path)
        if is_temp_name(path.name):  # folder walks skip them as hidden names already
            continue
        if path.is_dir():
            for child in _walk_folder(path):
                if len(result.images) >= MAX_COLLECTED:
                    result.truncated = True
                    break
                consider(child)
        else:
            consider(path)
    return result


def paths_from_mime(mime: QMimeData) -> list[Path]:
    """Local file paths carried by a drag (non-local URLs are ignored)."""
    if not mime.hasUrls():
        return []
    urls: list[QUrl] = mime.urls()
    return [Path(url.toLocalFile()) for url in urls if url.isLocalFile()]


def accept_file_drag(event: QDropEvent) -> bool:
    """Accept a drag-enter/move event that carries local files, ignore any other; True if taken.

    (QDragEnterEvent and QDragMoveEvent are QDropEvents.)
    """
    if paths_from_mime(event.mimeData()):
        event.acceptProposedAction()
        return True
    event.ignore()
    return False
