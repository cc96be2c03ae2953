"""The flicker metric: how much consecutive outputs differ where the input barely changes.

For each pair of consecutive frames, the *still* pixels are those whose input changed by less
than ``threshold`` (largest channel difference, 0–1); the flicker is the mean absolute difference
of the outputs over the still pixels and the three channels, in 8-bit levels (0–255), averaged
over all pairs weighted by their still pixels. A perfectly stable stylisation scores 0 on a
static scene whatever its noise; per-frame stylisation scores what its strokes jump.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Input change (0–1, largest channel) below which a pixel counts as still: 4 levels of 255.
DEFAULT_THRESHOLD = 4 / 255


def _unit(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image.astype(np.float32) / 255.0
    return np.asarray(image, dtype=np.float32)


@dataclass
class FlickerMeter:
    """Add frames in order with :meth:`add`; read :attr:`value` (8-bit levels)."""

    threshold: float = DEFAULT_THRESHOLD
    _previous: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _total: float = 0.0
    _still: int = 0
    _pixels: int = 0
    pairs: int = 0

    def add(self, source: np.ndarray, output: np.ndarray) -> None:
        """The next frame: its input and its output (H, W, 3; uint8 or float in [0, 1])."""
        source, output = _unit(source), _unit(output)
        if source.shape != output.shape:
            raise ValueError(f"input {source.shape} and output {output.shape} differ in size")
        previous, self._previous = self._previous, (source, output)
        if previous is None or previous[0].shape != source.shape:
            return
        still = np.abs(source - previous[0]).max(axis=2) < self.threshold
        count = int(still.sum())
        self.pairs += 1
        self._pixels += still.size
        if count:
            diff = np.abs(output - previous[1]).mean(axis=2)
            self._total += float(diff[still].sum())
            self._still += count

    @property
    def value(self) -> float:
        """Mean absolute change of still pixels between consecutive outputs, 0–255."""
        return 255.0 * self._total / self._still if self._still else 0.0

    @property
    def still_fraction(self) -> float:
        """The share of pixels that counted as still."""
        return self._still / self._pixels if self._pixels else 0.0


def flicker(
    sources: list[np.ndarray], outputs: list[np.ndarray], threshold: float = DEFAULT_THRESHOLD
) -> float:
    """The flicker of a whole clip (see the module docstring)."""
    meter = FlickerMeter(threshold)
    for source, output in zip(sources, outputs, strict=True):
        meter.add(source, output)
    return meter.value
