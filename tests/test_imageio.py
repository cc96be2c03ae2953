"""Tests for stylestudio.core.imageio: every fixture image is generated in tmp_path."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps

from stylestudio.core import imageio
from stylestudio.core.errors import ImageLoadError, ImageSaveError
from stylestudio.core.imageio import (
    DEFAULT_MAX_PIXELS,
    SUPPORTED_EXTENSIONS,
    is_supported_image_path,
    load_image,
    save_image,
    to_uint8,
    unique_path,
)
from stylestudio.core.output_names import IfExists

ORIENTATION = 0x0112


def _pattern(height: int = 12, width: int = 16, seed: int = 0) -> np.ndarray:
    """A uint8 (H, W, 3) image in which no two pixels are equal."""
    rng = np.random.default_rng(seed)
    values = rng.permutation(256 * 256)[: height * width]
    out = np.empty((height, width, 3), dtype=np.uint8)
    out[..., 0] = (values // 256).reshape(height, width)
    out[..., 1] = (values % 256).reshape(height, width)
    out[..., 2] = rng.integers(0, 256, (height, width))
    return out


def _smooth(height: int = 48, width: int = 64) -> np.ndarray:
    """A smooth float32 RGB gradient (lossy codecs reproduce it closely)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    return np.stack(
        [x / (width - 1), y / (height - 1), 0.25 + 0.5 * (x + y) / (width + height)], axis=-1
    ).astype(np.float32)


def _exif(orientation: int, **extra: object) -> bytes:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    for tag, value in extra.items():
        exif[int(tag.lstrip("t"))] = value
    return exif.tobytes()


def _orientation_of(exif_bytes: bytes | None) -> int | None:
    assert exif_bytes is not None
    exif = Image.Exif()
    exif.load(exif_bytes)
    return exif.get(ORIENTATION)


