"""Helpers shared by sub-commands."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stylestudio.core.errors import StyleNotFoundError


@dataclass(frozen=True)
class ResolvedStyle:
    location: Path
    style_id: str
    name: str


def resolve_style(spec: str | None) -> ResolvedStyle:
    """A style by id, name, folder or .stylepack path; the first built-in style when None."""
    from stylestudio.core.library import StyleLibrary
    from stylestudio.core.stylepack import read_style

    if spec is not None:
        path = Path(spec)
        if path.exists():
            manifest, _ = read_style(path)
            return ResolvedStyle(path, manifest.id, manifest.name)
        record = StyleLibrary().get(spec)
        return ResolvedStyle(record.location, record.manifest.id, record.manifest.name)
    styles = StyleLibrary().list()
    if not styles:
        raise StyleNotFoundError(
            "No styles are installed; import one with 'stylestudio styles import PACK'."
        )
    first = styles[0]
    return ResolvedStyle(first.location, first.manifest.id, first.manifest.name)
