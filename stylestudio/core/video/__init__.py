"""Stylising videos: the same engine as photos, frame by frame, with less flicker.

* ``reader``: decoding (mp4, mov, webm, animated GIF) with PyAV, which ships its own FFmpeg;
* ``writer``: encoding the stylised frames and copying the audio packets unchanged;
* ``flow`` and ``temporal``: what makes consecutive frames agree (shared instance-norm
  statistics, a blend with the previous result warped by optical flow);
* ``flicker``: how much they still disagree where the input barely changes;
* ``export``: the video job, a sibling of ``core.export.export_photos`` for the CLI and the GUI.

This package is Qt-free; importing it imports neither PyAV nor torch.
"""

from __future__ import annotations

import os
from pathlib import Path

from stylestudio.core.errors import StyleStudioError

#: Containers read and written, by file extension.
VIDEO_EXTENSIONS: frozenset[str] = frozenset({".mp4", ".m4v", ".mov", ".webm", ".gif"})


class VideoError(StyleStudioError):
    """A video cannot be read or written (the message is one sentence for the user)."""


def is_video_path(path: str | os.PathLike[str]) -> bool:
    """True if the file name has one of ``VIDEO_EXTENSIONS`` (case-insensitive)."""
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS
