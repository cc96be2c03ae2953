"""Exact whole-image statistics for the Generator, stage by stage, with cached activation maps.

``normstats.exact_stats`` measures layer *k* by re-running every tile from the input through layers
``0..k-1``: about half a network pass per norm layer (≈ 7× an untiled run for the default
Generator). The Generator's encoder, though, ends at 1/4 resolution, and every residual block keeps
that size: the whole-image map there is small (4·C channels at 1/16 of the pixels). So:

1. encoder: three truncated passes over input tiles measure its three norms (as before, but with a
   halo of the encoder's receptive radius only); a fourth pass writes the encoder output for the
   whole image into a CPU map ``X``;
2. each residual block ``x + n2(conv2(relu(n1(conv1(x)))))``: pass A writes ``conv1(X)`` into a
   second whole map ``C`` (measuring ``n1`` on the way), pass B measures ``n2`` from ``C``, pass C
   adds the block's body to ``X`` in place (it reads ``X`` only at the pixels it writes);
3. decoder: two truncated passes from ``X`` measure its norms;
4. output: decoder and head run from ``X`` over the engine's tile plan with feathered blending.

Every pass runs on crops with a halo of at least the stage's receptive radius, cut from the whole
map, and keeps only the crop's core (the cores partition the map), so every kept value is the one
the untiled network computes. A crop touching the image border starts or ends exactly there, so the
layers' own reflection padding reflects the same pixels as on the whole image.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from stylestudio.core.engine.device import autocast
from stylestudio.core.engine.tiling import TilePlan
from stylestudio.core.models.generator import (
    ConvNormAct,
    Generator,
    ResidualBlock,
    UpsampleConv,
)
from stylestudio.core.models.norm import StatsInstanceNorm

StepFn = Callable[[str], None]
#: Extra map pixels of halo for the decoder's statistics passes (nearest upsampling rounds).
_DECODER_SLACK = 1


@dataclass(frozen=True)
class GeneratorParts:
    """The Generator's stages, checked to have the layout this module reproduces."""

    encoder: tuple[ConvNormAct, ...]
    blocks: tuple[ResidualBlock, ...]
    decoder: tuple[UpsampleConv, ...]
    head: nn.Module
    #: Input pixels of context one encoder output needs (a multiple of the downsampling factor).
    encoder_halo: int
    #: Downsampling factor of the encoder (4 for the Generator).
    factor: int
    #: Map pixels of context one residual-block convolution needs.
    block_halo: int
    #: Map pixels of context the decoder's statistics passes need.
    decoder_halo: int

    @property
    def norm_layers(self) -> int:
        return len(self.encoder) + 2 * len(self.blocks) + len(self.decoder)


def generator_parts(model: nn.Module) -> GeneratorParts | None:
    """The stages of a Generator with the standard layout, else None (use the generic path)."""
    if not isinstance(model, Generator) or type(model).forward is not Generator.forward:
        return None
    try:
        encoder = tuple(model.encoder)
        blocks = tuple(model.residuals)
        decoder = tuple(model.decoder)
        head = model.head
    except (AttributeError, TypeError):
        return None
    if not encoder or not all(type(m) is ConvNormAct for m in encoder):
        return None
    if not all(type(b) is ResidualBlock and _plain_body(b) for b in blocks):
        return None
    if not all(type(u) is UpsampleConv and type(u.block) is ConvNormAct for u in decoder):
        return None
    if any(isinstance(m, StatsInstanceNorm) for m in head.modules()):
        return None
    # Receptive radius of the encoder in input pixels, and its total stride.
    radius, factor = 0, 1
    for m in encoder:
        radius += _half(m) * factor
        factor *= _stride(m)
    if factor != 2 ** len(decoder) or 4 % factor:
        return None  # the output pass crops the map at tile origins (multiples of 4)
    halo = math.ceil(radius / max(factor, 4)) * max(factor, 4)
    # Decoder radius in map pixels: each upsampled conv works at twice the previous resolution.
    dec = sum(_half(u.block) / 2 ** (i + 1) for i, u in enumerate(decoder))
    return GeneratorParts(
        encoder=encoder,
        blocks=blocks,
        decoder=decoder,
        head=head,
        encoder_halo=halo,
        factor=factor,
        block_halo=max((_half(m) for b in blocks for m in b.body), default=1),
        decoder_halo=math.ceil(dec) + _DECODER_SLACK,
    )


