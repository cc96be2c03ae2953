"""Export settings and output naming (Qt-free, so the rules are easy to test)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from stylestudio.core.output_names import IfExists, NamePattern, Placeholder, ValueKind
from stylestudio.core.output_names import PatternError as PatternError  # re-exported

FORMATS: dict[str, str] = {"png": ".png", "jpeg": ".jpg", "webp": ".webp", "tiff": ".tif"}
LOSSY = frozenset({"jpeg", "webp"})
#: {n} counts from 1 and is written 001, 002, ... unless a spec says otherwise ({n:d} → 1);
#: {strength} is the strength in percent.
PLACEHOLDERS = (
    Placeholder("stem"),
    Placeholder("style"),
    Placeholder("n", ValueKind.NUMBER, default_spec="03d"),
    Placeholder("strength", ValueKind.NUMBER),
)
DEFAULT_PATTERN = "{stem}-{style}"
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


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

    @property
    def if_exists(self) -> IfExists:
        return IfExists.REPLACE if self.replace_existing else IfExists.NEW_NAME


def safe_name_part(text: str) -> str:
    """``text`` usable inside a file name on every platform."""
    cleaned = _UNSAFE.sub("_", text).strip(" .")
    return cleaned or "_"


def parse_pattern(pattern: str) -> NamePattern:
    """The checked pattern; ``PatternError`` (one sentence) if it is malformed or unknown."""
    return NamePattern(pattern, PLACEHOLDERS, "name pattern")


def validate_pattern(pattern: str) -> None:
    parse_pattern(pattern)


def output_name(
    pattern: str, photo: Path, style_name: str, index: int, strength: float = 1.0
) -> str:
    """File name (without folder) for ``photo`` exported with ``pattern``; no suffix."""
    text = parse_pattern(pattern).render(
        stem=photo.stem,
        style=safe_name_part(style_name),
        n=index,
        strength=round(strength * 100),
    )
    return safe_name_part(text)


def planned_path(
    settings: ExportSettings, photo: Path, style_name: str, index: int, strength: float
) -> Path:
    """Where ``photo`` would be written before collision handling."""
    name = output_name(settings.pattern, photo, style_name, index, strength)
    return settings.folder / f"{name}{settings.suffix}"
