"""Image in, stylised image out: the inference engine used by the GUI and the CLI.

``Engine.stylize`` resolves a style to a (cached) model and calls ``Engine.run_network``, which
does the work for any fully convolutional image-to-image ``nn.Module``: input validation, preview
downscale, style scale, precision, tiling with whole-image normalisation statistics, out-of-memory
recovery, and the strength / colour / region-mask adjustments.

Styles and blends run through ``stylize`` on the CPU, untiled, go through onnxruntime when their
network is a plain ``Generator`` (``ort_runner``; the session is cached with the model). Tiled
runs, CUDA / MPS, and ``run_network`` on a module the caller holds run on PyTorch.
"""

from __future__ import annotations

import copy
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from stylestudio.core.adjust import apply_adjustments
from stylestudio.core.engine.device import (
    autocast,
    describe_device,
    free_device_memory,
    is_out_of_memory,
    resolve_precision,
    select_device,
)
from stylestudio.core.engine.normstats import (
    exact_stats,
    initial_stats,
    norm_layer_count,
    refine_stats,
)
from stylestudio.core.engine.ort_runner import (
    CpuRuntime,
    OrtBackend,
    OrtPrecision,
    OrtSlot,
    Runtime,
    ort_precision,
)
from stylestudio.core.engine.staged import StagedGenerator, generator_parts
from stylestudio.core.engine.tiling import (
    DEFAULT_FEATHER,
    blend_tiles,
    choose_tile_size,
    estimate_bytes_per_pixel,
    min_tile_size,
    model_multiple,
    model_radius,
    plan_tiles,
)
from stylestudio.core.errors import CancelledError, StyleStudioError
from stylestudio.core.mask import RegionMask
from stylestudio.core.mixing import Blend, MixError, StyleSource, mix_states
from stylestudio.core.models.norm import fixed_stats

ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]
ModelLoader = Callable[[Path], "tuple[Any, nn.Module]"]

MIN_STYLE_SCALE = 0.25
MAX_STYLE_SCALE = 4.0
#: Smallest side the network is run on (its reflection paddings need a few pixels).
MIN_NETWORK_SIDE = 16
OOM_CPU_NOTE = "GPU ran out of memory; finished on the CPU."
PER_TILE_NOTE = "This style's network normalises each tile separately; faint seams are possible."
_NETWORK_SHARE = 0.95  # of the progress bar; the rest is resampling and adjustments


@dataclass
class StylizeOptions:
    strength: float = 1.0
    preserve_colors: bool = False
    style_scale: float = 1.0
    max_side: int | None = None  # preview: downscale so the long side ≤ max_side
    tile_size: int | None = None  # None = auto; 0 = never tile
    #: Where the style applies (any resolution; fitted to the result's size and feathered).
    mask: RegionMask | None = None


@dataclass
class StylizeResult:
    image: np.ndarray  # final (adjusted) float32 HxWx3
    raw: np.ndarray  # network output at the same size, before strength / colour adjustments
    device: str
    elapsed_s: float
    tiles: int
    notes: list[str] = field(default_factory=list)
    runtime: Runtime = Runtime.TORCH  # what ran the network


@dataclass
class TilingConfig:
    """How large images are split; defaults suit users, tests tune them."""

    norm_mode: str = "global"  # "global" (whole-image statistics) or "per_tile" (seams!)
    #: None: exact statistics (Generators: stage by stage from cached 1/4-resolution maps, see
    #: staged; other models: one truncated pass per norm layer, see normstats). A number N:
    #: downscaled estimate plus N damped refinement passes (approximate; kept for comparison).
    stats_passes: int | None = None
    stats_mix: float = 0.5  # damping of the refinement passes
    feather: int = DEFAULT_FEATHER
    min_tile_size: int = 256  # out-of-memory retries halve the tile down to this size
    cpu_memory_budget: float = 2.5e9  # bytes of activations when running on the CPU
    gpu_memory_fraction: float = 0.6  # of the free GPU memory
    initial_stats_pixels: int = 512 * 512  # size of the downscaled whole-image statistics pass
    #: CPU bytes the staged exact path may hold in cached 1/4-resolution maps (64 bytes per
    #: input pixel for the default Generator); larger images use the slower generic exact path.
    stage_cache_budget: float = 2.5e9

    def __post_init__(self) -> None:
        if self.norm_mode not in ("global", "per_tile"):
            raise ValueError(f"unknown norm_mode {self.norm_mode!r}")
        if self.stats_passes is not None and self.stats_passes < 0:
            raise ValueError("stats_passes must be ≥ 0")


