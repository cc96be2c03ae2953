"""Int8 (QDQ) quantisation of a ``Generator``'s convolutions for onnxruntime on the CPU.

``generator_graph`` writes a quantised convolution as ``QuantizeLinear`` (uint8 activations, one
scale and zero point per tensor) → the pad in uint8 → ``DequantizeLinear`` → ``Conv`` with
``DequantizeLinear`` on per-output-channel symmetric int8 weights and int32 bias →
``QuantizeLinear`` → ``DequantizeLinear``; onnxruntime's graph optimiser fuses that into one
``QLinearConv`` (MLAS int8 kernels). Instance norm, activations, the residual additions, the
first 9×9 convolution (3 input channels: slower in int8 than in float32) and the head stay in
float32.

Every quantised conv feeds an instance norm, which ignores a per-channel scale and shift of its
input; each output channel is therefore stretched to the same range before the per-tensor uint8
step is chosen (:func:`equalise_for_norm`), so a narrow channel is not lost in the rounding of
a wide one (on the four hardest gallery styles this raised the median int8-vs-float32 PSNR by
1.5-3 dB).

The activation ranges come from a *calibration* pass: the float32 graph, with each planned
conv's input and output as extra outputs (``generator_graph.calibration_onnx``), on a few fixed
small images (the bundled sample photos and synthetic images with highlights); each range is
taken at a high percentile of the values, the stretched outputs get some headroom. The pass is
deterministic: the same weights give the same ranges. The settings (:class:`QuantConfig`) are
the best of those measured on the gallery against float32 on photos not calibrated on.

On x86 CPUs without VNNI, MLAS multiplies uint8 × int8 pairs into a saturating int16
(``VPMADDUBSW``); weights are then kept to 7 bits so that a pair cannot overflow.
"""

from __future__ import annotations

import functools
import math
import platform
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import numpy as np
from torch import nn

from stylestudio.core.models.generator import Generator


class ConvGroup(str, Enum):
    """Where a convolution sits in the generator (what is worth quantising differs)."""

    #: The 9×9 full-resolution encoder conv on the 3-channel image.
    FIRST = "first"
    #: The two strided encoder convs (to 1/2 and 1/4 resolution).
    ENCODER = "encoder"
    #: The 3×3 convs of the residual blocks at 1/4 resolution.
    RESIDUAL = "residual"
    #: The convs after each ×2 upsampling.
    DECODER = "decoder"
    #: The last 9×9 conv to 3 channels.
    HEAD = "head"


#: Measured on the gallery's layout at 1 MP: int8 makes these 2-3× faster; the first conv and
#: the head were slower as QLinearConv (3 input channels; 3 outputs) than in float32.
DEFAULT_GROUPS = frozenset({ConvGroup.ENCODER, ConvGroup.RESIDUAL, ConvGroup.DECODER})


class WeightBits(int, Enum):
    """Bits of the int8 weights: 8, or 7 where MLAS's uint8 × int8 pairs could saturate."""

    FULL = 8
    REDUCED = 7


@dataclass(frozen=True)
class QuantConfig:
    groups: frozenset[ConvGroup] = DEFAULT_GROUPS
    #: Activation ranges: this percentile of the values (and 100 minus it for the low end).
    percentile: float = 99.999
    #: Long side of the calibration images (the sample photos are scaled down to it).
    calibration_side: int = 256
    #: Synthetic images (:func:`synthetic_image`) calibrated on besides the sample photos.
    synthetic_images: int = 2
    #: Values kept per tensor and image for the percentiles (an even subsample, deterministic).
    samples_per_tensor: int = 1 << 15
    #: None: chosen for this CPU (:func:`weight_bits_for_cpu`).
    weight_bits: WeightBits | None = None
    #: A conv feeding an instance norm has each output channel stretched to its calibrated
    #: range (:func:`equalise_for_norm`); its uint8 range is that many times wider, so a photo
    #: that drives a channel beyond what the calibration images did is not clipped.
    norm_headroom: float = 1.5

    def __post_init__(self) -> None:
        if not 50.0 < self.percentile <= 100.0:
            raise ValueError("the percentile must be in (50, 100]")
        if self.calibration_side < 32 or self.synthetic_images < 0 or self.samples_per_tensor < 1:
            raise ValueError("calibration side ≥ 32 px, synthetic images ≥ 0, samples ≥ 1")
        if self.norm_headroom < 1.0:
            raise ValueError("the norm headroom must be at least 1")


