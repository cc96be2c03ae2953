"""Loading and saving photos (Pillow + numpy; no torch, no Qt).

In the core an image is a float32 array (H, W, 3), RGB in [0, 1]; alpha travels separately as the
original integer values so that it comes back bit-exact when saved to a format that has alpha.

Policies, in one place:

* EXIF orientation is applied on load (pixels and alpha), and the returned EXIF says Orientation=1.
  ``save_image`` also forces Orientation=1, because the pixels it writes are always upright.
* ICC profiles are returned as loaded and written back on save (JPEG, PNG, WebP, TIFF). A profile
  whose colour space is not RGB is not returned: it cannot describe the RGB pixels we hand out.
  CMYK images that carry a CMYK profile are converted to sRGB with LittleCMS and then get
  ``icc_profile=None`` (untagged means sRGB everywhere); without a usable profile Pillow's naive
  CMYK→RGB conversion is used.
* JPEG and BMP have no (usable) alpha: ``save_image`` composites onto white for them.
* 16-bit greyscale sources (``I;16*``, ``I``) and float (``F``) keep their precision in the float32
  array and report ``bit_depth=16``. Pillow has no 16-bit RGB(A) mode, so such files arrive as 8-bit
  and report 8; for the same reason a uint16 alpha is rounded to 8 bits when saved.
* Only JPEG (including camera MPO files), PNG, WebP, TIFF and BMP are decoded; other Pillow plugins
  (some of which run external programs) are never tried.
* Pillow's own decompression-bomb threshold (about 89 MP) is raised, process-wide, to
  ``DEFAULT_MAX_PIXELS`` on import, so that it does not pre-empt our documented limit. It is only
  ever raised, never lowered; ``load_image`` enforces ``max_pixels`` itself before decoding.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import stat as stat_module
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError, features

from stylestudio.core.atomic import atomic_open, describe_os_error, temp_name
from stylestudio.core.errors import ImageLoadError, ImageSaveError
from stylestudio.core.output_names import IfExists, free_name_candidates, publish_file

SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp"}
)
DEFAULT_MAX_PIXELS: int = 200_000_000

if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < DEFAULT_MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS

# Pillow format names we decode. Some Pillow versions register camera JPEGs as "MPO".
_LOAD_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "TIFF", "BMP")
_SAVE_FORMATS: dict[str, str] = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
}
_ALPHA_FORMATS = frozenset({"PNG", "WEBP", "TIFF"})
_ICC_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "TIFF"})
_EXIF_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "TIFF"})
# File signatures of the formats above: a file that starts like one of them but cannot be opened
# is reported as damaged rather than as "not an image".
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"BM")
_ORIENTATION_TAG = 0x0112
# A TIFF's tags are its own structure; these are the descriptive ones worth carrying as EXIF.
_TIFF_EXIF_TAGS = (270, 271, 272, 305, 306, 315, 33432)  # description, make, model, ... copyright
_EXIF_SUB_IFDS = (0x8769, 0x8825)  # Exif and GPS directories
_JPEG_MAX_EXIF = 65533
_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")

_log = logging.getLogger(__name__)


@dataclass
class LoadedImage:
    """A decoded photo in the core's interchange format plus what is needed to save it again."""

    rgb: np.ndarray  # float32 (H, W, 3) in [0, 1], EXIF orientation applied
    alpha: np.ndarray | None  # (H, W) uint8 or uint16 original alpha values, or None
    icc_profile: bytes | None
    exif: bytes | None  # Orientation reset to 1
    source_path: Path | None
    source_format: str  # "JPEG", "PNG", ...
    bit_depth: int  # 8 or 16

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])


def is_supported_image_path(path: str | os.PathLike[str]) -> bool:
    """True if the file name has one of ``SUPPORTED_EXTENSIONS`` (case-insensitive)."""
    return Path(path).suffix.lower() in SUPPORTED_EXTENSIONS


# --------------------------------------------------------------------------------------------
# numpy <-> PIL helpers


def to_uint8(array: np.ndarray) -> np.ndarray:
    """Float values in [0, 1] (any shape) → uint8, rounded to nearest; clipped; NaN → 0."""
    out = np.multiply(array, np.float32(255.0), dtype=np.float32)
    np.fmax(out, 0.0, out=out)  # fmax also maps NaN to 0
    np.minimum(out, 255.0, out=out)
    out += 0.5  # the cast truncates, so this rounds half up
    return out.astype(np.uint8)


