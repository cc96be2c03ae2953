"""Time to quality: snapshots at wall-clock marks, and the table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from stylestudio.core.models.generator import Generator, GeneratorConfig
from stylestudio.core.quality import time_to_quality as ttq
from stylestudio.core.training.features import ENV_TEST_FEATURES
from tests.test_training import photos, stripes, tiny_config


def test_legacy_path_is_the_old_quick_preset() -> None:
    legacy = ttq.training_path("legacy-quick")
    assert legacy.steps == 1000 and legacy.crop_size == 192 and not legacy.warm_start
    assert legacy.norm_only_steps == 0
    assert ttq.training_path("quick").warm_start


def test_legacy_balanced_is_the_trainers_first_defaults() -> None:
    old = ttq.training_path("legacy-balanced-no-gan")
    assert (old.steps, old.crop_size, old.batch_size, old.style_size) == (4000, 256, 4, 512)
    assert (old.generator_channels, old.generator_blocks) == (32, 5)
    assert not old.warm_start and old.norm_only_steps == 0 and not old.use_adversarial
    assert ttq.training_path("balanced").steps < old.steps


def test_snapshots_are_taken_at_the_marks_and_at_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_TEST_FEATURES, "tiny")
    cfg = tiny_config(steps=4)
    result = ttq.train_with_snapshots(
        "tiny", cfg, stripes(), photos(), [0.0], budget_s=600, builtin_dir=tmp_path / "none"
    )
    assert result.finished_s is not None and result.steps_done == 4
    assert [s.step for s in result.snapshots] == [1, 4]  # the first mark, then the end
    for snap in result.snapshots:
        net = Generator(GeneratorConfig.from_dict(snap.params))
        net.load_state_dict(snap.state)
    assert not torch.equal(
        result.snapshots[0].state["head.1.weight"], result.snapshots[1].state["head.1.weight"]
    )

    stopped = ttq.train_with_snapshots(
        "budget", tiny_config(steps=10_000), stripes(), photos(), [0.0], budget_s=0.0
    )
    assert stopped.finished_s is None and stopped.steps_done < 10_000
    stopped.scores = {s.seconds: {"style": 0.5} for s in stopped.snapshots}
    table = ttq.format_table([stopped], {"photo": {"style": 1.0, "content": 0.0}})
    assert "| photo | – | – | 1.000 | 0.000 |" in table
    assert "| budget | 0 s |" in table and "stopped at the budget" in table
    assert np.isfinite(stopped.snapshots[0].seconds)


def test_the_strip_shows_the_photo_and_each_paths_last_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV_TEST_FEATURES, "tiny")
    result = ttq.train_with_snapshots(
        "tiny", tiny_config(steps=1), stripes(), photos(), [], budget_s=600
    )
    strip = ttq.render_strip([result, result], [photos()[0]], size=48)
    assert strip.width == 3 * 48 and strip.height == 18 + 48 * 64 // 64


def test_paths_include_the_gan_ablation() -> None:
    with_gan, without = ttq.training_path("quick"), ttq.training_path("quick-no-gan")
    assert with_gan.use_adversarial and not without.use_adversarial
    assert with_gan.replace(use_adversarial=False) == without


def test_paths_include_the_losses_before_the_palette_loss_and_suffixes_combine() -> None:
    quick = ttq.training_path("quick")
    old = ttq.training_path("quick-no-palette")
    assert quick.color_weight > 0 and old.color_weight == 0 and old.tv_weight == 10.0
    assert quick.replace(color_weight=0.0, tv_weight=10.0) == old
    both = ttq.training_path("quick-no-palette-no-gan")
    assert both == old.replace(use_adversarial=False)
    assert ttq.training_path("quick-no-gan-no-palette") == both


def test_every_snapshot_and_the_baselines_are_measured_in_one_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    root = os.environ.get("STYLESTUDIO_SHARED_DATA")
    vgg = Path(root, "vgg", "vgg19_features.safetensors") if root else None
    if vgg is None or not vgg.is_file():
        pytest.skip("no VGG19 weights at $STYLESTUDIO_SHARED_DATA/vgg/vgg19_features.safetensors")
    from stylestudio.core.quality.benchmark import BenchConfig

    monkeypatch.setenv(ENV_TEST_FEATURES, "tiny")
    result = ttq.train_with_snapshots(
        "tiny", tiny_config(steps=3), stripes(), photos(), [0.0], budget_s=600
    )
    assert len(result.snapshots) == 2
    baselines = ttq.measure(
        [result], stripes(), photos()[:1], BenchConfig(size=48), vgg_weights=vgg
    )
    assert set(result.scores) == {s.seconds for s in result.snapshots}
    assert baselines["photo"]["content"] == 0.0
    for medians in result.scores.values():
        assert medians["style"] is not None and medians["content"] > 0.0
