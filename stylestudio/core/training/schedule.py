"""Which steps of a run do extra work: previews and checkpoints.

One definition shared by the Trainer (what it does), its live ETA and the up-front estimate
(what is still to come), so the three cannot disagree about how often a run pauses for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from stylestudio.core.training.config import TrainingConfig


@dataclass(frozen=True)
class RunSchedule:
    steps: int
    preview_every: int
    checkpoint_every: int

    @classmethod
    def of(cls, config: TrainingConfig) -> RunSchedule:
        return cls(config.steps, config.preview_every, config.checkpoint_every)

    def previews_at(self, step: int) -> bool:
        """A preview after ``step`` (every ``preview_every`` steps, and after the last)."""
        return step % self.preview_every == 0 or step == self.steps

    def checkpoints_at(self, step: int) -> bool:
        """A checkpoint after ``step`` (the finished run is saved as a style instead)."""
        return step % self.checkpoint_every == 0 and step < self.steps

    def previews_after(self, step: int) -> int:
        """Previews still to come once ``step`` steps are done."""
        if step >= self.steps:
            return 0
        regular = self.steps // self.preview_every - step // self.preview_every
        return regular + (0 if self.steps % self.preview_every == 0 else 1)

    def checkpoints_after(self, step: int) -> int:
        """Checkpoints still to come once ``step`` steps are done."""
        if step >= self.steps:
            return 0
        return (self.steps - 1) // self.checkpoint_every - step // self.checkpoint_every