def alpha_to_uint8(alpha: np.ndarray) -> np.ndarray:
    """An alpha plane as uint8: uint16 is rounded to 8 bits, floats are taken as [0, 1]."""
    if alpha.dtype == np.uint8:
        return alpha
    if alpha.dtype == np.bool_:
        return alpha.astype(np.uint8) * np.uint8(255)
    if alpha.dtype == np.uint16:
        return ((alpha.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if np.issubdtype(alpha.dtype, np.floating):
        return to_uint8(alpha)
    raise TypeError(f"unsupported alpha dtype {alpha.dtype}")


def _alpha_fraction(alpha: np.ndarray) -> np.ndarray:
    """Alpha as float32 in [0, 1]."""
    if alpha.dtype == np.uint16:
        return np.divide(alpha, 65535.0, dtype=np.float32)
    if np.issubdtype(alpha.dtype, np.floating):
        return np.clip(alpha, 0.0, 1.0).astype(np.float32, copy=False)
    return np.divide(alpha_to_uint8(alpha), 255.0, dtype=np.float32)


def composite_on_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Flatten straight (non-premultiplied) alpha onto a white background; float32 (H, W, 3)."""
    a = _alpha_fraction(alpha)[..., None]
    out = np.asarray(rgb, dtype=np.float32) * a
    out += 1.0 - a
    return out


def _check_arrays(rgb: np.ndarray, alpha: np.ndarray | None) -> None:
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) array, got {getattr(rgb, 'shape', type(rgb))}")
    if not np.issubdtype(rgb.dtype, np.floating):
        raise TypeError(f"expected a float array with values in [0, 1], got {rgb.dtype}")
    if rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise ValueError("cannot make an image of zero size")
    if alpha is not None and alpha.shape != rgb.shape[:2]:
        raise ValueError(f"alpha shape {alpha.shape} does not match image {rgb.shape[:2]}")


def to_pil(rgb: np.ndarray, alpha: np.ndarray | None = None) -> Image.Image:
    """Float (H, W, 3) [0, 1] and optional alpha → an 8-bit PIL image, "RGB" or "RGBA"."""
    _check_arrays(rgb, alpha)
    rgb8 = to_uint8(rgb)
    if alpha is None:
        return Image.fromarray(rgb8)
    rgba = np.empty((*rgb8.shape[:2], 4), dtype=np.uint8)
    rgba[..., :3] = rgb8
    rgba[..., 3] = alpha_to_uint8(alpha)
    return Image.fromarray(rgba)


def _to_unit_float(gray: np.ndarray) -> np.ndarray:
    """32-bit int or float greyscale → float32 [0, 1] (see module notes for the scaling rules)."""
    if np.issubdtype(gray.dtype, np.integer):
        top = 65535.0 if gray.size == 0 or int(gray.max()) <= 65535 else 2147483647.0
        return np.clip(np.divide(gray, top, dtype=np.float32), 0.0, 1.0)
    values = np.nan_to_num(gray.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    high = float(values.max()) if values.size else 0.0
    if high <= 1.0:
        scale = 1.0
    elif high <= 255.0:
        scale = 255.0
    elif high <= 65535.0:
        scale = 65535.0
    else:
        scale = high
    if scale != 1.0:
        values /= np.float32(scale)
    return np.clip(values, 0.0, 1.0, out=values)


def _gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    return np.repeat(gray[..., None], 3, axis=2)


# EXIF orientation → the transpose that makes the image upright (as Pillow's exif_transpose).
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _icc_color_space(icc: bytes) -> bytes:
    """The data colour space signature of an ICC profile (b"RGB ", b"CMYK", b"GRAY", ...)."""
    return icc[16:20] if len(icc) >= 128 else b""


def _cmyk_to_rgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert CMYK to sRGB, colour-managed when the image carries a usable CMYK profile."""
    if icc and _icc_color_space(icc) == b"CMYK":
        with contextlib.suppress(ImageCms.PyCMSError, OSError, ValueError, TypeError):
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
            converted = ImageCms.profileToProfile(
                image,
                source,
                srgb,
                renderingIntent=ImageCms.Intent.PERCEPTUAL,
                outputMode="RGB",
            )
            if converted is not None:
                return converted
    return image.convert("RGB")


def _lab_to_rgb(image: Image.Image) -> Image.Image:
    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB"))
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    transform = ImageCms.buildTransform(lab, srgb, "LAB", "RGB")
    return ImageCms.applyTransform(image, transform)


def _exif_bytes(image: Image.Image) -> tuple[int, bytes | None]:
    """(orientation, EXIF bytes with Orientation=1 or None) for a loaded image."""
    try:
        exif = image.getexif()
        orientation = int(exif.get(_ORIENTATION_TAG, 1) or 1)
    except Exception:  # malformed EXIF must not make a readable photo unreadable
        return 1, None
    if orientation not in range(1, 9):
        orientation = 1
    # A TIFF's "EXIF" is its own tag directory (strip offsets and all): keep only what describes
    # the photo, so that the bytes can go into a JPEG or PNG.
    if image.format == "TIFF":
        try:
            portable = Image.Exif()
            for tag in _TIFF_EXIF_TAGS:
                if tag in exif:
                    portable[tag] = exif[tag]
            for tag in _EXIF_SUB_IFDS:
                sub = exif.get_ifd(tag)
                if sub:
                    portable[tag] = dict(sub)
            if _ORIENTATION_TAG in exif:
                portable[_ORIENTATION_TAG] = 1
        except Exception:
            return orientation, None
        exif = portable
    if len(exif) == 0:
        return orientation, None
    try:
        if _ORIENTATION_TAG in exif:
            exif[_ORIENTATION_TAG] = 1
        return orientation, exif.tobytes()
    except Exception:
        return orientation, None


def from_pil(
    image: Image.Image, *, source_path: Path | None = None, apply_orientation: bool = True
) -> LoadedImage:
    """Convert a PIL image of any common mode to a ``LoadedImage`` (decodes it if lazy)."""
    image.load()
    source_format = "JPEG" if image.format == "MPO" else (image.format or "")
    orientation, exif = _exif_bytes(image)
    icc = image.info.get("icc_profile") or None
    if icc is not None and not isinstance(icc, bytes):
        icc = None

    if apply_orientation and orientation in _TRANSPOSE:
        # On the integer image, before conversion: cheaper than on the float array, and the
        # alpha band turns with the colours.
        image = image.transpose(_TRANSPOSE[orientation])
    mode = image.mode
    bit_depth = 8
    alpha: np.ndarray | None = None
    if mode == "CMYK":
        image = _cmyk_to_rgb(image, icc)
        icc = None
        mode = image.mode
    elif mode == "LAB":
        image = _lab_to_rgb(image)
        icc = None
        mode = image.mode
    if icc is not None and _icc_color_space(icc) != b"RGB ":
        icc = None

    if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        gray = np.asarray(image)
        rgb = _gray_to_rgb(np.divide(gray, 65535.0, dtype=np.float32))
        bit_depth = 16
    elif mode in ("I", "F"):
        rgb = _gray_to_rgb(_to_unit_float(np.asarray(image)))
        bit_depth = 16
    else:
        if mode == "P" or mode == "PA":
            mode = "RGBA" if mode == "PA" or image.has_transparency_data else "RGB"
        elif mode in ("L", "1"):
            mode = "LA" if image.has_transparency_data else "L"
        elif mode == "RGB":
            mode = "RGBA" if image.has_transparency_data else "RGB"
        elif mode in ("RGBa", "RGBA"):
            mode = "RGBA"
        elif mode in ("La", "LA"):
            mode = "LA"
        else:  # RGBX, YCbCr, HSV, ...
            mode = "RGB"
        if image.mode != mode:
            image = image.convert(mode)
        pixels = np.asarray(image)
        if mode in ("L", "LA"):
            gray = pixels if mode == "L" else pixels[..., 0]
            rgb = _gray_to_rgb(np.divide(gray, 255.0, dtype=np.float32))
        else:
            rgb = np.divide(pixels[..., :3], 255.0, dtype=np.float32)
        if mode in ("LA", "RGBA"):
            alpha = np.ascontiguousarray(pixels[..., -1])

    return LoadedImage(
        rgb=np.ascontiguousarray(rgb, dtype=np.float32),
        alpha=alpha,
        icc_profile=icc,
        exif=exif,
        source_path=source_path,
        source_format=source_format,
        bit_depth=bit_depth,
    )


# --------------------------------------------------------------------------------------------
# loading


def _megapixels(pixels: int) -> str:
    if pixels >= 10_000_000:
        return f"{pixels / 1e6:.0f} MP"
    if pixels >= 100_000:
        return f"{pixels / 1e6:.1f} MP"
    return f"{pixels:,} pixels"


def _too_large(name: str, max_pixels: int, width: int = 0, height: int = 0, pixels: int = 0) -> str:
    limit = _megapixels(max_pixels)
    if width and height:
        size = f"{width}×{height} = {_megapixels(width * height)}"
        return f"{name} is too large ({size}; the limit is {limit})."
    if pixels:
        return f"{name} is too large ({_megapixels(pixels)}; the limit is {limit})."
    return f"{name} is too large (the limit is {limit})."


def _looks_like_supported_image(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError:
        return False
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return True
    return any(head.startswith(magic) for magic in _MAGIC)


def _decodable_formats() -> list[str]:
    if not all(fmt in Image.OPEN for fmt in _LOAD_FORMATS):
        Image.init()
    return [fmt for fmt in _LOAD_FORMATS if fmt in Image.OPEN]


def _read_error(name: str, exc: OSError) -> ImageLoadError:
    if isinstance(exc, FileNotFoundError):
        return ImageLoadError(f"{name} does not exist.")
    if isinstance(exc, IsADirectoryError):
        return ImageLoadError(f"{name} is a folder, not an image file.")
    if isinstance(exc, PermissionError):
        return ImageLoadError(f"{name} cannot be read (permission denied).")
    return ImageLoadError(f"{name} could not be read: {exc.strerror or exc}.")


def load_image(
    path: str | os.PathLike[str], *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> LoadedImage:
    """Decode a photo fully; every failure the user can meet is an ``ImageLoadError``."""
    path = Path(path)
    name = path.name or str(path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise _read_error(name, exc) from exc
    if stat_module.S_ISDIR(stat.st_mode):
        raise ImageLoadError(f"{name} is a folder, not an image file.")
    if not stat_module.S_ISREG(stat.st_mode):
        raise ImageLoadError(f"{name} is not an image file (or its format is not supported).")
    if stat.st_size == 0:
        raise ImageLoadError(f"{name} is empty (0 bytes).")
    damaged = f"{name} is damaged or incomplete."
    try:
        with Image.open(path, formats=_decodable_formats()) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise ImageLoadError(_too_large(name, max_pixels, width, height))
            image.load()  # full decode here, so truncation is reported now
            return from_pil(image, source_path=path)
    except ImageLoadError:
        raise
    except UnidentifiedImageError as exc:
        if _looks_like_supported_image(path):
            raise ImageLoadError(damaged) from exc
        raise ImageLoadError(
            f"{name} is not an image file (or its format is not supported)."
        ) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        found = _BOMB_PIXELS.search(str(exc))
        pixels = int(found.group(1)) if found else 0
        raise ImageLoadError(_too_large(name, max_pixels, pixels=pixels)) from exc
    except MemoryError as exc:
        raise ImageLoadError(f"{name} is too large to open with the available memory.") from exc
    except OSError as exc:
        # Decoder failures are OSErrors without an errno; real I/O failures carry one.
        if exc.errno is not None:
            raise _read_error(name, exc) from exc
        _log.debug("cannot decode %s", path, exc_info=True)
        raise ImageLoadError(damaged) from exc
    except Exception as exc:  # SyntaxError, ValueError, struct.error, zlib.error, EOFError, ...
        _log.warning("unexpected error decoding %s", path, exc_info=True)
        raise ImageLoadError(damaged) from exc


# --------------------------------------------------------------------------------------------
# saving


def unique_path(path: str | os.PathLike[str]) -> Path:
    """``path`` if free, else the first free "name (2).ext", "name (3).ext", ...

    Only a guess: another process may take the name a moment later. Saving with
    ``if_exists=IfExists.NEW_NAME`` claims a free name atomically instead.
    """
    for candidate in free_name_candidates(Path(path)):
        if not os.path.lexists(candidate):
            return candidate
    raise ImageSaveError(f"No free name left for {Path(path).name}.")


def _is_protected(path: Path, protect: Iterable[str | os.PathLike[str]]) -> bool:
    try:
        target = path.resolve()
    except OSError:
        target = path.absolute()
    target_exists = path.exists()
    for item in protect:
        original = Path(item)
        try:
            if original.resolve() == target:
                return True
        except OSError:
            pass
        if target_exists:
            with contextlib.suppress(OSError):
                if os.path.samefile(original, path):
                    return True
    return False


def _clean_exif(exif: bytes | None, fmt: str) -> bytes | None:
    """EXIF bytes to write: Orientation=1 (the pixels are upright); None if unparseable.

    For TIFF only the descriptive top-level tags are written: they become the file's own tags,
    and Pillow/libtiff cannot write Exif/GPS sub-directories there.
    """
    if not exif or fmt not in _EXIF_FORMATS:
        return None
    try:
        parsed = Image.Exif()
        parsed.load(exif)
        if fmt == "TIFF":
            flat = Image.Exif()
            for tag in _TIFF_EXIF_TAGS:
                if tag in parsed:
                    flat[tag] = parsed[tag]
            parsed = flat
        elif _ORIENTATION_TAG in parsed:
            parsed[_ORIENTATION_TAG] = 1
        return parsed.tobytes() if len(parsed) else None
    except Exception:
        return None


def _tiff_compression() -> str | None:
    return "tiff_adobe_deflate" if features.check_codec("libtiff") else None


def save_image(
    path: str | os.PathLike[str],
    rgb: np.ndarray,
    *,
    alpha: np.ndarray | None = None,
    icc_profile: bytes | None = None,
    exif: bytes | None = None,
    quality: int = 92,
    protect: Iterable[str | os.PathLike[str]] = (),
    if_exists: IfExists = IfExists.REPLACE,
) -> Path:
    """Encode ``rgb`` (+ alpha) by the file suffix and write it atomically; returns the path.

    JPEG and BMP cannot store alpha: the image is composited onto white. ``quality`` (1-100)
    applies to JPEG (4:4:4 chroma from 90 up) and WebP (100 means lossless WebP); PNG is
    lossless and TIFF uses Deflate. EXIF is written to JPEG/PNG/WebP (TIFF: descriptive tags
    only) and silently dropped when it cannot be parsed or exceeds JPEG's 64 KB segment; ICC
    goes to every format but BMP. ``protect`` lists the input photos, which are never replaced.
    ``if_exists`` says what happens when ``path`` is taken; with ``NEW_NAME`` the returned path
    is the free name claimed (atomically, so concurrent saves never replace each other's file).
    The file gets the normal umask-derived mode. Not written: 16 bits per channel (Pillow has no
    such RGB mode).
    """
    path = Path(path)
    name = path.name or str(path)
    fmt = _SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        supported = ", ".join(sorted(_SAVE_FORMATS))
        raise ImageSaveError(f"Cannot save {name}: unsupported file type (use one of {supported}).")
    _check_arrays(rgb, alpha)
    if if_exists is not IfExists.NEW_NAME and _is_protected(path, protect):
        raise ImageSaveError(f"Refusing to overwrite the original photo {name}.")
    if path.is_dir() and if_exists is not IfExists.NEW_NAME:
        raise ImageSaveError(f"Cannot save {name}: a folder with that name exists.")
    if if_exists is IfExists.FAIL and os.path.lexists(path):
        raise ImageSaveError(f"{name} already exists.")

    if alpha is not None and fmt not in _ALPHA_FORMATS:
        image = to_pil(composite_on_white(rgb, alpha))
    else:
        image = to_pil(rgb, alpha)

    quality = int(min(max(quality, 1), 100))
    params: dict[str, object] = {}
    if fmt == "JPEG":
        params.update(quality=quality, subsampling=0 if quality >= 90 else 2)
    elif fmt == "WEBP":
        params.update(quality=quality, lossless=quality >= 100, method=4)
    elif fmt == "PNG":
        params.update(compress_level=6)
    elif fmt == "TIFF":
        compression = _tiff_compression()
        if compression:
            params["compression"] = compression
    if icc_profile and fmt in _ICC_FORMATS:
        params["icc_profile"] = icc_profile
    clean_exif = _clean_exif(exif, fmt)
    if clean_exif and not (fmt == "JPEG" and len(clean_exif) > _JPEG_MAX_EXIF):
        params["exif"] = clean_exif

    # Replacing: one atomic write. Otherwise the finished file is published under a name that
    # it claims without replacing anything (see output_names.publish_file).
    staging = path if if_exists is IfExists.REPLACE else path.parent / temp_name(path.suffix)
    try:
        with atomic_open(staging) as handle:
            image.save(handle, format=fmt, **params)
        if staging != path:
            path = publish_file(staging, path, if_exists)
    except OSError as exc:
        raise ImageSaveError(describe_os_error(exc, path)) from exc
    except (ValueError, RuntimeError) as exc:  # e.g. metadata the encoder rejects
        raise ImageSaveError(f"Could not encode {name} as {fmt}: {exc}.") from exc
    return path
