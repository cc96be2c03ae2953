"""Instance normalisation whose statistics can come from outside the current tensor.

Plain instance norm computes mean and variance over the tensor it is given. When a large image is
processed tile by tile, that makes every tile normalise differently: visible seams and colour
shifts. ``StatsInstanceNorm`` can instead *record* statistics (accumulating sums over the core of
each tile) or *use* statistics fixed in advance for the whole image. Its state dict is that of
``nn.InstanceNorm2d(affine=True)`` (``weight``, ``bias``), so weights are interchangeable.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
from torch import nn


@dataclass
class ChannelStats:
    """Running per-channel sums of one norm layer's input, in float64."""

    total: torch.Tensor | None = None
    total_sq: torch.Tensor | None = None
    count: int = 0

    def add(self, x: torch.Tensor) -> None:
        x64 = x.detach().to(torch.float64)
        s = x64.sum(dim=(0, 2, 3))
        sq = (x64 * x64).sum(dim=(0, 2, 3))
        if self.total is None:
            self.total, self.total_sq = s, sq
        else:
            self.total, self.total_sq = self.total + s, self.total_sq + sq
        self.count += x.shape[0] * x.shape[2] * x.shape[3]

    def mean_var(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.total is None or self.count == 0:
            raise RuntimeError("no statistics were recorded for this layer")
        mean = self.total / self.count
        var = (self.total_sq / self.count - mean * mean).clamp_min(0.0)
        return mean.float(), var.float()


@dataclass
class StatsRecorder:
    """Collects statistics over a region of interest of each recorded input.

    ``core`` is the region in *input-image* pixels ``(top, bottom, left, right)`` of the tile
    being run; each layer maps it to its own resolution from the tile's input height.
    """

    input_size: tuple[int, int] = (0, 0)
    core: tuple[int, int, int, int] | None = None
    stats: dict[int, ChannelStats] = field(default_factory=dict)

    def record(self, layer_id: int, x: torch.Tensor) -> None:
        if self.core is not None:
            top, bottom, left, right = self.core
            fy = x.shape[2] / self.input_size[0]
            fx = x.shape[3] / self.input_size[1]
            x = x[:, :, round(top * fy) : round(bottom * fy), round(left * fx) : round(right * fx)]
        self.stats.setdefault(layer_id, ChannelStats()).add(x)

    def frozen(self) -> dict[int, tuple[torch.Tensor, torch.Tensor]]:
        return {k: v.mean_var() for k, v in self.stats.items()}


#: ``(layer_id, (mean, var)) -> (mean, var)``: see :func:`adjusted_stats`.
StatsAdjust = Callable[[int, tuple[torch.Tensor, torch.Tensor]], tuple[torch.Tensor, torch.Tensor]]


class StatsInstanceNorm(nn.Module):
    """Affine instance norm with optional external (global) statistics."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.channels = channels
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.layer_id = -1
        self.recorder: StatsRecorder | None = None
        self.fixed: tuple[torch.Tensor, torch.Tensor] | None = None
        #: Replaces the statistics about to be used (fixed ones, else the input's own; batch 1).
        self.adjust: StatsAdjust | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.recorder is not None:
            self.recorder.record(self.layer_id, x)
        stats = self.fixed
        if self.adjust is not None and x.shape[0] == 1:
            if stats is None:
                var, mean = torch.var_mean(x.float(), dim=(0, 2, 3), correction=0)
                stats = (mean, var)
            stats = self.adjust(self.layer_id, stats)
        if stats is not None:
            mean, var = stats
            mean = mean.to(device=x.device, dtype=torch.float32).view(1, -1, 1, 1)
            var = var.to(device=x.device, dtype=torch.float32).view(1, -1, 1, 1)
            scale = self.weight.float().view(1, -1, 1, 1) * torch.rsqrt(var + self.eps)
            shift = self.bias.float().view(1, -1, 1, 1) - mean * scale
            return (x.float() * scale + shift).to(x.dtype)
        return nn.functional.instance_norm(x, weight=self.weight, bias=self.bias, eps=self.eps)

    def extra_repr(self) -> str:
        return f"{self.channels}, eps={self.eps}"


def stats_norms(model: nn.Module) -> list[StatsInstanceNorm]:
    """The model's norm layers, numbered in forward order (module registration order)."""
    norms = [m for m in model.modules() if isinstance(m, StatsInstanceNorm)]
    for index, norm in enumerate(norms):
        norm.layer_id = index
    return norms


@contextlib.contextmanager
def recording(model: nn.Module, recorder: StatsRecorder) -> Iterator[StatsRecorder]:
    """Within the block, every norm layer adds its input's statistics to ``recorder``."""
    norms = stats_norms(model)
    for norm in norms:
        norm.recorder = recorder
    try:
        yield recorder
    finally:
        for norm in norms:
            norm.recorder = None


@contextlib.contextmanager
def fixed_stats(
    model: nn.Module, stats: dict[int, tuple[torch.Tensor, torch.Tensor]]
) -> Iterator[None]:
    """Within the block, norm layers normalise with ``stats`` instead of per-input statistics.

    Layers missing from ``stats`` keep per-input statistics.
    """
    norms = stats_norms(model)
    for norm in norms:
        norm.fixed = stats.get(norm.layer_id)
    try:
        yield
    finally:
        for norm in norms:
            norm.fixed = None


@contextlib.contextmanager
def adjusted_stats(model: nn.Module, adjust: StatsAdjust) -> Iterator[None]:
    """Within the block, every norm layer normalises with ``adjust(layer_id, stats)`` instead of
    ``stats``: the whole-image statistics the engine fixed for a tiled run, or the input's own.

    Video uses it to smooth each layer's statistics over frames (one pass, tiled or not).
    """
    norms = stats_norms(model)
    for norm in norms:
        norm.adjust = adjust
    try:
        yield
    finally:
        for norm in norms:
            norm.adjust = None


def norm_parameter_names(model: nn.Module) -> list[str]:
    """Names of every ``StatsInstanceNorm`` scale/shift parameter in ``model``, in order."""
    names = []
    for module_name, module in model.named_modules():
        if isinstance(module, StatsInstanceNorm):
            for param_name, _ in module.named_parameters(recurse=False):
                names.append(f"{module_name}.{param_name}")
    return names
