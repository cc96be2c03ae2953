"""Time to quality: how good a style is after 30 s, 1, 2, 5 … minutes of training.

Each *training path* (a ``TrainingConfig``, e.g. the ``quick`` preset with its warm start, or
the trainer as it was before warm starts existed) trains on the same painting and photos. While
it runs, the generator is copied whenever the wall clock passes a mark; afterwards every copy is
measured with the quality benchmark (``QualityBench``) on the same evaluation photos, so the
table reads "quality reached after this much waiting", path beside path, in one run.

Wall-clock marks count only training (the copies and the measuring are not timed), from the
Trainer's ``Started`` event, after images and VGG are loaded (a few seconds on every path).
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from stylestudio.core.quality.benchmark import METRICS, BenchConfig, QualityBench, load_average
from stylestudio.core.quality.images import ImageLike, QualityBenchError
from stylestudio.core.quality.magenta import MagentaModels
from stylestudio.core.training.config import TrainingConfig

if TYPE_CHECKING:
    from PIL import Image

Log = Callable[[str], None]

#: The ``quick`` preset as it was before warm starts (1000 steps from a fresh 32-channel,
#: 5-block generator at 192 px crops), with today's scale-free losses: the "old" path.
LEGACY_QUICK = {
    "steps": 1000,
    "crop_size": 192,
    "batch_size": 2,
    "style_size": 384,
    "content_size": 512,
    "norm_only_steps": 0,
    "warm_start": False,
    "generator_channels": 32,
    "generator_blocks": 5,
    "checkpoint_every": 250,
    "preview_every": 50,
}

#: The ``balanced`` preset as it was before warm starts: the trainer's first defaults (4000 steps
#: at 256-px crops × 4 from a fresh 32-channel, 5-block generator), today's losses: the reference
#: the fast-training issue measures the new ``quick`` against. About 9 hours on a 2-core CPU.
LEGACY_BALANCED = {
    "steps": 4000,
    "crop_size": 256,
    "batch_size": 4,
    "style_size": 512,
    "content_size": 640,
    "norm_only_steps": 0,
    "warm_start": False,
    "generator_channels": 32,
    "generator_blocks": 5,
    "checkpoint_every": 500,
    "preview_every": 100,
}
#: Training paths named after the presets they were: name → (today's preset, its old settings).
LEGACY_PATHS: dict[str, tuple[str, dict[str, object]]] = {
    "legacy-quick": ("quick", LEGACY_QUICK),
    "legacy-balanced": ("balanced", LEGACY_BALANCED),
}


NO_GAN_SUFFIX = "-no-gan"
#: The losses before the palette loss: no palette term, smoothness weight 10.
NO_PALETTE_SUFFIX = "-no-palette"
_SUFFIXES: dict[str, dict[str, object]] = {
    NO_GAN_SUFFIX: {"use_adversarial": False},
    NO_PALETTE_SUFFIX: {"color_weight": 0.0, "tv_weight": 10.0},
}


def training_path(name: str) -> TrainingConfig:
    """A preset name, ``legacy-quick`` or ``legacy-balanced`` (see ``LEGACY_PATHS``), then any of
    the suffixes:
    ``-no-gan`` (the adversarial term off: the GAN ablation, same steps and seed) and
    ``-no-palette`` (the losses before the palette loss)."""
    base = name
    overrides: dict[str, object] = {}
    stripped = True
    while stripped:
        stripped = False
        for suffix, changes in _SUFFIXES.items():
            if base.endswith(suffix):
                base = base.removesuffix(suffix)
                overrides.update(changes)
                stripped = True
    if base in LEGACY_PATHS:
        preset, settings = LEGACY_PATHS[base]
        return TrainingConfig.preset(preset, **{**settings, **overrides})
    return TrainingConfig.preset(base, **overrides)


def render_strip(
    results: Sequence[PathResult], photos: Sequence[ImageLike], size: int = 256
) -> Image.Image:
    """Rows: photos; columns: the photo, then each path's last snapshot on it (labelled)."""
    from PIL import Image, ImageDraw

    from stylestudio.core.models.generator import Generator, GeneratorConfig
    from stylestudio.core.quality.images import fit_long_side, load_rgb, to_uint8

    cells: list[list[Image.Image]] = []
    labels = ["photo", *(f"{r.name} ({r.snapshots[-1].seconds:.0f} s)" for r in results)]
    nets = []
    for result in results:
        snap = result.snapshots[-1]
        net = Generator(GeneratorConfig.from_dict(snap.params))
        net.load_state_dict(snap.state)
        nets.append(net.eval())
    for item in photos:
        photo = fit_long_side(load_rgb(item, "photo"), size)
        row = [Image.fromarray(to_uint8(photo))]
        x = torch.from_numpy(photo).permute(2, 0, 1)[None].float()
        with torch.no_grad():
            for net in nets:
                out = net(x)[0].permute(1, 2, 0).numpy()
                row.append(Image.fromarray(to_uint8(out)))
        cells.append(row)
    width = max(c.width for row in cells for c in row)
    height = max(c.height for row in cells for c in row)
    sheet = Image.new("RGB", (width * len(labels), 18 + height * len(cells)), "white")
    draw = ImageDraw.Draw(sheet)
    for col, label in enumerate(labels):
        draw.text((col * width + 4, 3), label, fill="black")
    for r, row in enumerate(cells):
        for col, cell in enumerate(row):
            sheet.paste(cell, (col * width, 18 + r * height))
    return sheet