@dataclass(frozen=True)
class TensorRange:
    """The calibrated range of one tensor, always containing 0 (zero is exact in uint8)."""

    low: float
    high: float

    def uint8(self) -> tuple[float, int]:
        """(scale, zero point) of the asymmetric uint8 quantisation of this range."""
        low, high = min(self.low, 0.0), max(self.high, 0.0)
        scale = (high - low) / 255.0
        if not math.isfinite(scale) or scale <= 0.0:
            return 1.0, 0  # a constant zero tensor: any scale is exact
        zero = int(np.clip(round(-low / scale), 0, 255))
        return float(np.float32(scale)), zero


@dataclass(frozen=True)
class ConvRanges:
    input: TensorRange
    output: TensorRange
    #: The output's range per channel (of the conv as written, so 4 phases × channels for the
    #: sub-pixel upsampling conv); empty where not collected.
    output_channels: tuple[TensorRange, ...] = ()


@dataclass(frozen=True)
class Int8Plan:
    """What ``generator_graph`` needs to write the int8 graph of one network."""

    #: Per quantised conv, by its module name in the generator (``"residuals.0.body.1.conv"``).
    convs: Mapping[str, ConvRanges]
    weight_bits: WeightBits = WeightBits.FULL
    #: See ``QuantConfig.norm_headroom``.
    norm_headroom: float = 1.5
    #: Images the ranges were taken from, and the time the calibration took (information only).
    images: int = field(default=0, compare=False)
    calibration_ms: float = field(default=0.0, compare=False)


def conv_groups(model: Generator) -> dict[str, tuple[ConvGroup, nn.Conv2d]]:
    """The generator's convolutions by module name, in execution order, with their group."""
    found: dict[str, tuple[ConvGroup, nn.Conv2d]] = {}
    prefixes = (
        ("encoder.0.", ConvGroup.FIRST),
        ("encoder.", ConvGroup.ENCODER),
        ("residuals.", ConvGroup.RESIDUAL),
        ("decoder.", ConvGroup.DECODER),
        ("head.", ConvGroup.HEAD),
    )
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            group = next(g for prefix, g in prefixes if name.startswith(prefix))
            found[name] = (group, module)
    return found


def weight_bits_for_cpu(
    machine: str | None = None, flags: Iterable[str] | None = None
) -> WeightBits:
    """8 bits, except on x86 without (or not known to have) VNNI: 7 (see the module)."""
    machine = (machine if machine is not None else platform.machine()).lower()
    if machine not in ("x86_64", "amd64", "i386", "i686", "x86"):
        return WeightBits.FULL  # ARM's kernels widen to 16 bits before adding: no saturation
    found = set(flags) if flags is not None else _cpu_flags()
    return WeightBits.FULL if found & {"avx512_vnni", "avx_vnni"} else WeightBits.REDUCED


@functools.cache
def _cpu_flags() -> frozenset[str]:
    try:  # Linux; elsewhere the flags are unknown and the safe choice is taken
        text = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def quantize_weight(weight: np.ndarray, bits: WeightBits) -> tuple[np.ndarray, np.ndarray]:
    """(out, ...) float32 → (int8 weights, float32 scale per output channel), symmetric."""
    top = float(2 ** (int(bits) - 1) - 1)
    peak = np.abs(weight.reshape(weight.shape[0], -1)).max(axis=1)
    scale = np.where(peak > 0, peak / top, 1.0).astype(np.float32)
    shape = (-1,) + (1,) * (weight.ndim - 1)
    q = np.clip(np.rint(weight / scale.reshape(shape)), -top, top).astype(np.int8)
    return q, scale


