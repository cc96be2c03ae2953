"""Loss terms: VGG content, multi-layer Gram style, colour distribution, VGG feature
distribution (sliced Wasserstein), total variation, adversarial (hinge / LSGAN).

The content and style terms are *relative* errors: each is divided by the squared norm of its
target. Scaling every feature map by a constant (VGG weights that output activations / 255, or
a layer that is simply larger than another) leaves them unchanged, so one set of loss weights
serves any VGG19 weights file and every layer counts alike.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch.nn import functional as F


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """``(N, C, H, W)`` → ``(N, C, C)`` Gram matrices divided by C*H*W, in float32."""
    n, c, h, w = features.shape
    f = features.float().reshape(n, c, h * w)
    return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)


_TINY = 1e-30


def relative_error(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``‖output − target‖² / ‖target‖²`` per batch item (dims after the first), averaged."""
    out, tgt = output.float().flatten(1), target.float().flatten(1)
    num = (out - tgt).pow(2).sum(dim=1)
    den = tgt.pow(2).sum(dim=1).clamp_min(_TINY)
    return (num / den).mean()


def content_loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Relative feature error ``‖F(x) − F(c)‖² / ‖F(c)‖²`` (0 = same features)."""
    return relative_error(output, target)


def style_loss(
    features: Mapping[str, torch.Tensor], targets: Mapping[str, torch.Tensor]
) -> torch.Tensor:
    """Mean over layers of the relative Gram error ``‖G(x) − G(s)‖² / ‖G(s)‖²``, averaged over
    the batch; ``targets`` holds one ``(C, C)`` Gram matrix per layer (see ``gram_errors``)."""
    return gram_errors(features, targets).mean()


def gram_errors(
    features: Mapping[str, torch.Tensor],
    targets: Mapping[str, torch.Tensor],
    layer_weights: Mapping[str, float] | None = None,
) -> torch.Tensor:
    """``(N, P)``: for each batch item and each of P paintings, the mean over layers of the
    relative Gram error (each times its ``layer_weights`` factor, default 1). ``targets`` holds
    ``(P, C, C)`` per layer (or ``(C, C)``: P = 1)."""
    total = None
    for layer, target in targets.items():
        gram = gram_matrix(features[layer])  # (N, C, C)
        each = target if target.dim() == 3 else target.unsqueeze(0)  # (P, C, C)
        diff = (gram.unsqueeze(1) - each.unsqueeze(0)).pow(2).sum(dim=(2, 3))  # (N, P)
        term = diff / each.pow(2).sum(dim=(1, 2)).clamp_min(_TINY)
        if layer_weights is not None:
            term = term * layer_weights.get(layer, 1.0)
        total = term if total is None else total + term
    if total is None:
        raise ValueError("no style layers")
    return total / len(targets)


def color_projections(count: int = 32, seed: int = 0) -> torch.Tensor:
    """``(3, count)`` fixed unit directions in RGB: the first three are the axes."""
    generator = torch.Generator().manual_seed(seed)
    directions = torch.cat(
        [torch.eye(3), torch.randn(3, max(0, count - 3), generator=generator)], 1
    )
    return directions / directions.norm(dim=0, keepdim=True)


def quantiles(values: torch.Tensor, count: int) -> torch.Tensor:
    """Sorted ``(K, N)`` → ``(K, count)`` values at probabilities (i + ½)/count (linear)."""
    n = values.shape[1]
    if n == count:
        return values
    position = (torch.arange(count, device=values.device) + 0.5) * (n / count) - 0.5
    position = position.clamp(0, n - 1)
    low = position.floor().long()
    high = position.ceil().long()
    weight = (position - low).to(values.dtype)
    return values[:, low] * (1 - weight) + values[:, high] * weight


def sorted_projections(
    values: torch.Tensor, directions: torch.Tensor, count: int | None = None
) -> torch.Tensor:
    """``(N, C, H, W)`` (or ``(C, H, W)``) → ``(K, count)``: the distribution of all its
    C-dimensional samples (pixels, or feature vectors), projected on each of the K columns of
    ``directions`` ``(C, K)``, sorted, and at ``count`` evenly spaced quantiles (all: None)."""
    channels = directions.shape[0]
    flat = values.float().transpose(0, 1) if values.dim() == 4 else values.float()
    flat = flat.reshape(channels, -1)
    ordered = torch.sort(directions.to(flat.device).T @ flat, dim=1).values
    return ordered if count is None else quantiles(ordered, count)


def sorted_colors(
    pixels: torch.Tensor, directions: torch.Tensor, count: int = 1024
) -> torch.Tensor:
    """``(N, 3, H, W)`` (or ``(3, H, W)``) → ``(K, count)``: the colour distribution of all
    its pixels, projected on each direction, at evenly spaced quantiles."""
    return sorted_projections(pixels, directions, count)


def _relative_sliced_distance(ours: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared gap between sorted projections ``(K, n)``, over the target's variance."""
    spread = (target - target.mean(dim=1, keepdim=True)).pow(2).mean().clamp_min(_TINY)
    return (ours - target).pow(2).mean() / spread


