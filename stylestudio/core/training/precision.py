"""The precision of the frozen VGG19 passes that dominate a CPU training step.

On a CPU with native bfloat16 arithmetic (AVX512-BF16 or AMX), oneDNN runs VGG19's
convolutions in bfloat16 with channels-last tensors about a third faster than in float32. Only
the feature network changes: the generator, the discriminator, the optimisers and every loss
stay float32 (features are cast back before Gram matrices are taken), and the paintings' and
photos' targets go through the same network as the generated crops. On CPUs without native
bfloat16 the emulation is slower than float32, so ``auto`` keeps float32 there. On CUDA the
``mixed_precision`` setting (float16 autocast of all three networks) applies instead.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Literal

import torch
from torch import nn

from stylestudio.core.training.config import FeaturePrecision

ResolvedPrecision = Literal["fp32", "bf16"]


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bfloat16 in hardware (torch's own CPU capability probes)."""
    probes: list[Callable[[], bool]] = [
        getattr(torch.cpu, name, lambda: False)
        for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    ]
    try:
        return torch.backends.mkldnn.is_available() and any(probe() for probe in probes)
    except (RuntimeError, AttributeError):  # a torch build without the probes
        return False


def resolve_feature_precision(
    precision: FeaturePrecision, device: torch.device
) -> ResolvedPrecision:
    """What the feature network runs in: bf16 only on a CPU (``auto``: one with native bf16)."""
    if device.type != "cpu" or precision == "fp32":
        return "fp32"
    if precision == "bf16":
        return "bf16"
    return "bf16" if cpu_has_native_bf16() else "fp32"


class BFloat16Features(nn.Module):
    """A frozen feature network run in bfloat16 on the CPU, returning float32 features.

    Gradients flow back to the (float32) input through the bfloat16 convolutions, as in
    mixed-precision training. The weights are cast once, on a copy (the caller's network stays
    float32), rather than at every call.
    """

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        low = copy.deepcopy(inner)
        self.inner = low.to(dtype=torch.bfloat16, memory_format=torch.channels_last)
        self.inner.requires_grad_(False)

    def train(self, mode: bool = True) -> BFloat16Features:
        return super().train(False)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        low = x.to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
        return {name: value.float() for name, value in self.inner(low).items()}


def with_precision(extractor: nn.Module, precision: ResolvedPrecision) -> nn.Module:
    return BFloat16Features(extractor) if precision == "bf16" else extractor


def frozen_features(
    extractor: nn.Module, precision: FeaturePrecision, device: torch.device
) -> tuple[nn.Module, ResolvedPrecision]:
    """The feature network as a training step uses it: on ``device``, in eval mode, frozen, and
    in the precision it runs in here; with that precision."""
    extractor = extractor.to(device).eval()
    extractor.requires_grad_(False)
    resolved = resolve_feature_precision(precision, device)
    return with_precision(extractor, resolved), resolved
