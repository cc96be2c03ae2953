"""The Qt-free trainer: settings, losses, augmentation, data, the GAN step, the Trainer's events,
checkpoint/resume exactness, cancel, pause, bad inputs, the CLI and the time estimate.

Everything runs on the CPU at 32–64 px with a tiny generator and ``TinyFeatures`` in place of
VGG19 (no weights needed).
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from stylestudio.core.errors import CancelledError, TrainingError
from stylestudio.core.library import StyleLibrary
from stylestudio.core.models.discriminator import DiscriminatorConfig, PatchDiscriminator
from stylestudio.core.training import checkpoint as ckpt
from stylestudio.core.training import data, events, losses
from stylestudio.core.training.augment import diff_augment
from stylestudio.core.training.config import TrainingConfig
from stylestudio.core.training.features import ENV_TEST_FEATURES, TinyFeatures
from stylestudio.core.training.precision import resolve_feature_precision
from stylestudio.core.training.run import TrainingRun
from stylestudio.core.training.step import LOSS_TERMS, TrainingStep
from stylestudio.core.training.trainer import Trainer
from tests.conftest import dead_process_temp_name

CPU = torch.device("cpu")
REPO = str(Path(__file__).resolve().parents[1])


@pytest.fixture(autouse=True)
def _one_thread_and_private_dirs(tmp_path, monkeypatch):
    """One torch thread (the test machine's cores are shared) and data/cache under tmp_path."""
    monkeypatch.setenv("STYLESTUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STYLESTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("STYLESTUDIO_DEVICE", raising=False)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_config(**overrides) -> TrainingConfig:
    values = dict(
        steps=6,
        crop_size=32,
        batch_size=2,
        style_size=64,
        content_size=64,
        preview_size=32,
        generator_channels=8,
        generator_blocks=1,
        discriminator_channels=8,
        checkpoint_every=3,
        preview_every=3,
        seed=7,
    )
    values.update(overrides)
    return TrainingConfig(**values).validated()


def stripes(h: int = 64, w: int = 80, period: float = 6.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    xs = np.arange(w)[None, :] + np.arange(h)[:, None] * rng.uniform(-1, 1)
    wave = 0.5 + 0.5 * np.sin(2 * np.pi * xs / period)
    colour = rng.uniform(0.2, 1.0, 3)
    return (wave[..., None] * colour).astype(np.float32)


def photos(count: int = 3, size: int = 64, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        base = rng.random((4, 4, 3)).astype(np.float32)
        up = torch.nn.functional.interpolate(
            torch.from_numpy(base).permute(2, 0, 1)[None], size=(size, size), mode="bilinear"
        )
        out.append(up[0].permute(1, 2, 0).numpy().copy())
    return out


def tiny_features(cfg: TrainingConfig) -> TinyFeatures:
    return TinyFeatures(cfg.feature_layers)


def save_png(path: Path, array: np.ndarray) -> Path:
    Image.fromarray((np.clip(array, 0, 1) * 255).round().astype(np.uint8)).save(path)
    return path


def make_trainer(tmp_path: Path, cfg: TrainingConfig, **kwargs) -> Trainer:
    kwargs.setdefault("run_dir", tmp_path / "run")
    kwargs.setdefault("feature_extractor", tiny_features(cfg))
    kwargs.setdefault("device", "cpu")
    style = kwargs.pop("style", [stripes()])
    content = kwargs.pop("content", photos())
    library = kwargs.pop("library", None)
    live = {key: kwargs.pop(key) for key in ("on_event", "feature_extractor") if key in kwargs}
    if "resume_checkpoint" in kwargs:
        kwargs["resume"] = kwargs.pop("resume_checkpoint")
    return Trainer(TrainingRun(cfg, style, content, **kwargs), library, **live)


# ------------------------------------------------------------------------------------------
# settings


def test_presets_are_valid_and_ordered():
    quick, balanced, best = (TrainingConfig.preset(n) for n in ("quick", "balanced", "best"))
    assert quick.steps < balanced.steps < best.steps
    assert quick.crop_size <= balanced.crop_size <= best.crop_size
    assert len(best.style_scales) >= 2 and len(balanced.style_scales) >= 2
    assert TrainingConfig.preset("quick", steps=10).steps == 10
    with pytest.raises(TrainingError, match="Unknown training preset"):
        TrainingConfig.preset("ultra")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("steps", 0),
        ("crop_size", 30),
        ("adversarial_loss", "wgan"),
        ("content_layer", "conv4_1"),
        ("augment", ("rotate",)),
        ("style_weight", -1.0),
        ("lr_g", 0.0),
        ("style_layer_weights", (1.0, 1.0)),  # four style layers
        ("style_layer_weights", (0.0, 0.0, 0.0, 0.0)),
        ("style_layer_weights", (1.0, 1.0, 1.0, -0.5)),
    ],
)
def test_invalid_settings_are_refused_with_one_sentence(field, value):
    with pytest.raises(TrainingError, match="Invalid training setting") as info:
        TrainingConfig().replace(**{field: value})
    assert str(info.value).count(". ") == 0 and str(info.value).endswith(".")


def test_config_round_trips_through_json_and_resume_key_ignores_steps():
    cfg = TrainingConfig.preset("best", seed=3)
    again = TrainingConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg
    assert cfg.replace(steps=99).resume_key() == cfg.resume_key()
    # A run resumes on a CPU that runs the frozen VGG19 in another precision.
    assert cfg.replace(feature_precision="fp32").resume_key() == cfg.resume_key()
    assert cfg.replace(lr_g=0.5).resume_key() != cfg.resume_key()
    with pytest.raises(TrainingError):
        TrainingConfig.from_dict({"nonsense": 1})


def test_layer_weights_are_written_only_when_set():
    """Older manifests and checkpoints have no style_layer_weights; their resume keys stay."""
    cfg = TrainingConfig.preset("quick")
    assert "style_layer_weights" not in cfg.to_dict() and cfg.layer_weights is None
    weighted = cfg.replace(style_layer_weights=(1.0, 1.0, 1.0, 0.2))
    assert weighted.to_dict()["style_layer_weights"] == [1.0, 1.0, 1.0, 0.2]
    assert weighted.layer_weights == dict(zip(cfg.style_layers, (1.0, 1.0, 1.0, 0.2), strict=True))
    assert TrainingConfig.from_dict(json.loads(json.dumps(weighted.to_dict()))) == weighted
    assert weighted.resume_key() != cfg.resume_key()


def test_settings_and_events_import_without_torch():
    code = (
        "import sys; import stylestudio.core.training as t; "
        "t.TrainingConfig.preset('quick'); t.Progress(1, 2, {}, 0.0, 0.0); "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


# ------------------------------------------------------------------------------------------
# losses, augmentation, data


def test_layer_weights_scale_each_layers_gram_error():
    gen = torch.Generator().manual_seed(0)
    feats = {"a": torch.rand(2, 4, 6, 6, generator=gen), "b": torch.rand(2, 5, 6, 6, generator=gen)}
    targets = {k: losses.gram_matrix(torch.rand(1, v.shape[1], 6, 6, generator=gen))[0]
               for k, v in feats.items()}  # fmt: skip
    only_a = losses.gram_errors({"a": feats["a"]}, {"a": targets["a"]})
    only_b = losses.gram_errors({"b": feats["b"]}, {"b": targets["b"]})
    plain = losses.gram_errors(feats, targets)
    torch.testing.assert_close(plain, (only_a + only_b) / 2)
    torch.testing.assert_close(losses.gram_errors(feats, targets, {"a": 1.0, "b": 1.0}), plain)
    weighted = losses.gram_errors(feats, targets, {"b": 0.25})
    torch.testing.assert_close(weighted, (only_a + 0.25 * only_b) / 2)


def test_training_step_passes_layer_weights_to_the_style_loss():
    cfg = tiny_config(use_content=False, use_tv=False, use_adversarial=False, color_weight=0.0)
    style = data.to_tensor(stripes(seed=0))
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    values = []
    for weights in ((), tuple(0.5 for _ in cfg.style_layers)):
        step = TrainingStep(cfg.replace(style_layer_weights=weights), tiny_features(cfg), CPU)
        step.set_style_targets([style])
        _, terms = step.generator_losses(x, torch.Generator().manual_seed(0), generator=lambda t: t)
        values.append(float(terms["style"]))
    assert values[1] == pytest.approx(values[0] * 0.5, rel=1e-5)


def test_gram_is_normalised_by_c_h_w():
    feats = torch.ones(2, 4, 5, 6)
    gram = losses.gram_matrix(feats)
    assert gram.shape == (2, 4, 4)
    torch.testing.assert_close(gram, torch.full((2, 4, 4), 1 / 4))


def test_adversarial_losses_have_the_right_sign():
    good, bad = torch.full((2, 1, 3, 3), 3.0), torch.full((2, 1, 3, 3), -3.0)
    for kind in ("hinge", "lsgan"):
        assert losses.discriminator_loss(kind, good, bad) < losses.discriminator_loss(
            kind, bad, good
        )
        assert losses.generator_adversarial_loss(kind, good) < (
            losses.generator_adversarial_loss(kind, bad)
        )


def test_diff_augment_is_seeded_differentiable_and_changes_the_image():
    x = torch.rand(3, 3, 32, 32, requires_grad=True)
    kinds = ("color", "translation", "cutout")
    a = diff_augment(x, kinds, torch.Generator().manual_seed(1))
    b = diff_augment(x, kinds, torch.Generator().manual_seed(1))
    c = diff_augment(x, kinds, torch.Generator().manual_seed(2))
    assert a.shape == x.shape
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)
    assert not torch.allclose(a, x)
    a.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_crop_sampler_is_reproducible_and_enlarges_small_images():
    sampler = data.CropSampler([torch.rand(3, 64, 70), torch.rand(3, 80, 64)], 96, 0.5)
    a = sampler.sample(4, torch.Generator().manual_seed(5))
    b = sampler.sample(4, torch.Generator().manual_seed(5))
    assert a.shape == (4, 3, 96, 96)
    torch.testing.assert_close(a, b)
    assert float(a.min()) >= 0.0 and float(a.max()) <= 1.0


def test_without_photos_the_bundled_samples_or_generated_images_are_used(tmp_path, monkeypatch):
    resources = tmp_path / "resources"
    (resources / "samples").mkdir(parents=True)
    monkeypatch.setenv("STYLESTUDIO_RESOURCES_DIR", str(resources))
    sources, note = data.load_content_images(None, 64, seed=0)
    assert len(sources) == data.SYNTHETIC_COUNT and "generated" in note
    save_png(resources / "samples" / "a.png", photos(1, 80)[0])
    sources, note = data.load_content_images(None, 64, seed=0)
    assert len(sources) == 1 and "sample photos" in note
    sources, note = data.load_content_images(photos(2), 64, seed=0)
    assert len(sources) == 2 and note.startswith("Only 2 practice photos;")
    sources, note = data.load_content_images(photos(20, seed=3), 64, seed=0)
    assert len(sources) == 20 and note is None


def test_check_inputs_reports_counts_and_problems(tmp_path):
    check = data.check_inputs([stripes()], photos(3), style_size=64, content_size=64)
    assert (check.style_images, check.practice_photos) == (1, 3)
    assert len(check.notes) == 1
    with pytest.raises(TrainingError, match="only 8×8 pixels"):
        data.check_inputs([stripes(8, 8)])


def test_content_folder_is_expanded(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, image in enumerate(photos(3)):
        save_png(folder / f"p{i}.png", image)
    (folder / "notes.txt").write_text("not an image")
    assert [p.name for p in data.expand_content(folder)] == ["p0.png", "p1.png", "p2.png"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(TrainingError, match="contains no supported images"):
        data.expand_content(empty)


# ------------------------------------------------------------------------------------------
# the GAN step


def make_step(cfg: TrainingConfig) -> TrainingStep:
    step = TrainingStep(cfg, tiny_features(cfg), CPU)
    step.set_style_targets([data.to_tensor(stripes())])
    return step


def test_a_few_steps_reduce_the_style_loss():
    cfg = tiny_config(use_content=False, use_tv=False, use_adversarial=False, lr_g=1e-2)
    step = make_step(cfg)
    content = data.CropSampler([data.to_tensor(p) for p in photos()], 32, 0.5).sample(
        2, torch.Generator().manual_seed(0)
    )

    def style_now() -> float:
        with torch.no_grad():
            return float(step.generator_losses(content, torch.Generator())[1]["style"])

    before = style_now()
    for _ in range(12):
        step.step(content, content, torch.Generator().manual_seed(0))
    after = style_now()
    assert after < 0.7 * before


@pytest.mark.parametrize("term", LOSS_TERMS)
def test_each_loss_term_sends_gradient_to_the_generator(term):
    cfg = tiny_config(color_weight=1.0, swd_weight=1.0)
    step = make_step(cfg)
    content = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    _, terms = step.generator_losses(content, torch.Generator().manual_seed(0))
    assert set(terms) == set(LOSS_TERMS)
    step.G.zero_grad(set_to_none=True)
    terms[term].backward()
    grads = [p.grad for p in step.G.parameters() if p.grad is not None]
    assert grads, f"{term} produced no generator gradient"
    total = sum(float(g.abs().sum()) for g in grads)
    assert total > 0 and np.isfinite(total)
    # The generator's adversarial term must not train the discriminator.
    assert all(p.grad is None for p in step.D.parameters())


def test_switched_off_terms_are_not_computed():
    cfg = tiny_config(use_tv=False, use_adversarial=False, color_weight=0.0)
    _, terms = make_step(cfg).generator_losses(torch.rand(1, 3, 32, 32), torch.Generator())
    assert set(terms) == {"content", "style"}
    cfg = tiny_config(use_tv=False, use_adversarial=False, color_weight=1.0, use_color=False)
    _, terms = make_step(cfg).generator_losses(torch.rand(1, 3, 32, 32), torch.Generator())
    assert set(terms) == {"content", "style"}


def test_colour_loss_measures_the_palette_not_the_layout():
    directions = losses.color_projections()
    painting = torch.from_numpy(stripes()).permute(2, 0, 1)
    target = losses.sorted_colors(painting, directions)
    same = painting.unsqueeze(0)
    shuffled = painting.reshape(3, -1)[:, torch.randperm(painting[0].numel())].reshape(
        painting.shape
    )
    assert float(losses.color_loss(same, target, directions)) < 1e-6
    assert float(losses.color_loss(shuffled.unsqueeze(0), target, directions)) < 1e-6
    # The painting's mean colour everywhere (a "wash") and a hue swap are both far from it.
    wash = painting.mean(dim=(1, 2), keepdim=True).expand_as(painting).unsqueeze(0)
    swapped = painting[[2, 0, 1]].unsqueeze(0)
    assert float(losses.color_loss(wash, target, directions)) > 0.5
    assert float(losses.color_loss(swapped, target, directions)) > 0.05
    # Scaling the image's contrast towards the wash moves the loss monotonically.
    halfway = (0.5 * same + 0.5 * wash).requires_grad_(True)
    loss = losses.color_loss(halfway, target, directions)
    assert 0.1 < loss.item() < float(losses.color_loss(wash, target, directions))
    loss.backward()
    assert halfway.grad is not None and float(halfway.grad.abs().sum()) > 0


def test_feature_distribution_loss_sees_what_a_gram_matrix_misses():
    """The distribution of feature vectors, not where they sit; and an even texture with the
    painting's per-channel second moments (a Gram matrix's diagonal) is still far from it."""
    generator = torch.Generator().manual_seed(0)
    layers = ("a", "b")
    painting = {
        "a": torch.rand(1, 8, 16, 16, generator=generator) * 2,
        "b": torch.rand(1, 16, 8, 8, generator=generator),
    }
    directions = {k: losses.projections(v.shape[1], 12) for k, v in painting.items()}
    targets = {k: losses.sorted_projections(v, directions[k]) for k, v in painting.items()}
    assert float(losses.swd_loss(painting, targets, directions)) < 1e-10
    # Where each feature vector sits does not matter, only which vectors there are.
    shuffled = {k: v.flatten(2)[..., torch.randperm(v[0, 0].numel())].reshape(v.shape)
                for k, v in painting.items()}  # fmt: skip
    assert float(losses.swd_loss(shuffled, targets, directions)) < 1e-10
    # A batch of two crops is one distribution: each crop half of the painting's samples.
    halves = {k: v.flatten(2).reshape(v.shape[0], v.shape[1], 2, -1).transpose(0, 2)
              .reshape(2, v.shape[1], -1, 1) for k, v in painting.items()}  # fmt: skip
    assert float(losses.swd_loss(halves, targets, directions)) < 1e-10
    # Every value replaced by its channel's root mean square: same second moments, no spread.
    evened = {}
    for layer in layers:
        flat = painting[layer].flatten(2)
        rms = flat.pow(2).mean(dim=2, keepdim=True).sqrt()
        even = rms.expand_as(flat).reshape(painting[layer].shape)
        assert torch.allclose(
            losses.gram_matrix(even).diagonal(dim1=1, dim2=2),
            losses.gram_matrix(painting[layer]).diagonal(dim1=1, dim2=2),
        )
        evened[layer] = even.clone().requires_grad_(True)
    loss = losses.swd_loss(evened, targets, directions)
    assert loss.item() > 0.5
    loss.backward()
    assert all(float(v.grad.abs().sum()) > 0 for v in evened.values())


@pytest.mark.parametrize(
    ("term", "weights"),
    [("color", {"color_weight": 1.0}), ("swd", {"color_weight": 0.0, "swd_weight": 1.0})],
)
def test_a_few_steps_of_a_distribution_term_bring_it_closer(term, weights):
    """The palette (``color``) and feature-distribution (``swd``) terms, each trained alone."""
    cfg = tiny_config(
        use_content=False, use_style=False, use_tv=False, use_adversarial=False, lr_g=1e-2,
        **weights,
    )  # fmt: skip
    step = make_step(cfg)
    content = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))

    def term_now() -> float:
        with torch.no_grad():
            return float(step.generator_losses(content, torch.Generator())[1][term])

    before = term_now()
    for _ in range(12):
        step.step(content, content, torch.Generator().manual_seed(0))
    assert term_now() < 0.7 * before


def test_mixed_precision_plumbing(monkeypatch):
    """CPU bfloat16 autocast stands in for CUDA float16: no dtype clashes between networks."""
    cfg = tiny_config(style_scales=(1.0, 0.5), color_weight=1.0, swd_weight=1.0)
    step = make_step(cfg)
    monkeypatch.setattr(
        step, "_autocast", lambda: torch.autocast(device_type="cpu", dtype=torch.bfloat16)
    )
    content = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    values = step.step(content, content, torch.Generator().manual_seed(0))
    assert set(values) == {"d", "total", *LOSS_TERMS}
    assert all(np.isfinite(v) for v in values.values())
    assert step.stylize(content).dtype == torch.float32


@pytest.mark.parametrize("kind", ["hinge", "lsgan"])
def test_discriminator_learns_stripes_from_flat_noise(kind):
    torch.manual_seed(0)
    disc = PatchDiscriminator(DiscriminatorConfig(base_channels=8, strided_layers=2))
    opt = torch.optim.Adam(disc.parameters(), lr=2e-3, betas=(0.5, 0.999))
    real_pool = data.CropSampler([data.to_tensor(stripes(seed=s)) for s in range(4)], 32, 0.5)
    gen = torch.Generator().manual_seed(0)

    def fake_batch(n: int) -> torch.Tensor:
        flat = torch.rand(n, 3, 1, 1, generator=gen)
        return (flat + 0.03 * torch.randn(n, 3, 32, 32, generator=gen)).clamp(0, 1)

    for _ in range(40):
        real, fake = real_pool.sample(4, gen), fake_batch(4)
        batch = torch.cat([diff_augment(real, ("translation",), gen), fake])
        logits = disc(batch)
        loss = losses.discriminator_loss(kind, logits[:4], logits[4:])
        opt.zero_grad()
        loss.backward()
        opt.step()
    disc.eval()
    with torch.no_grad():
        real_logits, fake_logits = disc(real_pool.sample(16, gen)), disc(fake_batch(16))
    threshold = 0.0 if kind == "hinge" else 0.5
    accuracy = 0.5 * (
        (real_logits > threshold).float().mean() + (fake_logits < threshold).float().mean()
    )
    assert accuracy > 0.9


# ------------------------------------------------------------------------------------------
# the Trainer


def test_training_adds_a_style_with_metadata_and_events(tmp_path):
    style_file = save_png(tmp_path / "painting.png", stripes(64, 96))
    library = StyleLibrary(user_dir=tmp_path / "styles", builtin_dir=tmp_path / "none")
    seen: list[events.TrainingEvent] = []
    cfg = tiny_config(steps=4, checkpoint_every=2, preview_every=2)
    trainer = make_trainer(
        tmp_path, cfg, style=[style_file], library=library, name="Stripes", on_event=seen.append
    )
    record = trainer.run()

    kinds = [type(e).__name__ for e in seen]
    assert kinds[:3] == ["Status", "Status", "Started"] and kinds[-1] == "Finished"
    progress = [e for e in seen if isinstance(e, events.Progress)]
    assert [p.step for p in progress] == [1, 2, 3, 4]
    assert all(p.total == 4 and "total" in p.losses and "d" in p.losses for p in progress)
    assert all(p.it_per_s > 0 and np.isfinite(p.eta_s) for p in progress)
    previews = [e for e in seen if isinstance(e, events.Preview)]
    assert [p.step for p in previews] == [2, 4]
    before, after = previews[0].images[0]
    assert before.shape == after.shape == (32, 32, 3) and after.dtype == np.float32
    assert [e.step for e in seen if isinstance(e, events.Checkpointed)] == [2]

    assert record is not None and record.name == "Stripes"
    assert library.get(record.id).location == record.location
    assert record.thumbnail is not None and record.thumbnail.is_file()
    meta = record.manifest.training
    digest = hashlib.sha256(style_file.read_bytes()).hexdigest()
    assert meta["style_images"] == [{"name": "painting.png", "sha256": digest, "size": [96, 64]}]
    assert meta["steps"] == 4 and meta["device"] == "CPU" and meta["time_s"] >= 0
    assert meta["feature_precision"] == resolve_feature_precision("auto", CPU)
    assert meta["settings"]["crop_size"] == 32
    assert isinstance(seen[-1], events.Finished) and seen[-1].record == record
    assert not (tmp_path / "run").exists()  # checkpoints are removed after success
    from stylestudio.core.stylepack import load_style_model

    _, model = load_style_model(record.location)
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, trainer.generator_state[name])


def test_training_from_an_existing_style_starts_from_its_weights(tmp_path):
    from stylestudio.core.stylepack import read_style

    library = StyleLibrary(user_dir=tmp_path / "styles", builtin_dir=tmp_path / "none")
    first = make_trainer(tmp_path, tiny_config(steps=1), library=library, name="Base").run()
    _, tensors = read_style(first.location)
    # The generator's size comes from the style, not from the config (16 channels here).
    cfg = tiny_config(steps=1, lr_g=1e-6, lr_d=1e-6, lr_norm=1e-6, generator_channels=16)
    for start in (first, first.id, first.location):
        trainer = make_trainer(tmp_path, cfg, library=library, start_from=start)
        trainer.run()
        for name, value in trainer.generator_state.items():
            assert value.shape == tensors[name].shape
            torch.testing.assert_close(value, tensors[name], atol=1e-3, rtol=0)


class _Killed(Exception):
    """Stands in for the process dying right after a checkpoint."""


@pytest.mark.parametrize("swd_weight", [0.0, 1.0])
def test_checkpoint_then_resume_equals_an_uninterrupted_run(tmp_path, swd_weight):
    cfg = tiny_config(steps=6, checkpoint_every=3, swd_weight=swd_weight)
    straight = make_trainer(tmp_path, cfg, run_dir=tmp_path / "a")
    straight.run()

    def kill_after_checkpoint(event):
        if isinstance(event, events.Checkpointed) and event.step == 3:
            raise _Killed

    interrupted = make_trainer(
        tmp_path, cfg, run_dir=tmp_path / "b", on_event=kill_after_checkpoint
    )
    with pytest.raises(_Killed):
        interrupted.run()
    latest = ckpt.latest_checkpoint(tmp_path / "b")
    assert latest is not None and latest.step == 3
    tensors = load_file(str(latest.path / "state.safetensors"))
    assert tensors["rng.cpu"].dtype == torch.uint8
    assert any(k.startswith("opt_g.") for k in tensors) and any(k.startswith("D.") for k in tensors)

    # A checkpoint write killed half-way leaves only a temp folder, which resuming ignores.
    junk = tmp_path / "b" / dead_process_temp_name()
    junk.mkdir()
    (junk / "state.json").write_text("{")
    assert ckpt.latest_checkpoint(tmp_path / "b").step == 3

    started: list[tuple[events.Started, bool]] = []
    resumed = make_trainer(
        tmp_path,
        cfg,
        run_dir=tmp_path / "b",
        resume_checkpoint=True,
        on_event=lambda e: (
            started.append((e, junk.exists())) if isinstance(e, events.Started) else None
        ),
    )
    resumed.run()
    assert started == [(started[0][0], False)] and started[0][0].start_step == 3
    assert resumed.step_count == 6
    for name, value in straight.generator_state.items():
        torch.testing.assert_close(resumed.generator_state[name], value, rtol=0, atol=1e-6)
    initial = TrainingStep(cfg, tiny_features(cfg), CPU).G.state_dict()["head.1.weight"]
    assert not torch.allclose(initial, straight.generator_state["head.1.weight"])


_KILLED_RUN = """
import os, signal, sys
import torch
from test_training import photos, stripes, tiny_config, tiny_features
from stylestudio.core.training import events
from stylestudio.core.training.run import TrainingRun
from stylestudio.core.training.trainer import Trainer

torch.set_num_threads(1)
cfg = tiny_config(steps=6, checkpoint_every=3)

def die(event):
    if isinstance(event, events.Checkpointed):
        os.kill(os.getpid(), signal.SIGKILL)

run = TrainingRun(cfg, [stripes()], photos(), run_dir=sys.argv[1], device="cpu")
Trainer(run, None, feature_extractor=tiny_features(cfg), on_event=die).run()
"""


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_process_resumes_to_the_same_weights(tmp_path):
    run_dir = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), REPO])}
    done = subprocess.run([sys.executable, "-c", _KILLED_RUN, str(run_dir)], env=env, timeout=120)
    assert done.returncode == -signal.SIGKILL
    assert ckpt.latest_checkpoint(run_dir).step == 3

    cfg = tiny_config(steps=6, checkpoint_every=3)
    resumed = make_trainer(tmp_path, cfg, run_dir=run_dir, resume_checkpoint=True)
    resumed.run()
    straight = make_trainer(tmp_path, cfg, run_dir=tmp_path / "straight")
    straight.run()
    for name, value in straight.generator_state.items():
        assert torch.equal(resumed.generator_state[name], value), name


