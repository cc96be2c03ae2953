"""Style-transfer quality metrics: how close an output is to the painting's style and the photo.

Notation: ``x`` is a method's output, ``s`` the painting (at the benchmark's style size), ``c``
the photo; ``F_l(·)`` the VGG19 activations at layer ``l`` (a ``C × N`` matrix, N = H·W) and
``G_l = F_l F_lᵀ / (C·N)`` their Gram matrix. All norms are Frobenius / Euclidean.

``style`` (Gram style distance, 0 = the painting's statistics)
    ``mean over l ∈ {relu1_1 … relu5_1} of ||G_l(x) − G_l(s)||² / ||G_l(s)||²``.
    Each layer is relative to the painting's own Gram energy, so layers weigh the same and the
    value does not depend on the weights' activation scale (scaling F by k scales both terms by
    k⁴). Gram matrices are spatial averages, so x and s may differ in size.

``content`` (content distance, 0 = the photo's structure)
    ``||F(x) − F(c)||² / ||F(c)||²`` at relu4_1 (x is resized to c's size when they differ).
    Also scale invariant. The photo itself scores 0.

``magenta`` (independent style distance, photo = 1, painting = 0)
    ``||v(x) − v(s)|| / ||v(c) − v(s)||`` where ``v`` is the 100-number style vector of
    Magenta's style-prediction network (Ghiasi et al. 2017, ``arbitrary_predict.onnx``, input:
    centre square crop resized to 256×256 with Lanczos), a network StyleStudio's trainer never
    sees. Note that the Magenta *method* is conditioned on v(s) itself, which favours it here.
    ``None`` when the ONNX models are not available.

``swd`` (patch-statistics distance, photo = 1, painting = 0)
    Sliced Wasserstein distance between the distributions of the N feature vectors (one per
    position, i.e. per receptive-field patch) of x and of s, at relu3_1 and relu4_1:
    ``SW_l(a, b) = sqrt(mean over K unit directions θ of W₂²(θᵀF_l(a), θᵀF_l(b)))``, the 1-D
    W₂ computed from Q quantiles (Q = the larger N, at most ``max_quantiles``). The directions are
    drawn once from a fixed seed per layer width. Reported as the mean over the two layers of
    ``SW_l(x, s) / SW_l(c, s)``, which is scale invariant and makes the photo score 1.0.

Each image is measured once (``QualityMetrics.measure``: its Gram matrices, content features,
sorted projections and style vector); distances are computed between measurements. Everything is
deterministic for a given feature network, seed and device.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from stylestudio.core.quality.images import as_float_image, to_tensor
from stylestudio.core.training.losses import (
    gram_matrix,
    projections,
    quantiles,
    sorted_projections,
)

if TYPE_CHECKING:
    from stylestudio.core.quality.magenta import MagentaModels

STYLE_LAYERS: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
CONTENT_LAYER = "relu4_1"
SWD_LAYERS: tuple[str, ...] = ("relu3_1", "relu4_1")
#: Denominators below this count as zero (the photo is the painting).
_EPS = 1e-12


@dataclass(frozen=True)
class MetricConfig:
    style_layers: tuple[str, ...] = STYLE_LAYERS
    content_layer: str = CONTENT_LAYER
    swd_layers: tuple[str, ...] = SWD_LAYERS
    swd_projections: int = 128
    max_quantiles: int = 4096
    seed: int = 0

    @property
    def feature_layers(self) -> tuple[str, ...]:
        return tuple(sorted({*self.style_layers, self.content_layer, *self.swd_layers}))


@dataclass(frozen=True)
class Scores:
    """One output's metrics (see the module docstring); the per-layer parts for diagnosis."""

    style: float
    content: float
    swd: float
    magenta: float | None
    style_layers: dict[str, float] = field(default_factory=dict)
    swd_layers: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float | None]:
        return {"style": self.style, "content": self.content, "magenta": self.magenta,
                "swd": self.swd}  # fmt: skip


@dataclass(frozen=True)
class Measurement:
    """What the metrics need of one image: a few MB, not its full feature maps."""

    height: int
    width: int
    grams: dict[str, torch.Tensor]  # (C, C) per style layer
    content: torch.Tensor  # content-layer features (1, C, H, W)
    swd: dict[str, torch.Tensor]  # sorted projections (K, N) per SWD layer
    magenta: np.ndarray | None  # Magenta style vector (None without the models)


#: A painting is measured like any image.
StyleTarget = Measurement


@dataclass(frozen=True)
class PhotoTarget:
    """A photo's measurement plus its own distances to the painting (the normalisers)."""

    measurement: Measurement
    swd_reference: dict[str, float]  # SW_l(c, s)
    magenta_reference: float | None  # ||v(c) − v(s)||


# --------------------------------------------------------------------------- plain functions


