"""Stylise photos and save them: the one export path of the CLI (``stylize``) and the GUI.

Naming. Both front ends name outputs with one placeholder vocabulary (:data:`PLACEHOLDERS`):

* ``{stem}`` the photo's file name without its extension;
* ``{style}`` the style's name, made safe for a file name (``Night: Blue`` → ``Night_ Blue``);
* ``{style_id}`` the style's id (``ink-wash``);
* ``{ext}`` the output's extension without the dot (``jpg``);
* ``{index}`` the photo's position in the batch, from 1; ``{n}`` the same, written ``001`` unless a
  format spec says otherwise (``{n:d}`` → ``1``);
* ``{strength}`` the strength in percent (``100``).

Format specs such as ``{index:03d}`` are allowed; ``{{`` and ``}}`` are literal braces. Where the
result goes is a :class:`Destination`: :class:`ExportSettings` (the GUI's folder, format and name)
or :class:`OutputSpec` (the CLI's ``-o``: a folder, a file or a path pattern).

Rules every export follows, in this order, for each photo: the name is worked out first (a bad
pattern fails before the network runs); a name that is one of the batch's photos is refused, with
a one-line reason, whether or not replacing was asked for; stale temporary files of killed exports
are removed from the output folder before its first write; the photo's alpha is kept (resized to
the result when a size limit made the result smaller); the file is claimed atomically (see
``imageio.save_image``). A file that fails is reported and the batch goes on; a cancel stops it.
A photo with a region mask (``ExportRequest.masks``) gets it at the result's full size: the
engine's adjustment stage resamples and feathers it (``core.mask``) and composites once.

Qt- and torch-free at import: the engine is passed in (anything with ``Engine.stylize``'s
signature), so the GUI worker can count and cancel its runs.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import re
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from stylestudio.core.atomic import clean_stale_temps
from stylestudio.core.errors import CancelledError, ImageSaveError
from stylestudio.core.jobs import user_message
from stylestudio.core.output_names import IfExists, NamePattern, Placeholder, ValueKind
from stylestudio.core.output_names import PatternError as PatternError  # re-exported

if TYPE_CHECKING:
    from stylestudio.core.engine import StylizeOptions, StylizeResult
    from stylestudio.core.imageio import LoadedImage
    from stylestudio.core.mask import RegionMask
    from stylestudio.core.mixing import StyleSource

log = logging.getLogger(__name__)

PLACEHOLDERS = (
    Placeholder("stem"),
    Placeholder("style"),
    Placeholder("style_id"),
    Placeholder("ext"),
    Placeholder("index", ValueKind.NUMBER),
    Placeholder("n", ValueKind.NUMBER, default_spec="03d"),
    Placeholder("strength", ValueKind.NUMBER),
)
#: The GUI's default file name (a name inside the chosen folder, without the extension).
DEFAULT_PATTERN = "{stem}-{style}"
#: The CLI's default file name (next to the input, or in the ``-o`` folder).
DEFAULT_CLI_NAME = "{stem}-{style_id}.{ext}"
#: The GUI's formats and their extensions.
FORMATS: dict[str, str] = {"png": ".png", "jpeg": ".jpg", "webp": ".webp", "tiff": ".tif"}
LOSSY = frozenset({"jpeg", "webp"})
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')
_SEPARATORS = ("/", "\\")
_CLI_EXTENSIONS = ("png", "jpg", "jpeg", "webp", "tiff")


def safe_name_part(text: str) -> str:
    """``text`` usable inside a file name on every platform."""
    cleaned = _UNSAFE.sub("_", text).strip(" .")
    return cleaned or "_"


def parse_pattern(pattern: str, what: str = "name pattern") -> NamePattern:
    """The checked pattern; ``PatternError`` (one sentence) if it is malformed or unknown."""
    return NamePattern(pattern, PLACEHOLDERS, what)


def validate_pattern(pattern: str) -> None:
    parse_pattern(pattern)


@dataclass(frozen=True)
class StyleRef:
    """The style an export applies: a style's folder (or pack), or a blend of styles."""

    location: StyleSource
    style_id: str
    name: str


def name_values(
    photo: Path, style: StyleRef, index: int, strength: float, ext: str
) -> dict[str, object]:
    """What each placeholder stands for."""
    return {
        "stem": photo.stem,
        "style": safe_name_part(style.name),
        "style_id": style.style_id,
        "ext": ext,
        "index": index,
        "n": index,
        "strength": round(strength * 100),
    }


class Destination(Protocol):
    def path_for(self, photo: Path, style: StyleRef, index: int, strength: float) -> Path:
        """Where ``photo`` goes, before collision handling (may raise ``PatternError``)."""
        ...


