"""Expanding command-line inputs (files, folders, globs) and naming outputs."""

from __future__ import annotations

import enum
import glob
import os
from dataclasses import dataclass, field
from pathlib import Path

from stylestudio.core.atomic import is_temp_name
from stylestudio.core.imageio import is_supported_image_path
from stylestudio.core.output_names import NamePattern, Placeholder, ValueKind

#: Placeholders an output pattern may use ({index} counts from 1 and takes specs like {index:03d}).
PLACEHOLDERS = (
    Placeholder("stem"),
    Placeholder("style"),
    Placeholder("ext"),
    Placeholder("index", ValueKind.NUMBER),
)
_WHAT = "output pattern"
_SEPARATORS = ("/", "\\")


@dataclass
class ExpandedInputs:
    images: list[Path] = field(default_factory=list)
    #: Files inside given folders that are not images: listed, not an error.
    ignored: list[Path] = field(default_factory=list)
    #: Named inputs that do not exist or match nothing: errors.
    missing: list[tuple[Path, str]] = field(default_factory=list)


def _inside_temp(path: Path, root: Path) -> bool:
    """Whether ``path`` is (or lies inside) an unfinished write's ``.tmp-*`` entry below root."""
    return any(is_temp_name(part) for part in path.relative_to(root).parts)


def expand_inputs(items: list[str]) -> ExpandedInputs:
    """Files, folders (recursively, images only) and glob patterns → image paths, in order.

    Unfinished writes (``.tmp-*`` files and folders, e.g. of an export that was killed) are never
    listed; naming one explicitly is reported as an error.
    """
    result = ExpandedInputs()
    seen: set[Path] = set()

    def add(path: Path) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            result.images.append(path)

    for item in items:
        path = Path(item)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if _inside_temp(child, path):
                    continue
                if child.is_file() and is_supported_image_path(child):
                    add(child)
                elif child.is_file():
                    result.ignored.append(child)
        elif path.exists() and is_temp_name(path.name):
            result.missing.append((path, "an unfinished temporary file, not a photo"))
        elif path.exists():
            add(path)  # explicitly named files are tried even with an odd extension
        elif glob.has_magic(item):
            matches = sorted(Path(m) for m in glob.glob(item, recursive=True))
            files = [
                m
                for m in matches
                if m.is_file()
                and is_supported_image_path(m)
                and not any(is_temp_name(part) for part in m.parts)
            ]
            if not files:
                result.missing.append((path, "the pattern matches no image"))
            for match in files:
                add(match)
        else:
            result.missing.append((path, "no such file or folder"))
    return result


class OutputKind(enum.Enum):
    NEXT_TO_INPUT = "next-to-input"  # no -o
    FOLDER = "folder"  # an existing folder, or a path ending in a separator / without suffix
    FILE = "file"  # one fixed file name
    PATTERN = "pattern"  # uses placeholders


@dataclass(frozen=True)
class OutputSpec:
    """What ``-o`` means, checked once before any work (a bad pattern is an error up front)."""

    kind: OutputKind
    path: Path | None = None
    pattern: NamePattern | None = None

    def path_for(self, source: Path, style_id: str, fmt: str | None, index: int) -> Path:
        """Where the result of ``source`` goes (before collision handling)."""
        ext = _output_ext(source, fmt)
        default_name = f"{source.stem}-{style_id}.{ext}"
        if self.kind is OutputKind.NEXT_TO_INPUT:
            return source.parent / default_name
        if self.kind is OutputKind.FOLDER:
            assert self.path is not None
            return self.path / default_name
        if self.kind is OutputKind.FILE:
            assert self.path is not None
            return self.path
        assert self.pattern is not None
        name = self.pattern.render(stem=source.stem, style=style_id, ext=ext, index=index)
        if name.endswith(_SEPARATORS):  # a pattern for the folder only
            return Path(name) / default_name
        target = Path(name)
        return target if target.suffix else target.with_suffix(f".{ext}")


def parse_output(output: str | None) -> OutputSpec:
    """Interpret ``-o``: a folder (existing, or ending in a separator), a pattern using
    :data:`PLACEHOLDERS` (any ``{`` or ``}`` makes it one), a file, or None (next to the input).

    Raises ``PatternError`` (one sentence) for an unknown or malformed placeholder.
    """
    if output is None:
        return OutputSpec(OutputKind.NEXT_TO_INPUT)
    out = Path(output)
    if os.path.isdir(out):  # unlike Path.is_dir, False (not an error) for an over-long name
        return OutputSpec(OutputKind.FOLDER, out)
    if "{" in output or "}" in output:
        return OutputSpec(OutputKind.PATTERN, pattern=NamePattern(output, PLACEHOLDERS, _WHAT))
    if output.endswith(_SEPARATORS) or not out.suffix:
        return OutputSpec(OutputKind.FOLDER, out)
    return OutputSpec(OutputKind.FILE, out)


def output_path(
    source: Path, output: str | None, style_id: str, fmt: str | None, index: int
) -> Path:
    """Where the result of ``source`` goes; see :func:`parse_output` for ``output``."""
    return parse_output(output).path_for(source, style_id, fmt, index)


def _output_ext(source: Path, fmt: str | None) -> str:
    ext = (fmt or source.suffix.lstrip(".") or "png").lower()
    if ext in ("tif",):
        ext = "tiff"
    if ext not in ("png", "jpg", "jpeg", "webp", "tiff"):
        ext = "png"
    return ext
