"""The region masks of the photos the app has open, kept across sessions (Qt-free).

Each photo's mask lives in memory as uint8 (0 = original, 255 = styled) while the app runs, and
is saved as an 8-bit greyscale PNG in ``<user data>/masks/``, named by a hash of the photo's
path, written atomically (a crash leaves the old file or the new one). The PNG records the
photo's path, so a file is never applied to another photo. No mask (``None``) means the style
covers the whole photo; its file is removed. A damaged file is ignored and left in place.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from stylestudio.core.atomic import atomic_write_bytes, clean_stale_temps, describe_os_error
from stylestudio.core.errors import ImageSaveError
from stylestudio.core.paths import user_data_dir

log = logging.getLogger(__name__)

FOLDER_NAME = "masks"
_PHOTO_KEY = "StyleStudio-photo"


def masks_dir() -> Path:
    return user_data_dir() / FOLDER_NAME


class MaskStore:
    """Masks by photo path; ``flush`` writes the changed ones (see the module docstring)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder if folder is not None else masks_dir()
        self._masks: dict[Path, np.ndarray | None] = {}
        self._dirty: set[Path] = set()
        self._swept = False

    def file_for(self, photo: Path) -> Path:
        digest = hashlib.sha256(str(Path(photo).absolute()).encode("utf-8", "surrogatepass"))
        return self.folder / f"{digest.hexdigest()[:32]}.png"

    def get(self, photo: Path) -> np.ndarray | None:
        """The photo's mask (the stored array itself: callers that keep it must copy)."""
        if photo not in self._masks:
            self._masks[photo] = self._read(photo)
        return self._masks[photo]

    def set(self, photo: Path, values: np.ndarray | None) -> None:
        if values is not None and (values.dtype != np.uint8 or values.ndim != 2):
            raise ValueError("a stored mask is a 2-D uint8 array")
        self._masks[photo] = values
        self._dirty.add(photo)

    def changed(self, photo: Path) -> None:
        """The array returned by ``get`` was edited in place: save it on the next flush."""
        self._dirty.add(photo)

    def has_unsaved(self) -> bool:
        return bool(self._dirty)

    def flush(self) -> list[str]:
        """Save every changed mask; one sentence per mask that could not be written."""
        problems: list[str] = []
        for photo in sorted(self._dirty, key=str):
            try:
                self._write(photo, self._masks.get(photo))
            except ImageSaveError as exc:
                problems.append(str(exc))
                continue
            self._dirty.discard(photo)
        return problems

    # files ------------------------------------------------------------------------------------
    def _read(self, photo: Path) -> np.ndarray | None:
        path = self.file_for(photo)
        if not path.is_file():
            return None
        try:
            with Image.open(path, formats=["PNG"]) as image:
                image.load()
                if image.info.get(_PHOTO_KEY) != str(Path(photo).absolute()):
                    return None  # a hash collision or a renamed store: not this photo's mask
                values = np.array(image.convert("L"), dtype=np.uint8)
        except Exception:  # a damaged file must not stop the photo from opening
            log.warning("ignoring the unreadable mask file %s", path, exc_info=True)
            return None
        return values

    def _write(self, photo: Path, values: np.ndarray | None) -> None:
        path = self.file_for(photo)
        if not self._swept:
            self._swept = True
            with contextlib.suppress(OSError):
                clean_stale_temps(self.folder)
        if values is None:
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                raise ImageSaveError(describe_os_error(exc, path)) from exc
            return
        info = PngImagePlugin.PngInfo()
        info.add_itxt(_PHOTO_KEY, str(Path(photo).absolute()))
        buffer = io.BytesIO()
        Image.fromarray(values).save(buffer, format="PNG", pnginfo=info, compress_level=1)
        atomic_write_bytes(path, buffer.getvalue())
