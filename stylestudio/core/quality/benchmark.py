"""The quality benchmark: several methods on the same paintings and photos, measured alike.

Python use (the CLI is ``stylestudio bench quality``)::

    from stylestudio.core.quality import BenchConfig, QualityBench, evaluate_style

    report = evaluate_style("ink-wash", ["starry.jpg"], ["photos/a.jpg", "photos/b.jpg"])
    report.summary("starry", "style:ink-wash").medians["style"]

    bench = QualityBench(BenchConfig(size=256))
    generator_scores = bench.run(["starry.jpg"], photos, [bench.style(my_generator)])

Photos are scaled so their long side is ``size``; paintings so theirs is ``style_size`` (default:
the same). Every output is rounded to 8 bits before it is measured. Medians are over photos.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from stylestudio.core.errors import StyleStudioError
from stylestudio.core.quality.gatys import GatysConfig
from stylestudio.core.quality.images import (
    ImageLike,
    QualityBenchError,
    fit_long_side,
    image_name,
    load_rgb,
    quantize,
    to_uint8,
)
from stylestudio.core.quality.magenta import MagentaModels
from stylestudio.core.quality.methods import (
    GatysMethod,
    MagentaMethod,
    Method,
    MethodKind,
    Painting,
    PhotoMethod,
    StyleMethod,
    TrainMethod,
)
from stylestudio.core.quality.metrics import MetricConfig, PhotoTarget, QualityMetrics, Scores

#: Metric names in table order; lower is better for all of them.
METRICS: tuple[str, ...] = ("style", "content", "magenta", "swd")
Log = Callable[[str], None]


@dataclass(frozen=True)
class BenchConfig:
    size: int = 384  # photos' long side
    style_size: int | None = None  # paintings' long side (None: ``size``)
    device: str = "cpu"
    seed: int = 0
    metrics: MetricConfig = field(default_factory=MetricConfig)
    gatys: GatysConfig = field(default_factory=GatysConfig)
    max_photos: int | None = None  # use only the first N photos
    keep_outputs: bool = True  # keep 8-bit outputs in the report (contact sheets)

    def validated(self) -> BenchConfig:
        if self.size < 16 or (self.style_size is not None and self.style_size < 16):
            raise QualityBenchError("Image sizes must be at least 16 pixels.")
        if self.max_photos is not None and self.max_photos < 1:
            raise QualityBenchError("max_photos must be at least 1.")
        self.gatys.validated()
        return self


@dataclass(frozen=True)
class Row:
    """One method's output on one photo for one painting."""

    painting: str
    photo: str
    method: str
    scores: Scores
    seconds: float
    cached: bool = False


@dataclass(frozen=True)
class Summary:
    """Medians over photos of one method for one painting."""

    painting: str
    method: str
    kind: MethodKind
    medians: dict[str, float | None]
    seconds: float  # median time per image
    train_seconds: float | None
    photos: int
    cached: int  # how many outputs came from the cache
    #: Median over photos of the Gatys objective (see ``objective``); None without scores.
    objective: float | None = None


@dataclass
class QualityReport:
    paintings: dict[str, np.ndarray]  # name → the painting as measured (8-bit values)
    photos: list[str]
    methods: list[str]
    rows: list[Row]
    summaries: list[Summary]
    environment: dict[str, str]
    outputs: dict[tuple[str, str, str], np.ndarray] = field(default_factory=dict)  # uint8
    photo_images: dict[str, np.ndarray] = field(default_factory=dict)  # uint8
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self, painting: str, method: str) -> Summary:
        for item in self.summaries:
            if item.painting == painting and item.method == method:
                return item
        raise KeyError((painting, method))

    def scores(self, painting: str, method: str) -> list[Scores]:
        return [r.scores for r in self.rows if r.painting == painting and r.method == method]

    def gap(self, painting: str, method: str) -> float | None:
        """The method's objective over Gatys optimisation's on the same painting and photos:
        the amortisation gap of a feed-forward style (None when Gatys did not run)."""
        ours = self.summary(painting, method).objective
        gatys = [
            s.objective
            for s in self.summaries
            if s.painting == painting and s.kind is MethodKind.GATYS
        ]
        if ours is None or not gatys or not gatys[0]:
            return None
        return ours / gatys[0]


def objective(scores: Scores, weights: GatysConfig) -> float:
    """``content_weight · content + style_weight · style`` with the Gatys weights: what Gatys
    optimisation minimises, for any method's output. With the trainer's weights (content 1,
    style 5: ``--gatys-style-weight 5``) it is the trainer's perceptual objective, measured
    with the benchmark's layers (relu1_1…relu5_1 at one scale, whole images)."""
    return weights.content_weight * scores.content + weights.style_weight * scores.style


