"""How long will training take here? A short timed micro-benchmark, extrapolated.

A few real training steps (generator, discriminator, feature extractor, optimisers) run on random
data at the preset's crop and batch size. The feature extractor is a random-weight network with
VGG19's exact shapes, so estimating needs no downloaded weights and costs the same per step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn

from stylestudio.core.models.generator import GeneratorConfig
from stylestudio.core.training.config import TrainingConfig
from stylestudio.core.training.features import VGGShapedProxy
from stylestudio.core.training.step import TrainingStep

#: Checkpoints, previews and data sampling cost a little on top of the pure step time.
OVERHEAD = 1.05


@dataclass(frozen=True)
class Estimate:
    seconds_per_step: float
    total_s: float  # for config.steps steps, including overhead
    steps: int
    device: str

    def describe(self) -> str:
        """e.g. "about 25 minutes" / "about 3 hours"."""
        minutes = self.total_s / 60
        if minutes < 1.5:
            return "about a minute"
        if minutes < 90:
            return f"about {round(minutes)} minutes"
        return f"about {minutes / 60:.1f} hours"


def estimate_duration(
    config: TrainingConfig,
    device: str | torch.device | None = None,
    *,
    bench_steps: int = 2,
    feature_extractor: nn.Module | None = None,
    generator_config: GeneratorConfig | None = None,
) -> Estimate:
    """Time ``bench_steps`` steps (after one warm-up step) and extrapolate to ``config.steps``.

    ``generator_config``: the network that will be trained; by default the built-in base
    family's when ``config.warm_start`` (what the Trainer will start from), else the config's
    own size. Norm-only steps (cheaper: frozen convolutions) are timed separately.
    """
    from stylestudio.core.engine.device import describe_device, select_device

    dev = device if isinstance(device, torch.device) else select_device(device)
    if generator_config is None and config.warm_start:
        generator_config = _base_generator_config()
    extractor = feature_extractor or VGGShapedProxy(config.feature_layers)
    step = TrainingStep(config, extractor, dev, generator_config=generator_config)
    gen = torch.Generator().manual_seed(0)
    size = (config.batch_size, 3, config.crop_size, config.crop_size)
    style = torch.rand(3, 64, 64, generator=gen)  # targets are computed once, not timed
    step.set_style_targets([style])
    content, real = torch.rand(size, generator=gen), torch.rand(size, generator=gen)

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        elif dev.type == "mps":
            torch.mps.synchronize()

    def timed(phase_step: int) -> float:
        step.set_phase(phase_step)
        step.step(content, real, gen)  # warm-up: allocator, cuDNN autotuning, lazy init
        sync()
        started = time.perf_counter()
        for _ in range(max(1, bench_steps)):
            step.step(content, real, gen)
        sync()
        return (time.perf_counter() - started) / max(1, bench_steps)

    norm_steps = min(config.norm_only_steps, config.steps)
    full_steps = config.steps - norm_steps
    per_full = timed(config.steps) if full_steps else 0.0
    per_norm = timed(0) if norm_steps else 0.0
    total = (per_norm * norm_steps + per_full * full_steps) * OVERHEAD
    return Estimate(total / OVERHEAD / config.steps, total, config.steps, describe_device(dev))


def _base_generator_config() -> GeneratorConfig | None:
    from stylestudio.core import paths
    from stylestudio.core.library import StyleLibrary
    from stylestudio.core.training.warm_start import base_generator_params

    try:
        params = base_generator_params(StyleLibrary(), paths.base_model_dir())
    except Exception:  # an unreadable library only costs the estimate its precision
        return None
    return GeneratorConfig.from_dict(params) if params else None