def test_resume_refuses_a_checkpoint_of_other_settings(tmp_path):
    cfg = tiny_config(steps=4, checkpoint_every=2)

    def kill(event):
        if isinstance(event, events.Checkpointed):
            raise _Killed

    with pytest.raises(_Killed):
        make_trainer(tmp_path, cfg, on_event=kill).run()
    other = make_trainer(tmp_path, cfg.replace(lr_g=5e-4), resume_checkpoint=True)
    with pytest.raises(TrainingError, match="different settings"):
        other.run()
    other_images = make_trainer(tmp_path, cfg, resume_checkpoint=True, style=[stripes(seed=9)])
    with pytest.raises(TrainingError, match="different images"):
        other_images.run()


@pytest.mark.parametrize("keep", [True, False])
def test_cancel_writes_no_style(tmp_path, keep):
    library = StyleLibrary(user_dir=tmp_path / "styles", builtin_dir=tmp_path / "none")
    seen: list[events.TrainingEvent] = []
    cfg = tiny_config(steps=50, checkpoint_every=40)
    trainer = make_trainer(tmp_path, cfg, library=library)

    def on_event(event):
        seen.append(event)
        if isinstance(event, events.Progress) and event.step == 2:
            trainer.cancel(keep_checkpoint=keep)

    trainer.on_event = on_event
    with pytest.raises(CancelledError):
        trainer.run()
    assert library.list() == []
    styles_dir = tmp_path / "styles"
    assert not styles_dir.exists() or list(styles_dir.iterdir()) == []
    cancelled = seen[-1]
    assert isinstance(cancelled, events.Cancelled) and cancelled.step == 2
    if keep:
        assert cancelled.run_dir == tmp_path / "run"
        assert ckpt.latest_checkpoint(tmp_path / "run").step == 2
    else:
        assert cancelled.run_dir is None and not (tmp_path / "run").exists()


