"""How long will training take here? The wall time from Start to the saved style, measured.

Everything a real run does is timed on this machine, now, by the functions the Trainer calls,
and multiplied by how often the run does it:

- the setup before step 1 (reading the images, loading VGG19, choosing the warm start among
  the base model's rows), sampled and scaled up (see ``setup_cost``);
- the Gram targets and building the networks;
- a few training steps of each phase (norm-only, then every weight) on real crops;
- one preview, one checkpoint, and saving the style.

Each is timed warm (after an untimed first go): the run that follows in the same process (the
wizard's, say) finds the decoders, kernels and the page cache warm.

Without local VGG19 weights a random network with VGG19's exact shapes stands in (same cost
per step), so estimating needs no download.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import torch
from torch import nn

from stylestudio.core.models.generator import GeneratorConfig
from stylestudio.core.training import data
from stylestudio.core.training.config import TrainingConfig
from stylestudio.core.training.schedule import RunSchedule
from stylestudio.core.training.setup_cost import SetupCost, prepare
from stylestudio.core.training.step import TrainingStep
from stylestudio.core.training.threads import training_threads

if TYPE_CHECKING:
    from stylestudio.core.library import StyleLibrary

T = TypeVar("T")


@dataclass(frozen=True)
class Estimate:
    seconds_per_step: float  # mean over the run's steps (both phases, crop sampling included)
    total_s: float  # wall time of the whole run of ``steps`` steps, setup to saved style
    steps: int
    device: str
    norm_step_s: float = 0.0  # one norm-only step
    full_step_s: float = 0.0  # one step training every weight
    setup_s: float = 0.0  # before step 1: images, VGG, warm start, Gram targets, networks
    preview_s: float = 0.0  # each live preview (the last step always has one)
    checkpoint_s: float = 0.0  # each checkpoint
    finish_s: float = 0.0  # the thumbnail and saving the style into the library
    setup: SetupCost = field(default_factory=SetupCost)

    def total_for(self, config: TrainingConfig) -> float:
        """Wall time of a run of ``config`` (same cost settings, any steps or schedule)."""
        schedule = RunSchedule.of(config)
        norm = min(config.norm_only_steps, config.steps)
        return (
            self.setup_s
            + norm * self.norm_step_s
            + (config.steps - norm) * self.full_step_s
            + schedule.previews_after(0) * self.preview_s
            + schedule.checkpoints_after(0) * self.checkpoint_s
            + self.finish_s
        )

    def until_first_preview(self, config: TrainingConfig) -> float:
        """Seconds from Start until the first live preview is shown."""
        schedule = RunSchedule.of(config)
        first = next(s for s in range(1, config.steps + 1) if schedule.previews_at(s))
        norm = min(config.norm_only_steps, first)
        return self.setup_s + norm * self.norm_step_s + (first - norm) * self.full_step_s

    def describe(self) -> str:
        """e.g. "about 25 minutes" / "about 3 hours"."""
        minutes = self.total_s / 60
        if minutes < 1.5:
            return "about a minute"
        if minutes < 90:
            return f"about {round(minutes)} minutes"
        return f"about {minutes / 60:.1f} hours"

    def breakdown(self) -> str:
        """One line: where the time goes (for logs and tests)."""
        return (
            f"setup {self.setup_s:.1f} s ({self.setup.describe()}), "
            f"steps {self.norm_step_s:.2f}/{self.full_step_s:.2f} s (norm-only/full), "
            f"preview {self.preview_s:.2f} s, "
            f"checkpoint {self.checkpoint_s:.2f} s, saving {self.finish_s:.2f} s"
        )


def _timed(work: Callable[[], T], sync: Callable[[], None]) -> tuple[T, float]:
    started = time.perf_counter()
    result = work()
    sync()
    return result, time.perf_counter() - started


def estimate_duration(
    config: TrainingConfig,
    device: str | torch.device | None = None,
    *,
    bench_steps: int = 2,
    feature_extractor: nn.Module | None = None,
    generator_config: GeneratorConfig | None = None,
    style_images: Sequence[data.ImageInput] | data.ImageInput | None = None,
    content: Sequence[data.ImageInput] | data.ImageInput | None = None,
    library: StyleLibrary | None = None,
    vgg_weights: Path | None = None,
) -> Estimate:
    """Measure what a run of ``config`` costs here (see the module docstring).

    ``bench_steps``: timed steps per phase, after one warm-up step. ``generator_config``: the
    network that will be trained; by default the warm start's (the base family's) when
    ``config.warm_start``, else the config's own size. ``style_images``, ``content``,
    ``library`` and ``vgg_weights`` are the run's (as ``TrainingRun`` takes them); without a
    library the user's is assumed, without images see ``setup_cost.prepare``.
    """
    from stylestudio.core.engine.device import describe_device, select_device

    dev = device if isinstance(device, torch.device) else select_device(device)
    with training_threads(dev):  # the threads the run itself will use

        def sync() -> None:
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)
            elif dev.type == "mps":
                torch.mps.synchronize()

        if library is None and config.warm_start:
            from stylestudio.core.library import StyleLibrary

            library = StyleLibrary()
        prepared = prepare(
            config,
            style_images=style_images,
            content=content,
            library=library,
            feature_extractor=feature_extractor,
            vgg_weights=vgg_weights,
        )
        gen_config = generator_config or prepared.generator_config
        step, build_s = _timed(
            lambda: TrainingStep(config, prepared.extractor, dev, generator_config=gen_config), sync
        )
        _, targets_s = _timed(lambda: step.set_style_targets(prepared.styles), sync)

        content_sampler = data.CropSampler(
            prepared.contents, config.crop_size, config.min_crop_scale
        )
        real_sampler = data.CropSampler(
            prepared.styles, config.crop_size, min(config.style_scales), max(config.style_scales)
        )
        gen = torch.Generator().manual_seed(config.seed)

        def one_step() -> None:  # what one turn of the Trainer's loop does
            step.step(
                content_sampler.sample(config.batch_size, gen),
                real_sampler.sample(config.batch_size, gen),
                gen,
            )

        def phase(phase_step: int, warm_up: bool, count: int) -> float:
            """Seconds per step of the phase ``phase_step`` is in, the mean of ``count`` steps."""
            step.set_phase(phase_step)
            if warm_up:  # allocator, lazy init, optimiser state, cuDNN autotuning
                one_step()
                sync()
            _, timed = _timed(lambda: [one_step() for _ in range(count)], sync)
            return timed / count

        count = max(1, bench_steps)
        norm_steps = min(config.norm_only_steps, config.steps)
        full_steps = config.steps - norm_steps
        per_norm = phase(0, True, count) if norm_steps else 0.0
        # After the norm-only phase the process is warm (its first full step costs as much as the
        # others): the step that would warm up is timed too, one more sample of a noisy machine.
        per_full = (
            phase(config.steps, not norm_steps, count + bool(norm_steps)) if full_steps else 0.0
        )

        sources = [data.SourceImage("", "", (0, 0), c) for c in prepared.contents]
        samples = data.preview_samples(sources, config.preview_size)

        def preview() -> None:  # as Trainer._preview_pairs
            after = step.stylize(samples)
            _ = [(data.to_array(b), data.to_array(a)) for b, a in zip(samples, after, strict=True)]

        preview()  # warm-up: the first run of the generator at the preview size
        _, preview_s = _timed(preview, sync)
        checkpoint_s = _time_checkpoint(step)
        finish_s = _time_saving(step, sources, library, sync)

        estimate = Estimate(
            seconds_per_step=(per_norm * norm_steps + per_full * full_steps) / config.steps,
            total_s=0.0,
            steps=config.steps,
            device=describe_device(dev),
            norm_step_s=per_norm,
            full_step_s=per_full,
            setup_s=prepared.cost.total_s + build_s + targets_s,
            preview_s=preview_s,
            checkpoint_s=checkpoint_s,
            finish_s=finish_s,
            setup=prepared.cost,
        )
        return _with_total(estimate, config)


def _with_total(estimate: Estimate, config: TrainingConfig) -> Estimate:
    return replace(estimate, total_s=estimate.total_for(config))


def _time_checkpoint(step: TrainingStep) -> float:
    """One checkpoint written (atomically, as the run does) into a throw-away folder."""
    from stylestudio.core.training import checkpoint as ckpt

    with tempfile.TemporaryDirectory(prefix="stylestudio-estimate-") as folder:
        started = time.perf_counter()
        ckpt.save_checkpoint(Path(folder), 1, step, {"estimate": True})
        return time.perf_counter() - started


def _time_saving(
    step: TrainingStep,
    sources: Sequence[data.SourceImage],
    library: StyleLibrary | None,
    sync: Callable[[], None],
) -> float:
    """The thumbnail, the library listing and the style folder, as ``Trainer._save_style``
    writes them (into a throw-away folder, not the library)."""
    from PIL import Image

    from stylestudio.core import stylepack
    from stylestudio.core.imageio import to_uint8
    from stylestudio.core.models.generator import ARCHITECTURE_NAME
    from stylestudio.core.training.trainer import THUMBNAIL_SIZE

    started = time.perf_counter()
    thumb = step.stylize(data.preview_samples(sources, THUMBNAIL_SIZE, count=1))
    sync()
    thumbnail = Image.fromarray(to_uint8(data.to_array(thumb[0])), "RGB")
    if library is not None:
        library.list()
    manifest = stylepack.StyleManifest(
        id="estimate",
        name="Estimate",
        version=1,
        architecture=ARCHITECTURE_NAME,
        params=step.G.config.to_dict(),
        created=stylepack.utc_now_iso(),
        weights_sha256="",
    )
    with tempfile.TemporaryDirectory(prefix="stylestudio-estimate-") as folder:
        stylepack.write_style_folder(Path(folder), manifest, step.generator_state_dict(), thumbnail)
        return time.perf_counter() - started
