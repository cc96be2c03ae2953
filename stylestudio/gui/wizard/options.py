"""Settings of the wizard that the user does not edit (device, weights, test hooks)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from stylestudio.core.training.config import TrainingConfig

if TYPE_CHECKING:
    from stylestudio.core.library import StyleLibrary
    from stylestudio.core.training.estimate import Estimate


@dataclass(frozen=True)
class EstimateInputs:
    """What the run will read: its setup (reading the images, choosing the warm start among
    the library's base styles, loading VGG19) is part of the time it takes."""

    style_images: tuple[Path, ...] = ()
    content: tuple[Path, ...] | Path | None = None  # photos, a folder, or None: the samples
    library: StyleLibrary | None = None
    vgg_weights: Path | None = None


#: ``(config, device, inputs) -> Estimate`` (see ``default_estimator``).
Estimator = Callable[[TrainingConfig, str | None, EstimateInputs], "Estimate"]


def default_estimator(
    config: TrainingConfig, device: str | None, inputs: EstimateInputs
) -> Estimate:
    from stylestudio.core.training import estimate_duration

    return estimate_duration(
        config,
        device,
        style_images=list(inputs.style_images) or None,
        content=inputs.content,
        library=inputs.library,
        vgg_weights=inputs.vgg_weights,
    )


@dataclass
class WizardOptions:
    device: str | None = None  # None: the trainer picks (CUDA → MPS → CPU, or $STYLESTUDIO_DEVICE)
    vgg_weights: Path | None = None
    allow_download: bool = True  # the VGG resolver still honours $STYLESTUDIO_OFFLINE
    estimator: Estimator = default_estimator
    #: Applied to the config built from the settings page (tests: tiny networks; power users).
    config_hook: Callable[[TrainingConfig], TrainingConfig] | None = None
    #: Checkpoint folder; None: ``default_run_dir(name)`` under the user cache.
    run_dir: Path | None = None
    use_tray: bool = True  # a system-tray message when training ends with the wizard hidden
