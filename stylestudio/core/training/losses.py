"""Loss terms: VGG content, multi-layer Gram style, total variation, adversarial (hinge / LSGAN)."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch.nn import functional as F


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """``(N, C, H, W)`` → ``(N, C, C)`` Gram matrices divided by C*H*W, in float32."""
    n, c, h, w = features.shape
    f = features.float().reshape(n, c, h * w)
    return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)


def content_loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(output.float(), target.float())


def style_loss(
    features: Mapping[str, torch.Tensor], targets: Mapping[str, torch.Tensor]
) -> torch.Tensor:
    """Sum over layers of the MSE between each image's Gram matrix and the target ``(C, C)``."""
    total = None
    for layer, target in targets.items():
        gram = gram_matrix(features[layer])
        term = F.mse_loss(gram, target.unsqueeze(0).expand_as(gram))
        total = term if total is None else total + term
    if total is None:
        raise ValueError("no style layers")
    return total


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
