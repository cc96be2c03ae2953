"""Expanding command-line inputs (files, folders, globs); outputs are named by ``core.export``."""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path

from stylestudio.core.atomic import is_temp_name
from stylestudio.core.errors import StyleStudioError
from stylestudio.core.imageio import is_supported_image_path


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


def require_images(items: list[str], what: str, error: type[StyleStudioError]) -> list[Path]:
    """The images ``items`` name (see :func:`expand_inputs`), for a command that needs all of them.

    The first input that cannot be used, or finding no image at all, raises ``error`` with one
    sentence naming ``what`` (e.g. ``"practice photo"``): each command keeps its own error type.
    """
    found = expand_inputs(items)
    if found.missing:
        path, why = found.missing[0]
        raise error(f"The {what} {path} cannot be used: {why}.")
    if not found.images:
        raise error(f"No {what}s were found in {' '.join(items)}.")
    return found.images
