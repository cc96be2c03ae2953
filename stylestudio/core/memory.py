"""Peak-memory measurement for benchmarks: GPU allocator peaks, or sampled process RSS."""

from __future__ import annotations

import os
import sys
import threading
import time


def current_rss_bytes() -> int | None:
    """Resident set size of this process, where the OS tells it cheaply (Linux)."""
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return None
    return None


class PeakRSS:
    """Samples RSS on a background thread; ``peak_delta`` is the growth above the start level."""

    def __init__(self, interval_s: float = 0.002) -> None:
        self.interval_s = interval_s
        self.start = 0
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PeakRSS:
        self.start = self.peak = current_rss_bytes() or 0
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            rss = current_rss_bytes() or 0
            self.peak = max(self.peak, rss)
            time.sleep(self.interval_s)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak = max(self.peak, current_rss_bytes() or 0)

    @property
    def peak_delta(self) -> int:
        return max(0, self.peak - self.start)
