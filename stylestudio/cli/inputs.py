"""Expanding command-line inputs (files, folders, globs) and naming outputs."""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path

from stylestudio.core.imageio import is_supported_image_path

#: Placeholders an output pattern may use.
PLACEHOLDERS = ("{stem}", "{style}", "{ext}", "{index}")


@dataclass
class ExpandedInputs:
    images: list[Path] = field(default_factory=list)
    #: Files inside given folders that are not images: listed, not an error.
    ignored: list[Path] = field(default_factory=list)
    #: Named inputs that do not exist or match nothing: errors.
    missing: list[tuple[Path, str]] = field(default_factory=list)


def expand_inputs(items: list[str]) -> ExpandedInputs:
    """Files, folders (recursively, images only) and glob patterns → image paths, in order."""
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
                if child.is_file() and is_supported_image_path(child):
                    add(child)
                elif child.is_file():
                    result.ignored.append(child)
        elif path.exists():
            add(path)  # explicitly named files are tried even with an odd extension
        elif glob.has_magic(item):
            matches = sorted(Path(m) for m in glob.glob(item, recursive=True))
            files = [m for m in matches if m.is_file() and is_supported_image_path(m)]
            if not files:
                result.missing.append((path, "the pattern matches no image"))
            for match in files:
                add(match)
        else:
            result.missing.append((path, "no such file or folder"))
    return result


def output_path(
    source: Path, output: str | None, style_id: str, fmt: str | None, index: int
) -> Path:
    """Where the result of ``source`` goes.

    ``output`` is a folder (existing, or ending in a separator), a pattern using
    :data:`PLACEHOLDERS`, or None (next to the input as ``{stem}-{style}.{ext}``).
    """
    ext = (fmt or source.suffix.lstrip(".") or "png").lower()
    if ext in ("tif",):
        ext = "tiff"
    if ext not in ("png", "jpg", "jpeg", "webp", "tiff"):
        ext = "png"
    default_name = f"{source.stem}-{style_id}.{ext}"
    if output is None:
        return source.parent / default_name
    if any(p in output for p in PLACEHOLDERS):
        name = output.format(stem=source.stem, style=style_id, ext=ext, index=index)
        target = Path(name)
        return target if target.suffix else target.with_suffix(f".{ext}")
    out = Path(output)
    if out.is_dir() or output.endswith(("/", "\\")) or not out.suffix:
        return out / default_name
    return out