def _plain_body(block: ResidualBlock) -> bool:
    body = tuple(block.body)
    return len(body) == 2 and all(type(m) is ConvNormAct and _stride(m) == 1 for m in body)


def _half(m: ConvNormAct) -> int:
    return int(m.conv.kernel_size[0]) // 2


def _stride(m: ConvNormAct) -> int:
    return int(m.conv.stride[0])


def _conv(m: ConvNormAct, x: torch.Tensor) -> torch.Tensor:
    """The part of ``ConvNormAct.forward`` before its norm."""
    return m.conv(m.pad(x))


def _post(m: ConvNormAct, x: torch.Tensor) -> torch.Tensor:
    """The part of ``ConvNormAct.forward`` from its norm on."""
    y = m.norm(x)
    return F.relu(y) if m.act else y


# -- regions --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    """A crop ``[top:bottom, left:right]`` whose core ``[core_*]`` is kept (absolute coords)."""

    top: int
    bottom: int
    left: int
    right: int
    core_top: int
    core_bottom: int
    core_left: int
    core_right: int

    def crop(self, x: torch.Tensor) -> torch.Tensor:
        """The crop of a whole map at the region's resolution (a view)."""
        return x[..., self.top : self.bottom, self.left : self.right]

    def core_of_crop(self, y: torch.Tensor, scale: int = 1) -> torch.Tensor:
        """The core of a result computed on the crop, ``scale`` times the region's resolution."""
        t, b = (self.core_top - self.top) * scale, (self.core_bottom - self.top) * scale
        lo, r = (self.core_left - self.left) * scale, (self.core_right - self.left) * scale
        return y[..., t:b, lo:r]

    def core_of(self, x: torch.Tensor) -> torch.Tensor:
        """The core of a whole map at the region's resolution (a view)."""
        return x[..., self.core_top : self.core_bottom, self.core_left : self.core_right]


