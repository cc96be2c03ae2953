"""Checks made before the first training step, so that a run never fails at its end.

A name or description the library would refuse, a library folder that cannot be written, or a
VGG weights file that is not there would otherwise surface only when the trained style is saved,
after minutes or hours of training. ``fallback_name`` is the last line of defence: a finished
training is never thrown away because of its name.
"""

from __future__ import annotations

import contextlib
import os
import re
import unicodedata
from pathlib import Path
from typing import Any

from stylestudio.core import atomic, stylepack
from stylestudio.core.errors import StyleFormatError, TrainingError

#: Used when a run is given no name, and as the last fallback name.
DEFAULT_NAME = "My style"


def style_name(name: str) -> str:
    """The cleaned style name (empty: ``DEFAULT_NAME``); TrainingError if the library would
    refuse it."""
    if isinstance(name, str) and not name.strip():
        return DEFAULT_NAME
    try:
        return stylepack.clean_name(name)
    except StyleFormatError as exc:
        raise TrainingError(str(exc)) from None


def style_description(text: str) -> str:
    if not isinstance(text, str):
        raise TrainingError("The style description must be text.")
    text = text.strip()
    if len(text) > stylepack.MAX_TEXT_LENGTH:
        raise TrainingError(
            f"The style description is longer than {stylepack.MAX_TEXT_LENGTH} characters."
        )
    return text


def fallback_name(name: str) -> str:
    """A name the library accepts, as close to ``name`` as possible: line breaks and control
    characters become spaces, runs of spaces collapse, the length is cut to the limit."""
    spaced = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in str(name)
    )
    cleaned = re.sub(r"\s+", " ", spaced).strip()[: stylepack.MAX_NAME_LENGTH].rstrip()
    return cleaned or DEFAULT_NAME


def check_library_writable(library: Any) -> None:
    """TrainingError unless a new style can be written into ``library``'s folder.

    Probes with a real temporary file (permission bits do not tell the whole story: read-only
    mounts, ACLs, a file where the folder should be). Creates the folder if it is missing, as
    saving would.
    """
    folder = getattr(library, "user_dir", None)
    if folder is None:
        return
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise TrainingError(f"New styles cannot be saved in {folder}: it is a file, not a folder.")
    probe = folder / atomic.temp_name("-probe")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
    except OSError as exc:
        raise TrainingError(
            f"New styles cannot be saved in {folder}: {atomic.describe_os_error(exc, folder)}"
        ) from None
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()


def check_vgg_weights_file(path: Path | None) -> None:
    """An explicitly given VGG19 weights file must exist (WeightsUnavailableError). Searching
    the usual places and downloading happen later, but a wrong path is known at once."""
    if path is not None:
        from stylestudio.core.models.vgg import resolve_vgg_weights

        resolve_vgg_weights(path, allow_download=False)  # an explicit path is only checked
