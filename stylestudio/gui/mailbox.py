"""Thread-safe "latest wins" hand-over between the GUI thread and a worker thread."""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestSlot(Generic[T]):
    """Holds at most one pending item: a newer ``put`` replaces (supersedes) an unclaimed one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._item: T | None = None
        self.superseded = 0  # how many pending items were replaced before the worker took them

    def put(self, item: T) -> None:
        with self._lock:
            if self._item is not None:
                self.superseded += 1
            self._item = item

    def take(self) -> T | None:
        with self._lock:
            item, self._item = self._item, None
            return item

    def clear(self) -> None:
        with self._lock:
            self._item = None

    def has_pending(self) -> bool:
        with self._lock:
            return self._item is not None


class FifoBox(Generic[T]):
    """A plain thread-safe FIFO (library operations, export jobs: none may be dropped)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: deque[T] = deque()

    def put(self, item: T) -> None:
        with self._lock:
            self._items.append(item)

    def take(self) -> T | None:
        with self._lock:
            return self._items.popleft() if self._items else None

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