@dataclass(frozen=True)
class Snapshot:
    seconds: float  # training wall time when taken
    step: int
    params: dict[str, int]
    state: dict[str, torch.Tensor]


@dataclass
class PathResult:
    name: str
    config: TrainingConfig
    snapshots: list[Snapshot] = field(default_factory=list)
    finished_s: float | None = None  # wall time of the whole run (None: stopped at the budget)
    steps_done: int = 0
    started_from: str | None = None
    peak_rss_mb: float | None = None
    scores: dict[float, dict[str, float | None]] = field(default_factory=dict)  # mark → medians


def _copy(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A copy that later steps cannot change (CPU state dicts share the live storage)."""
    return {k: v.clone() for k, v in state.items()}


def _rss_mb() -> float | None:
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    except (ImportError, OSError):  # pragma: no cover - Windows
        return None


def train_with_snapshots(
    name: str,
    config: TrainingConfig,
    painting: ImageLike,
    photos: Sequence[ImageLike] | Path,
    marks: Sequence[float],
    *,
    budget_s: float,
    builtin_dir: Path | None = None,
    vgg_weights: Path | None = None,
    device: str = "cpu",
    log: Log | None = None,
) -> PathResult:
    """Train one path, copying the generator at each wall-clock mark (and at the end)."""
    from stylestudio.core.library import StyleLibrary
    from stylestudio.core.training import events
    from stylestudio.core.training.run import TrainingRun
    from stylestudio.core.training.trainer import Trainer

    result = PathResult(name, config)
    pending = sorted(marks)
    clock: dict[str, float] = {}
    holder: dict[str, Trainer] = {}

    def snapshot(seconds: float, step: int) -> None:
        step_obj = holder["trainer"].training_step
        assert step_obj is not None
        result.snapshots.append(
            Snapshot(
                seconds, step, step_obj.G.config.to_dict(), _copy(step_obj.generator_state_dict())
            )
        )

    def on_event(event: events.TrainingEvent) -> None:
        if isinstance(event, events.Started):
            clock["start"] = time.monotonic()
            clock["paused"] = 0.0
        elif isinstance(event, events.Progress) and "start" in clock:
            now = time.monotonic()
            seconds = now - clock["start"] - clock["paused"]
            result.steps_done = event.step
            while pending and seconds >= pending[0]:
                taken = time.monotonic()
                snapshot(pending.pop(0), event.step)
                clock["paused"] += time.monotonic() - taken
            if seconds >= budget_s:
                holder["trainer"].cancel(keep_checkpoint=False)
        elif isinstance(event, events.Status) and log is not None:
            log(f"  [{name}] {event.message}")

    with tempfile.TemporaryDirectory(prefix="stylestudio-ttq-") as tmp:
        library = StyleLibrary(user_dir=Path(tmp) / "styles", builtin_dir=builtin_dir)
        run = TrainingRun(
            config,
            [painting],
            photos,
            name=f"ttq {name}",
            vgg_weights=vgg_weights,
            device=device,
            run_dir=Path(tmp) / "run",
            allow_download=False,
        )
        trainer = Trainer(run, library, on_event=on_event)
        holder["trainer"] = trainer
        from stylestudio.core.errors import CancelledError

        try:
            record = trainer.run()
            seconds = time.monotonic() - clock["start"] - clock["paused"]
            result.finished_s = seconds
            if record is not None:
                result.started_from = record.manifest.training.get("started_from")
        except CancelledError:
            seconds = budget_s
        step_obj = trainer.training_step
        if step_obj is not None and (
            not result.snapshots or result.snapshots[-1].seconds < seconds
        ):
            result.snapshots.append(
                Snapshot(
                    seconds,
                    trainer.step_count,
                    step_obj.G.config.to_dict(),
                    _copy(step_obj.generator_state_dict()),
                )
            )
        result.steps_done = trainer.step_count
    result.peak_rss_mb = _rss_mb()
    return result


def _magenta(bench_config: BenchConfig) -> MagentaModels | None:
    """The Magenta reference models when they are available (the independent style metric)."""
    from stylestudio.core.quality.magenta import load_magenta

    try:
        return load_magenta(device=bench_config.device)
    except QualityBenchError:
        return None


def measure(
    results: Sequence[PathResult],
    painting: ImageLike,
    photos: Sequence[ImageLike],
    bench_config: BenchConfig,
    *,
    vgg_weights: Path | None = None,
) -> dict[str, dict[str, float | None]]:
    """Fill ``result.scores`` (the medians of every snapshot) and return, for scale, the medians
    of the photo itself and of Magenta arbitrary (when its models are there).

    Everything is measured in one benchmark run, so the painting and the photos are measured
    once.
    """
    from stylestudio.core.models.generator import Generator, GeneratorConfig

    bench = QualityBench(bench_config, vgg_weights=vgg_weights, magenta=_magenta(bench_config))
    methods = [bench.photo()]
    with contextlib.suppress(Exception):  # no ONNX models / onnxruntime: no such row
        methods.append(bench.magenta())
    snapshots: dict[str, tuple[PathResult, float]] = {}
    for result in results:
        for snap in result.snapshots:
            net = Generator(GeneratorConfig.from_dict(snap.params))
            net.load_state_dict(snap.state)
            net.eval()
            label = f"{result.name}@{snap.seconds:.1f}s"
            snapshots[label] = (result, snap.seconds)
            methods.append(bench.style(net, label=label))
    report = bench.run([painting], photos, methods)
    baselines: dict[str, dict[str, float | None]] = {}
    for summary in report.summaries:
        if summary.method in snapshots:
            result, seconds = snapshots[summary.method]
            result.scores[seconds] = dict(summary.medians)
        else:
            baselines[summary.method] = dict(summary.medians)
    return baselines


def format_table(
    results: Sequence[PathResult], baselines: dict[str, dict[str, float | None]]
) -> str:
    """A Markdown table: one row per (path, mark)."""

    def cell(value: float | None) -> str:
        return "–" if value is None else f"{value:.3f}"

    header = "| path | after | step | " + " | ".join(METRICS) + " |"
    lines = [header, "|" + "---|" * (3 + len(METRICS))]
    for name, medians in baselines.items():
        lines.append(
            f"| {name} | – | – | " + " | ".join(cell(medians.get(m)) for m in METRICS) + " |"
        )
    for result in results:
        for snap in result.snapshots:
            medians = result.scores.get(snap.seconds, {})
            after = f"{snap.seconds:.0f} s"
            lines.append(
                f"| {result.name} | {after} | {snap.step} | "
                + " | ".join(cell(medians.get(m)) for m in METRICS)
                + " |"
            )
    lines.append("")
    for result in results:
        done = (
            f"finished {result.config.steps} steps in {result.finished_s:.0f} s"
            if result.finished_s is not None
            else f"stopped at the budget after {result.steps_done} steps"
        )
        start = f", started from {result.started_from}" if result.started_from else ""
        peak = f", peak RSS {result.peak_rss_mb:.0f} MB" if result.peak_rss_mb else ""
        lines.append(f"- {result.name}: {done}{start}{peak}")
    lines.append(f"- load average: {load_average()}")
    return "\n".join(lines)
