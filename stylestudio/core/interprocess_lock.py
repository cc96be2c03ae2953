"""A lock file that serialises changes across threads *and* processes (two app windows, the CLI
beside the app).

The operating system holds the lock (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows) and
drops it when the holder exits or crashes, so a lock is never left behind: the file itself stays
in place (deleting a lock file invites races) and its contents mean nothing.

Within one process, :func:`lock_for` hands every caller the same :class:`InterProcessLock` for a
path. It is re-entrant for the thread that holds it and exclusive against other threads, which
matters because ``flock`` alone would not tell two threads of one process apart.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt
else:
    import fcntl


class LockTimeout(TimeoutError):
    """The lock stayed held by someone else for longer than the timeout."""


@dataclass(frozen=True)
class LockConfig:
    """How long to wait for a busy lock and how often to try again."""

    timeout_s: float = 60.0
    poll_s: float = 0.02


def _try_lock(fd: int) -> bool:
    """Take the OS lock on ``fd`` without waiting; False if another holder has it."""
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:  # EACCES or EDEADLOCK: another holder has the byte locked
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)


class InterProcessLock:
    """An exclusive, re-entrant lock on ``path`` (created if missing); use as a context manager."""

    def __init__(self, path: Path, config: LockConfig | None = None) -> None:
        self.path = Path(path)
        self.config = config or LockConfig()
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    def acquire(self, timeout_s: float | None = None) -> None:
        """Wait up to ``timeout_s`` (default from the config); LockTimeout if still busy.

        OSError if the lock file cannot be created or opened.
        """
        timeout = self.config.timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout
        if not self._thread_lock.acquire(timeout=max(timeout, 0.0)):
            raise LockTimeout(f"{self.path} is held by another thread.")
        try:
            if self._depth == 0:
                self._fd = self._lock_file(deadline)
            self._depth += 1
        except BaseException:
            self._thread_lock.release()
            raise

    def _lock_file(self, deadline: float) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o666)
        try:
            while not _try_lock(fd):
                if time.monotonic() >= deadline:
                    raise LockTimeout(f"{self.path} is held by another process.")
                time.sleep(self.config.poll_s)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def release(self) -> None:
        """Undo one :meth:`acquire` of the calling thread."""
        if self._depth == 0:
            raise RuntimeError(f"{self.path} is not locked.")
        self._depth -= 1
        try:
            if self._depth == 0 and self._fd is not None:
                fd, self._fd = self._fd, None
                try:
                    _unlock(fd)
                finally:
                    os.close(fd)  # closing drops the lock anyway
        finally:
            self._thread_lock.release()

    def __enter__(self) -> InterProcessLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()

    def _forget_after_fork(self) -> None:
        """In a forked child: the parent's hold is not ours (the child must lock for itself)."""
        self._thread_lock = threading.RLock()
        self._depth = 0
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.close(fd)  # the parent keeps its lock: it has its own reference


_REGISTRY: dict[str, InterProcessLock] = {}
_REGISTRY_LOCK = threading.Lock()


def lock_for(path: Path, config: LockConfig | None = None) -> InterProcessLock:
    """The one lock object of this process for ``path`` (spelled any way that resolves to it).

    ``config`` applies when the lock is first made for this path.
    """
    path = Path(path)
    key = os.path.normcase(os.path.realpath(path))
    with _REGISTRY_LOCK:
        lock = _REGISTRY.get(key)
        if lock is None:
            lock = _REGISTRY[key] = InterProcessLock(path, config)
        return lock


def _after_fork_in_child() -> None:
    global _REGISTRY_LOCK
    _REGISTRY_LOCK = threading.Lock()
    for lock in _REGISTRY.values():
        lock._forget_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
