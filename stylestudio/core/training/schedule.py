"""Which steps of a run do extra work: previews and checkpoints.

One definition shared by the Trainer (what it does), its live ETA and the up-front estimate
(what is still to come), so the three cannot disagree about how often a run pauses for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from stylestudio.core.training.config import TrainingConfig

#: Runs that preview less often also preview after this step, so that the wizard shows the style
#: emerging within the first minute (25 steps take 15–40 s on a 2-core CPU at every preset).
EARLY_PREVIEW_STEP = 25


@dataclass(frozen=True)
class RunSchedule:
    steps: int
    preview_every: int
    checkpoint_every: int

    @classmethod
    def of(cls, config: TrainingConfig) -> RunSchedule:
        return cls(config.steps, config.preview_every, config.checkpoint_every)

    @property
    def early_preview(self) -> int | None:
        """The extra early preview's step (None: the regular ones come soon enough)."""
        early = EARLY_PREVIEW_STEP
        return early if early < self.preview_every and early < self.steps else None

    def previews_at(self, step: int) -> bool:
        """A preview after ``step`` (every ``preview_every`` steps, after the last, and once
        early, see ``EARLY_PREVIEW_STEP``)."""
        return step % self.preview_every == 0 or step == self.steps or step == self.early_preview

    def checkpoints_at(self, step: int) -> bool:
        """A checkpoint after ``step`` (the finished run is saved as a style instead)."""
        return step % self.checkpoint_every == 0 and step < self.steps

    def previews_after(self, step: int) -> int:
        """Previews still to come once ``step`` steps are done."""
        if step >= self.steps:
            return 0
        regular = self.steps // self.preview_every - step // self.preview_every
        last = 0 if self.steps % self.preview_every == 0 else 1
        early = self.early_preview
        return regular + last + (1 if early is not None and early > step else 0)

    def checkpoints_after(self, step: int) -> int:
        """Checkpoints still to come once ``step`` steps are done."""
        if step >= self.steps:
            return 0
        return (self.steps - 1) // self.checkpoint_every - step // self.checkpoint_every
