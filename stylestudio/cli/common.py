"""Helpers shared by sub-commands."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stylestudio.core.errors import StyleNotFoundError
from stylestudio.core.mixing import StyleSource


@dataclass(frozen=True)
class ResolvedStyle:
    location: StyleSource  # a style's folder or pack, or a blend
    style_id: str
    name: str


def resolve_style(spec: str | None) -> ResolvedStyle:
    """A style by id, name, folder or .stylepack path, or a blend of library styles such as
    ``"starry-night:0.6,great-wave:0.4"`` (a style whose id or name is the whole text wins);
    the first built-in style when None."""
    from stylestudio.core.library import StyleLibrary
    from stylestudio.core.mixing import looks_like_blend, parse_blend_spec, resolve_blend
    from stylestudio.core.stylepack import read_style

    if spec is not None:
        path = Path(spec)
        if path.exists():
            manifest, _ = read_style(path)
            return ResolvedStyle(path, manifest.id, manifest.name)
        library = StyleLibrary()
        try:
            record = library.get(spec)
        except StyleNotFoundError:
            if not looks_like_blend(spec):
                raise
            blend = resolve_blend(parse_blend_spec(spec), library)
            return ResolvedStyle(blend, blend.style_id, blend.name)
        return ResolvedStyle(record.location, record.manifest.id, record.manifest.name)
    styles = StyleLibrary().list()
    if not styles:
        raise StyleNotFoundError(
            "No styles are installed; import one with 'stylestudio styles import PACK'."
        )
    first = styles[0]
    return ResolvedStyle(first.location, first.manifest.id, first.manifest.name)
