"""Events a running Trainer reports through its ``on_event`` callback.

Callbacks run on the training thread; a GUI must hand them to its own thread (e.g. a queued Qt
signal). Only rank 0 of a distributed run reports events. Images are float32 (H, W, 3) RGB in
[0, 1], the core's interchange format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from stylestudio.core.library import StyleRecord


@dataclass(frozen=True)
class Started:
    total: int  # total steps of the run
    start_step: int  # > 0 when resuming from a checkpoint
    device: str  # human-readable device description
    run_dir: Path  # where checkpoints go
    world_size: int = 1
    notes: tuple[str, ...] = ()  # e.g. "No practice photos given; using the bundled samples."


@dataclass(frozen=True)
class Status:
    """What the trainer is doing before the first step (loading images, weights, targets)."""

    message: str


@dataclass(frozen=True)
class Progress:
    step: int  # steps completed (1..total)
    total: int
    losses: dict[str, float]  # weighted terms: content, style, tv, adversarial, total, d
    it_per_s: float  # steps per second over the last few steps (previews, checkpoints apart)
    #: Seconds until the style is saved: the remaining steps at the recent step time plus the
    #: previews and checkpoints still to come at their measured cost (see ``eta``).
    eta_s: float


@dataclass(frozen=True)
class Preview:
    step: int
    images: list[tuple[np.ndarray, np.ndarray]]  # (before, after) for each fixed sample photo


@dataclass(frozen=True)
class Checkpointed:
    step: int
    path: Path  # the checkpoint folder


@dataclass(frozen=True)
class Paused:
    step: int


@dataclass(frozen=True)
class Resumed:
    step: int


@dataclass(frozen=True)
class Finished:
    record: StyleRecord | None  # None when no library was given (or on ranks other than 0)
    steps: int
    elapsed_s: float
    training: dict[str, Any] = field(default_factory=dict)  # metadata stored with the style
    #: The run had saved ``record`` before it was interrupted; resuming it saved nothing new.
    already_saved: bool = False


@dataclass(frozen=True)
class Cancelled:
    step: int
    run_dir: Path | None  # kept checkpoint folder (resumable), or None if it was removed


@dataclass(frozen=True)
class Failed:
    message: str  # one sentence for the user


TrainingEvent = (
    Status
    | Started
    | Progress
    | Preview
    | Checkpointed
    | Paused
    | Resumed
    | Finished
    | Cancelled
    | Failed
)