def _axis(length: int, max_size: int, halo: int, multiple: int) -> list[tuple[int, int, int, int]]:
    """``(start, stop, core_lo, core_hi)`` along one axis; cores partition ``[0, length)``."""
    core_max = max(multiple, (max_size - 2 * halo) // multiple * multiple)
    count = max(1, math.ceil(length / core_max))
    units = length // multiple
    count = min(count, max(1, units))
    cuts = [round(i * units / count) * multiple for i in range(count)] + [length]
    return [
        (max(0, lo - halo), min(length, hi + halo), lo, hi) for lo, hi in itertools.pairwise(cuts)
    ]


def split_regions(
    height: int, width: int, max_size: int, halo: int, multiple: int = 1
) -> list[Region]:
    """Crops of at most about ``max_size`` per side whose cores partition the map."""
    rows = _axis(height, max_size, halo, multiple)
    cols = _axis(width, max_size, halo, multiple)
    return [Region(r[0], r[1], c[0], c[1], r[2], r[3], c[2], c[3]) for r in rows for c in cols]


# -- the staged run -------------------------------------------------------------------------------


class StagedGenerator:
    """Exact tiled inference of a Generator with cached 1/4-resolution maps.

    ``tile_size`` is the engine's tile side in input pixels (it bounds the memory of one step);
    ``steps`` is how many times ``run`` calls its ``step`` callback (once before every crop).
    """

    def __init__(self, parts: GeneratorParts, height: int, width: int, tile_size: int) -> None:
        self.parts = parts
        f = parts.factor
        if height % f or width % f:
            raise ValueError(f"image size {height}x{width} is not a multiple of {f}")
        self.map_size = (height // f, width // f)
        mh, mw = self.map_size
        self.encoder_regions = split_regions(height, width, tile_size, parts.encoder_halo, f)
        # A map pixel costs about 2.5× an input pixel's activations in a residual block, but a
        # map region stands for 16 input pixels: half the tile side keeps memory below a tile's.
        self.block_regions = split_regions(mh, mw, max(8, tile_size // 2), parts.block_halo)
        self.decoder_regions = split_regions(mh, mw, max(8, tile_size // f), parts.decoder_halo)

    def cache_bytes(self, element_size: int = 4) -> int:
        """CPU memory of the two cached whole-image maps (batch of one)."""
        channels = int(self.parts.encoder[-1].conv.out_channels)
        return 2 * channels * self.map_size[0] * self.map_size[1] * element_size

    def stat_steps(self) -> int:
        p = self.parts
        return (
            (len(p.encoder) + 1) * len(self.encoder_regions)
            + 3 * len(p.blocks) * len(self.block_regions)
            + len(p.decoder) * len(self.decoder_regions)
        )

    def run(
        self,
        xp: torch.Tensor,
        plan: TilePlan,
        device: torch.device,
        dtype: torch.dtype | None,
        step: StepFn,
    ) -> torch.Tensor:
        """Network output for the padded image ``xp`` (float32, CPU), blended over ``plan``."""
        norms = [m for m in self._modules() if isinstance(m, StatsInstanceNorm)]
        try:
            return self._run(xp, plan, _Runner(device, dtype), step)
        finally:
            for norm in norms:
                norm.fixed = None

    def _modules(self) -> list[nn.Module]:
        p = self.parts
        mods: list[nn.Module] = []
        for group in (p.encoder, p.blocks, p.decoder):
            for m in group:
                mods.extend(m.modules())
        return mods

    def _run(self, xp: torch.Tensor, plan: TilePlan, runner: _Runner, step: StepFn) -> torch.Tensor:
        p = self.parts
        measured = 0
        total = p.norm_layers

        def label(part: int, count: int) -> str:
            return f"Measuring the image ({measured + 1} of {total}), part {part + 1} of {count}"

        # 1. Encoder: one truncated pass per norm, then the whole-image map.
        regions = self.encoder_regions
        for k, layer in enumerate(p.encoder):
            stats = _Moments()
            for i, region in enumerate(regions):
                step(label(i, len(regions)))

                def measure(t: torch.Tensor, k: int = k) -> torch.Tensor:
                    t = t * 2.0 - 1.0
                    for m in p.encoder[:k]:
                        t = m(t)
                    return _conv(p.encoder[k], t)

                y = runner(measure, region.crop(xp))
                stats.add(_scaled_core(region, y))
            layer.norm.fixed = stats.mean_var()
            measured += 1

        def encode(t: torch.Tensor) -> torch.Tensor:
            t = t * 2.0 - 1.0
            for m in p.encoder:
                t = m(t)
            return t

        x_map: torch.Tensor | None = None
        for i, region in enumerate(regions):
            step(f"Measuring the image (encoding), part {i + 1} of {len(regions)}")
            y = runner(encode, region.crop(xp)).cpu()
            if x_map is None:
                shape = (y.shape[0], y.shape[1], *self.map_size)
                x_map = torch.empty(shape, dtype=y.dtype)
            fine = _scaled_region(region, p.factor)
            fine.core_of(x_map).copy_(fine.core_of_crop(y))
        assert x_map is not None

        # 2. Residual blocks on the cached map; ``c_map`` holds conv1's output.
        regions = self.block_regions
        c_map: torch.Tensor | None = None
        for block in p.blocks:
            first, second = block.body[0], block.body[1]
            stats = _Moments()
            for i, region in enumerate(regions):
                step(label(i, len(regions)))
                y = runner(lambda t, m=first: _conv(m, t), region.crop(x_map))
                core = region.core_of_crop(y)
                stats.add(core)
                if c_map is None:
                    c_map = torch.empty(x_map.shape, dtype=y.dtype)
                region.core_of(c_map).copy_(core.cpu())
            first.norm.fixed = stats.mean_var()
            measured += 1
            assert c_map is not None

            def body(c: torch.Tensor, a: nn.Module = first, b: nn.Module = second) -> torch.Tensor:
                return _conv(b, _post(a, c))

            stats = _Moments()
            for i, region in enumerate(regions):
                step(label(i, len(regions)))
                stats.add(region.core_of_crop(runner(body, region.crop(c_map))))
            second.norm.fixed = stats.mean_var()
            measured += 1
            for i, region in enumerate(regions):
                step(f"Measuring the image (residual block), part {i + 1} of {len(regions)}")
                target = region.core_of(x_map)  # read only where it is written: in place is safe

                def add_body(
                    c: torch.Tensor, x: torch.Tensor, r: Region = region, b: nn.Module = second
                ) -> torch.Tensor:
                    return x + _post(b, r.core_of_crop(body(c)))

                target.copy_(runner(add_body, region.crop(c_map), target).cpu())
        del c_map

        # 3. Decoder statistics from the final map.
        regions = self.decoder_regions
        for k, up in enumerate(p.decoder):
            stats = _Moments()
            for i, region in enumerate(regions):
                step(label(i, len(regions)))

                def measure_dec(t: torch.Tensor, k: int = k) -> torch.Tensor:
                    for u in p.decoder[:k]:
                        t = u(t)
                    t = F.interpolate(t, scale_factor=2.0, mode="nearest")
                    return _conv(p.decoder[k].block, t)

                y = runner(measure_dec, region.crop(x_map))
                stats.add(region.core_of_crop(y, 2 ** (k + 1)))
            up.block.norm.fixed = stats.mean_var()
            measured += 1

        # 4. Output: decoder and head from the map over the engine's tiles, feathered.
        def decode(t: torch.Tensor) -> torch.Tensor:
            for u in p.decoder:
                t = u(t)
            return torch.sigmoid(p.head(t))

        f = p.factor
        out = torch.zeros((xp.shape[0], 3, plan.height, plan.width), dtype=torch.float32)
        weight_sum = torch.zeros((plan.height, plan.width), dtype=torch.float32)
        for i, tile in enumerate(plan.tiles):
            step(f"Stylising tile {i + 1} of {len(plan)}")
            rows = slice(tile.top, tile.top + tile.height)
            cols = slice(tile.left, tile.left + tile.width)
            crop = x_map[..., tile.top // f : rows.stop // f, tile.left // f : cols.stop // f]
            y = runner(decode, crop).float().cpu()
            weights = tile.weights()
            out[..., rows, cols] += y * weights
            weight_sum[rows, cols] += weights
        return out / weight_sum.clamp_min(1e-12)


def _scaled_region(region: Region, factor: int) -> Region:
    """The region in map coordinates (its coordinates divided by ``factor``)."""
    return Region(*(v // factor for v in _coords(region)))


def _coords(region: Region) -> tuple[int, ...]:
    return (
        region.top,
        region.bottom,
        region.left,
        region.right,
        region.core_top,
        region.core_bottom,
        region.core_left,
        region.core_right,
    )


def _scaled_core(region: Region, y: torch.Tensor) -> torch.Tensor:
    """The core of ``y``, a result on ``region``'s crop at a lower resolution."""
    fy = y.shape[-2] / (region.bottom - region.top)
    fx = y.shape[-1] / (region.right - region.left)
    t, b = round((region.core_top - region.top) * fy), round((region.core_bottom - region.top) * fy)
    lo = round((region.core_left - region.left) * fx)
    r = round((region.core_right - region.left) * fx)
    return y[..., t:b, lo:r]


class _Moments:
    """Per-channel mean and variance of a norm's input over many crops.

    Within a crop ``torch.var_mean`` in float32 (accurate and, unlike float64 sums of squares,
    cheaper than the convolution that produced the crop); crops are combined in float64 on the
    CPU with the parallel-variance formula of Chan et al.
    """

    def __init__(self) -> None:
        self.count = 0
        self.mean = torch.zeros(0, dtype=torch.float64)
        self.m2 = torch.zeros(0, dtype=torch.float64)

    def add(self, x: torch.Tensor) -> None:
        n = x.shape[0] * x.shape[2] * x.shape[3]
        if n == 0:
            return
        var, mean = torch.var_mean(x.float(), dim=(0, 2, 3), correction=0)
        var, mean = var.cpu().double(), mean.cpu().double()
        if not self.count:
            self.count, self.mean, self.m2 = n, mean, var * n
            return
        total = self.count + n
        delta = mean - self.mean
        self.mean = self.mean + delta * (n / total)
        self.m2 = self.m2 + var * n + delta * delta * (self.count * n / total)
        self.count = total

    def mean_var(self) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.count:
            raise RuntimeError("no statistics were recorded for this layer")
        return self.mean.float(), (self.m2 / self.count).clamp_min(0.0).float()


class _Runner:
    """Runs a function on the compute device, with the engine's precision and memory format."""

    def __init__(self, device: torch.device, dtype: torch.dtype | None) -> None:
        self.device = device
        self.dtype = dtype
        self.channels_last = device.type == "cuda"

    def __call__(self, fn: Callable[..., torch.Tensor], *tensors: torch.Tensor) -> torch.Tensor:
        moved = []
        for t in tensors:
            t = t.to(self.device)
            if self.channels_last and t.ndim == 4:
                t = t.contiguous(memory_format=torch.channels_last)
            moved.append(t)
        with autocast(self.device, self.dtype):
            return fn(*moved)