@dataclass(frozen=True)
class ExportSettings:
    """The GUI's export: a folder, a format and a file name pattern (no folders in it)."""

    folder: Path
    format: str = "png"
    quality: int = 92
    pattern: str = DEFAULT_PATTERN
    replace_existing: bool = False

    @property
    def suffix(self) -> str:
        return FORMATS[self.format]

    @property
    def if_exists(self) -> IfExists:
        return IfExists.REPLACE if self.replace_existing else IfExists.NEW_NAME

    def path_for(self, photo: Path, style: StyleRef, index: int, strength: float) -> Path:
        values = name_values(photo, style, index, strength, self.suffix.lstrip("."))
        name = safe_name_part(parse_pattern(self.pattern).render(**values))
        return self.folder / f"{name}{self.suffix}"


class OutputKind(enum.Enum):
    NEXT_TO_INPUT = "next-to-input"  # no -o
    FOLDER = "folder"  # an existing folder, or a path ending in a separator / without suffix
    FILE = "file"  # one fixed file name
    PATTERN = "pattern"  # uses placeholders


@dataclass(frozen=True)
class OutputSpec:
    """The CLI's ``-o``, checked once before any work (a bad pattern is an error up front)."""

    kind: OutputKind
    path: Path | None = None
    pattern: NamePattern | None = None
    format: str | None = None  # --format; None keeps the input's type

    def path_for(
        self, photo: Path, style: StyleRef, index: int, strength: float, ext: str | None = None
    ) -> Path:
        """``ext``: the output's extension (default: from --format, else the photo's type)."""
        ext = ext or _output_ext(photo, self.format)
        values = name_values(photo, style, index, strength, ext)
        default_name = parse_pattern(DEFAULT_CLI_NAME).render(**values)
        if self.kind is OutputKind.NEXT_TO_INPUT:
            return photo.parent / default_name
        if self.kind is OutputKind.FOLDER:
            assert self.path is not None
            return self.path / default_name
        if self.kind is OutputKind.FILE:
            assert self.path is not None
            return self.path
        assert self.pattern is not None
        name = self.pattern.render(**values)
        if name.endswith(_SEPARATORS):  # a pattern for the folder only
            return Path(name) / default_name
        target = Path(name)
        return target if target.suffix else target.with_suffix(f".{ext}")


def parse_output(output: str | None, fmt: str | None = None) -> OutputSpec:
    """Interpret ``-o``: a folder (existing, or ending in a separator), a pattern using
    :data:`PLACEHOLDERS` (any ``{`` or ``}`` makes it one), a file, or None (next to the input).

    Raises ``PatternError`` (one sentence) for an unknown or malformed placeholder.
    """
    if output is None:
        return OutputSpec(OutputKind.NEXT_TO_INPUT, format=fmt)
    out = Path(output)
    if os.path.isdir(out):  # unlike Path.is_dir, False (not an error) for an over-long name
        return OutputSpec(OutputKind.FOLDER, out, format=fmt)
    if "{" in output or "}" in output:
        pattern = parse_pattern(output, "output pattern")
        return OutputSpec(OutputKind.PATTERN, pattern=pattern, format=fmt)
    if output.endswith(_SEPARATORS) or not out.suffix:
        return OutputSpec(OutputKind.FOLDER, out, format=fmt)
    return OutputSpec(OutputKind.FILE, out, format=fmt)


def _output_ext(source: Path, fmt: str | None) -> str:
    ext = (fmt or source.suffix.lstrip(".") or "png").lower()
    if ext == "tif":
        ext = "tiff"
    return ext if ext in _CLI_EXTENSIONS else "png"


# --------------------------------------------------------------------------------------------
# the job


@dataclass(frozen=True)
class Look:
    """How the photos are stylised (the engine's options, without importing the engine)."""

    strength: float = 1.0
    preserve_colors: bool = False
    style_scale: float = 1.0
    max_side: int | None = None
    tile_size: int | None = None

    def options(self) -> StylizeOptions:
        from stylestudio.core.engine import StylizeOptions

        return StylizeOptions(
            strength=self.strength,
            preserve_colors=self.preserve_colors,
            style_scale=self.style_scale,
            max_side=self.max_side,
            tile_size=self.tile_size,
        )


@dataclass(frozen=True)
class ExportRequest:
    photos: tuple[Path, ...]
    style: StyleRef
    destination: Destination
    look: Look = Look()
    quality: int = 92
    if_exists: IfExists = IfExists.NEW_NAME
    #: Region masks by photo (as listed in ``photos``); a photo without one is styled whole.
    masks: Mapping[Path, RegionMask] = field(default_factory=dict)


