"""What a run pays before its first step, measured cheaply on samples and scaled up.

Before step 1 the Trainer reads and scales every painting and practice photo, loads the VGG19
weights and scores every warm-start candidate. Each is timed here on a sample (a photo or two,
a candidate or two), by the same functions the Trainer calls, and multiplied out. Times are taken
warm (after a first untimed go), as the run that follows the estimate in the same process finds
decoders, kernels and the page cache. What was loaded is handed back, so the timed training
steps that follow run on real data at the real sizes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import torch
from torch import nn

from stylestudio.core.errors import WeightsUnavailableError
from stylestudio.core.training import data
from stylestudio.core.training.config import TrainingConfig

if TYPE_CHECKING:
    from stylestudio.core.library import StyleLibrary
    from stylestudio.core.models.generator import GeneratorConfig

#: Photos and paintings decoded to time the reading of all of them (after one untimed).
SAMPLED_IMAGES = 2
#: Warm-start candidates scored to time the scoring of all of them (after one untimed).
SCORED_CANDIDATES = 2
T = TypeVar("T")


@dataclass(frozen=True)
class SetupCost:
    """Seconds each part of the preparation before step 1 is expected to take."""

    images_s: float = 0.0  # decoding, hashing and scaling the paintings and practice photos
    features_s: float = 0.0  # loading the VGG19 weights
    warm_start_s: float = 0.0  # reading and scoring every candidate starting point
    candidates: int = 0

    @property
    def total_s(self) -> float:
        return self.images_s + self.features_s + self.warm_start_s

    def describe(self) -> str:
        return (
            f"images {self.images_s:.1f} s, VGG {self.features_s:.1f} s, "
            f"warm start {self.warm_start_s:.1f} s ({self.candidates} candidates)"
        )


@dataclass(frozen=True)
class Prepared:
    """The measured setup and what it loaded (tensors at the sizes training uses)."""

    cost: SetupCost
    extractor: nn.Module
    styles: list[torch.Tensor]
    contents: list[torch.Tensor]
    generator_config: GeneratorConfig | None  # the warm start's network (None: the config's)


def _timed(work: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def _size(item: data.ImageInput) -> int:
    """Bytes to decode (arrays: their size), the measure the reading time is scaled by."""
    if isinstance(item, np.ndarray):
        return max(1, item.nbytes)
    try:
        return max(1, Path(item).stat().st_size)
    except OSError:
        return 1


def _read_sampled(
    items: Sequence[data.ImageInput], role: str, long_side: int
) -> tuple[list[torch.Tensor], float]:
    """Load a few of ``items`` as training does; the time for all of them, scaled by bytes.

    The first one warms the decoders up untimed (the run, later in the same process, finds
    them warm); with a single item its own time is all there is.
    """
    sampled = list(items[: SAMPLED_IMAGES + 1])
    loaded, times = [], []
    for index, item in enumerate(sampled):
        started = time.perf_counter()
        loaded.append(data.load_source(item, role, index, long_side).tensor)
        times.append(time.perf_counter() - started)
    if not sampled:
        return [], 0.0
    timed = slice(1, None) if len(sampled) > 1 else slice(None)
    per_byte = sum(times[timed]) / sum(_size(i) for i in sampled[timed])
    return loaded, per_byte * sum(_size(i) for i in items)


def _stand_in(long_side: int, count: int, seed: int) -> list[torch.Tensor]:
    """Random 4:3 images at the training size, when no inputs were named."""
    gen = torch.Generator().manual_seed(seed)
    return [torch.rand(3, long_side * 3 // 4, long_side, generator=gen) for _ in range(count)]


def _extractor(
    config: TrainingConfig, given: nn.Module | None, vgg_weights: Path | None
) -> tuple[nn.Module, float]:
    """The extractor the Trainer will use and the time it takes to load.

    Without local weights (the run would download them) a random network of VGG19's shapes
    stands in; building it costs about what loading does.
    """
    if given is not None:
        return given, 0.0
    from stylestudio.core.training.features import VGGShapedProxy, build_feature_extractor

    def load() -> nn.Module:
        return build_feature_extractor(
            config.feature_layers, vgg_weights, allow_download=False, progress=None
        )

    try:
        load()  # a first read may come from the disk; the run finds the file in the page cache
        return _timed(load)
    except WeightsUnavailableError:
        return _timed(lambda: VGGShapedProxy(config.feature_layers))


def _warm_start(
    config: TrainingConfig,
    library: StyleLibrary | None,
    extractor: nn.Module,
    styles: Sequence[torch.Tensor],
    contents: Sequence[torch.Tensor],
) -> tuple[float, int, GeneratorConfig | None]:
    """Time reading the candidates, then scoring a few of them, and extrapolate to all of them,
    as ``Trainer._starting_generator`` scores them (on the CPU, before the networks move to
    the training device). Each is timed a second time, warm, as the run will find it."""
    from stylestudio.core.models.generator import GeneratorConfig
    from stylestudio.core.training import warm_start

    warm_start.base_candidates(library)
    candidates, read_s = _timed(lambda: warm_start.base_candidates(library))
    if not candidates:
        return read_s, 0, None
    sources = [data.SourceImage("", "", (0, 0), c) for c in contents]
    samples = data.preview_samples(sources, config.crop_size, count=2)
    targets, targets_s = _timed(
        lambda: warm_start.painting_targets(
            extractor, styles, config.style_layers, config.style_size // 2, samples.device
        )
    )
    timings = [
        _timed(lambda c=c: warm_start.score(c, extractor, samples, targets))[1]
        for c in candidates[: SCORED_CANDIDATES + 1]
    ]
    warm = timings[1:] or timings  # the first one warms the generator up
    scoring = sum(warm) / len(warm) * len(candidates)
    gen_config = GeneratorConfig.from_dict(candidates[0].params)
    return read_s + targets_s + scoring, len(candidates), gen_config


def prepare(
    config: TrainingConfig,
    *,
    style_images: Sequence[data.ImageInput] | data.ImageInput | None = None,
    content: Sequence[data.ImageInput] | data.ImageInput | None = None,
    library: StyleLibrary | None = None,
    feature_extractor: nn.Module | None = None,
    vgg_weights: Path | None = None,
) -> Prepared:
    """Measure the setup a run of ``config`` on these inputs pays (see the module docstring).

    Without ``style_images`` the paintings' reading is not counted (random stand-ins at
    ``style_size`` are used); without ``content`` the run's fallback photos are timed, as the
    Trainer would read them.
    """
    if isinstance(style_images, str | os.PathLike | np.ndarray):
        style_images = [style_images]
    items = data.expand_content(content) or _fallback_photos(config)
    contents, contents_s = _read_sampled(items, "photo", config.content_size)
    if not contents:
        contents = _stand_in(config.content_size, data.SYNTHETIC_COUNT, config.seed)
    styles, styles_s = _read_sampled(list(style_images or []), "style image", config.style_size)
    if not styles:
        styles = _stand_in(config.style_size, 1, config.seed + 1)
    extractor, features_s = _extractor(config, feature_extractor, vgg_weights)
    warm_s, candidates, gen_config = 0.0, 0, None
    if config.warm_start:
        warm_s, candidates, gen_config = _warm_start(config, library, extractor, styles, contents)
    cost = SetupCost(contents_s + styles_s, features_s, warm_s, candidates)
    return Prepared(cost, extractor, styles, contents, gen_config)


def _fallback_photos(config: TrainingConfig) -> list[data.ImageInput]:
    """What the Trainer practises on without photos: the bundled samples, else generated ones."""
    found: list[data.ImageInput] = list(data.bundled_samples())
    if found:
        return found
    return list(data.synthetic_photos(data.SYNTHETIC_COUNT, config.content_size, config.seed))