def test_cancel_before_the_first_step_keeps_nothing(tmp_path):
    seen: list[events.TrainingEvent] = []
    trainer = make_trainer(tmp_path, tiny_config(), on_event=seen.append)
    trainer.cancel()
    with pytest.raises(CancelledError):
        trainer.run()
    assert seen[-1] == events.Cancelled(0, None)
    assert not (tmp_path / "run").exists()


def test_pause_and_resume_from_another_thread(tmp_path):
    got: queue.Queue = queue.Queue()
    reached, gate = threading.Event(), threading.Event()

    def on_event(event):
        got.put(event)
        if isinstance(event, events.Progress) and event.step == 1:
            reached.set()
            gate.wait(30)

    trainer = make_trainer(tmp_path, tiny_config(steps=3), on_event=on_event)
    errors: list[BaseException] = []

    def work():
        try:
            trainer.run()
        except BaseException as exc:  # reported below
            errors.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    assert reached.wait(60)
    trainer.pause()
    gate.set()
    while True:
        event = got.get(timeout=60)
        if isinstance(event, events.Paused):
            break
    assert trainer.paused and event.step == 1
    worker.join(0.3)
    assert worker.is_alive() and trainer.step_count == 1  # holds still while paused
    trainer.resume()
    worker.join(60)
    assert not worker.is_alive() and not errors
    rest = []
    while not got.empty():
        rest.append(got.get())
    assert isinstance(rest[0], events.Resumed)
    assert isinstance(rest[-1], events.Finished) and trainer.step_count == 3


