"""The inference engine: tiling with whole-image statistics, adjustments, OOM, devices."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from stylestudio.core.adjust import rgb_to_lab
from stylestudio.core.engine.device import (
    describe_device,
    is_out_of_memory,
    resolve_precision,
    select_device,
)
from stylestudio.core.engine.stylize import (
    Engine,
    StylizeOptions,
    TilingConfig,
    validate_image,
)
from stylestudio.core.errors import CancelledError, StyleStudioError
from stylestudio.core.models.generator import Generator, GeneratorConfig
from tests.conftest import psnr


def make_generator(seed: int = 0) -> Generator:
    torch.manual_seed(seed)
    return Generator(GeneratorConfig(base_channels=8, residual_blocks=2)).eval()


def structured_image(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Gradients, a wave pattern, random discs and boxes, plus noise (never flat)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([xx / w, yy / h, 0.5 + 0.5 * np.sin(xx / 13.0) * np.cos(yy / 17.0)], -1)
    for _ in range(12):
        cy, cx, r = rng.integers(0, h), rng.integers(0, w), rng.integers(8, 50)
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.random(3)
        y0, x0 = rng.integers(0, h), rng.integers(0, w)
        img[y0 : y0 + rng.integers(5, 60), x0 : x0 + rng.integers(5, 60)] = rng.random(3)
    img += rng.normal(0, 0.03, img.shape)
    return np.clip(img, 0, 1).astype(np.float32)


class Spy(nn.Module):
    """Wraps a model; records input shapes; optionally fails like a GPU out of memory."""

    def __init__(self, inner: nn.Module, oom_above: int | None = None) -> None:
        super().__init__()
        self.inner = inner
        self.receptive_radius = inner.receptive_radius
        self.size_multiple = inner.size_multiple
        self.oom_above = oom_above
        self.shapes: list[tuple[int, ...]] = []
        self.failures = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.shapes.append(tuple(x.shape))
        if self.oom_above is not None and x.shape[-2] * x.shape[-1] > self.oom_above:
            self.failures += 1
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return self.inner(x)


def cpu_engine(**tiling: object) -> Engine:
    return Engine("cpu", tiling=TilingConfig(min_tile_size=80, **tiling))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def big_case() -> tuple[Generator, np.ndarray, np.ndarray]:
    """An odd-sized image, its untiled network output, and the model."""
    model = make_generator()
    image = structured_image(250, 330)
    reference = cpu_engine().run_network(image, model, StylizeOptions(tile_size=0)).raw
    return model, image, reference


# -- tiling -------------------------------------------------------------------------------------


def test_untiled_run_equals_the_plain_model(big_case) -> None:
    model, image, reference = big_case
    with torch.inference_mode():
        x = torch.from_numpy(image.transpose(2, 0, 1).copy())[None]
        direct = model(x)[0].permute(1, 2, 0).numpy()
    assert reference.shape == image.shape
    assert psnr(reference, direct) > 100


def test_tiled_with_global_statistics_matches_untiled(big_case) -> None:
    model, image, reference = big_case
    result = cpu_engine().run_network(image, model, StylizeOptions(tile_size=128))
    assert result.tiles > 1
    assert result.raw.shape == image.shape
    assert psnr(result.raw, reference) > 100.0  # exact statistics: equal up to float rounding


def test_tiled_with_per_tile_normalisation_shows_seams(big_case) -> None:
    model, image, reference = big_case
    engine = cpu_engine(norm_mode="per_tile")
    result = engine.run_network(image, model, StylizeOptions(tile_size=128))
    assert result.tiles > 1
    assert psnr(result.raw, reference) < 40.0


@pytest.mark.slow
def test_iterated_statistics_converge_with_damped_passes() -> None:
    """The approximate alternative: downscaled estimate plus 4 damped refinement passes."""
    model, image = make_generator(), structured_image(112, 144, seed=5)
    reference = cpu_engine().run_network(image, model, StylizeOptions(tile_size=0)).raw
    result = cpu_engine(stats_passes=4).run_network(image, model, StylizeOptions(tile_size=80))
    assert result.tiles > 1
    assert psnr(result.raw, reference) >= 40.0


def test_out_of_memory_is_recognised_in_its_several_forms() -> None:
    assert is_out_of_memory(torch.cuda.OutOfMemoryError("CUDA out of memory"))
    assert is_out_of_memory(RuntimeError("MPS backend out of memory"))
    assert is_out_of_memory(RuntimeError("DefaultCPUAllocator: can't allocate memory"))
    assert not is_out_of_memory(RuntimeError("shape mismatch"))


# -- adjustments, scale, preview ------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_case() -> tuple[Generator, np.ndarray, Engine]:
    return make_generator(1), structured_image(48, 64, seed=3), cpu_engine()


def test_strength_zero_returns_the_input_exactly(small_case) -> None:
    model, image, engine = small_case
    result = engine.run_network(image, model, StylizeOptions(strength=0.0))
    assert np.array_equal(result.image, image)
    assert not np.array_equal(result.raw, image)


def test_strength_half_is_the_midpoint(small_case) -> None:
    model, image, engine = small_case
    full = engine.run_network(image, model, StylizeOptions(strength=1.0))
    half = engine.run_network(image, model, StylizeOptions(strength=0.5))
    np.testing.assert_allclose(full.image, full.raw, atol=1e-6)
    np.testing.assert_allclose(half.image, (image + full.raw) / 2, atol=1e-5)


def test_preserve_colours_keeps_chroma_and_takes_lightness_from_the_style(small_case) -> None:
    model, image, engine = small_case
    image = 0.25 + 0.5 * image  # stay inside the gamut so Lab round trips are exact
    plain = engine.run_network(image, model, StylizeOptions())
    kept = engine.run_network(image, model, StylizeOptions(preserve_colors=True))
    lab_in, lab_raw = rgb_to_lab(image), rgb_to_lab(plain.raw)
    lab_plain, lab_kept = rgb_to_lab(plain.image), rgb_to_lab(kept.image)
    chroma_error = np.abs(lab_kept[..., 1:] - lab_in[..., 1:]).mean()
    assert chroma_error < 1.0
    assert np.abs(lab_plain[..., 1:] - lab_in[..., 1:]).mean() > 5 * chroma_error
    assert np.abs(lab_kept[..., 0] - lab_raw[..., 0]).mean() < 1.0


@pytest.mark.parametrize(("scale", "expected"), [(2.0, (24, 32)), (0.5, (96, 128))])
def test_style_scale_resizes_the_network_input_and_keeps_the_output_size(
    small_case, scale: float, expected: tuple[int, int]
) -> None:
    model, image, engine = small_case
    spy = Spy(model)
    result = engine.run_network(image, spy, StylizeOptions(style_scale=scale))
    assert [s[-2:] for s in spy.shapes] == [expected]
    assert result.image.shape == image.shape and result.raw.shape == image.shape


def test_max_side_gives_a_preview_size_result(small_case) -> None:
    model, image, engine = small_case
    result = engine.run_network(image, model, StylizeOptions(max_side=32, strength=0.0))
    assert result.image.shape == (24, 32, 3) and result.raw.shape == (24, 32, 3)
    assert abs(float(result.image.mean()) - float(image.mean())) < 0.02


def test_invalid_options_are_refused(small_case) -> None:
    model, image, engine = small_case
    for options in (StylizeOptions(style_scale=8.0), StylizeOptions(strength=1.5)):
        with pytest.raises(StyleStudioError):
            engine.run_network(image, model, options)


# -- progress, cancellation -------------------------------------------------------------------


def test_progress_is_monotonic_and_reaches_one(small_case) -> None:
    model, _image, engine = small_case
    image = structured_image(112, 144, seed=5)
    events: list[tuple[float, str]] = []
    result = engine.run_network(
        image, model, StylizeOptions(tile_size=80), progress=lambda f, m: events.append((f, m))
    )
    assert result.tiles > 1
    fractions = [f for f, _ in events]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    assert len(events) > result.tiles  # every pass and tile reports


def test_cancel_between_tiles_stops_early(small_case) -> None:
    model, _image, engine = small_case
    image = structured_image(112, 144, seed=5)
    spy = Spy(model)
    checks = 0

    def cancel() -> bool:
        nonlocal checks
        checks += 1
        return checks > 5

    with pytest.raises(CancelledError):
        engine.run_network(image, spy, StylizeOptions(tile_size=80), cancel=cancel)
    assert 0 < len(spy.shapes) <= 5


# -- out of memory ----------------------------------------------------------------------------


def test_out_of_memory_retries_with_smaller_tiles_and_still_matches() -> None:
    model = make_generator(2)
    image = structured_image(120, 152, seed=7)
    reference = cpu_engine().run_network(image, model, StylizeOptions(tile_size=0)).raw
    spy = Spy(model, oom_above=100 * 100)
    result = cpu_engine().run_network(image, spy, StylizeOptions(tile_size=0))
    assert spy.failures >= 1
    assert spy.shapes[0][-2:] == (120, 152)  # the untiled attempt came first
    assert result.tiles > 1
    assert any("smaller tiles" in note for note in result.notes)
    assert psnr(result.raw, reference) >= 40.0


def test_out_of_memory_at_the_smallest_tile_is_a_clear_error() -> None:
    spy = Spy(make_generator(), oom_above=16 * 16)
    with pytest.raises(StyleStudioError, match="not enough memory"):
        cpu_engine().run_network(structured_image(120, 152), spy, StylizeOptions())


# -- validation, non-finite outputs -------------------------------------------------------------


def test_grayscale_input_is_expanded(small_case) -> None:
    model, image, engine = small_case
    result = engine.run_network(image[..., 0], model, StylizeOptions())
    assert result.image.shape == (48, 64, 3)


@pytest.mark.parametrize(
    "bad",
    [np.zeros((8, 8, 4), np.float32), np.zeros((0, 8, 3), np.float32), np.full((8, 8, 3), np.nan)],
)
def test_invalid_images_are_refused(bad: np.ndarray) -> None:
    with pytest.raises(StyleStudioError):
        validate_image(bad)


class NaNModel(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.clone()
        y[..., :4, :4] = float("nan")
        return y


def test_non_finite_outputs_are_replaced_with_a_note(small_case) -> None:
    _model, image, engine = small_case
    result = engine.run_network(image, NaNModel(), StylizeOptions())
    assert np.isfinite(result.image).all() and np.isfinite(result.raw).all()
    assert result.notes


# -- model cache ------------------------------------------------------------------------------


def test_models_are_cached_per_path_and_weights(tmp_path: Path) -> None:
    style = tmp_path / "style"
    style.mkdir()
    (style / "weights.bin").write_bytes(b"a")
    loads: list[Path] = []
    sha = {"value": "aaa"}

    def loader(location: Path) -> tuple[SimpleNamespace, nn.Module]:
        loads.append(location)
        return SimpleNamespace(weights_sha256=sha["value"]), make_generator()

    engine = Engine("cpu", model_loader=loader)
    first = engine.model_for(style)
    assert engine.model_for(style) is first and len(loads) == 1
    assert not first.training
    (style / "weights.bin").write_bytes(b"bb")  # the folder changed: reload and compare hashes
    sha["value"] = "bbb"
    second = engine.model_for(style)
    assert second is not first and len(loads) == 2
    image = structured_image(32, 40)
    result = engine.stylize(image, style, StylizeOptions())
    assert result.image.shape == image.shape and len(loads) == 2
    assert result.device == "CPU"


def test_stylize_loads_a_real_style_folder(tmp_path: Path) -> None:
    from stylestudio.core.library import StyleLibrary
    from stylestudio.core.models.generator import ARCHITECTURE_NAME

    model = make_generator(4)
    library = StyleLibrary(user_dir=tmp_path / "user", builtin_dir=tmp_path / "builtin")
    record = library.add(
        "Test", model.state_dict(), architecture=ARCHITECTURE_NAME, params=model.config.to_dict()
    )
    engine = cpu_engine()
    image = structured_image(40, 56)
    result = engine.stylize(image, record.location, StylizeOptions())
    expected = engine.run_network(image, model, StylizeOptions())
    np.testing.assert_allclose(result.raw, expected.raw, atol=1e-5)
    assert engine.model_for(record.location) is engine.model_for(record.location)


# -- devices ----------------------------------------------------------------------------------


def test_device_selection_honours_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYLESTUDIO_DEVICE", "cpu")
    assert select_device() == torch.device("cpu")
    assert select_device("auto").type in {"cpu", "cuda", "mps"}
    assert describe_device(torch.device("cpu")) == "CPU"
    assert resolve_precision(torch.device("cpu"), "auto") is None
    engine = Engine()
    assert engine.device == torch.device("cpu") and engine.device_description == "CPU"


def test_unknown_device_is_a_clear_error() -> None:
    with pytest.raises(StyleStudioError, match="Unknown device"):
        select_device("tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_unavailable_cuda_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(StyleStudioError, match="no CUDA GPU"):
        select_device("cuda")
    monkeypatch.setenv("STYLESTUDIO_DEVICE", "cuda:1")
    with pytest.raises(StyleStudioError, match="cuda:1"):
        Engine()