@dataclass
class _CachedStyle:
    """A loaded style or blend: its module on the engine's device, its onnxruntime sessions."""

    module: nn.Module
    ort: OrtSlot = field(default_factory=OrtSlot)


class _Progress:
    """Monotonic progress reporting plus cancellation checks."""

    def __init__(self, callback: ProgressFn | None, cancel: CancelFn | None) -> None:
        self.callback = callback
        self.cancel = cancel
        self.last = 0.0

    def report(self, fraction: float, message: str) -> None:
        self.last = max(self.last, min(1.0, fraction))
        if self.callback is not None:
            self.callback(self.last, message)

    def check(self) -> None:
        if self.cancel is not None and self.cancel():
            raise CancelledError()


def _fingerprint(path: Path) -> tuple[Any, ...] | None:
    """Cheap change detector for a style folder or file (names, sizes, mtimes)."""
    try:
        if path.is_dir():
            return tuple(
                (p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(path.iterdir())
            )
        st = path.stat()
        return (st.st_size, st.st_mtime_ns)
    except OSError:
        return None


def _default_loader(location: Path) -> tuple[Any, nn.Module]:
    from stylestudio.core.stylepack import load_style_model  # written in parallel; lazy

    return load_style_model(location)


def validate_image(image: np.ndarray) -> np.ndarray:
    """The image as contiguous float32 (H, W, 3) in [0, 1]; grayscale (H, W) is expanded."""
    if not isinstance(image, np.ndarray):
        raise StyleStudioError("The image to stylise must be a numpy array.")
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    elif image.ndim == 3 and image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise StyleStudioError(
            f"The image to stylise must be RGB (height × width × 3), not shape {image.shape}."
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise StyleStudioError("The image to stylise is empty.")
    if image.dtype == np.uint8:
        image = image.astype(np.float32) / 255.0
    elif image.dtype == np.uint16:
        image = image.astype(np.float32) / 65535.0
    elif np.issubdtype(image.dtype, np.floating):
        image = image.astype(np.float32, copy=False)
    else:
        raise StyleStudioError(f"Unsupported image data type {image.dtype}.")
    if not np.isfinite(image).all():
        raise StyleStudioError("The image contains invalid (NaN or infinite) pixel values.")
    if image.min() < 0.0 or image.max() > 1.0:
        image = np.clip(image, 0.0, 1.0)
    return np.ascontiguousarray(image)


def _validate_options(options: StylizeOptions) -> None:
    if not math.isfinite(options.strength) or not 0.0 <= options.strength <= 1.0:
        raise StyleStudioError(f"Strength must be between 0 and 1, not {options.strength}.")
    scale = options.style_scale
    if not math.isfinite(scale) or not MIN_STYLE_SCALE <= scale <= MAX_STYLE_SCALE:
        raise StyleStudioError(
            f"Style scale must be between {MIN_STYLE_SCALE} and {MAX_STYLE_SCALE}, not {scale}."
        )
    if options.max_side is not None and options.max_side < 1:
        raise StyleStudioError(f"The preview size must be at least 1 pixel ({options.max_side}).")
    if options.tile_size is not None and options.tile_size < 0:
        raise StyleStudioError(f"The tile size must be 0 or positive ({options.tile_size}).")


def _to_tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None]


def _to_image(x: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(x[0].permute(1, 2, 0).numpy(), dtype=np.float32)


def resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bicubic resampling of (N, C, H, W) in [0, 1], antialiased when downscaling."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    y = F.interpolate(x, size=size, mode="bicubic", antialias=True, align_corners=False)
    return y.clamp_(0.0, 1.0)


def _pad_input(x: torch.Tensor, multiple: int, minimum: int) -> torch.Tensor:
    """Pad bottom/right to a multiple (reflect, like ``pad_to_multiple``) and a minimum side."""
    h, w = x.shape[-2:]
    ph = max(-(-h // multiple) * multiple, -(-minimum // multiple) * multiple) - h
    pw = max(-(-w // multiple) * multiple, -(-minimum // multiple) * multiple) - w
    if not ph and not pw:
        return x
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode)


class Engine:
    """Runs style networks on images; one per application, not thread-safe."""

    def __init__(
        self,
        device: str | None = None,
        precision: str = "auto",
        *,
        tiling: TilingConfig | None = None,
        model_loader: ModelLoader | None = None,
        max_cached_models: int = 4,
        cpu_runtime: CpuRuntime | str = CpuRuntime.AUTO,
    ) -> None:
        self.device: torch.device = select_device(device)
        self.device_description: str = describe_device(self.device)
        self.precision = precision
        self.dtype: torch.dtype | None = resolve_precision(self.device, precision)
        self.tiling = tiling or TilingConfig()
        self._loader = model_loader or _default_loader
        self._max_cached = max(1, max_cached_models)
        #: (path, weights sha256, device) of a style, ("blend", parts, device) of a blend.
        self._models: OrderedDict[tuple[Any, ...], _CachedStyle] = OrderedDict()
        self._known: dict[str, tuple[tuple[Any, ...] | None, str]] = {}
        self.cpu_runtime = CpuRuntime(cpu_runtime)
        self._ort = OrtBackend(precision=ort_precision(self.cpu_runtime) or OrtPrecision.FP32)

    # -- models -----------------------------------------------------------------------------

    def _prepare(self, model: nn.Module, device: torch.device) -> nn.Module:
        model.eval().requires_grad_(False)
        model.to(device)
        if device.type == "cuda":
            model.to(memory_format=torch.channels_last)
        return model

    def model_for(self, style_location: Path) -> nn.Module:
        """The style's model on this engine's device, cached per (path, weights sha256, device)."""
        return self._cached_style(style_location).module

    def _cached_style(self, style_location: Path) -> _CachedStyle:
        path = Path(style_location).expanduser().resolve()
        fingerprint = _fingerprint(path)
        known = self._known.get(str(path))
        if known is not None and fingerprint is not None and known[0] == fingerprint:
            key = (str(path), known[1], str(self.device))
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
        manifest, module = self._loader(path)
        sha = str(manifest.weights_sha256)
        key = (str(path), sha, str(self.device))
        self._known[str(path)] = (fingerprint, sha)
        if key not in self._models:
            for old in [k for k in self._models if k[0] == key[0]]:
                del self._models[old]  # same path, other weights: the old ones are stale
            self._models[key] = _CachedStyle(self._prepare(module, self.device))
            while len(self._models) > self._max_cached:
                self._models.popitem(last=False)
        self._models.move_to_end(key)
        return self._models[key]

    def int8_calibration_ms(self, style_location: Path) -> float | None:
        """How long the style's int8 calibration took (None: it has no int8 session yet)."""
        plan = self._cached_style(style_location).ort.plan
        return None if plan is None else plan.calibration_ms

    def model_for_blend(self, blend: Blend) -> nn.Module:
        """The blend's model (every parameter interpolated, see ``core.mixing``) on this
        engine's device, cached per ((style id, folder fingerprint, weight) per part, device)."""
        return self._cached_blend(blend).module

    def _cached_blend(self, blend: Blend) -> _CachedStyle:
        paths = [Path(part.location).expanduser().resolve() for part in blend.parts]
        prints = [_fingerprint(path) for path in paths]
        parts = tuple(
            (part.style_id, fp, part.weight) for part, fp in zip(blend.parts, prints, strict=True)
        )
        key = ("blend", parts, str(self.device))
        if key in self._models and all(fp is not None for fp in prints):
            self._models.move_to_end(key)
            return self._models[key]
        modules = []
        for part, path in zip(blend.parts, paths, strict=True):
            manifest, module = self._loader(path)
            lineage = blend.lineage
            if manifest.id != part.style_id or (
                manifest.architecture,
                tuple(sorted(manifest.params.items())),
            ) != (lineage.architecture, lineage.params):
                raise MixError(f"The style {part.name!r} changed on disk; choose the blend again.")
            modules.append(module)
        mixed = mix_states([m.state_dict() for m in modules], blend.weights)
        model = copy.deepcopy(modules[0])
        model.load_state_dict(mixed, strict=True)
        for old in [k for k in self._models if k[0] == "blend"]:
            del self._models[old]  # one blend at a time: a slider drag makes many
        self._models[key] = _CachedStyle(self._prepare(model, self.device))
        while len(self._models) > self._max_cached:
            self._models.popitem(last=False)
        return self._models[key]

    def prepare_style(self, style_location: StyleSource) -> Runtime:
        """Load a style (or blend) now and, where onnxruntime will run it untiled, build its
        session for the current thread count, so that its first image does not wait for either.
        Returns what will run it untiled."""
        style = self._cached(style_location)
        if self._uses_ort(self.device, self.dtype):
            threads = torch.get_num_threads()
            network = style.ort.network(self._ort, style.module, threads)
            if network is not None:
                return network.runtime
        return Runtime.TORCH

    def _cached(self, style_location: StyleSource) -> _CachedStyle:
        if isinstance(style_location, Blend):
            return self._cached_blend(style_location)
        return self._cached_style(style_location)

    def _uses_ort(self, device: torch.device, dtype: torch.dtype | None) -> bool:
        return self.cpu_runtime is not CpuRuntime.TORCH and device.type == "cpu" and dtype is None

    def clear_cache(self) -> None:
        self._models.clear()
        self._known.clear()

    # -- public entry points ------------------------------------------------------------------

    def stylize(
        self,
        image: np.ndarray,
        style_location: StyleSource,
        options: StylizeOptions,
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
    ) -> StylizeResult:
        """Stylise ``image`` with the style at ``style_location``, or a ``Blend`` of styles
        (CancelledError on cancel)."""
        _validate_options(options)
        reporter = _Progress(progress, cancel)
        reporter.report(0.0, "Loading style")
        style = self._cached(style_location)
        ort = style.ort if self.cpu_runtime is not CpuRuntime.TORCH else None
        return self._run_network(image, style.module, options, progress, cancel, ort)

    def run_network(
        self,
        image: np.ndarray,
        model: nn.Module,
        options: StylizeOptions,
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
    ) -> StylizeResult:
        """Stylise ``image`` with an already built image-to-image ``model`` (on PyTorch: the
        caller may change its weights between calls, as training previews do)."""
        return self._run_network(image, model, options, progress, cancel, None)

    def _run_network(
        self,
        image: np.ndarray,
        model: nn.Module,
        options: StylizeOptions,
        progress: ProgressFn | None,
        cancel: CancelFn | None,
        ort: OrtSlot | None,
    ) -> StylizeResult:
        start = time.perf_counter()
        _validate_options(options)
        reporter = _Progress(progress, cancel)
        reporter.check()
        image = validate_image(image)
        working = image
        h, w = image.shape[:2]
        if options.max_side is not None and max(h, w) > options.max_side:
            factor = options.max_side / max(h, w)
            size = (max(1, round(h * factor)), max(1, round(w * factor)))
            working = _to_image(resize(_to_tensor(image), size))
            h, w = size
        x = _to_tensor(working)
        if options.style_scale != 1.0:
            s = options.style_scale
            x = resize(x, (max(1, round(h / s)), max(1, round(w / s))))
        notes: list[str] = []
        raw_t, tiles, used, runtime = self._infer(model, x, options.tile_size, reporter, notes, ort)
        reporter.check()
        reporter.report(_NETWORK_SHARE, "Finishing")
        raw_t = resize(raw_t, (h, w))
        raw = _to_image(raw_t)
        mask = options.mask.fitted(h, w) if options.mask is not None else None
        final = apply_adjustments(working, raw, options.strength, options.preserve_colors, mask)
        reporter.report(1.0, "Done")
        return StylizeResult(
            image=final,
            raw=raw,
            device=describe_device(used),
            elapsed_s=time.perf_counter() - start,
            tiles=tiles,
            notes=notes,
            runtime=runtime,
        )

    # -- inference ----------------------------------------------------------------------------

    def _memory_budget(self, device: torch.device) -> float:
        if device.type == "cuda":
            free, _total = torch.cuda.mem_get_info(device)
            return free * self.tiling.gpu_memory_fraction
        if device.type == "mps":
            try:
                limit = torch.mps.recommended_max_memory() - torch.mps.driver_allocated_memory()
                return max(limit, 0) * self.tiling.gpu_memory_fraction
            except (AttributeError, RuntimeError):
                return self.tiling.cpu_memory_budget
        return self.tiling.cpu_memory_budget

    def _min_tile(self, model: nn.Module) -> int:
        return max(self.tiling.min_tile_size, min_tile_size(model_radius(model)))

    def auto_tile_size(
        self, model: nn.Module, height: int, width: int, device: torch.device | None = None
    ) -> int:
        """0 when a ``height`` × ``width`` network input fits in memory, else a tile size."""
        device = device or self.device
        dtype = self.dtype if device == self.device else None
        element = 2 if dtype in (torch.float16, torch.bfloat16) else 4
        bpp = estimate_bytes_per_pixel(model, element)
        return choose_tile_size(
            height, width, bpp, self._memory_budget(device), minimum=self._min_tile(model)
        )

    def _smaller_tile(self, model: nn.Module, tile: int, height: int, width: int) -> int | None:
        minimum = self._min_tile(model)
        current = tile if tile > 0 else max(height, width)
        if current <= minimum:
            return None
        return max(minimum, (current // 2) // 4 * 4)

    def _infer(
        self,
        model: nn.Module,
        x: torch.Tensor,
        tile_size: int | None,
        reporter: _Progress,
        notes: list[str],
        ort: OrtSlot | None = None,
    ) -> tuple[torch.Tensor, int, torch.device, Runtime]:
        """Network output for ``x`` (1, 3, H, W) as float32 CPU, with OOM / precision recovery."""
        h, w = x.shape[-2:]
        xp = _pad_input(x, model_multiple(model), MIN_NETWORK_SIDE)
        hp, wp = xp.shape[-2:]
        device, dtype = self.device, self.dtype
        tile = self.auto_tile_size(model, hp, wp) if tile_size is None else tile_size
        model_device = next((p.device for p in model.parameters()), None)
        try:
            while True:
                base = reporter.last
                try:
                    self._prepare(model, device)
                    out, tiles, runtime = self._run(
                        model, xp, tile, device, dtype, reporter, base, notes, ort
                    )
                    if tiles > 1 and not norm_layer_count(model):
                        notes.append(PER_TILE_NOTE)
                except Exception as exc:
                    if not is_out_of_memory(exc):
                        raise
                    free_device_memory(device)
                    smaller = self._smaller_tile(model, tile, hp, wp)
                    if smaller is not None:
                        if not notes or not notes[-1].startswith("Ran out of memory"):
                            notes.append("Ran out of memory; retried with smaller tiles.")
                        tile = smaller
                        continue
                    if device.type != "cpu":
                        notes.append(OOM_CPU_NOTE)
                        device, dtype = torch.device("cpu"), None
                        tile = self.auto_tile_size(model, hp, wp, device)
                        continue
                    raise StyleStudioError(
                        "There is not enough memory to stylise this image; try a smaller image "
                        "or a preview size."
                    ) from None
                if not torch.isfinite(out).all():
                    if dtype is not None:
                        notes.append("Half precision overflowed; recomputed in full precision.")
                        dtype = None
                        continue
                    notes.append("The style produced invalid values in some pixels.")
                    out = torch.nan_to_num(out, nan=0.5, posinf=1.0, neginf=0.0)
                return out[..., :h, :w].clamp(0.0, 1.0), tiles, device, runtime
        finally:
            if model_device is not None and device != model_device:
                model.to(model_device)

    def _run(
        self,
        model: nn.Module,
        xp: torch.Tensor,
        tile: int,
        device: torch.device,
        dtype: torch.dtype | None,
        reporter: _Progress,
        base: float,
        notes: list[str],
        ort: OrtSlot | None = None,
    ) -> tuple[torch.Tensor, int, Runtime]:
        """One attempt at a fixed tile size; progress goes from ``base`` to the network share.

        ``ort``: the style's onnxruntime sessions, for a whole-image float32 pass on the CPU."""
        channels_last = device.type == "cuda"

        def run(t: torch.Tensor) -> torch.Tensor:
            t = t.to(device)
            if channels_last:
                t = t.contiguous(memory_format=torch.channels_last)
            with autocast(device, dtype):
                y = model(t)
            return y.float().cpu()

        span = _NETWORK_SHARE - base
        hp, wp = xp.shape[-2:]
        with torch.inference_mode():
            plan = (
                plan_tiles(
                    hp,
                    wp,
                    tile,
                    model_radius(model),
                    feather=self.tiling.feather,
                    multiple=model_multiple(model),
                )
                if tile > 0
                else None
            )
            if plan is None or len(plan) == 1:
                reporter.check()
                reporter.report(base, "Stylising")
                if ort is not None and self._uses_ort(device, dtype):
                    out = ort.run(self._ort, model, xp, notes)
                    if out is not None:
                        return out[0], 1, out[1]
                return run(xp), 1, Runtime.TORCH
            n = len(plan)
            layers = norm_layer_count(model) if self.tiling.norm_mode == "global" else 0
            passes = self.tiling.stats_passes
            # Generators: exact statistics stage by stage from cached 1/4-resolution maps.
            parts = generator_parts(model) if layers and passes is None else None
            staged = StagedGenerator(parts, hp, wp, plan.tile_size) if parts else None
            element = 2 if dtype in (torch.float16, torch.bfloat16) else 4
            if staged is not None and staged.cache_bytes(element) > self.tiling.stage_cache_budget:
                staged = None
            if staged is not None:
                total = staged.stat_steps() + n
            elif not layers:
                total = n
            elif passes is None:
                total = n * (layers + 1)
            else:
                total = 1 + n * (passes + 1)
            done = 0

            def step(message: str) -> None:
                nonlocal done
                reporter.check()
                reporter.report(base + span * done / total, message)
                done += 1

            if staged is not None:
                return staged.run(xp, plan, device, dtype, step), n, Runtime.TORCH
            stats = None
            if layers and passes is None:

                def before_exact(layer: int, i: int) -> None:
                    step(f"Measuring the image ({layer + 1} of {layers}), tile {i + 1} of {n}")

                stats = exact_stats(model, xp, plan, run, before_exact)
            elif layers:
                step("Measuring the image")
                limit = min(self.tiling.initial_stats_pixels, plan.tile_size**2)
                stats = initial_stats(model, xp, run, limit, model_multiple(model))
                for p in range(passes or 0):

                    def before(i: int, p: int = p) -> None:
                        step(f"Measuring the image (pass {p + 1} of {passes}, tile {i + 1} of {n})")

                    stats = refine_stats(model, xp, plan, stats, run, before, self.tiling.stats_mix)

            def before_out(i: int) -> None:
                step(f"Stylising tile {i + 1} of {n}")

            if stats is not None:
                with fixed_stats(model, stats):
                    out = blend_tiles(xp, plan, run, before_out)
            else:
                out = blend_tiles(xp, plan, run, before_out)
            return out, n, Runtime.TORCH
