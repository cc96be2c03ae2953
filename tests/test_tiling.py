"""Tile plans: coverage, grid alignment, core partition and feather weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stylestudio.core.engine.tiling import (
    blend_tiles,
    choose_tile_size,
    min_tile_size,
    plan_tiles,
)

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