def load_average() -> str:
    if not hasattr(os, "getloadavg"):
        return "n/a"
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _unique_names(items: Sequence[ImageLike]) -> list[str]:
    names: list[str] = []
    for i, item in enumerate(items):
        name = image_name(item, i)
        while name in names:
            name = f"{name}-{i + 1}"
        names.append(name)
    return names


class QualityBench:
    """Holds the measuring tools (feature network, Magenta models) across runs."""

    def __init__(
        self,
        config: BenchConfig | None = None,
        *,
        feature_extractor: nn.Module | None = None,
        vgg_weights: Path | None = None,
        magenta: MagentaModels | None = None,
        log: Log | None = None,
    ) -> None:
        self.config = (config or BenchConfig()).validated()
        self.log: Log = log or (lambda _message: None)
        self.metrics = QualityMetrics(
            self.config.metrics,
            feature_extractor=feature_extractor,
            vgg_weights=vgg_weights,
            magenta=magenta,
            device=self.config.device,
        )
        self.device = str(self.metrics.device)  # resolved: "auto" becomes the real device
        self.vgg_weights = vgg_weights
        self._custom_features = feature_extractor is not None

    # -- method factories (they share this bench's device and networks) ----------------------

    def photo(self) -> Method:
        return PhotoMethod()

    def style(self, style: str | Path | nn.Module, label: str | None = None) -> Method:
        return StyleMethod(style, self.device, label=label)

    def train(
        self,
        preset: str = "quick",
        content: ImageLike | list[ImageLike] | None = None,
        **overrides: object,
    ) -> Method:
        return TrainMethod(
            preset,
            self.device,
            content=content,
            vgg_weights=self.vgg_weights,
            feature_extractor=self.metrics.features if self._custom_features else None,
            seed=self.config.seed,
            overrides=overrides,
            log=self.log,
        )

    def gatys(self, config: GatysConfig | None = None, cache_dir: Path | None = None) -> Method:
        return GatysMethod(
            self.metrics.features,
            config or self.config.gatys,
            self.device,
            cache_dir=cache_dir,
            log=self.log,
        )

    def magenta(self) -> Method:
        if self.metrics.magenta is None:
            raise QualityBenchError("The Magenta method needs the Magenta models.")
        return MagentaMethod(self.metrics.magenta)

    # -- running ---------------------------------------------------------------------------

    def prepare_photos(self, photos: Sequence[ImageLike]) -> tuple[list[str], list[np.ndarray]]:
        if self.config.max_photos is not None:
            photos = list(photos)[: self.config.max_photos]
        if not photos:
            raise QualityBenchError("No photos to benchmark on.")
        names = _unique_names(photos)
        images = [fit_long_side(load_rgb(p, "photo"), self.config.size) for p in photos]
        return names, images

    def prepare_painting(self, painting: ImageLike, name: str) -> Painting:
        size = self.config.style_size or self.config.size
        image = fit_long_side(load_rgb(painting, "painting"), size)
        return Painting(name, image, painting, self.metrics.style_target(image))

    def run(
        self,
        paintings: Sequence[ImageLike],
        photos: Sequence[ImageLike],
        methods: Sequence[Method],
    ) -> QualityReport:
        """Every method on every photo for every painting; medians per (painting, method)."""
        if not paintings:
            raise QualityBenchError("No paintings to benchmark against.")
        if not methods:
            raise QualityBenchError("No methods to benchmark.")
        labels = [m.label for m in methods]
        if len(set(labels)) != len(labels):
            raise QualityBenchError(f"Two methods have the same label: {', '.join(labels)}.")
        started = time.perf_counter()
        torch.manual_seed(self.config.seed)
        # Every input is read first, so a bad file is reported before any long computation.
        photo_names, photo_images = self.prepare_photos(photos)
        prepared = [
            self.prepare_painting(source, name)
            for source, name in zip(paintings, _unique_names(paintings), strict=True)
        ]
        report = QualityReport({}, photo_names, labels, [], [], self.environment())
        measured = [self.metrics.measure(im, "photo") for im in photo_images]
        if self.config.keep_outputs:
            report.photo_images = {
                n: to_uint8(im) for n, im in zip(photo_names, photo_images, strict=True)
            }
        for index, painting in enumerate(prepared):
            report.paintings[painting.name] = to_uint8(painting.image)
            self.log(f"painting {index + 1}/{len(prepared)}: {painting.name}")
            targets = [self.metrics.photo_target(m, painting.target) for m in measured]
            for method in methods:
                try:
                    rows, train_s = self._run_method(
                        method, painting, photo_names, photo_images, targets, report
                    )
                except StyleStudioError as exc:  # e.g. training refused the painting: go on
                    report.notes.append(f"{method.label} failed on {painting.name}: {exc}")
                    self.log(f"  {method.label} failed: {exc}")
                    continue
                report.rows.extend(rows)
                report.summaries.append(self._summarise(painting.name, method, rows, train_s))
        report.seconds = time.perf_counter() - started
        report.environment["load average at end"] = load_average()
        return report

    def _run_method(
        self,
        method: Method,
        painting: Painting,
        photo_names: list[str],
        photo_images: list[np.ndarray],
        targets: list[PhotoTarget],
        report: QualityReport,
    ) -> tuple[list[Row], float | None]:
        train_s = method.prepare(painting)
        if train_s is not None:
            self.log(f"  {method.label}: trained in {train_s:.0f} s")
        rows = []
        for photo_name, image, target in zip(photo_names, photo_images, targets, strict=True):
            out = method.apply(image)
            output = quantize(out.image)
            # The unchanged photo (the baseline) is already measured.
            same = output.shape == image.shape and np.array_equal(output, image)
            scores = self.metrics.score(
                target.measurement if same else output, painting.target, target
            )
            rows.append(
                Row(painting.name, photo_name, method.label, scores, out.seconds, out.cached)
            )
            if self.config.keep_outputs:
                report.outputs[(painting.name, photo_name, method.label)] = to_uint8(output)
            self.log(
                f"  {method.label} on {photo_name}: style {scores.style:.3f} "
                f"content {scores.content:.3f} ({out.seconds:.1f} s"
                f"{', cached' if out.cached else ''})"
            )
        return rows, train_s

    def _summarise(
        self, painting: str, method: Method, rows: list[Row], train_s: float | None
    ) -> Summary:
        medians = {name: _median([r.scores.as_dict()[name] for r in rows]) for name in METRICS}
        objectives = [objective(r.scores, self.config.gatys) for r in rows]
        return Summary(
            painting=painting,
            method=method.label,
            kind=method.kind,
            medians=medians,
            seconds=statistics.median(r.seconds for r in rows),
            train_seconds=train_s,
            photos=len(rows),
            cached=sum(r.cached for r in rows),
            objective=_median(objectives),
        )

    def environment(self) -> dict[str, str]:
        cfg = self.config
        features = type(self.metrics.features).__name__
        return {
            "device": str(self.metrics.device),
            "torch": torch.__version__,
            "threads": str(torch.get_num_threads()),
            "cpu": platform.processor() or platform.machine(),
            "feature network": features,
            "photo size": f"{cfg.size} px long side",
            "painting size": f"{cfg.style_size or cfg.size} px long side",
            "magenta": "yes" if self.metrics.magenta is not None else "no",
            "seed": str(cfg.seed),
            "load average at start": load_average(),
        }


