"""Facts about the style images the user adds: size and content hash (no Qt, no torch)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

#: Style images smaller than this on their short side are accepted with a warning: brush strokes
#: and textures need pixels to be learned.
SMALL_SIDE = 256


@dataclass(frozen=True)
class ImageFacts:
    path: Path
    width: int = 0
    height: int = 0
    sha256: str = ""
    error: str = ""  # non-empty when the file cannot be read as an image

    @property
    def short_side(self) -> int:
        return min(self.width, self.height)


def inspect_image(path: Path) -> ImageFacts:
    """Size from the file header and the SHA-256 of the bytes (the trainer's identity)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        with Image.open(path) as image:
            width, height = image.size
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        return ImageFacts(path, error=str(exc) or type(exc).__name__)
    return ImageFacts(path, width, height, digest.hexdigest())


def inspect_images(paths: Iterable[Path]) -> list[ImageFacts]:
    return [inspect_image(Path(p)) for p in paths]


def duplicates(facts: Sequence[ImageFacts]) -> dict[Path, Path]:
    """Each image whose bytes equal an earlier one → that earlier image."""
    first: dict[str, Path] = {}
    found: dict[Path, Path] = {}
    for item in facts:
        if not item.sha256:
            continue
        if item.sha256 in first:
            found[item.path] = first[item.sha256]
        else:
            first[item.sha256] = item.path
    return found


def small_images(facts: Sequence[ImageFacts], side: int | None = None) -> list[ImageFacts]:
    """Readable images whose short side is below ``side`` (default ``SMALL_SIDE``)."""
    side = SMALL_SIDE if side is None else side
    return [f for f in facts if not f.error and f.short_side < side]
