"""Export settings and output naming (Qt-free, so the rules are easy to test)."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path

FORMATS: dict[str, str] = {"png": ".png", "jpeg": ".jpg", "webp": ".webp", "tiff": ".tif"}
LOSSY = frozenset({"jpeg", "webp"})
PLACEHOLDERS = ("stem", "style", "n", "strength")
DEFAULT_PATTERN = "{stem}-{style}"
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


class PatternError(ValueError):
    """The name pattern uses an unknown placeholder or is malformed (message is user-facing)."""


@dataclass(frozen=True)
class ExportSettings:
    folder: Path
    format: str = "png"
    quality: int = 92
    pattern: str = DEFAULT_PATTERN
    replace_existing: bool = False

    @property
    def suffix(self) -> str:
        return FORMATS[self.format]


def safe_name_part(text: str) -> str:
    """``text`` usable inside a file name on every platform."""
    cleaned = _UNSAFE.sub("_", text).strip(" .")
    return cleaned or "_"


def validate_pattern(pattern: str) -> None:
    if not pattern.strip():
        raise PatternError("The name pattern is empty.")
    try:
        fields = [name for _lit, name, _spec, _conv in string.Formatter().parse(pattern) if name]
    except ValueError as exc:
        raise PatternError(f"The name pattern is malformed: {exc}.") from None
    unknown = [name for name in fields if name not in PLACEHOLDERS]
    if unknown:
        raise PatternError(f"Unknown placeholder {{{unknown[0]}}} in the name pattern.")


def output_name(
    pattern: str, photo: Path, style_name: str, index: int, strength: float = 1.0
) -> str:
    """File name (without folder) for ``photo`` exported with ``pattern``; no suffix."""
    validate_pattern(pattern)
    values = {
        "stem": photo.stem,
        "style": safe_name_part(style_name),
        "n": f"{index:03d}",
        "strength": f"{round(strength * 100)}",
    }
    return safe_name_part(pattern.format(**values))


def planned_path(
    settings: ExportSettings, photo: Path, style_name: str, index: int, strength: float
) -> Path:
    """Where ``photo`` would be written before collision handling."""
    name = output_name(settings.pattern, photo, style_name, index, strength)
    return settings.folder / f"{name}{settings.suffix}"