def evaluate_style(
    style: str | Path | nn.Module,
    paintings: Sequence[ImageLike],
    photos: Sequence[ImageLike],
    config: BenchConfig | None = None,
    *,
    baseline: bool = True,
    feature_extractor: nn.Module | None = None,
    vgg_weights: Path | None = None,
    magenta: MagentaModels | None = None,
) -> QualityReport:
    """The metrics of one style (id, folder, pack or generator module) on photos, per painting.

    With ``baseline`` the unchanged photo is measured too (row ``photo``).
    """
    bench = QualityBench(
        config, feature_extractor=feature_extractor, vgg_weights=vgg_weights, magenta=magenta
    )
    methods = [bench.photo()] if baseline else []
    methods.append(bench.style(style))
    return bench.run(paintings, photos, methods)


def score_outputs(
    outputs: Sequence[ImageLike],
    painting: ImageLike,
    photos: Sequence[ImageLike],
    metrics: QualityMetrics,
    *,
    style_size: int | None = None,
) -> list[Scores]:
    """Metrics of ready-made outputs (one per photo, same order) against one painting.

    The painting is scaled to ``style_size`` (default: the long side of the first photo); each
    output is compared at its photo's size.
    """
    if len(outputs) != len(photos):
        raise QualityBenchError(f"{len(outputs)} outputs were given for {len(photos)} photos.")
    photo_images = [load_rgb(p, "photo") for p in photos]
    if not photo_images:
        return []
    size = style_size or max(photo_images[0].shape[:2])
    style = metrics.style_target(fit_long_side(load_rgb(painting, "painting"), size))
    return [
        metrics.score(load_rgb(out, "output"), style, metrics.photo_target(photo, style))
        for out, photo in zip(outputs, photo_images, strict=True)
    ]
