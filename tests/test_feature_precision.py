"""The frozen feature network in bfloat16 on the CPU (core/training/precision)."""

from __future__ import annotations

import pytest
import torch

from stylestudio.core.errors import TrainingError
from stylestudio.core.training import precision
from stylestudio.core.training.config import TrainingConfig
from stylestudio.core.training.features import TinyFeatures
from stylestudio.core.training.precision import (
    BFloat16Features,
    resolve_feature_precision,
    with_precision,
)
from stylestudio.core.training.step import TrainingStep

CPU = torch.device("cpu")
LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")


def _relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).detach().norm() / b.detach().norm())


def test_auto_is_bf16_only_on_a_cpu_with_it_in_hardware(monkeypatch):
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: True)
    assert resolve_feature_precision("auto", CPU) == "bf16"
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: False)
    assert resolve_feature_precision("auto", CPU) == "fp32"
    assert resolve_feature_precision("bf16", CPU) == "bf16"  # asked for: emulated if need be
    assert resolve_feature_precision("fp32", CPU) == "fp32"
    # CUDA follows mixed_precision (float16 autocast of every network) instead.
    assert resolve_feature_precision("bf16", torch.device("cuda")) == "fp32"
    assert isinstance(precision.cpu_has_native_bf16(), bool)


def test_an_unknown_precision_is_refused_by_name():
    with pytest.raises(TrainingError, match="feature_precision must be one of auto, fp32, bf16"):
        TrainingConfig(feature_precision="fp16").validated()


def test_bf16_features_are_float32_close_to_float32_and_pass_gradients():
    torch.manual_seed(0)
    net = TinyFeatures(LAYERS, width=16)
    low = with_precision(net, "bf16")
    assert isinstance(low, BFloat16Features) and with_precision(net, "fp32") is net
    # The caller's network is untouched (the bfloat16 weights are a copy).
    assert all(p.dtype == torch.float32 for p in net.parameters())
    x = torch.rand(2, 3, 48, 48, requires_grad=True)
    exact = net(x)
    approx = low(x)
    assert set(approx) == set(exact)
    for name in LAYERS:
        assert approx[name].dtype == torch.float32
        assert _relative(approx[name], exact[name]) < 0.02, name
    (g_exact,) = torch.autograd.grad(sum(f.square().mean() for f in exact.values()), x)
    (g_approx,) = torch.autograd.grad(sum(f.square().mean() for f in approx.values()), x)
    assert g_approx.dtype == torch.float32
    assert _relative(g_approx, g_exact) < 0.1
    low.train()
    assert not low.training and not any(p.requires_grad for p in low.parameters())


def test_a_bf16_training_step_scores_the_batch_as_float32_does():
    cfg = TrainingConfig(
        crop_size=32, batch_size=2, style_size=64, content_size=64, generator_channels=8,
        generator_blocks=1, discriminator_channels=8, style_layers=LAYERS,
    )  # fmt: skip
    torch.manual_seed(0)
    features = TinyFeatures(cfg.feature_layers, width=16)
    style = torch.rand(3, 64, 64)
    content = torch.rand(2, 3, 32, 32)
    terms = {}
    for kind in ("fp32", "bf16"):
        step = TrainingStep(cfg.replace(feature_precision=kind), features, CPU)
        assert step.feature_precision == kind
        step.set_style_targets([style])
        _, found = step.generator_losses(content, torch.Generator().manual_seed(0))
        terms[kind] = {name: float(value.detach()) for name, value in found.items()}
        values = step.step(content, content, torch.Generator().manual_seed(0))
        assert all(torch.isfinite(torch.tensor(v)) for v in values.values())
    for name in ("content", "style"):
        assert terms["bf16"][name] == pytest.approx(terms["fp32"][name], rel=0.05), name
    for name in ("tv", "color"):  # not through the feature network: the same
        assert terms["bf16"][name] == pytest.approx(terms["fp32"][name], rel=1e-6), name


def test_the_base_model_trainer_uses_the_same_precision():
    from stylestudio.core.models.generator import GeneratorConfig
    from stylestudio.core.training import multistyle as ms

    cfg = TrainingConfig(
        crop_size=32, batch_size=1, style_size=48, content_size=48, discriminator_channels=8,
        style_layers=LAYERS,
    )  # fmt: skip
    features = TinyFeatures(cfg.feature_layers, width=16)
    styles = [ms.BaseStyle("a", "0" * 64, torch.rand(3, 48, 48))]
    for kind in ("fp32", "bf16"):
        step = ms.MultiStyleStep(
            cfg.replace(feature_precision=kind),
            GeneratorConfig(base_channels=4, residual_blocks=1),
            styles,
            features,
            CPU,
        )
        assert step.feature_precision == kind
        assert isinstance(step.extractor, BFloat16Features) == (kind == "bf16")
