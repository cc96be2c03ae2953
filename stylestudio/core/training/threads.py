"""Training uses every CPU core, whatever thread count the caller's thread inherited.

torch's intra-op thread count is per thread (OpenMP), and a new thread starts with the last
value any thread set. The app's preview worker lowers it to leave a core to the GUI, so a
training job started after a preview would otherwise run on one core of two, at half the speed
its estimate promised.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch


def cpu_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def every_core(count: int | None = None) -> Iterator[int]:
    """Run the block with ``count`` (default: every usable core) intra-op threads in this
    thread, then restore the previous count."""
    wanted = count or cpu_cores()
    previous = torch.get_num_threads()
    if previous != wanted:
        torch.set_num_threads(wanted)
    try:
        yield wanted
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)


def training_threads(device: torch.device) -> contextlib.AbstractContextManager[object]:
    """``every_core()`` for a single-process CPU run; nothing otherwise (a GPU run, or one
    rank of a distributed run, whose launcher shares the cores out)."""
    from stylestudio.core.training import distributed

    if device.type != "cpu" or distributed.world()[0] > 1:
        return contextlib.nullcontext()
    return every_core()
