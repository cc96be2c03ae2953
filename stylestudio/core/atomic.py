"""Atomic file and folder writes.

A write goes to a temporary sibling, is flushed and fsynced, then renamed over the target with
``os.replace``. A crash at any moment leaves either the old file or the new one, never a torn one.
Temporary names start with ``.tmp-`` so that readers (the style library) can skip and clean them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from stylestudio.core.errors import ImageSaveError

TEMP_PREFIX = ".tmp-"


def _fsync_dir(path: Path) -> None:
    """Persist a rename on POSIX; a no-op where directories cannot be opened (Windows)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def describe_os_error(exc: OSError, target: Path) -> str:
    """One sentence for the user about why writing ``target`` failed."""
    if exc.errno == errno.ENOSPC:
        return f"Not enough disk space to write {target}."
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"Permission denied writing {target}."
    return f"Could not write {target}: {exc.strerror or exc}."


@contextlib.contextmanager
def atomic_open(target: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a temporary file that replaces ``target`` only if the block completes."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=target.suffix, dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``target`` atomically."""
    try:
        with atomic_open(target) as handle:
            handle.write(data)
    except OSError as exc:
        raise ImageSaveError(describe_os_error(exc, Path(target))) from exc


def atomic_write_text(target: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))


def make_temp_dir(parent: Path) -> Path:
    """A fresh ``.tmp-*`` folder inside ``parent`` (same filesystem, so it can be renamed in)."""
    parent.mkdir(parents=True, exist_ok=True)
    path = parent / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
    path.mkdir()
    return path


def publish_dir(tmp_dir: Path, target: Path) -> None:
    """Rename a fully written ``tmp_dir`` to ``target`` (which must not exist) atomically."""
    for child in tmp_dir.rglob("*"):
        if child.is_file():
            with open(child, "rb") as handle:
                os.fsync(handle.fileno())
    os.rename(tmp_dir, target)
    _fsync_dir(target.parent)


def remove_dir_atomically(target: Path) -> None:
    """Make ``target`` vanish in one step (rename to a temp name), then delete the remains."""
    doomed = target.parent / f"{TEMP_PREFIX}trash-{uuid.uuid4().hex}"
    os.rename(target, doomed)
    _fsync_dir(target.parent)
    shutil.rmtree(doomed, ignore_errors=True)


def clean_stale_temps(folder: Path) -> None:
    """Delete leftovers of interrupted writes in ``folder``."""
    if not folder.is_dir():
        return
    for child in folder.iterdir():
        if child.name.startswith(TEMP_PREFIX):
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    child.unlink()
