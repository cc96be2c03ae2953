"""``TrainingRun``: everything that defines one training run, in one frozen value.

The CLI (``stylestudio train``), the wizard and the quality tools build one and hand it to
``Trainer``; live collaborators (the library, the event callback, a replacement feature
extractor) are passed to the Trainer separately. Importable without torch.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Union

import numpy as np

from stylestudio.core.training.config import TrainingConfig

if TYPE_CHECKING:
    import torch

    from stylestudio.core.library import StyleRecord

#: A training image: a path or a float32 (H, W, 3) RGB array in [0, 1].
ImageInput = Union[str, "os.PathLike[str]", np.ndarray]


@dataclass(frozen=True)
class TrainingRun:
    """One run's inputs and settings (see ``Trainer`` for what each one does)."""

    config: TrainingConfig
    #: The paintings to learn from (at least one).
    style_images: Sequence[ImageInput] | ImageInput
    #: Practice photos: files, arrays, a folder, or None for the bundled samples.
    content: Sequence[ImageInput] | ImageInput | None = None
    name: str = "My style"
    description: str = ""
    #: A ``StyleRecord``, a style id/name in the library, a style folder/.stylepack, or None.
    start_from: StyleRecord | str | Path | None = None
    vgg_weights: Path | None = None
    device: str | torch.device | None = None
    #: Checkpoint folder (default: ``default_run_dir(name)``).
    run_dir: Path | None = None
    #: Continue from the checkpoint in the run folder.
    resume: bool = False
    allow_download: bool = True

    def replace(self, **changes: object) -> TrainingRun:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
