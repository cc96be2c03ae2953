"""A dependency-free progress line for stderr."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressLine:
    """Redraws one line on a terminal; prints a line per ``every`` seconds elsewhere."""

    def __init__(self, stream: TextIO | None = None, every: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every = every
        self._last = 0.0
        self._width = 0

    def update(self, label: str, fraction: float, detail: str = "") -> None:
        now = time.monotonic()
        fraction = min(max(fraction, 0.0), 1.0)
        if self.tty:
            filled = int(fraction * 24)
            bar = "█" * filled + "·" * (24 - filled)
            text = f"{label} {bar} {fraction * 100:5.1f}% {detail}".rstrip()
            pad = max(0, self._width - len(text))
            self.stream.write("\r" + text + " " * pad)
            self._width = len(text)
            self.stream.flush()
        elif now - self._last >= self.every or fraction >= 1.0:
            self.stream.write(f"{label} {fraction * 100:.0f}% {detail}".rstrip() + "\n")
            self.stream.flush()
            self._last = now

    def done(self, message: str = "") -> None:
        if self.tty and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
        if message:
            self.stream.write(message + "\n")
        self.stream.flush()
        self._width = 0


def format_eta(seconds: float) -> str:
    """``"ETA 1:05"`` / ``"ETA 1:02:03"`` for a duration left (empty when not yet known)."""
    if seconds <= 0 or seconds != seconds or seconds == float("inf"):
        return ""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"ETA {hours}:{minutes:02d}:{secs:02d}" if hours else f"ETA {minutes}:{secs:02d}"