def color_loss(
    output: torch.Tensor, target: torch.Tensor, directions: torch.Tensor
) -> torch.Tensor:
    """Sliced Wasserstein distance² between the batch's pixel colours and the painting's
    (``target`` from ``sorted_colors``), relative to the painting's colour variance.

    Gram matrices of VGG features let a generator paint a whole photo in the painting's mean
    hue (a blue wash for The Starry Night); matching the colour *distribution* keeps its
    yellows and darks (the histogram loss of Risser et al. 2017, sliced as in Heitz et al. 2021).
    """
    ours = sorted_colors(output, directions, target.shape[1])
    return _relative_sliced_distance(ours, target)


def projections(channels: int, count: int, seed: int = 0) -> torch.Tensor:
    """``(channels, count)`` random unit directions, a fixed function of (channels, seed)."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + channels)
    directions = torch.randn(channels, count, generator=generator)
    return directions / directions.norm(dim=0, keepdim=True)


def swd_loss(
    features: Mapping[str, torch.Tensor],
    targets: Mapping[str, torch.Tensor],
    directions: Mapping[str, torch.Tensor],
) -> torch.Tensor:
    """Mean over layers of the sliced Wasserstein distance² between the distribution of the
    batch's feature vectors and the painting's (``targets``: every sorted projection, from
    ``sorted_projections``), each relative to the painting's projected variance.

    A Gram matrix keeps only second moments, so very different distributions of local
    features share one (Heitz et al. 2021): a generator can match it with a grey, evenly mixed
    texture. The whole distribution also fixes which colours sit with which strokes.
    """
    total = None
    for layer, target in targets.items():
        ours = sorted_projections(features[layer], directions[layer])
        term = _relative_sliced_distance(ours, quantiles(target, ours.shape[1]))
        total = term if total is None else total + term
    if total is None:
        raise ValueError("no layers")
    return total / len(targets)


def tv_loss(image: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between neighbouring pixels (discourages speckle noise)."""
    x = image.float()
    dy = x[..., 1:, :] - x[..., :-1, :]
    dx = x[..., :, 1:] - x[..., :, :-1]
    return dy.pow(2).mean() + dx.pow(2).mean()


def discriminator_loss(
    kind: str, real_logits: torch.Tensor, fake_logits: torch.Tensor
) -> torch.Tensor:
    """Loss that teaches the discriminator real → positive, fake → negative."""
    real, fake = real_logits.float(), fake_logits.float()
    if kind == "hinge":
        return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()
    if kind == "lsgan":
        return 0.5 * ((real - 1.0).pow(2).mean() + fake.pow(2).mean())
    raise ValueError(f"unknown adversarial loss {kind!r}")


def generator_adversarial_loss(kind: str, fake_logits: torch.Tensor) -> torch.Tensor:
    """Loss that rewards the generator for fooling the discriminator."""
    fake = fake_logits.float()
    if kind == "hinge":
        return -fake.mean()
    if kind == "lsgan":
        return 0.5 * (fake - 1.0).pow(2).mean()
    raise ValueError(f"unknown adversarial loss {kind!r}")
