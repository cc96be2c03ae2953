"""Work-around for a reference-counting bug of some PySide6 builds on CPython < 3.12.

PySide6 6.12.0 (abi3 wheel) returns ``None`` from every void-returning Qt method without taking
a reference, so each call such as ``label.setText()`` or ``painter.drawLine()`` decrements
``None``'s reference count. From Python 3.12 on ``None`` is immortal and nothing happens; on 3.11
the process aborts with "Fatal Python error: none_dealloc" after some ten thousand calls, i.e.
after a minute of dragging a slider. When the leak is detected, ``None`` receives a reserve of
references large enough that it can never reach zero. Nothing is done on correct builds.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

_PROBE_CALLS = 64
_RESERVE = 1 << 50
_applied = False


def none_refcount_leak_per_call() -> float:
    """How many references of ``None`` one void-returning PySide call loses (0 when fine)."""
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(_PROBE_CALLS):
        probe.setObjectName("probe")
    return (before - sys.getrefcount(None)) / _PROBE_CALLS


def apply() -> bool:
    """Protect ``None`` if this PySide build leaks it; True when the reserve was added."""
    global _applied
    if _applied or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if none_refcount_leak_per_call() < 0.5:
        return False
    # ob_refcnt is the first field of every CPython object.
    refcount = ctypes.c_ssize_t.from_address(id(None))
    refcount.value += _RESERVE
    _applied = True
    log.info("PySide6 leaks references to None on this Python; applied a work-around")
    return True