# ------------------------------------------------------------------------------------------
# bad inputs


def test_no_style_image_is_a_clear_error(tmp_path):
    with pytest.raises(TrainingError, match="at least one style image"):
        Trainer(TrainingRun(tiny_config(), []))


@pytest.mark.parametrize("problem", ["unreadable", "tiny", "missing"])
def test_bad_style_images_fail_with_one_sentence(tmp_path, problem):
    if problem == "unreadable":
        bad = tmp_path / "broken.png"
        bad.write_bytes(b"this is not a png")
        expected = "broken.png"
    elif problem == "tiny":
        bad = save_png(tmp_path / "tiny.png", stripes(8, 8))
        expected = "only 8×8 pixels"
    else:
        bad = tmp_path / "gone.jpg"
        expected = "gone.jpg"
    seen: list[events.TrainingEvent] = []
    trainer = make_trainer(tmp_path, tiny_config(), style=[bad], on_event=seen.append)
    with pytest.raises(TrainingError, match=expected) as info:
        trainer.run()
    message = str(info.value)
    assert "\n" not in message and message.endswith(".")
    assert isinstance(seen[-1], events.Failed) and seen[-1].message == message
    assert not any(isinstance(e, events.Started) for e in seen)


def test_missing_vgg_weights_fail_with_one_sentence(tmp_path, monkeypatch):
    from stylestudio.core.errors import WeightsUnavailableError
    from stylestudio.core.models import vgg

    monkeypatch.setenv(vgg.ENV_OFFLINE, "1")
    monkeypatch.delenv(vgg.ENV_VGG_WEIGHTS, raising=False)
    monkeypatch.delenv(ENV_TEST_FEATURES, raising=False)
    monkeypatch.setattr(vgg, "hub_weights_path", lambda: tmp_path / "no-hub.pth")
    monkeypatch.setattr(vgg, "bundled_weights_path", lambda: tmp_path / "no-bundle.safetensors")
    seen: list[events.TrainingEvent] = []
    trainer = make_trainer(tmp_path, tiny_config(), feature_extractor=None, on_event=seen.append)
    with pytest.raises(WeightsUnavailableError) as info:
        trainer.run()
    assert isinstance(seen[-1], events.Failed) and seen[-1].message == str(info.value)