@dataclass(frozen=True)
class FileStarted:
    index: int  # 1-based
    total: int
    photo: Path


@dataclass(frozen=True)
class FileWritten:
    index: int
    total: int
    photo: Path
    path: Path
    elapsed_s: float
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class FileFailed:
    index: int
    total: int
    photo: Path
    message: str  # one sentence
    error: Exception = field(compare=False, repr=False)


ExportEvent = FileStarted | FileWritten | FileFailed


@dataclass
class ExportSummary:
    written: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    cancelled: bool = False
    total: int = 0
    job_id: int = 0  # the caller's id for the job (the GUI's)


class StylizeFn(Protocol):
    def __call__(
        self,
        image: np.ndarray,
        style_location: StyleSource,
        options: StylizeOptions,
        progress: Callable[[float, str], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> StylizeResult: ...


def _load(path: Path) -> LoadedImage:
    from stylestudio.core.imageio import load_image

    return load_image(path)


def fit_alpha(alpha: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray | None:
    """``alpha`` at the (H, W) of ``shape``: resized (bilinear) when a size limit shrank the
    result, so transparency is kept rather than dropped."""
    if alpha is None or alpha.shape[:2] == tuple(shape[:2]):
        return alpha
    from PIL import Image

    height, width = int(shape[0]), int(shape[1])
    plane = Image.fromarray(alpha.astype(np.float32), mode="F")
    resized = np.asarray(plane.resize((width, height), Image.Resampling.BILINEAR))
    top = float(np.iinfo(alpha.dtype).max) if np.issubdtype(alpha.dtype, np.integer) else 1.0
    return np.clip(np.rint(resized), 0, top).astype(alpha.dtype)


def export_photos(
    request: ExportRequest,
    stylize: StylizeFn,
    *,
    load: Callable[[Path], LoadedImage] = _load,
    cancel: Callable[[], bool] = lambda: False,
    progress: Callable[[int, float], None] | None = None,
) -> Generator[ExportEvent, None, ExportSummary]:
    """Stylise and save every photo of ``request``; yields per-file events, returns the summary.

    ``progress(index, fraction)`` reports the network run of one photo; ``cancel()`` is asked
    before each photo and during each run (a cancel ends the batch, ``summary.cancelled``).
    """
    from stylestudio.core.imageio import save_image

    photos = request.photos
    total = len(photos)
    summary = ExportSummary(total=total)
    protect = [p.resolve() for p in photos]
    swept: set[Path] = set()
    options = request.look.options()
    for index, photo in enumerate(photos, start=1):
        if cancel():
            summary.cancelled = True
            return summary
        yield FileStarted(index, total, photo)
        start = time.perf_counter()
        try:
            # Name first: a bad pattern or an original as target fails before any network run.
            dest = request.destination.path_for(photo, request.style, index, request.look.strength)
            if dest.resolve() in protect:
                raise ImageSaveError(f"“{dest.name}” would overwrite an original photo.")
            _sweep_once(dest.parent, swept)
            loaded = load(photo)
            result = stylize(
                loaded.rgb,
                request.style.location,
                replace(options, mask=request.masks.get(photo)),
                progress=None if progress is None else lambda f, _m, i=index: progress(i, f),
                cancel=cancel,
            )
            written = save_image(
                dest,
                result.image,
                alpha=fit_alpha(loaded.alpha, result.image.shape),
                icc_profile=loaded.icc_profile,
                exif=loaded.exif,
                quality=request.quality,
                protect=protect,
                if_exists=request.if_exists,
            )
        except CancelledError:
            summary.cancelled = True
            return summary
        except Exception as exc:  # one bad photo never ends the batch
            message = user_message(exc)
            summary.failed.append((photo, message))
            yield FileFailed(index, total, photo, message, exc)
            continue
        summary.written.append(written)
        took = time.perf_counter() - start
        yield FileWritten(index, total, photo, written, took, tuple(result.notes))
    return summary


def _sweep_once(folder: Path, swept: set[Path]) -> None:
    """Remove stale temps (of killed exports) from ``folder`` before its first write; another
    process's write in progress is kept. An unreadable folder is reported by the write."""
    key = folder.absolute()
    if key not in swept:
        swept.add(key)
        with contextlib.suppress(OSError):
            clean_stale_temps(folder)


def run_export(
    request: ExportRequest,
    stylize: StylizeFn,
    on_event: Callable[[ExportEvent], None],
    **kwargs: object,
) -> ExportSummary:
    """:func:`export_photos` to the end, each event handed to ``on_event``."""
    events = export_photos(request, stylize, **kwargs)  # type: ignore[arg-type]
    while True:
        try:
            on_event(next(events))
        except StopIteration as stop:
            return stop.value
