"""Temporal stability: consecutive stylised frames that agree where the input agrees.

Stylising every frame on its own flickers for two reasons, and each has its remedy here:

* **Global shifts.** Every instance-norm layer normalises with the statistics of the current
  frame; sensor noise and small motions move them a little, and the whole frame's colours and
  contrast pulse. :class:`NormSmoother` gives each layer an exponential moving average of its
  statistics over the frames instead (the mean and the mean square are averaged, so the variance
  stays consistent), in the same single pass: it plugs into the norms through
  ``models.norm.adjusted_stats``, and it works unchanged when the engine tiles a large frame
  (then the statistics it smooths are the engine's exact whole-image ones).
* **Local texture.** The network's strokes jump with small input changes. :class:`FrameBlender`
  blends the result with the previous (stabilised) result warped by a low-resolution optical
  flow, with a weight that falls to 0 where the warped previous input disagrees with the current
  one (occlusions, wrong flow), so moving edges do not ghost.

A scene cut (the inputs disagree almost everywhere even after the flow) restarts both.
:class:`TemporalStylizer` runs the engine on one frame after the other with both.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import torch
from torch.nn import functional as F

from stylestudio.core.mixing import Blend, StyleSource
from stylestudio.core.models.norm import adjusted_stats
from stylestudio.core.video.flow import (
    FlowConfig,
    downscale,
    estimate_flow,
    gray,
    upscale_flow,
    warp,
    warp_confidence,
)

if TYPE_CHECKING:
    from torch import nn

    from stylestudio.core.engine.stylize import CancelFn, ProgressFn, StylizeOptions, StylizeResult

Stats = tuple[torch.Tensor, torch.Tensor]


class TemporalMode(enum.Enum):
    """How frames are tied together."""

    NAIVE = "naive"  # every frame on its own, exactly as a photo
    NORM = "norm"  # shared (smoothed) instance-norm statistics
    NORM_FLOW = "norm+flow"  # and a blend with the previous result warped by optical flow

    @property
    def smooths_stats(self) -> bool:
        return self is not TemporalMode.NAIVE

    @property
    def blends(self) -> bool:
        return self is TemporalMode.NORM_FLOW


@dataclass(frozen=True)
class TemporalConfig:
    """The stabiliser's settings (the defaults are what ``stylize`` and the app use)."""

    mode: TemporalMode = TemporalMode.NORM_FLOW
    #: Weight of the running statistics against the new frame's (about (1+m)/(1-m) frames).
    stats_momentum: float = 0.8
    #: Weight of the warped previous result where the flow is trusted fully.
    blend: float = 0.6
    #: Warp error of the inputs (mean absolute, 0–1) up to which the flow is trusted fully …
    trust_error: float = 0.015
    #: … and from which not at all.
    distrust_error: float = 0.06
    #: Mean warp error over the frame above which it is a new scene.
    cut_error: float = 0.12
    flow: FlowConfig = field(default_factory=FlowConfig)

    def __post_init__(self) -> None:
        if not 0.0 <= self.stats_momentum < 1.0:
            raise ValueError("stats_momentum must be in [0, 1)")
        if not 0.0 <= self.blend < 1.0:
            raise ValueError("blend must be in [0, 1)")
        if not 0.0 <= self.trust_error < self.distrust_error:
            raise ValueError("trust_error must be below distrust_error")


class NormSmoother:
    """Exponential moving average of every norm layer's statistics over frames.

    Use :meth:`applied` around the network run of one frame, then :meth:`end_frame`. Within a
    frame the same layer may be asked many times (once per tile); the answer depends only on the
    state before the frame and the frame's own statistics, so every tile gets the same one.
    """

    def __init__(self, momentum: float) -> None:
        self.momentum = momentum
        self._state: dict[int, Stats] = {}  # layer → (mean, mean of squares)
        self._next: dict[int, Stats] = {}

    def reset(self) -> None:
        self._state.clear()
        self._next.clear()

    def __call__(self, layer: int, stats: Stats) -> Stats:
        mean, var = stats[0].float(), stats[1].float()
        square = var + mean * mean
        old = self._state.get(layer)
        if old is not None:
            m = self.momentum
            mean = m * old[0].to(mean.device) + (1.0 - m) * mean
            square = m * old[1].to(square.device) + (1.0 - m) * square
        self._next[layer] = (mean, square)
        return mean, (square - mean * mean).clamp_min(0.0)

    def applied(self, model: nn.Module):
        """The context in which ``model``'s norms use the smoothed statistics."""
        return adjusted_stats(model, self)

    def end_frame(self) -> None:
        self._state = {k: (m.detach(), s.detach()) for k, (m, s) in self._next.items()}
        self._next = {}

    @property
    def layers(self) -> int:
        return len(self._state)


