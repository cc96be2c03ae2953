"""The run folder of one training run, and the rule for what the trainer may delete in it.

A run folder holds the run's checkpoints and its marker ``run.json`` (format
``stylestudio.training-run``), written when the trainer claims the folder. The marker records

* the run's id, which the saved style carries in its training metadata: a run resumed after being
  killed between saving its style and cleaning up sees that its style exists and saves nothing;
* whether the trainer created the folder.

The trainer deletes only what it made: its checkpoints, its stale temporary entries and its
marker, and the folder itself only if it created it and nothing else is left inside. A folder that
exists, is not empty and is neither a marked run nor an unmarked run of an older StyleStudio is
someone's files: it is refused before anything is written.
"""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from stylestudio.core import atomic
from stylestudio.core.errors import StyleStudioError, TrainingError
from stylestudio.core.training import checkpoint as ckpt

log = logging.getLogger(__name__)

MARKER_FILE = "run.json"
FORMAT = "stylestudio.training-run"
FORMAT_VERSION = 1
#: Files an operating system drops into folders on its own; they do not make a folder "used".
_OS_LITTER = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})


class FolderKind(enum.Enum):
    MISSING = "missing"  # does not exist: the trainer creates it, and may remove it later
    EMPTY = "empty"  # exists and is empty: used, never removed
    RUN = "run"  # carries our marker
    LEGACY_RUN = "legacy"  # only checkpoints and temps, no marker (an older StyleStudio's run)


@dataclass(frozen=True)
class RunMarker:
    run_id: str
    name: str
    created_folder: bool  # the trainer made the folder (so it may remove it when empty)

    def to_json(self) -> str:
        document = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "run_id": self.run_id,
            "name": self.name,
            "created_folder": self.created_folder,
        }
        return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def read_marker(folder: Path) -> RunMarker | None:
    """The marker of ``folder``, or None if it has none (TrainingError if it is damaged)."""
    path = folder / MARKER_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise TrainingError(
            f"The run folder {folder} cannot be read: {exc.strerror or exc}."
        ) from None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise TrainingError(f"{path} is damaged or not a StyleStudio run marker.")
    if not isinstance(data.get("format_version"), int) or data["format_version"] > FORMAT_VERSION:
        raise TrainingError(f"The run in {folder} was made by a newer StyleStudio.")
    run_id, name, created = data.get("run_id"), data.get("name"), data.get("created_folder")
    if not isinstance(run_id, str) or not run_id or not isinstance(name, str):
        raise TrainingError(f"{path} is damaged or not a StyleStudio run marker.")
    return RunMarker(run_id, name, created is True)


def _is_ours(entry: Path) -> bool:
    """A checkpoint folder, a temporary entry, or the marker: things this module writes."""
    name = entry.name
    return (
        name == MARKER_FILE
        or atomic.is_temp_name(name)
        or (ckpt.is_checkpoint_name(name) and entry.is_dir() and not entry.is_symlink())
    )


def inspect(folder: Path) -> FolderKind:
    """What ``folder`` is; TrainingError if the trainer must not use it (before any write)."""
    if folder.is_symlink() and not folder.exists():
        raise TrainingError(f"The run folder {folder} is a broken link.")
    if not folder.exists():
        return FolderKind.MISSING
    if not folder.is_dir():
        raise TrainingError(f"The run folder {folder} is a file, not a folder.")
    try:
        entries = [e for e in folder.iterdir() if e.name not in _OS_LITTER]
    except OSError as exc:
        raise TrainingError(
            f"The run folder {folder} cannot be read: {exc.strerror or exc}."
        ) from None
    if (folder / MARKER_FILE).is_file():
        read_marker(folder)  # a damaged marker is refused here, not half-way through
        return FolderKind.RUN
    if not entries:
        return FolderKind.EMPTY
    if all(_is_ours(e) for e in entries) and any(ckpt.is_checkpoint_name(e.name) for e in entries):
        return FolderKind.LEGACY_RUN
    raise TrainingError(
        f"The run folder {folder} already holds other files and is not a StyleStudio "
        "training run; choose a new or empty folder."
    )


class RunFolder:
    """A claimed run folder (see the module docstring); made by ``claim``."""

    def __init__(self, path: Path, marker: RunMarker) -> None:
        self.path = path
        self.marker = marker

    @property
    def run_id(self) -> str:
        return self.marker.run_id

    @classmethod
    def claim(cls, path: Path, name: str, *, fresh: bool, ours_by_default: bool) -> RunFolder:
        """Take ``path`` for a run: create or check it, write its marker.

        ``fresh``: a new run (old checkpoints are removed first, the run gets a new id);
        otherwise the marked run continues under its id. ``ours_by_default``: the folder is
        StyleStudio's own default location (so an unmarked older run there counts as ours).
        """
        kind = inspect(path)
        try:
            if kind is FolderKind.MISSING:
                path.mkdir(parents=True)
            atomic.clean_stale_temps(path)  # leftovers of a checkpoint write that was killed
            existing = read_marker(path) if kind is FolderKind.RUN else None
            created = kind is FolderKind.MISSING or (
                existing.created_folder if existing else ours_by_default
            )
            if fresh:
                # Old checkpoints go before the new marker is written: a run killed in between
                # still has its old marker, so its id can never be attached to old weights.
                for old in ckpt.list_checkpoints(path):
                    atomic.remove_dir_atomically(old.path)
            if fresh or existing is None:
                marker = RunMarker(uuid.uuid4().hex, name, created)
                atomic.atomic_write_text(path / MARKER_FILE, marker.to_json())
            else:
                marker = existing
        except OSError as exc:
            raise TrainingError(atomic.describe_os_error(exc, path)) from None
        except StyleStudioError as exc:  # atomic_write_* reports disk errors this way
            raise TrainingError(str(exc)) from None
        return cls(path, marker)

    def has_checkpoints(self) -> bool:
        return bool(ckpt.list_checkpoints(self.path))

    def release(self) -> None:
        """Delete what the run made; the folder too if the run created it and it is empty now.

        The marker goes last: until the end the folder still says which run it belongs to.
        Anything else found inside (a file someone put there) is left alone, with the folder.
        """
        atomic.clean_stale_temps(self.path)
        for old in ckpt.list_checkpoints(self.path):
            atomic.remove_dir_atomically(old.path)
        with contextlib.suppress(FileNotFoundError):
            (self.path / MARKER_FILE).unlink()
        if not self.marker.created_folder:
            return
        try:
            os.rmdir(self.path)
        except OSError:
            left = sorted(e.name for e in self.path.iterdir()) if self.path.is_dir() else []
            if left:
                log.info("Kept the run folder %s: it holds %s", self.path, ", ".join(left[:5]))
