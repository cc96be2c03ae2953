"""Tile plans: coverage, grid alignment, core partition and feather weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from stylestudio.core.engine.staged import StagedGenerator, generator_parts, split_regions
from stylestudio.core.engine.stylize import Engine, StylizeOptions, TilingConfig
from stylestudio.core.engine.tiling import (
    blend_tiles,
    choose_tile_size,
    min_tile_size,
    plan_tiles,
)
from stylestudio.core.errors import CancelledError
from stylestudio.core.models.generator import Generator, GeneratorConfig
from stylestudio.core.models.norm import stats_norms
from tests.conftest import psnr

SIZES = [(252, 332, 128, 32), (600, 704, 256, 56), (128, 520, 160, 40), (96, 96, 128, 32)]


@pytest.mark.parametrize(("h", "w", "tile", "radius"), SIZES)
def test_plan_covers_every_pixel_on_the_grid(h: int, w: int, tile: int, radius: int) -> None:
    plan = plan_tiles(h, w, tile, radius)
    covered = np.zeros((h, w), dtype=int)
    owned = np.zeros((h, w), dtype=int)
    for t in plan.tiles:
        assert t.top % 4 == 0 and t.left % 4 == 0
        assert t.height % 4 == 0 and t.width % 4 == 0
        assert t.top + t.height <= h and t.left + t.width <= w
        covered[t.top : t.top + t.height, t.left : t.left + t.width] += 1
        top, bottom, left, right = t.core
        assert all(v % 4 == 0 for v in t.core)
        owned[t.top + top : t.top + bottom, t.left + left : t.left + right] += 1
    assert covered.min() >= 1
    # Cores partition the image: every pixel's statistics are counted exactly once.
    assert owned.min() == 1 and owned.max() == 1


@pytest.mark.parametrize(("h", "w", "tile", "radius"), SIZES)
def test_cores_keep_a_receptive_radius_from_interior_edges(
    h: int, w: int, tile: int, radius: int
) -> None:
    plan = plan_tiles(h, w, tile, radius)
    for t in plan.tiles:
        top, bottom, left, right = t.core
        if t.top > 0:
            assert top >= radius
        if t.top + t.height < h:
            assert t.height - bottom >= radius
        if t.left > 0:
            assert left >= radius
        if t.left + t.width < w:
            assert t.width - right >= radius


@pytest.mark.parametrize(("h", "w", "tile", "radius"), SIZES)
def test_feather_weights_sum_to_one_and_vanish_near_interior_edges(
    h: int, w: int, tile: int, radius: int
) -> None:
    plan = plan_tiles(h, w, tile, radius)
    total = torch.zeros(h, w, dtype=torch.float64)
    for t in plan.tiles:
        weights = t.weights().double()
        assert weights.min() >= 0 and weights.max() <= 1
        if t.top > 0:
            assert weights[:radius].abs().max() == 0
        if t.top + t.height < h:
            assert weights[-radius:].abs().max() == 0
        if t.left > 0:
            assert weights[:, :radius].abs().max() == 0
        if t.left + t.width < w:
            assert weights[:, -radius:].abs().max() == 0
        total[t.top : t.top + t.height, t.left : t.left + t.width] += weights
    torch.testing.assert_close(total, torch.ones(h, w, dtype=torch.float64), rtol=0, atol=1e-6)


def test_large_tiles_get_a_linear_ramp_across_the_overlap() -> None:
    plan = plan_tiles(1024, 1024, 512, 56)
    first = plan.tiles[0].rows.weights()
    ramp = first[(first > 0) & (first < 1)]
    assert len(ramp) >= 16  # a real feather band, not a hard cut
    assert torch.all(ramp[1:] < ramp[:-1])  # decreasing towards the tile's interior edge


def test_plan_is_a_single_tile_when_the_image_fits() -> None:
    plan = plan_tiles(96, 120, 128, 32)
    assert len(plan) == 1
    assert plan.tiles[0].core == (0, 96, 0, 120)
    assert torch.all(plan.tiles[0].weights() == 1)


def test_tile_size_is_clamped_to_a_usable_minimum() -> None:
    plan = plan_tiles(400, 400, 20, 32)
    assert plan.tile_size == min_tile_size(32) == 80
    with pytest.raises(ValueError):
        plan_tiles(250, 332, 128, 32)  # callers pad to the grid first


def test_blending_an_identity_network_reproduces_the_image() -> None:
    torch.manual_seed(0)
    x = torch.rand(1, 3, 252, 332)
    plan = plan_tiles(252, 332, 128, 32)
    out = blend_tiles(x, plan, lambda t: t.clone())
    torch.testing.assert_close(out, x, rtol=0, atol=1e-6)


def test_choose_tile_size_untiled_when_it_fits_else_largest_fitting() -> None:
    assert choose_tile_size(1000, 1000, 100.0, 1e9, minimum=256) == 0
    side = choose_tile_size(4000, 4000, 1000.0, 1e9, minimum=256)
    assert side % 64 == 0 and side >= 256 and side * side * 1000.0 <= 1e9
    assert (side + 64) ** 2 * 1000.0 > 1e9
    assert choose_tile_size(4000, 4000, 1000.0, 1e6, minimum=256) == 256


# -- staged exact statistics for Generators ------------------------------------------------------


def _generator(seed: int = 0, blocks: int = 2) -> Generator:
    torch.manual_seed(seed)
    return Generator(GeneratorConfig(base_channels=8, residual_blocks=blocks)).eval()


def _image(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Smooth gradients plus blocks and noise: statistics differ strongly between tiles."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([xx / w, yy / h, 0.5 + 0.5 * np.sin(xx / 9.0) * np.cos(yy / 13.0)], -1)
    for _ in range(8):
        y0, x0 = rng.integers(0, h), rng.integers(0, w)
        img[y0 : y0 + rng.integers(4, 40), x0 : x0 + rng.integers(4, 40)] = rng.random(3)
    img += rng.normal(0, 0.05, img.shape)
    return np.clip(img, 0, 1).astype(np.float32)


def _engine(**tiling: object) -> Engine:
    return Engine("cpu", tiling=TilingConfig(min_tile_size=80, **tiling))  # type: ignore[arg-type]


def _untiled(model: nn.Module, image: np.ndarray) -> np.ndarray:
    return _engine().run_network(image, model, StylizeOptions(tile_size=0)).raw


class _Counter:
    """Counts a module's forward calls (and the input sizes)."""

    def __init__(self, module: nn.Module) -> None:
        self.shapes: list[tuple[int, ...]] = []
        self.handle = module.register_forward_pre_hook(self._hook)

    def _hook(self, module: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        self.shapes.append(tuple(args[0].shape))


@pytest.mark.parametrize(
    ("h", "w", "tile", "seed"),
    [(250, 330, 128, 0), (250, 330, 96, 1), (36, 250, 80, 2), (130, 18, 80, 3), (97, 161, 96, 4)],
)
def test_staged_statistics_are_exact_on_odd_sizes(h: int, w: int, tile: int, seed: int) -> None:
    model, image = _generator(seed), _image(h, w, seed)
    reference = _untiled(model, image)
    result = _engine().run_network(image, model, StylizeOptions(tile_size=tile))
    assert result.tiles > 1
    assert result.raw.shape == image.shape
    assert psnr(result.raw, reference) > 100
    assert all(norm.fixed is None and norm.recorder is None for norm in stats_norms(model))


@pytest.mark.parametrize(("h", "w"), [(40, 52), (16, 60), (44, 16)])
def test_staged_run_with_tiny_crops_is_exact(h: int, w: int) -> None:
    """Crops barely larger than their halos, so every halo and border case is exercised."""
    model = _generator(5, blocks=3)
    x = torch.from_numpy(_image(h, w, 5).transpose(2, 0, 1).copy())[None]
    parts = generator_parts(model)
    assert parts is not None
    staged = StagedGenerator(parts, h, w, tile_size=24)
    assert len(staged.encoder_regions) > 1 and len(staged.block_regions) > 1
    assert len(staged.decoder_regions) > 1
    plan = plan_tiles(h, w, 80, 56)
    with torch.inference_mode():
        expected = model(x)
        steps: list[str] = []
        out = staged.run(x, plan, torch.device("cpu"), None, steps.append)
    assert len(steps) == staged.stat_steps() + len(plan)
    assert psnr(out.numpy(), expected.numpy()) > 100


def test_staged_path_is_used_for_generators_and_skips_the_encoder_in_the_output_pass() -> None:
    model, image = _generator(6), _image(120, 152, 6)
    reference = _untiled(model, image)
    first_conv = _Counter(model.encoder[0].conv)
    block_conv1 = _Counter(model.residuals[0].body[0].conv)
    block_conv2 = _Counter(model.residuals[0].body[1].conv)
    head_conv = _Counter(model.head[1])
    result = _engine().run_network(image, model, StylizeOptions(tile_size=80))
    parts = generator_parts(model)
    assert parts is not None
    staged = StagedGenerator(parts, 120, 152, 80)
    # One measuring pass per encoder norm plus one encoding pass: never again for the output.
    assert len(first_conv.shapes) == 4 * len(staged.encoder_regions)
    # Residual blocks: conv1 once (its output is cached), conv2 to measure and to apply.
    assert len(block_conv1.shapes) == len(staged.block_regions)
    assert len(block_conv2.shapes) == 2 * len(staged.block_regions)
    assert len(head_conv.shapes) == result.tiles > 1
    assert psnr(result.raw, reference) > 100


class _Wrapped(nn.Module):
    """A model without the Generator's stage attributes: the generic exact path must serve it."""

    def __init__(self, inner: Generator) -> None:
        super().__init__()
        self.inner = inner
        self.receptive_radius = inner.receptive_radius
        self.size_multiple = inner.size_multiple

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x)


