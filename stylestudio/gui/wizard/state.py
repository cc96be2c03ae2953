"""What the wizard's pages collect, shared between them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from stylestudio.core.training.config import TrainingConfig
from stylestudio.gui.wizard.image_checks import ImageFacts
from stylestudio.gui.wizard.options import WizardOptions

if TYPE_CHECKING:
    from stylestudio.core.library import StyleLibrary

#: Where the practice photos come from.
PHOTOS_OPEN, PHOTOS_FOLDER, PHOTOS_NONE = "open", "folder", "none"


@dataclass
class WizardState:
    library: StyleLibrary | None  # None: the style is learned but not saved
    open_photos: list[Path]
    options: WizardOptions
    name: str = ""
    description: str = ""
    style_images: list[ImageFacts] = field(default_factory=list)
    photo_source: str = PHOTOS_NONE
    photo_folder: Path | None = None
    config: TrainingConfig | None = None
    resume: bool = False

    def usable_style_paths(self) -> list[Path]:
        """Readable style images, each distinct image once."""
        seen: set[str] = set()
        paths = []
        for facts in self.style_images:
            if facts.error or facts.sha256 in seen:
                continue
            seen.add(facts.sha256)
            paths.append(facts.path)
        return paths

    def content(self) -> list[Path] | Path | None:
        """The practice photos as the Trainer takes them."""
        if self.photo_source == PHOTOS_OPEN and self.open_photos:
            return list(self.open_photos)
        if self.photo_source == PHOTOS_FOLDER and self.photo_folder is not None:
            return self.photo_folder
        return None