def test_a_tiny_practice_photo_is_refused(tmp_path):
    trainer = make_trainer(tmp_path, tiny_config(), content=[stripes(40, 200)])
    with pytest.raises(TrainingError, match="photo #1 is only 200×40"):
        trainer.run()


# ------------------------------------------------------------------------------------------
# CLI and estimate


def cli_args(tmp_path: Path, name: str = "CLI style", *extra: str) -> list[str]:
    """``stylestudio train`` arguments for a 2-step CPU run on a stripes painting and 2 photos
    (written into ``tmp_path`` on the first call)."""
    style = tmp_path / "style.png"
    if not style.exists():
        save_png(style, stripes(64, 64))
        (tmp_path / "photos").mkdir()
        for i, image in enumerate(photos(2)):
            save_png(tmp_path / "photos" / f"{i}.png", image)
    return [
        "train",
        "--name",
        name,
        "--style-images",
        str(style),
        "--content",
        str(tmp_path / "photos"),
        "--preset",
        "quick",
        "--steps",
        "2",
        "--crop-size",
        "32",
        "--device",
        "cpu",
        *extra,
    ]


def test_cli_train_end_to_end(tmp_path, monkeypatch, capsys):
    from stylestudio.cli.main import main

    monkeypatch.setenv(ENV_TEST_FEATURES, "tiny")  # test-only hook: no VGG weights needed
    args = cli_args(tmp_path)
    assert main(args) == 0
    out = capsys.readouterr()
    assert "Saved style 'CLI style'" in out.out
    assert "Training on CPU" in out.err
    assert [r.name for r in StyleLibrary().list() if not r.builtin] == ["CLI style"]

    missing = tmp_path / "missing.png"
    assert main([*args[:3], "--style-images", str(missing)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"stylestudio: error: The style image {missing} cannot be used: no such file or folder."
    ]

    bad = tmp_path / "bad.png"
    bad.write_bytes(b"nope")
    assert main([*args[:3], "--style-images", str(bad), "--steps", "1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) >= 1 and err[-1].startswith("stylestudio: error: The style image bad.png")


@pytest.mark.parametrize("swd_weight", [0.0, 1.0])
def test_estimate_extrapolates_a_short_benchmark(swd_weight):
    from stylestudio.core.training.estimate import estimate_duration

    cfg = tiny_config(steps=1000, swd_weight=swd_weight)  # also times the optional SWD term
    estimate = estimate_duration(cfg, "cpu", bench_steps=1, feature_extractor=tiny_features(cfg))
    assert estimate.seconds_per_step > 0 and estimate.steps == 1000
    # The steps plus what a run pays besides (setup, previews, saving): see test_estimate.py.
    assert estimate.total_s == pytest.approx(estimate.total_for(cfg))
    assert estimate.total_s > estimate.seconds_per_step * 1000
    assert estimate.device == "CPU" and estimate.describe().startswith("about")


def test_training_uses_every_core_even_from_a_one_thread_worker(tmp_path):
    """The app's preview worker lowers torch's thread count and new threads inherit it; the
    trainer and its estimate must still use every core (and restore the caller's count)."""
    from stylestudio.core.training.estimate import estimate_duration
    from stylestudio.core.training.threads import cpu_cores

    if cpu_cores() < 2:
        pytest.skip("needs at least two CPU cores")
    cfg = tiny_config(steps=2)
    seen: list[int] = []

    class Recording(TinyFeatures):
        def forward(self, x):  # type: ignore[override]
            seen.append(torch.get_num_threads())
            return super().forward(x)

    after: list[int] = []

    def job() -> None:
        torch.set_num_threads(1)  # as the preview worker leaves it
        make_trainer(tmp_path, cfg, feature_extractor=Recording(cfg.feature_layers)).run()
        estimate_duration(
            cfg, "cpu", bench_steps=1, feature_extractor=Recording(cfg.feature_layers),
            style_images=[stripes()], content=photos(),
        )  # fmt: skip
        after.append(torch.get_num_threads())

    thread = threading.Thread(target=job)
    thread.start()
    thread.join()
    assert seen and set(seen) == {cpu_cores()}
    assert after == [1]


def test_several_paintings_are_matched_one_at_a_time_not_averaged():
    """With two very different paintings, an output equal to one of them scores zero style loss
    ("nearest"); matching their averaged Gram matrices would penalise it."""
    cfg = tiny_config(use_content=False, use_tv=False, use_adversarial=False, color_weight=0.0)
    a = data.to_tensor(stripes(seed=0))
    b = data.to_tensor(np.ascontiguousarray(stripes(seed=5)[:, ::-1] * 0.3))
    nearest = TrainingStep(cfg, tiny_features(cfg), CPU)
    nearest.set_style_targets([a, b])
    average = TrainingStep(cfg.replace(multi_painting="average"), tiny_features(cfg), CPU)
    average.set_style_targets([a, b])
    layer = cfg.style_layers[0]
    assert nearest.style_targets[1.0][layer].shape[0] == 2  # one Gram matrix per painting
    assert average.style_targets[1.0][layer].dim() == 2

    from stylestudio.core.training.step import multi_scale_style_loss

    def loss(step: TrainingStep, image: torch.Tensor) -> float:
        batch = image.unsqueeze(0)
        return float(
            multi_scale_style_loss(step.extractor, batch, step.extractor(batch), step.style_targets)
        )

    # Scale 0.5 resizes the image, so compare at scale 1 only.
    for step in (nearest, average):
        step.style_targets = {1.0: step.style_targets[1.0]}
    assert loss(nearest, a) < 1e-6 and loss(nearest, b) < 1e-6
    assert loss(average, a) > 0.01 and loss(average, b) > 0.01
    # With one painting both modes are the same loss.
    single = TrainingStep(cfg, tiny_features(cfg), CPU)
    single.set_style_targets([a])
    single_avg = TrainingStep(cfg.replace(multi_painting="average"), tiny_features(cfg), CPU)
    single_avg.set_style_targets([a])
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    assert float(
        multi_scale_style_loss(single.extractor, x, single.extractor(x), single.style_targets)
    ) == pytest.approx(
        float(
            multi_scale_style_loss(
                single_avg.extractor, x, single_avg.extractor(x), single_avg.style_targets
            )
        ),
        rel=1e-6,
    )