def test_models_without_generator_stages_use_the_generic_exact_path() -> None:
    inner = _generator(7)
    model, image = _Wrapped(inner), _image(112, 144, 7)
    assert generator_parts(model) is None
    reference = _untiled(inner, image)
    first_conv = _Counter(inner.encoder[0].conv)
    result = _engine().run_network(image, model, StylizeOptions(tile_size=80))
    layers = len(stats_norms(inner))
    # The generic path re-runs the first layer for every later norm's pass and the output.
    assert len(first_conv.shapes) == result.tiles * (layers + 1)
    assert psnr(result.raw, reference) > 100


def test_generators_whose_cached_maps_exceed_the_budget_use_the_generic_exact_path() -> None:
    model, image = _generator(10), _image(112, 144, 10)
    reference = _untiled(model, image)
    parts = generator_parts(model)
    assert parts is not None
    cache = StagedGenerator(parts, 112, 144, 80).cache_bytes()
    assert cache == 2 * 32 * 28 * 36 * 4
    first_conv = _Counter(model.encoder[0].conv)
    engine = _engine(stage_cache_budget=cache - 1)
    result = engine.run_network(image, model, StylizeOptions(tile_size=80))
    assert len(first_conv.shapes) == result.tiles * (len(stats_norms(model)) + 1)
    assert psnr(result.raw, reference) > 100