def _tensor(image: np.ndarray) -> torch.Tensor:
    """(H, W, 3) float32 → (1, 3, H, W)."""
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None]


def _image(x: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(x[0].permute(1, 2, 0).numpy(), dtype=np.float32)


@dataclass
class Motion:
    """How the current input relates to the previous one (at low resolution)."""

    cut: bool
    flow: torch.Tensor | None = None  # backward flow, low resolution
    confidence: torch.Tensor | None = None  # (1, 1, h, w) in [0, 1]


class FrameBlender:
    """Low-resolution motion between inputs, and the blend of results along it."""

    def __init__(self, config: TemporalConfig) -> None:
        self.config = config
        self._previous_small: torch.Tensor | None = None  # luma of the previous input
        self._previous_out: torch.Tensor | None = None  # the previous stabilised result

    def reset(self) -> None:
        self._previous_small = None
        self._previous_out = None

    def analyse(self, image: np.ndarray) -> Motion:
        """Compare ``image`` (H, W, 3 float32) with the previous input; remembers it."""
        small = gray(downscale(_tensor(image), self.config.flow.max_side))
        previous, self._previous_small = self._previous_small, small
        if previous is None or previous.shape != small.shape:
            return Motion(cut=previous is not None)
        if not self.config.mode.blends:
            return Motion(cut=float((small - previous).abs().mean()) > self.config.cut_error)
        flow = estimate_flow(small, previous, self.config.flow)
        moved = warp(previous, flow)
        if float((small - moved).abs().mean()) > self.config.cut_error:
            return Motion(cut=True)
        c = self.config
        return Motion(False, flow, warp_confidence(small, moved, c.trust_error, c.distrust_error))

    def blend(self, result: np.ndarray, motion: Motion) -> np.ndarray:
        """``result`` (H, W, 3 float32) blended with the previous result along ``motion``."""
        out = _tensor(result)
        previous = self._previous_out
        if (
            motion.flow is not None
            and motion.confidence is not None
            and previous is not None
            and previous.shape == out.shape
        ):
            size = out.shape[-2:]
            flow = upscale_flow(motion.flow, size)
            weight = F.interpolate(motion.confidence, size=size, mode="bilinear")
            weight = weight * self.config.blend
            out = out + weight * (warp(previous, flow) - out)
        self._previous_out = out
        return _image(out)


class FrameEngine(Protocol):
    """What the stabiliser needs of ``engine.stylize.Engine``."""

    def model_for(self, style_location: Path) -> nn.Module: ...

    def model_for_blend(self, blend: Blend) -> nn.Module: ...

    def run_network(
        self,
        image: np.ndarray,
        model: nn.Module,
        options: StylizeOptions,
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
    ) -> StylizeResult: ...


class TemporalStylizer:
    """Stylises the frames of one clip, in order, through the engine's ``run_network`` (tiling,
    strength, preserve colours, style scale, a region mask in ``options.mask``: everything a
    photo gets). The blend with the previous frame comes last, after the mask's composite."""

    def __init__(
        self,
        engine: FrameEngine,
        style: StyleSource,
        options: StylizeOptions,
        config: TemporalConfig = TemporalConfig(),
    ) -> None:
        self.engine = engine
        if isinstance(style, Blend):
            self.model = engine.model_for_blend(style)
        else:
            self.model = engine.model_for(style)
        self.options = options
        self.config = config
        self.smoother = NormSmoother(config.stats_momentum)
        self.blender = FrameBlender(config)
        self.notes: list[str] = []
        self.cuts = 0

    def __call__(
        self,
        image: np.ndarray,
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
    ) -> np.ndarray:
        """The next frame (float32 (H, W, 3) in [0, 1]) stylised: float32 (H, W, 3)."""
        mode = self.config.mode
        motion = self.blender.analyse(image) if mode.smooths_stats else Motion(cut=False)
        if motion.cut:
            self.cuts += 1
            self.smoother.reset()
            self.blender.reset()
            self.blender.analyse(image)  # the new scene's first frame
        if mode.smooths_stats:
            with torch.inference_mode(), self.smoother.applied(self.model):
                result = self.engine.run_network(image, self.model, self.options, progress, cancel)
            self.smoother.end_frame()
        else:
            result = self.engine.run_network(image, self.model, self.options, progress, cancel)
        for note in result.notes:
            if note not in self.notes:
                self.notes.append(note)
        out = result.image
        if mode.blends:
            out = self.blender.blend(out, motion)
        return np.clip(out, 0.0, 1.0, out=out)
