"""Qt-free style training: settings, events and the Trainer (see ``trainer.py``).

``TrainingConfig`` and the event classes import without torch; ``Trainer``, ``estimate_duration``
and friends are loaded on first use.
"""

from __future__ import annotations

from typing import Any

from stylestudio.core.training.config import PRESET_NAMES, TrainingConfig
from stylestudio.core.training.events import (
    Cancelled,
    Checkpointed,
    Failed,
    Finished,
    Paused,
    Preview,
    Progress,
    Resumed,
    Started,
    Status,
    TrainingEvent,
)

_LAZY = {
    "Trainer": "stylestudio.core.training.trainer",
    "default_run_dir": "stylestudio.core.training.trainer",
    "estimate_duration": "stylestudio.core.training.estimate",
    "Estimate": "stylestudio.core.training.estimate",
    "latest_checkpoint": "stylestudio.core.training.checkpoint",
    "check_inputs": "stylestudio.core.training.data",
}

__all__ = [
    "PRESET_NAMES",
    "Cancelled",
    "Checkpointed",
    "Estimate",
    "Failed",
    "Finished",
    "Paused",
    "Preview",
    "Progress",
    "Resumed",
    "Started",
    "Status",
    "Trainer",
    "TrainingConfig",
    "TrainingEvent",
    "check_inputs",
    "default_run_dir",
    "estimate_duration",
    "latest_checkpoint",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(module), name)