def _srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _png_with_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` × ``height`` (its pixel data is bogus)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------------------------------------
# basics


def test_supported_extensions() -> None:
    assert {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp"} == SUPPORTED_EXTENSIONS
    assert DEFAULT_MAX_PIXELS == 200_000_000
    assert is_supported_image_path("a/b/Photo.JPG")
    assert is_supported_image_path(Path("x.tiff"))
    assert not is_supported_image_path("notes.txt")
    assert not is_supported_image_path("noext")


def test_to_uint8_rounds_and_clips() -> None:
    values = np.array([0.0, 0.4 / 255, 0.6 / 255, 1.4 / 255, 1.6 / 255, 1.0, 1.5, -0.2, np.nan])
    assert to_uint8(values.astype(np.float32)).tolist() == [0, 0, 1, 1, 2, 255, 255, 0, 0]
    levels = np.arange(256, dtype=np.float32) / 255
    assert to_uint8(levels).tolist() == list(range(256))


def test_png_round_trip_is_exact(tmp_path: Path) -> None:
    pixels = _pattern()
    rgb = pixels.astype(np.float32) / 255
    out = save_image(tmp_path / "out.png", rgb)
    loaded = load_image(out)
    assert loaded.rgb.dtype == np.float32 and loaded.rgb.shape == (12, 16, 3)
    assert (loaded.width, loaded.height) == (16, 12)
    assert np.array_equal(to_uint8(loaded.rgb), pixels)
    assert loaded.alpha is None and loaded.bit_depth == 8 and loaded.source_format == "PNG"
    assert loaded.source_path == out


@pytest.mark.parametrize(
    ("suffix", "tolerance", "fmt"),
    [(".jpg", 0.03, "JPEG"), (".jpeg", 0.03, "JPEG"), (".webp", 0.04, "WEBP"),
     (".tif", 0.5 / 255, "TIFF"), (".tiff", 0.5 / 255, "TIFF"), (".bmp", 0.5 / 255, "BMP")],
)  # fmt: skip
def test_round_trips_stay_close(tmp_path: Path, suffix: str, tolerance: float, fmt: str) -> None:
    rgb = _smooth()
    loaded = load_image(save_image(tmp_path / f"out{suffix}", rgb, quality=95))
    assert loaded.source_format == fmt
    assert loaded.rgb.shape == rgb.shape
    assert float(np.abs(loaded.rgb - rgb).mean()) < tolerance
    with Image.open(tmp_path / f"out{suffix}") as image:
        assert image.format == fmt


def test_jpeg_quality_changes_output(tmp_path: Path) -> None:
    rgb = _pattern(64, 64).astype(np.float32) / 255
    low = save_image(tmp_path / "low.jpg", rgb, quality=20).stat().st_size
    high = save_image(tmp_path / "high.jpg", rgb, quality=95).stat().st_size
    assert low < high


# ---------------------------------------------------------------------------------------------
# EXIF orientation


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_matches_pillow(tmp_path: Path, orientation: int) -> None:
    pixels = _pattern(6, 10)
    alpha = np.arange(60, dtype=np.uint8).reshape(6, 10) * 4
    rgba = np.dstack([pixels, alpha])
    path = tmp_path / "oriented.png"
    Image.fromarray(rgba).save(path, exif=_exif(orientation, t271="Maker"))

    loaded = load_image(path)
    with Image.open(path) as image:
        expected = np.asarray(ImageOps.exif_transpose(image))
    assert np.array_equal(to_uint8(loaded.rgb), expected[..., :3])
    assert loaded.alpha is not None and np.array_equal(loaded.alpha, expected[..., 3])
    assert _orientation_of(loaded.exif) == 1
    exif = Image.Exif()
    exif.load(loaded.exif)
    assert exif[271] == "Maker"


def _quadrants(height: int, width: int) -> np.ndarray:
    out = np.empty((height, width, 3), dtype=np.uint8)
    h, w = height // 2, width // 2
    out[:h, :w] = (255, 0, 0)  # top-left red
    out[:h, w:] = (0, 255, 0)  # top-right green
    out[h:, :w] = (0, 0, 255)  # bottom-left blue
    out[h:, w:] = (255, 255, 255)  # bottom-right white
    return out


def _corners(rgb: np.ndarray) -> list[tuple[int, ...]]:
    """Colour at the centre of each quadrant, each channel as 0, 1 or 2 (robust to JPEG noise)."""
    h, w = rgb.shape[:2]
    top, bottom, left, right = h // 4, 3 * h // 4, w // 4, 3 * w // 4
    points = [(top, left), (top, right), (bottom, left), (bottom, right)]
    return [tuple(int(v) for v in np.rint(rgb[y, x] * 2)) for y, x in points]


RED, GREEN, BLUE, WHITE = (2, 0, 0), (0, 2, 0), (0, 0, 2), (2, 2, 2)


def test_jpeg_orientation_6_rotates_clockwise(tmp_path: Path) -> None:
    path = tmp_path / "portrait.jpg"
    Image.fromarray(_quadrants(32, 48)).save(path, quality=95, exif=_exif(6))
    loaded = load_image(path)
    assert loaded.rgb.shape == (48, 32, 3)  # stored landscape, shown portrait
    # 90° clockwise: the stored left column becomes the top row.
    assert _corners(loaded.rgb) == [BLUE, RED, WHITE, GREEN]
    assert _orientation_of(loaded.exif) == 1
    assert loaded.source_format == "JPEG"


def test_jpeg_orientation_3_rotates_half_turn(tmp_path: Path) -> None:
    path = tmp_path / "upside_down.jpg"
    Image.fromarray(_quadrants(32, 48)).save(path, quality=95, exif=_exif(3))
    loaded = load_image(path)
    assert loaded.rgb.shape == (32, 48, 3)
    assert _corners(loaded.rgb) == [WHITE, BLUE, GREEN, RED]
    assert _orientation_of(loaded.exif) == 1


def test_saved_exif_is_upright_and_keeps_tags(tmp_path: Path) -> None:
    rgb = _smooth(16, 24)
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[271] = "Camera Co"
    exif[0x8769] = {0x9003: "2024:05:06 07:08:09"}
    for suffix in (".jpg", ".png", ".webp"):
        out = save_image(tmp_path / f"e{suffix}", rgb, exif=exif.tobytes())
        loaded = load_image(out)
        assert loaded.rgb.shape == (16, 24, 3), suffix  # not rotated a second time
        written = Image.Exif()
        written.load(loaded.exif)
        assert written[ORIENTATION] == 1
        assert written[271] == "Camera Co"
        assert written.get_ifd(0x8769)[0x9003] == "2024:05:06 07:08:09"


def test_tiff_keeps_descriptive_tags(tmp_path: Path) -> None:
    out = save_image(tmp_path / "t.tif", _smooth(8, 8), exif=_exif(1, t271="Camera Co"))
    loaded = load_image(out)
    exif = Image.Exif()
    exif.load(loaded.exif)
    assert exif[271] == "Camera Co"
    assert 273 not in exif  # no strip offsets or other TIFF structure


def test_no_exif_gives_none(tmp_path: Path) -> None:
    out = save_image(tmp_path / "plain.jpg", _smooth(8, 8))
    assert load_image(out).exif is None


# ---------------------------------------------------------------------------------------------
# alpha


def test_png_alpha_survives_load_save_load_exactly(tmp_path: Path) -> None:
    pixels = _pattern(16, 16)
    alpha = np.arange(256, dtype=np.uint8).reshape(16, 16)
    source = tmp_path / "in.png"
    Image.fromarray(np.dstack([pixels, alpha])).save(source)

    first = load_image(source)
    assert first.alpha is not None and first.alpha.dtype == np.uint8
    assert np.array_equal(first.alpha, alpha)
    out = save_image(tmp_path / "out.png", first.rgb, alpha=first.alpha, protect=[source])
    second = load_image(out)
    assert second.alpha is not None and np.array_equal(second.alpha, alpha)
    assert np.array_equal(to_uint8(second.rgb), pixels)  # colour under alpha=0 kept as well


@pytest.mark.parametrize("suffix", [".webp", ".tif"])
def test_alpha_kept_in_webp_and_tiff(tmp_path: Path, suffix: str) -> None:
    alpha = np.tile(np.arange(0, 256, 16, dtype=np.uint8), (16, 1))
    out = save_image(tmp_path / f"a{suffix}", _smooth(16, 16), alpha=alpha, quality=100)
    loaded = load_image(out)
    assert loaded.alpha is not None and np.array_equal(loaded.alpha, alpha)


def test_16_bit_alpha_is_rounded_to_8_bits_on_save(tmp_path: Path) -> None:
    # Pillow has no 16-bit RGBA mode, so 16-bit alpha cannot be written; it is rounded.
    alpha16 = np.array([[0, 128, 129, 257, 32896, 65535]], dtype=np.uint16)
    rgb = np.full((1, 6, 3), 0.5, dtype=np.float32)
    loaded = load_image(save_image(tmp_path / "a16.png", rgb, alpha=alpha16))
    assert loaded.alpha is not None
    assert loaded.alpha.tolist() == [[0, 0, 1, 1, 128, 255]]


@pytest.mark.parametrize("suffix", [".jpg", ".bmp"])
def test_formats_without_alpha_composite_on_white(tmp_path: Path, suffix: str) -> None:
    rgb = np.zeros((16, 16, 3), dtype=np.float32)  # black
    alpha = np.zeros((16, 16), dtype=np.uint8)
    alpha[:, 8:] = 255
    loaded = load_image(save_image(tmp_path / f"flat{suffix}", rgb, alpha=alpha))
    assert loaded.alpha is None
    assert loaded.rgb[8, 2].min() > 0.95  # transparent → white
    assert loaded.rgb[8, 13].max() < 0.05  # opaque black stays black


def test_palette_with_transparency(tmp_path: Path) -> None:
    image = Image.new("P", (4, 2))
    image.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (256 * 3 - 9))
    image.putdata([0, 1, 2, 0, 1, 2, 0, 1])
    path = tmp_path / "palette.png"
    image.save(path, transparency=2)
    loaded = load_image(path)
    assert loaded.alpha is not None
    assert loaded.alpha.tolist() == [[255, 255, 0, 255], [255, 0, 255, 255]]
    assert to_uint8(loaded.rgb[0, 0]).tolist() == [255, 0, 0]
    assert to_uint8(loaded.rgb[0, 1]).tolist() == [0, 255, 0]


def test_palette_without_transparency_has_no_alpha(tmp_path: Path) -> None:
    path = tmp_path / "palette.png"
    Image.fromarray(_pattern(8, 8)).convert("P").save(path)
    loaded = load_image(path)
    assert loaded.alpha is None and loaded.rgb.shape == (8, 8, 3)


def test_rgb_png_with_transparent_colour(tmp_path: Path) -> None:
    pixels = np.zeros((2, 2, 3), dtype=np.uint8)
    pixels[0, 0] = (10, 20, 30)
    path = tmp_path / "trns.png"
    Image.fromarray(pixels).save(path, transparency=(10, 20, 30))
    loaded = load_image(path)
    assert loaded.alpha is not None and loaded.alpha.tolist() == [[0, 255], [255, 255]]


def test_gray_and_gray_alpha(tmp_path: Path) -> None:
    gray = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4
    alpha = 255 - gray
    Image.fromarray(gray).save(tmp_path / "l.png")
    Image.fromarray(np.dstack([gray, alpha])).save(tmp_path / "la.png")
    plain = load_image(tmp_path / "l.png")
    assert plain.alpha is None and np.array_equal(to_uint8(plain.rgb[..., 1]), gray)
    with_alpha = load_image(tmp_path / "la.png")
    assert np.array_equal(to_uint8(with_alpha.rgb), np.dstack([gray] * 3))
    assert with_alpha.alpha is not None and np.array_equal(with_alpha.alpha, alpha)


# ---------------------------------------------------------------------------------------------
# colour management, bit depth, CMYK


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp", ".tif"])
def test_icc_profile_round_trip(tmp_path: Path, suffix: str) -> None:
    icc = _srgb_icc()
    source = tmp_path / f"in{suffix}"
    Image.fromarray(_pattern()).save(source, icc_profile=icc)
    loaded = load_image(source)
    assert loaded.icc_profile == icc
    out = save_image(tmp_path / f"out{suffix}", loaded.rgb, icc_profile=loaded.icc_profile)
    assert load_image(out).icc_profile == icc


def test_16_bit_gray_png_keeps_precision(tmp_path: Path) -> None:
    values = np.array([[0, 1, 1000, 1001], [1002, 40000, 65534, 65535]], dtype=np.uint16)
    path = tmp_path / "g16.png"
    Image.fromarray(values).save(path)
    loaded = load_image(path)
    assert loaded.bit_depth == 16
    restored = np.rint(loaded.rgb * 65535).astype(np.int64)
    for channel in range(3):
        assert np.array_equal(restored[..., channel], values)  # 1000/1001/1002 stay distinct


def test_16_bit_big_endian_tiff(tmp_path: Path) -> None:
    values = (np.arange(32, dtype=np.uint32).reshape(4, 8) * 2047 + 3).astype(">u2")
    path = tmp_path / "g16b.tif"
    Image.frombuffer("I;16B", (8, 4), values.tobytes()).save(path)
    loaded = load_image(path)
    assert loaded.bit_depth == 16
    assert np.array_equal(np.rint(loaded.rgb[..., 0] * 65535).astype(np.int64), values)


def test_float_and_int32_tiff(tmp_path: Path) -> None:
    ramp = np.linspace(0.0, 1.0, 32, dtype=np.float32).reshape(4, 8)
    Image.fromarray(ramp).save(tmp_path / "f.tif")
    loaded = load_image(tmp_path / "f.tif")
    assert loaded.bit_depth == 16 and np.allclose(loaded.rgb[..., 2], ramp, atol=1e-6)
    ints = (np.arange(32, dtype=np.int32).reshape(4, 8) * 2000).astype(np.int32)
    Image.fromarray(ints).save(tmp_path / "i.tif")
    loaded = load_image(tmp_path / "i.tif")
    assert np.allclose(loaded.rgb[..., 0], ints / 65535, atol=1e-6)


def test_lab_tiff_loads_as_srgb(tmp_path: Path) -> None:
    Image.new("LAB", (4, 4), (128, 128, 128)).save(tmp_path / "lab.tif")  # L* = 50, neutral
    loaded = load_image(tmp_path / "lab.tif")
    assert np.allclose(loaded.rgb, 119 / 255, atol=2 / 255)  # sRGB value of L* 50 grey


@pytest.mark.parametrize("suffix", [".jpg", ".tif"])
def test_cmyk_loads_as_rgb(tmp_path: Path, suffix: str) -> None:
    cmyk = np.zeros((8, 16, 4), dtype=np.uint8)
    cmyk[:, :8] = (255, 0, 0, 0)  # cyan
    cmyk[:, 8:] = (0, 0, 0, 255)  # black
    path = tmp_path / f"cmyk{suffix}"
    Image.fromarray(cmyk, mode="CMYK").save(path, quality=95)
    loaded = load_image(path)
    assert loaded.rgb.shape == (8, 16, 3) and loaded.icc_profile is None
    cyan, black = loaded.rgb[4, 3], loaded.rgb[4, 12]
    assert cyan[0] < 0.1 and cyan[1] > 0.9 and cyan[2] > 0.9
    assert black.max() < 0.1


def test_cmyk_with_unusable_profile_falls_back(tmp_path: Path) -> None:
    # An RGB profile on CMYK data cannot be used; the naive conversion applies, no profile kept.
    path = tmp_path / "cmyk_bad_icc.jpg"
    Image.new("CMYK", (8, 8), (0, 255, 0, 0)).save(path, icc_profile=_srgb_icc())
    loaded = load_image(path)
    assert loaded.icc_profile is None
    assert np.allclose(loaded.rgb[4, 4], [1.0, 0.0, 1.0], atol=0.1)  # magenta


def test_cmyk_profile_goes_through_littlecms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No CMYK profile ships with Pillow, so check the hand-off: a CMYK profile is handed to
    # ImageCms and its result is used.
    calls = []

    def fake_profile(data: io.BytesIO) -> str:
        return "cmyk-profile"

    def fake_transform(image, source, target, **kwargs):  # type: ignore[no-untyped-def]
        calls.append((image.mode, source, kwargs.get("outputMode")))
        return Image.new("RGB", image.size, (1, 2, 3))

    fake_icc = bytearray(_srgb_icc())
    fake_icc[16:20] = b"CMYK"
    path = tmp_path / "cmyk_icc.jpg"
    Image.new("CMYK", (4, 4), (0, 0, 0, 0)).save(path, icc_profile=bytes(fake_icc))
    monkeypatch.setattr(imageio.ImageCms, "ImageCmsProfile", fake_profile)
    monkeypatch.setattr(imageio.ImageCms, "profileToProfile", fake_transform)
    loaded = load_image(path)
    assert calls == [("CMYK", "cmyk-profile", "RGB")]
    assert to_uint8(loaded.rgb[0, 0]).tolist() == [1, 2, 3]
    assert loaded.icc_profile is None


# ---------------------------------------------------------------------------------------------
# refusing bad input


def test_truncated_jpeg_is_damaged(tmp_path: Path) -> None:
    good = tmp_path / "good.jpg"
    Image.fromarray(_pattern(64, 64)).save(good, quality=95)
    data = good.read_bytes()
    bad = tmp_path / "photo.jpg"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageLoadError, match=r"^photo\.jpg is damaged or incomplete\.$"):
        load_image(bad)


def test_truncated_png_is_damaged(tmp_path: Path) -> None:
    good = tmp_path / "good.png"
    Image.fromarray(_pattern(64, 64)).save(good)
    bad = tmp_path / "cut.png"
    bad.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ImageLoadError, match=r"cut\.png is damaged or incomplete"):
        load_image(bad)


def test_header_only_jpeg_is_damaged(tmp_path: Path) -> None:
    bad = tmp_path / "stub.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0\x00")
    with pytest.raises(ImageLoadError, match=r"stub\.jpg is damaged or incomplete"):
        load_image(bad)


def test_zero_byte_file(tmp_path: Path) -> None:
    empty = tmp_path / "photo.jpg"
    empty.touch()
    with pytest.raises(ImageLoadError, match=r"^photo\.jpg is empty \(0 bytes\)\.$"):
        load_image(empty)


def test_text_renamed_to_jpg(tmp_path: Path) -> None:
    fake = tmp_path / "photo.jpg"
    fake.write_text("This is a shopping list, not a photo.\n" * 20)
    expected = r"^photo\.jpg is not an image file \(or its format is not supported\)\.$"
    with pytest.raises(ImageLoadError, match=expected):
        load_image(fake)


def test_unsupported_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "anim.gif"
    Image.fromarray(_pattern(8, 8)).save(path)
    with pytest.raises(ImageLoadError, match=r"anim\.gif is not an image file"):
        load_image(path)


def test_directory_and_missing_file(tmp_path: Path) -> None:
    folder = tmp_path / "holiday.jpg"
    folder.mkdir()
    with pytest.raises(ImageLoadError, match=r"holiday\.jpg is a folder"):
        load_image(folder)
    with pytest.raises(ImageLoadError, match=r"^missing\.png does not exist\.$"):
        load_image(tmp_path / "missing.png")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX named pipes")
def test_special_file_is_refused_without_blocking(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.png"
    os.mkfifo(pipe)
    with pytest.raises(ImageLoadError, match=r"^pipe\.png is not an image file"):
        load_image(pipe)


def test_declared_huge_png_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.png"
    path.write_bytes(_png_with_size(40000, 40000))
    with pytest.raises(ImageLoadError, match=r"^huge\.png is too large") as info:
        load_image(path)
    assert "1600 MP" in str(info.value) and "the limit is 200 MP" in str(info.value)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_size_is_checked_before_decoding(tmp_path: Path) -> None:
    # 240 MP declared, pixel data bogus: a decode would report damage, not the size.
    path = tmp_path / "big.png"
    path.write_bytes(_png_with_size(20000, 12000))
    expected = r"^big\.png is too large \(20000×12000 = 240 MP; the limit is 200 MP\)\.$"
    with pytest.raises(ImageLoadError, match=expected):
        load_image(path)


def test_max_pixels_is_honoured(tmp_path: Path) -> None:
    path = tmp_path / "small.png"
    Image.fromarray(_pattern(32, 64)).save(path)
    with pytest.raises(ImageLoadError, match=r"small\.png is too large \(64×32 = 2,048 pixels"):
        load_image(path, max_pixels=1000)
    assert load_image(path, max_pixels=64 * 32).width == 64


def test_pillow_bomb_error_becomes_load_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bomb.png"
    Image.fromarray(_pattern(32, 32)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(ImageLoadError, match=r"bomb\.png is too large"):
        load_image(path)


# ---------------------------------------------------------------------------------------------
# saving safely


def test_refuses_to_overwrite_protected_original(tmp_path: Path) -> None:
    original = tmp_path / "photo.png"
    Image.fromarray(_pattern()).save(original)
    before = original.read_bytes()
    rgb = np.zeros((12, 16, 3), dtype=np.float32)
    message = r"^Refusing to overwrite the original photo photo\.png\.$"
    with pytest.raises(ImageSaveError, match=message):
        save_image(original, rgb, protect=[original])
    sneaky = tmp_path / "sub" / ".." / "photo.png"
    (tmp_path / "sub").mkdir()
    with pytest.raises(ImageSaveError, match="Refusing to overwrite"):
        save_image(sneaky, rgb, protect=[str(original)])
    link = tmp_path / "link.png"
    os.link(original, link)
    with pytest.raises(ImageSaveError, match=r"original photo link\.png\.$"):
        save_image(link, rgb, protect=[original])
    assert original.read_bytes() == before
    # A different path is fine.
    assert save_image(tmp_path / "photo-styled.png", rgb, protect=[original]).exists()


def test_if_exists_fail_keeps_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "out.png"
    save_image(target, np.zeros((4, 4, 3), dtype=np.float32))
    before = target.read_bytes()
    with pytest.raises(ImageSaveError, match=r"^out\.png already exists\.$"):
        save_image(target, np.ones((4, 4, 3), dtype=np.float32), if_exists=IfExists.FAIL)
    assert target.read_bytes() == before
    save_image(target, np.ones((4, 4, 3), dtype=np.float32))  # IfExists.REPLACE replaces it
    assert load_image(target).rgb.min() == 1.0


def test_unknown_suffix_lists_supported(tmp_path: Path) -> None:
    with pytest.raises(ImageSaveError, match=r"out\.gif.*\.jpg.*\.png.*\.webp"):
        save_image(tmp_path / "out.gif", np.zeros((4, 4, 3), dtype=np.float32))
    assert not (tmp_path / "out.gif").exists()


def test_bad_arrays_are_programming_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        save_image(tmp_path / "x.png", np.zeros((4, 4), dtype=np.float32))
    with pytest.raises(TypeError):
        save_image(tmp_path / "x.png", np.zeros((4, 4, 3), dtype=np.uint8))
    with pytest.raises(ValueError):
        save_image(
            tmp_path / "x.png", np.zeros((4, 4, 3), np.float32), alpha=np.zeros((3, 4), np.uint8)
        )


def test_unique_path(tmp_path: Path) -> None:
    first = tmp_path / "name.png"
    assert unique_path(first) == first
    first.touch()
    assert unique_path(first) == tmp_path / "name (2).png"
    (tmp_path / "name (2).png").touch()
    assert unique_path(first) == tmp_path / "name (3).png"
    assert unique_path(tmp_path / "name (2).png") == tmp_path / "name (3).png"
    assert unique_path(tmp_path / "other.jpg") == tmp_path / "other.jpg"


class _FullDisk:
    """A file handle whose writes fail like a full disk (and that hides its fd from encoders)."""

    def __init__(self, handle: io.BufferedWriter) -> None:
        self._handle = handle

    def write(self, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    def fileno(self) -> int:
        raise io.UnsupportedOperation("fileno")

    def __getattr__(self, name: str) -> object:
        return getattr(self._handle, name)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp", ".tif"])
def test_full_disk_reports_and_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    real_atomic_open = imageio.atomic_open

    @contextlib.contextmanager
    def full_disk_open(target: Path):  # type: ignore[no-untyped-def]
        with real_atomic_open(target) as handle:
            yield _FullDisk(handle)

    monkeypatch.setattr(imageio, "atomic_open", full_disk_open)
    existing = tmp_path / f"kept{suffix}"
    existing.write_bytes(b"previous version")
    rgb = _smooth(32, 32)
    with pytest.raises(ImageSaveError, match="Not enough disk space"):
        save_image(tmp_path / f"new{suffix}", rgb)
    with pytest.raises(ImageSaveError, match="Not enough disk space"):
        save_image(existing, rgb)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"kept{suffix}"]
    assert existing.read_bytes() == b"previous version"


def test_failing_fsync_also_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(ImageSaveError, match="Not enough disk space"):
        save_image(tmp_path / "out.tif", _smooth(8, 8))
    assert list(tmp_path.iterdir()) == []