def relative_gram_distance(
    features: Mapping[str, torch.Tensor], target_grams: Mapping[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Per layer ``||G(x) − G(s)||² / ||G(s)||²`` (differentiable; batch of one)."""
    out = {}
    for layer, target in target_grams.items():
        gram = gram_matrix(features[layer])[0]
        out[layer] = (gram - target).pow(2).sum() / _energy(target)
    return out


def relative_content_distance(feature: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``||F(x) − F(c)||² / ||F(c)||²`` (differentiable)."""
    diff = feature.float() - target.float()
    return diff.pow(2).sum() / target.float().pow(2).sum().clamp_min(_EPS)


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, max_quantiles: int = 4096) -> torch.Tensor:
    """SW₂ between two sets of sorted projections ``(K, Na)`` and ``(K, Nb)``."""
    count = min(max(a.shape[1], b.shape[1]), max_quantiles)
    diff = quantiles(a, count) - quantiles(b, count)
    return diff.pow(2).mean().sqrt()


def _energy(target: torch.Tensor) -> torch.Tensor:
    return target.pow(2).sum().clamp_min(_EPS)


def _ratio(num: float, den: float) -> float:
    if den > _EPS:
        return num / den
    return 0.0 if num <= _EPS else math.inf


# --------------------------------------------------------------------------- the measuring tool


def default_feature_extractor(
    layers: Sequence[str], vgg_weights: Path | None = None, *, allow_download: bool = False
) -> nn.Module:
    """The VGG19 feature network (``$STYLESTUDIO_TEST_FEATURES=tiny`` gives the test stand-in)."""
    from stylestudio.core.training.features import build_feature_extractor

    return build_feature_extractor(layers, vgg_weights, allow_download=allow_download)


class QualityMetrics:
    """Measures outputs against a painting and a photo.

    ``feature_extractor``: any module mapping an RGB [0, 1] batch to ``{layer: tensor}`` (default:
    VGG19 from ``vgg_weights`` or the usual search). ``magenta``: the reference models for the
    ``magenta`` metric (None: that metric is None).
    """

    def __init__(
        self,
        config: MetricConfig | None = None,
        *,
        feature_extractor: nn.Module | None = None,
        vgg_weights: Path | None = None,
        magenta: MagentaModels | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        self.config = config or MetricConfig()
        if not isinstance(device, torch.device):
            from stylestudio.core.engine.device import select_device

            device = select_device(device)  # a clear error for a device this computer lacks
        self.device = device
        if feature_extractor is None:
            feature_extractor = default_feature_extractor(self.config.feature_layers, vgg_weights)
        self.features = feature_extractor.to(self.device).eval().requires_grad_(False)
        self.magenta = magenta
        self._directions: dict[str, torch.Tensor] = {}

    # -- pieces -----------------------------------------------------------------------------

    @torch.no_grad()
    def extract(self, image: np.ndarray) -> dict[str, torch.Tensor]:
        """Features of one (H, W, 3) image at the layers the metrics use."""
        return self.features(to_tensor(as_float_image(image), self.device))

    def directions(self, layer: str, channels: int) -> torch.Tensor:
        key = f"{layer}:{channels}"
        if key not in self._directions:
            self._directions[key] = projections(
                channels, self.config.swd_projections, self.config.seed
            ).to(self.device)
        return self._directions[key]

    def _swd_values(self, features: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {
            layer: sorted_projections(
                features[layer], self.directions(layer, features[layer].shape[1])
            )
            for layer in self.config.swd_layers
        }

    def _swd_against(self, image: Measurement, style: StyleTarget) -> dict[str, float]:
        return {
            layer: float(
                sliced_wasserstein(image.swd[layer], style.swd[layer], self.config.max_quantiles)
            )
            for layer in self.config.swd_layers
        }

    def measure(self, image: np.ndarray | Measurement, what: str = "image") -> Measurement:
        """Measure one (H, W, 3) image (a Measurement is returned as it is)."""
        if isinstance(image, Measurement):
            return image
        image = as_float_image(image, what)
        features = self.extract(image)
        return Measurement(
            height=image.shape[0],
            width=image.shape[1],
            grams={layer: gram_matrix(features[layer])[0] for layer in self.config.style_layers},
            content=features[self.config.content_layer],
            swd=self._swd_values(features),
            magenta=None if self.magenta is None else self.magenta.style_vector(image),
        )

    # -- targets ------------------------------------------------------------------------------

    def style_target(self, painting: np.ndarray | Measurement) -> StyleTarget:
        """Measure the painting (already at the style size the benchmark uses)."""
        return self.measure(painting, "painting")

    def photo_target(self, photo: np.ndarray | Measurement, style: StyleTarget) -> PhotoTarget:
        measured = self.measure(photo, "photo")
        reference = None
        if measured.magenta is not None and style.magenta is not None:
            reference = float(np.linalg.norm(measured.magenta - style.magenta))
        return PhotoTarget(measured, self._swd_against(measured, style), reference)

    # -- scoring ------------------------------------------------------------------------------

    def score(
        self, output: np.ndarray | Measurement, style: StyleTarget, photo: PhotoTarget
    ) -> Scores:
        """All metrics of one output (resized to the photo's size if it differs)."""
        reference = photo.measurement
        if not isinstance(output, Measurement):
            output = as_float_image(output, "output")
            if output.shape[:2] != (reference.height, reference.width):
                from stylestudio.core.quality.images import resize_to

                output = resize_to(output, reference.height, reference.width)
        measured = self.measure(output, "output")
        gram = {
            layer: float((measured.grams[layer] - target).pow(2).sum() / _energy(target))
            for layer, target in style.grams.items()
        }
        content = float(relative_content_distance(measured.content, reference.content))
        swd_raw = self._swd_against(measured, style)
        swd_layers = {k: _ratio(v, photo.swd_reference[k]) for k, v in swd_raw.items()}
        magenta = None
        if (
            measured.magenta is not None
            and style.magenta is not None
            and photo.magenta_reference is not None
        ):
            distance = float(np.linalg.norm(measured.magenta - style.magenta))
            magenta = _ratio(distance, photo.magenta_reference)
        return Scores(
            style=float(np.mean(list(gram.values()))),
            content=content,
            swd=float(np.mean(list(swd_layers.values()))),
            magenta=magenta,
            style_layers=gram,
            swd_layers=swd_layers,
        )

    def compare(self, output: np.ndarray, painting: np.ndarray, photo: np.ndarray) -> Scores:
        """One-shot: the metrics of ``output`` for this painting and photo."""
        style = self.style_target(painting)
        return self.score(output, style, self.photo_target(photo, style))
