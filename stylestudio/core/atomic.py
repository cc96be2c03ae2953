"""Atomic file and folder writes.

A write goes to a temporary sibling, is flushed and fsynced, then renamed over the target with
``os.replace``. A crash at any moment leaves either the old file or the new one, never a torn one.
Temporary names start with ``.tmp-`` so that readers (the style library, folder listings) skip
them. Each name also records which process made it (``.tmp-<host>-<pid>-<nonce>``), so that a later
run removes only leftovers it can prove are stale: made on this host by a process that no longer
exists. Another process's write in progress is never touched.

Files written here get the normal mode for a new file (``0o666`` less the umask), not the ``0o600``
that ``tempfile`` gives its files.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from stylestudio.core.errors import ImageSaveError

TEMP_PREFIX = ".tmp-"
_OWNED_TEMP = re.compile(r"^\.tmp-(?P<host>[0-9a-f]{8})-(?P<pid>[0-9]+)-[0-9a-f]{32}")


def _host_tag() -> str:
    """Eight hex digits naming this machine (temp files on a shared drive may come from others)."""
    return hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]


_HOST_TAG = _host_tag()


def _current_umask() -> int:
    # os.umask can only be read by setting it; done once, at import, before threads exist.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_current_umask()


def temp_name(suffix: str = "") -> str:
    """A fresh temporary name owned by this process: ``.tmp-<host>-<pid>-<nonce><suffix>``."""
    return f"{TEMP_PREFIX}{_HOST_TAG}-{os.getpid()}-{uuid.uuid4().hex}{suffix}"


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is a temporary (hidden, unfinished) entry that listings should skip."""
    return name.startswith(TEMP_PREFIX)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # QUERY_LIMITED_INFORMATION
        if not handle:
            return ctypes.windll.kernel32.GetLastError() == 5  # access denied: it exists
        ctypes.windll.kernel32.CloseHandle(handle)
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    return True


def is_stale_temp(name: str) -> bool:
    """True only for a temp entry made on this host by a process that has ended.

    Anything else (another host's temp, a live process's temp, a name in the old format or of
    another program) is left alone: it cannot be proved to be an abandoned write of ours.
    """
    match = _OWNED_TEMP.match(name)
    if match is None or match["host"] != _HOST_TAG:
        return False
    pid = int(match["pid"])
    return pid != os.getpid() and not _pid_alive(pid)


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
    tmp = target.parent / temp_name(target.suffix)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _FILE_MODE)
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
    path = parent / temp_name()
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
    doomed = target.parent / temp_name("-trash")
    os.rename(target, doomed)
    _fsync_dir(target.parent)
    shutil.rmtree(doomed, ignore_errors=True)


def clean_stale_temps(folder: Path) -> None:
    """Delete leftovers of interrupted writes in ``folder`` that are provably ours and abandoned.

    See :func:`is_stale_temp`: a temp of a process still running (another window, the CLI beside
    the app) is never removed.
    """
    if not folder.is_dir():
        return
    for child in folder.iterdir():
        if is_stale_temp(child.name):
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    child.unlink()
