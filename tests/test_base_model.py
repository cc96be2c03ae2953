"""Slim generator widths, scale-free losses, and the multi-style base model's maths."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from stylestudio.core.models.generator import Generator, GeneratorConfig
from stylestudio.core.training import losses
from stylestudio.core.training import multistyle as ms
from stylestudio.core.training.config import TrainingConfig
from stylestudio.core.training.features import TinyFeatures

SLIM = GeneratorConfig(8, 1, mid_channels=12, deep_channels=16, out_channels=4)


def test_default_widths_keep_the_v1_layout_and_manifest() -> None:
    config = GeneratorConfig(16, 3)
    assert config.to_dict() == {"base_channels": 16, "residual_blocks": 3}
    assert config.widths == (16, 32, 64, 16)
    assert GeneratorConfig.from_dict(config.to_dict()) == config
    names = {k: tuple(v.shape) for k, v in Generator(config).state_dict().items()}
    assert names["residuals.0.body.0.conv.weight"] == (64, 64, 3, 3)
    assert names["head.1.weight"] == (3, 16, 9, 9)


def test_slim_widths_round_trip_and_run() -> None:
    assert GeneratorConfig.from_dict(SLIM.to_dict()) == SLIM
    net = Generator(SLIM)
    assert net.state_dict()["decoder.1.block.conv.weight"].shape == (4, 12, 3, 3)
    out = net(torch.rand(1, 3, 30, 22))
    assert out.shape == (1, 3, 30, 22)
    with pytest.raises(ValueError, match="widths"):
        GeneratorConfig.from_dict({"base_channels": 8, "residual_blocks": 1, "out_channels": 2})


def test_content_and_style_losses_do_not_depend_on_the_feature_scale() -> None:
    gen = torch.Generator().manual_seed(0)
    a = torch.rand(2, 8, 12, 12, generator=gen)
    b = torch.rand(2, 8, 12, 12, generator=gen)
    target = {"relu1_1": losses.gram_matrix(b[:1])[0], "relu2_1": losses.gram_matrix(b[1:])[0]}
    feats = {"relu1_1": a, "relu2_1": a}
    scaled_target = {k: v / 255**2 for k, v in target.items()}
    scaled_feats = {k: v / 255 for k, v in feats.items()}
    style = losses.style_loss(feats, target)
    assert torch.allclose(style, losses.style_loss(scaled_feats, scaled_target), rtol=1e-4)
    content = losses.content_loss(a, b)
    assert torch.allclose(content, losses.content_loss(a / 255, b / 255), rtol=1e-4)
    assert float(losses.content_loss(b, b)) == 0.0
    assert float(losses.style_loss({"relu1_1": b[:1]}, {"relu1_1": target["relu1_1"]})) < 1e-10


def _tiny_step(styles: int = 3) -> ms.MultiStyleStep:
    cfg = TrainingConfig.preset(
        "quick",
        crop_size=32,
        batch_size=1,
        style_size=48,
        content_size=48,
        seed=3,
        discriminator_channels=8,
        style_scales=(1.0,),
    )
    gen = torch.Generator().manual_seed(1)
    paintings = [
        ms.BaseStyle(f"p{i}", "", torch.rand(3, 48, 48, generator=gen)) for i in range(styles)
    ]
    return ms.MultiStyleStep(
        cfg, SLIM, paintings, TinyFeatures(cfg.feature_layers), torch.device("cpu")
    )


def test_each_style_is_a_plain_generator_with_its_norm_parameters() -> None:
    step = _tiny_step()
    with torch.no_grad():
        for table in step.bank.tables:
            table.add_(torch.randn(table.shape) * 0.3)
    x = torch.rand(1, 3, 32, 32)
    for index in range(3):
        plain = Generator(SLIM)
        plain.load_state_dict(step.style_state_dict(index))
        with torch.no_grad():
            assert torch.allclose(plain(x), step.generate(x, index), atol=1e-6)
    outputs = [step.generate(x, i) for i in range(3)]
    assert not torch.allclose(outputs[0], outputs[1])
    mean = Generator(SLIM)
    mean.load_state_dict(step.style_state_dict(None))
    rows = [step.bank.row(i) for i in range(3)]
    name = step.bank.names[0]
    expected = sum(r[name] for r in rows) / 3
    assert torch.allclose(mean.state_dict()[name], expected, atol=1e-6)


def test_training_moves_only_the_chosen_styles_parameters_and_resumes(tmp_path: Path) -> None:
    step = _tiny_step()
    before = [t.detach().clone() for t in step.bank.tables]
    contents = [torch.rand(3, 48, 48)]
    last = ms.train_base(step, contents, 3, tmp_path, checkpoint_every=2)
    assert last == 3
    trained = {ms.style_order(3, s, step.config.seed) for s in range(3)}
    assert trained == {0, 1, 2}  # one round visits every style once
    for table, old in zip(step.bank.tables, before, strict=True):
        assert not torch.allclose(table, old)

    resumed = _tiny_step()
    meta = resumed.load(tmp_path)
    assert meta["step"] == 3
    for a, b in zip(resumed.bank.tables, step.bank.tables, strict=True):
        assert torch.equal(a, b)
    # Continuing from the saved state equals training straight through.
    ms.train_base(resumed, contents, 5, tmp_path / "b", start_step=3)
    straight = _tiny_step()
    ms.train_base(straight, contents, 5, tmp_path / "c")
    for a, b in zip(resumed.bank.tables, straight.bank.tables, strict=True):
        assert torch.allclose(a, b, atol=1e-4)