def test_staged_path_out_of_memory_retries_with_smaller_tiles() -> None:
    model, image = _generator(8), _image(120, 152, 8)
    reference = _untiled(model, image)
    failures = 0

    def oom_above(module: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        nonlocal failures
        if args[0].shape[-2] * args[0].shape[-1] > 100 * 100:
            failures += 1
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    handle = model.encoder[0].conv.register_forward_pre_hook(oom_above)
    try:
        result = _engine().run_network(image, model, StylizeOptions(tile_size=0))
    finally:
        handle.remove()
    assert failures >= 1 and result.tiles > 1
    assert any("smaller tiles" in note for note in result.notes)
    assert psnr(result.raw, reference) > 100


def test_staged_path_reports_monotonic_progress_and_cancels_between_crops() -> None:
    model, image = _generator(9), _image(112, 144, 9)
    events: list[float] = []
    _engine().run_network(
        image, model, StylizeOptions(tile_size=80), progress=lambda f, m: events.append(f)
    )
    assert events == sorted(events) and events[-1] == 1.0 and len(events) > 20
    counter = _Counter(model.encoder[0].conv)
    checks = 0

    def cancel() -> bool:
        nonlocal checks
        checks += 1
        return checks > 4

    with pytest.raises(CancelledError):
        _engine().run_network(image, model, StylizeOptions(tile_size=80), cancel=cancel)
    assert 0 < len(counter.shapes) <= 4
    assert all(norm.fixed is None for norm in stats_norms(model))


@pytest.mark.parametrize(("length", "size", "halo", "multiple"), [(63, 8, 1, 1), (152, 16, 8, 4)])
def test_split_regions_cores_partition_and_keep_their_halo(
    length: int, size: int, halo: int, multiple: int
) -> None:
    regions = split_regions(length, 20, size, halo, multiple)
    owned = np.zeros((length, 20), dtype=int)
    for r in regions:
        owned[r.core_top : r.core_bottom, r.core_left : r.core_right] += 1
        assert r.top == max(0, r.core_top - halo) and r.bottom == min(length, r.core_bottom + halo)
        assert r.core_top % multiple == 0 and r.top % multiple == 0
    assert owned.min() == 1 and owned.max() == 1
