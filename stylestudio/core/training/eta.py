"""The live ETA of a running Trainer: the recent step time plus the extra work still to come.

A window of recent step rates alone is biased: it holds a preview only every so often (so the
ETA swings) and never the checkpoints and previews still ahead. Here the steps and the extras
are measured apart: the remaining time is the remaining steps at the mean time of the last few
steps, plus each remaining preview and checkpoint at the cost the last one of its kind had.
(Saving the style at the end, a stylised thumbnail and a small file, takes a fraction of a
second and is not counted.)
"""

from __future__ import annotations

import collections
import enum
import math

from stylestudio.core.training.schedule import RunSchedule

#: Steps whose mean time predicts the next ones (recent enough to follow a change of load).
WINDOW = 20


class Extra(enum.Enum):
    PREVIEW = "preview"
    CHECKPOINT = "checkpoint"


class EtaMeter:
    def __init__(self, schedule: RunSchedule, window: int = WINDOW) -> None:
        self.schedule = schedule
        self._steps: collections.deque[float] = collections.deque(maxlen=window)
        self._extras: dict[Extra, float] = {}

    def stepped(self, seconds: float) -> None:
        """One step took ``seconds`` (sampling and the update, no previews or checkpoints)."""
        self._steps.append(max(0.0, seconds))

    def extra(self, kind: Extra, seconds: float) -> None:
        self._extras[kind] = max(0.0, seconds)

    @property
    def seconds_per_step(self) -> float:
        """Mean of the recent steps (NaN before the first)."""
        return sum(self._steps) / len(self._steps) if self._steps else math.nan

    @property
    def it_per_s(self) -> float:
        per_step = self.seconds_per_step
        return 1.0 / per_step if per_step > 0 else 0.0

    def eta_s(self, step: int) -> float:
        """Seconds until the style is saved, as told after ``step`` steps (NaN before a step).

        That step's own preview and checkpoint, which follow its ``Progress`` event, are still
        to come.
        """
        per_step = self.seconds_per_step
        if not math.isfinite(per_step):
            return math.nan
        schedule = self.schedule
        previews = schedule.previews_after(step) + int(schedule.previews_at(step))
        checkpoints = schedule.checkpoints_after(step) + int(schedule.checkpoints_at(step))
        preview = self._extras.get(Extra.PREVIEW, 0.0)
        checkpoint = self._extras.get(Extra.CHECKPOINT, 0.0)
        steps = max(0, schedule.steps - step)
        return steps * per_step + previews * preview + checkpoints * checkpoint
