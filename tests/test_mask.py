"""Region masks: loading, resampling, feathering, compositing, the engine, export and the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from stylestudio.cli.main import main
from stylestudio.core.adjust import apply_adjustments
from stylestudio.core.engine import Engine, StylizeOptions
from stylestudio.core.export import (
    ExportRequest,
    Look,
    OutputKind,
    OutputSpec,
    StyleRef,
    run_export,
)
from stylestudio.core.mask import (
    MaskError,
    RegionMask,
    composite,
    feather,
    load_mask,
    resample,
)

RNG = np.random.default_rng(7)


def _images(h: int = 12, w: int = 16) -> tuple[np.ndarray, np.ndarray]:
    return (
        RNG.random((h, w, 3), dtype=np.float32),
        RNG.random((h, w, 3), dtype=np.float32),
    )


def _photo(path: Path, size: tuple[int, int], seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


def _half_mask(path: Path, size: tuple[int, int], mode: str = "L") -> Path:
    """Left half white (styled), right half black (original)."""
    width, height = size
    plane = np.zeros((height, width), np.uint8)
    plane[:, : width // 2] = 255
    Image.fromarray(plane).convert(mode).save(path)
    return path


# -- compositing maths --------------------------------------------------------------------


def test_white_mask_is_the_stylised_image_and_black_the_original_bit_exact() -> None:
    original, stylised = _images()
    ones = np.ones(original.shape[:2], np.float32)
    assert np.array_equal(composite(original, stylised, ones), stylised)
    assert np.array_equal(composite(original, stylised, 0 * ones), original)


def test_grey_mask_mixes_linearly() -> None:
    original, stylised = _images()
    mask = np.full(original.shape[:2], 0.25, np.float32)
    mask[:, :4] = 0.8
    out = composite(original, stylised, mask)
    expected = mask[..., None] * stylised + (1 - mask[..., None]) * original
    assert np.allclose(out, expected, atol=1e-6)
    assert not np.allclose(out, stylised) and not np.allclose(out, original)


def test_adjustments_apply_the_mask_after_strength_and_colours() -> None:
    original, stylised = _images()
    mask = np.zeros(original.shape[:2], np.float32)
    mask[:6] = 1.0
    for keep in (False, True):
        unmasked = apply_adjustments(original, stylised, 0.6, keep)
        masked = apply_adjustments(original, stylised, 0.6, keep, mask)
        assert np.array_equal(masked[:6], unmasked[:6])
        assert np.array_equal(masked[6:], original[6:])


def test_composite_refuses_mismatched_shapes() -> None:
    original, stylised = _images()
    with pytest.raises(ValueError, match="mask shape"):
        composite(original, stylised, np.ones((3, 3), np.float32))


# -- resampling and feathering --------------------------------------------------------------


def test_size_mismatch_is_resampled_stretched_over_the_photo() -> None:
    mask = np.zeros((10, 20), np.float32)
    mask[:, :10] = 1.0  # left half
    fitted = RegionMask(mask, feather=0).fitted(30, 90)  # another aspect ratio too
    assert fitted.shape == (30, 90) and fitted.dtype == np.float32
    assert np.all(fitted[:, :43] == 1.0) and np.all(fitted[:, 47:] == 0.0)
    edge = fitted[0, 43:47]
    assert np.all(np.diff(edge) < 0) and edge.min() > 0 and edge.max() < 1


def test_uint8_and_uniform_masks_fit_exactly() -> None:
    white = RegionMask(np.full((7, 9), 255, np.uint8))
    assert np.all(white.fitted(40, 50) == 1.0)
    black = RegionMask(np.zeros((7, 9), np.uint16))
    assert np.all(black.fitted(40, 50) == 0.0)


def test_feathering_scales_with_the_image_size() -> None:
    def step(width: int) -> np.ndarray:
        plane = np.zeros((width // 2, width), np.float32)
        plane[:, width // 2 :] = 1.0
        return feather(plane, 0.01)[0]

    small, large = step(400), step(1600)
    # Same blur relative to the image: the large profile, averaged over 4 px, is the small one.
    assert np.abs(large.reshape(-1, 4).mean(axis=1) - small).max() < 0.025
    assert 0.3 < small[200] < 0.7 and small[180] == 0.0 and small[220] == 1.0
    # A Gaussian-like ramp: monotone and about 2 sigma (2 × 4 px) either side of the edge.
    assert np.all(np.diff(small) >= 0)
    assert 0.01 < small[194] < 0.15 and 0.85 < small[205] < 0.99


def test_feather_zero_leaves_the_mask_sharp() -> None:
    plane = np.zeros((20, 20), np.float32)
    plane[5:15, 5:15] = 1.0
    assert np.array_equal(feather(plane, 0.0), plane)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (np.zeros((4, 4, 3), np.float32), "one non-empty channel"),
        (np.zeros((0, 4), np.float32), "one non-empty channel"),
        (np.full((4, 4), np.nan, np.float32), "NaN"),
    ],
)
def test_bad_mask_arrays_are_refused(values: np.ndarray, message: str) -> None:
    with pytest.raises(MaskError, match=message):
        RegionMask(values)


def test_feather_out_of_range_is_refused() -> None:
    with pytest.raises(MaskError, match="feathering"):
        RegionMask(np.zeros((4, 4), np.float32), feather=0.5)


# -- loading --------------------------------------------------------------------------------


def test_load_grey_colour_alpha_and_16_bit_masks(tmp_path: Path) -> None:
    grey = _half_mask(tmp_path / "grey.png", (8, 4))
    assert np.array_equal(load_mask(grey).values[:, :4], np.ones((4, 4), np.float32))
    assert np.array_equal(load_mask(grey).values[:, 4:], np.zeros((4, 4), np.float32))

    rgb = np.zeros((4, 8, 3), np.uint8)
    rgb[:, :4] = (255, 255, 255)
    rgb[:, 4:] = (255, 0, 0)  # pure red counts by its luma
    Image.fromarray(rgb).save(tmp_path / "colour.jpg", quality=100)
    Image.fromarray(rgb).save(tmp_path / "colour.png")
    values = load_mask(tmp_path / "colour.png").values
    assert np.all(values[:, :4] == 1.0) and np.allclose(values[:, 4:], 0.2126, atol=1e-3)

    rgba = np.zeros((4, 8, 4), np.uint8)
    rgba[..., :3] = 255
    rgba[:, :2, 3] = 255  # opaque white, then transparent white: transparent = original
    Image.fromarray(rgba).save(tmp_path / "alpha.png")
    values = load_mask(tmp_path / "alpha.png").values
    assert np.all(values[:, :2] == 1.0) and np.all(values[:, 2:] == 0.0)

    deep = np.zeros((4, 8), np.uint16)
    deep[:, :4] = 65535
    deep[:, 4:] = 32768
    Image.fromarray(deep).save(tmp_path / "deep.png")
    values = load_mask(tmp_path / "deep.png").values
    assert np.all(values[:, :4] == 1.0) and np.allclose(values[:, 4:], 0.5, atol=1e-4)


def test_load_mask_applies_exif_orientation(tmp_path: Path) -> None:
    plane = np.zeros((4, 8), np.uint8)
    plane[:, :4] = 255  # left half white as stored
    image = Image.fromarray(plane)
    exif = image.getexif()
    exif[0x0112] = 6  # shown rotated 90° clockwise: the white half ends up on top
    image.save(tmp_path / "turned.jpg", exif=exif.tobytes(), quality=100)
    values = load_mask(tmp_path / "turned.jpg").values
    assert values.shape == (8, 4)
    assert values[:3].mean() > 0.95 and values[5:].mean() < 0.05


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"not an image at all", "not an image file"),
        ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "damaged"),
        ("empty.png", b"", "empty"),
    ],
)
def test_unusable_mask_files_are_one_line_errors(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(MaskError) as caught:
        load_mask(path)
    text = str(caught.value)
    assert message in text and name in text and "\n" not in text
    assert text.startswith("The mask cannot be used:")


def test_missing_mask_file(tmp_path: Path) -> None:
    with pytest.raises(MaskError, match="does not exist"):
        load_mask(tmp_path / "nowhere.png")


def test_resample_keeps_values_in_range() -> None:
    plane = RNG.random((13, 17)).astype(np.float32)
    out = resample(plane, 50, 31)
    assert out.shape == (50, 31) and out.min() >= 0.0 and out.max() <= 1.0


# -- engine, export and CLI -----------------------------------------------------------------


class _Invert(nn.Module):
    """A stand-in style network: 1 - x (fully convolutional, no parameters needed)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1, bias=True)
        with torch.no_grad():
            self.conv.weight.copy_(-torch.eye(3)[:, :, None, None])
            self.conv.bias.fill_(1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


def test_engine_applies_the_mask_at_the_result_size_once() -> None:
    engine = Engine(device="cpu")
    image = RNG.random((60, 80, 3), dtype=np.float32)
    plane = np.zeros((6, 8), np.uint8)
    plane[:, :4] = 255
    mask = RegionMask(plane, feather=0)
    whole = engine.run_network(image, _Invert(), StylizeOptions(tile_size=0))
    masked = engine.run_network(image, _Invert(), StylizeOptions(tile_size=0, mask=mask))
    assert np.array_equal(masked.raw, whole.raw)  # raw stays unmasked (the GUI re-blends it)
    assert np.array_equal(masked.image[:, :35], whole.image[:, :35])
    assert np.array_equal(masked.image[:, 45:], image[:, 45:])
    preview = engine.run_network(
        image, _Invert(), StylizeOptions(tile_size=0, max_side=40, mask=mask)
    )
    assert preview.image.shape == (30, 40, 3)
    assert np.array_equal(preview.image[:, :17], preview.raw[:, :17])


def test_export_applies_each_photos_mask_at_full_resolution(builtin_dir, tmp_path: Path) -> None:
    from stylestudio.core.library import StyleLibrary

    record = StyleLibrary(tmp_path / "user", builtin_dir).list()[0]
    style = StyleRef(record.location, record.id, record.name)
    big = _photo(tmp_path / "big.png", (320, 200), seed=1)
    small = _photo(tmp_path / "small.png", (90, 60), seed=2)
    plane = np.zeros((10, 16), np.uint8)
    plane[:, :8] = 255  # left half styled, stored at a tenth of the big photo's size
    mask = RegionMask(plane)
    out = tmp_path / "out"
    engine = Engine(device="cpu")
    request = ExportRequest(
        photos=(big, small),
        style=style,
        destination=OutputSpec(OutputKind.FOLDER, out),
        look=Look(tile_size=0),
        masks={big: mask},
    )
    summary = run_export(request, engine.stylize, lambda _e: None)
    assert summary.failed == [] and len(summary.written) == 2
    unmasked = tmp_path / "plain"
    plain = ExportRequest(
        photos=(big,), style=style, destination=OutputSpec(OutputKind.FOLDER, unmasked),
        look=Look(tile_size=0),
    )  # fmt: skip
    run_export(plain, engine.stylize, lambda _e: None)
    name = f"big-{record.id}.png"
    result = np.asarray(Image.open(out / name).convert("RGB")).astype(int)
    styled = np.asarray(Image.open(unmasked / name).convert("RGB")).astype(int)
    photo = np.asarray(Image.open(big).convert("RGB")).astype(int)
    assert result.shape == (200, 320, 3)  # full resolution
    assert np.array_equal(result[:, :140], styled[:, :140])
    assert np.array_equal(result[:, 180:], photo[:, 180:])
    seam = result[:, 150:170]
    assert (
        np.abs(seam - photo[:, 150:170]).mean() > 1 and np.abs(seam - styled[:, 150:170]).mean() > 1
    )
    # The photo without a mask is styled whole.
    other = np.asarray(Image.open(out / f"small-{record.id}.png").convert("RGB")).astype(int)
    source = np.asarray(Image.open(small).convert("RGB")).astype(int)
    assert np.abs(other[:, 50:] - source[:, 50:]).mean() > 3


def test_cli_mask_is_resampled_per_photo(builtin_dir, tmp_path: Path, capsys) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    a = _photo(photos / "a.png", (120, 80), seed=3)
    b = _photo(photos / "b.png", (50, 100), seed=4)
    mask = _half_mask(tmp_path / "mask.png", (40, 30))
    out = tmp_path / "out"
    code = main(["stylize", str(photos), "--mask", str(mask), "--mask-feather", "0",
                 "-o", str(out) + "/", "--tile", "0"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    for photo, width in ((a, 120), (b, 50)):
        (written,) = out.glob(f"{photo.stem}-*.png")
        result = np.asarray(Image.open(written).convert("RGB"))
        source = np.asarray(Image.open(photo).convert("RGB"))
        assert result.shape == source.shape
        right = slice(width // 2 + 2, None)
        assert np.array_equal(result[:, right], source[:, right])
        assert (
            np.abs(result[:, : width // 2 - 2].astype(int) - source[:, : width // 2 - 2]).mean() > 3
        )


def test_cli_non_image_mask_is_a_one_line_error_before_any_work(builtin_dir, tmp_path, capsys):
    photo = _photo(tmp_path / "p.png", (40, 30))
    bogus = tmp_path / "mask.png"
    bogus.write_text("white here, black there")
    out = tmp_path / "out"
    code = main(["stylize", str(photo), "--mask", str(bogus), "-o", str(out) + "/"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert err == [
        "stylestudio: error: The mask cannot be used: "
        "mask.png is not an image file (or its format is not supported)."
    ]
    assert not out.exists()


def test_fitting_up_blurs_at_the_mask_size_like_blurring_at_the_photo_size() -> None:
    plane = np.zeros((100, 150), np.float32)
    plane[30:70, 40:110] = 1.0
    fitted = RegionMask(plane, feather=0.01).fitted(400, 600)
    direct = feather(resample(plane, 400, 600), 0.01)
    assert np.abs(fitted - direct).max() < 0.05
    assert fitted[200, 300] == 1.0 and fitted[5, 5] == 0.0


# -- the rough subject mask -----------------------------------------------------------------


def _disc_photo() -> tuple[np.ndarray, np.ndarray]:
    h, w = 240, 360
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    rng = np.random.default_rng(3)
    photo = np.stack(
        [0.2 + 0.1 * np.sin(x / 13), 0.5 + 0.1 * np.cos(y / 9), 0.3 + 0.05 * rng.random((h, w))],
        axis=-1,
    )
    disc = (x - w * 0.55) ** 2 + (y - h * 0.5) ** 2 < (h * 0.25) ** 2
    photo[disc] = (0.85, 0.2, 0.15)
    return np.clip(photo + rng.normal(0, 0.02, photo.shape), 0, 1).astype(np.float32), disc


def test_rough_subject_mask_finds_a_centred_subject_on_a_plain_background() -> None:
    from stylestudio.core.mask_auto import subject_mask

    photo, disc = _disc_photo()
    mask = subject_mask(photo, (120, 180))  # at another size than the photo
    small = disc[::2, ::2]
    assert mask.dtype == np.uint8 and mask.shape == (120, 180)
    assert mask[small].mean() > 220 and mask[~small].mean() < 15
    assert mask[0, 0] == 0 and mask[60, 99] == 255


def test_rough_subject_mask_of_a_flat_photo_is_empty() -> None:
    from stylestudio.core.mask_auto import subject_mask

    flat = np.full((50, 60, 3), 0.4, np.float32)
    assert not subject_mask(flat, (50, 60)).any()