def quantize_bias(bias: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """float32 bias → int32 at ``scale`` (input scale × weight scale per channel)."""
    limit = float(np.iinfo(np.int32).max)
    return np.clip(np.rint(bias / scale), -limit, limit).astype(np.int32)


#: Channels whose calibrated range is below this fraction of the widest are not stretched
#: further (a near-constant channel would only have its rounding noise magnified).
MIN_CHANNEL_SPAN = 1e-3


def equalise_for_norm(
    weight: np.ndarray,
    bias: np.ndarray,
    channels: Sequence[TensorRange],
    phases: int = 1,
    headroom: float = 1.5,
) -> tuple[np.ndarray, np.ndarray, TensorRange]:
    """Stretch and shift each output channel of a conv whose output goes straight into an
    instance norm so that every channel's calibrated range becomes [-1, 1]: (weight, bias, the
    range to quantise it at: ± ``headroom``).

    Instance norm removes any per-channel scale and shift of its input (up to its epsilon, which
    stays ~1e-5 of the variance), so the network computes the same; but one per-tensor uint8
    scale then resolves every channel with all 256 levels instead of letting the widest channel
    set a step that a narrow channel, normalised up afterwards, turns into visible noise.

    ``phases``: the conv writes ``phases`` blocks of the norm's channels (the sub-pixel conv:
    4, one per output pixel phase), which share a channel's stretch.
    """
    out = weight.shape[0] // phases
    if len(channels) != weight.shape[0] or out * phases != weight.shape[0]:
        raise ValueError("per-channel ranges do not match the conv's output channels")
    low = np.array([r.low for r in channels]).reshape(phases, out).min(axis=0)
    high = np.array([r.high for r in channels]).reshape(phases, out).max(axis=0)
    half = np.maximum((high - low) / 2, MIN_CHANNEL_SPAN * max(float((high - low).max()), 1e-12))
    gain = np.tile(1.0 / half, phases)
    shift = np.tile(-(high + low) / 2 / half, phases)
    shape = (-1,) + (1,) * (weight.ndim - 1)
    new_weight = (weight * gain.reshape(shape)).astype(np.float32)
    new_bias = (bias * gain + shift).astype(np.float32)
    return new_weight, new_bias, TensorRange(-headroom, headroom)


# -- calibration --------------------------------------------------------------------------------


def synthetic_image(side: int, seed: int) -> np.ndarray:
    """A deterministic (side, side, 3) float32 image: colour gradients, soft waves and a few
    edges, one side darkened, with small bright highlights (the sample photos have few, and
    highlights drive the activations photos reach beyond them)."""
    rng = np.random.default_rng(1000 + seed)
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32) / side
    phase = rng.uniform(0, 2 * np.pi, 3).astype(np.float32)
    freq = rng.uniform(2, 9, 3).astype(np.float32)
    channels = [
        0.5 + 0.5 * np.sin(freq[c] * (xx * np.cos(phase[c]) + yy * np.sin(phase[c])) + phase[c])
        for c in range(3)
    ]
    image = np.stack(channels, -1) * 0.7 + 0.3 * np.stack([xx, yy, 1 - xx], -1)
    for _ in range(6):
        y0, x0 = rng.integers(0, side, 2)
        h, w = rng.integers(side // 16, side // 4, 2)
        image[y0 : y0 + h, x0 : x0 + w] = rng.random(3)
    image *= (0.2 + 0.8 * np.clip(2 * (xx if seed % 2 else yy) - 0.5, 0, 1))[..., None]
    for _ in range(side // 6):
        cy, cx = rng.uniform(0, 1, 2)
        r = rng.uniform(1.0, 4.0) / side
        spot = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        image[spot] = 1.0 - 0.3 * rng.random(3) * rng.integers(0, 2)
    return np.clip(image, 0.0, 1.0).astype(np.float32)


@functools.lru_cache(maxsize=4)
def _sample_photos(folder: str, side: int) -> tuple[np.ndarray, ...]:
    from PIL import Image

    photos = []
    for path in sorted(Path(folder).glob("*.jpg")):
        try:
            with Image.open(path) as image:
                image = image.convert("RGB")
                image.thumbnail((side, side), Image.Resampling.BICUBIC)
                photos.append(_fitted(np.asarray(image, np.float32) / 255.0))
        except (OSError, ValueError, Image.DecompressionBombError):
            continue  # an unreadable sample: calibrate on the others
    return tuple(photos)


@functools.lru_cache(maxsize=4)
def _synthetic_images(side: int, count: int) -> tuple[np.ndarray, ...]:
    return tuple(_fitted(synthetic_image(side, i)) for i in range(count))


def _fitted(image: np.ndarray) -> np.ndarray:
    """Cropped to sides that are multiples of 4 (what the graph takes), read-only (cached)."""
    out = np.ascontiguousarray(image[: image.shape[0] // 4 * 4, : image.shape[1] // 4 * 4])
    out.flags.writeable = False
    return out


def calibration_images(config: QuantConfig, samples: Path | None = None) -> list[np.ndarray]:
    """The bundled sample photos (where present) and ``config.synthetic_images`` synthetic
    images, cropped to sides that are multiples of 4; made once per process."""
    if samples is None:
        from stylestudio.core import paths

        samples = paths.sample_images_dir()
    images = list(_sample_photos(str(samples), config.calibration_side))
    return images + list(_synthetic_images(config.calibration_side, config.synthetic_images))


def _subsample(values: np.ndarray, cap: int) -> np.ndarray:
    flat = values.reshape(-1)
    step = max(1, math.ceil(flat.size / cap))
    return flat[::step].astype(np.float64)


def planned_convs(model: Generator, config: QuantConfig) -> list[str]:
    """Names of the convs ``config`` quantises, in execution order."""
    return [name for name, (group, _) in conv_groups(model).items() if group in config.groups]


class RangeCollector:
    """Collects each planned conv's input and output values over the calibration images (an
    even subsample of each, the output's per channel) and turns them into an
    :class:`Int8Plan`."""

    def __init__(self, convs: Sequence[str], config: QuantConfig) -> None:
        self.config = config
        #: Per conv: the inputs' samples, the outputs' samples (C, n) per image.
        self.values: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {
            name: ([], []) for name in convs
        }
        self.images = 0
        self._start = time.perf_counter()

    def add(self, conv: str, x: np.ndarray, y: np.ndarray) -> None:
        """One image's input ``x`` and output ``y`` (N, C, H, W) of ``conv``."""
        ins, outs = self.values[conv]
        cap = self.config.samples_per_tensor
        ins.append(_subsample(x, cap))
        channels = np.moveaxis(y, 1, 0).reshape(y.shape[1], -1)
        step = max(1, math.ceil(channels.size / cap))
        outs.append(channels[:, ::step].astype(np.float64))

    def image_done(self) -> None:
        self.images += 1

    def _percentiles(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = self.config.percentile
        low, high = np.percentile(values, [100.0 - p, p], axis=-1)
        if not (np.isfinite(low).all() and np.isfinite(high).all()):
            raise ValueError("the calibration values are not finite")
        return low, high

    def _ranges(self, conv: str) -> ConvRanges:
        ins, outs = self.values[conv]
        if not ins:
            raise ValueError(f"no calibration values were collected for {conv}")
        low, high = self._percentiles(np.concatenate(ins))
        per_channel = np.concatenate(outs, axis=1)
        out_low, out_high = self._percentiles(per_channel.reshape(-1))
        c_low, c_high = self._percentiles(per_channel)
        return ConvRanges(
            TensorRange(float(low), float(high)),
            TensorRange(float(out_low), float(out_high)),
            tuple(TensorRange(float(a), float(b)) for a, b in zip(c_low, c_high, strict=True)),
        )

    def plan(self) -> Int8Plan:
        convs = {name: self._ranges(name) for name in self.values}
        bits = self.config.weight_bits or weight_bits_for_cpu()
        elapsed = (time.perf_counter() - self._start) * 1000
        return Int8Plan(
            convs, bits, self.config.norm_headroom, images=self.images, calibration_ms=elapsed
        )
