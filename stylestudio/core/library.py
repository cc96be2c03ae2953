"""The style library: read-only built-in styles plus the user's own, one folder per style.

User styles live in ``paths.user_styles_dir()/<id>/``. Every change is atomic: new styles are
written into a ``.tmp-*`` folder and published by one rename, renames replace ``style.json`` with
``os.replace``, deletions rename the folder away before removing it. A crash therefore leaves the
old state or the new one plus, at worst, ``.tmp-*`` leftovers, which ``list()`` removes once their
owner process has ended (never while it may still be writing them).

Several processes may use one library at once (two app windows, the CLI beside the app). Changes
(import, add, rename, delete) hold a lock file in the library folder (``.lock``, see
``interprocess_lock``) while they look at the library and publish; listing takes no lock, since
it only ever sees complete folders. A folder that is not a usable style but blocks the id of a
style being imported (a half-published folder left by an older version, or damaged weights) is
healed: removed if it holds nothing worth keeping, otherwise moved aside to a hidden
``.set-aside-*`` folder, so that no re-import is blocked for good and nothing is lost.

``list()`` is cheap: parsed manifests are cached per folder and re-read only when the folder or
its ``style.json`` changes (mtime, size, inode). Listing does not verify weights; loading a style
(``stylepack.read_style``) does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import secrets
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stylestudio.core import atomic, interprocess_lock, paths, stylepack
from stylestudio.core.errors import (
    StyleFormatError,
    StyleLibraryError,
    StyleNotFoundError,
    StyleStudioError,
)
from stylestudio.core.stylepack import MANIFEST_FILE, PACK_SUFFIX, THUMBNAIL_FILE, StyleManifest

if TYPE_CHECKING:
    import torch
    from PIL import Image

log = logging.getLogger(__name__)

#: The lock file in the user style folder; hidden, so listings skip it. It is never removed.
LOCK_FILE = ".lock"
#: Prefix of the hidden folders that damaged styles are moved to (kept, never cleaned up).
SET_ASIDE_PREFIX = ".set-aside-"

_StatKey = tuple[Any, ...]


@dataclass(frozen=True)
class LibraryConfig:
    """Tunables of the library's cross-process safety."""

    lock: interprocess_lock.LockConfig = field(default_factory=interprocess_lock.LockConfig)
    #: A folder that changed less than this many seconds ago may still be being copied in by
    #: another program, so it is not healed yet.
    settle_s: float = 30.0


@dataclass(frozen=True)
class StyleRecord:
    """A style in the library: its manifest, its folder and whether it ships with the app."""

    manifest: StyleManifest
    location: Path
    builtin: bool
    thumbnail: Path | None

    @property
    def id(self) -> str:
        return self.manifest.id

    @property
    def name(self) -> str:
        return self.manifest.name


def _sort_key(record: StyleRecord) -> tuple[str, str]:
    return (record.name.casefold(), record.id)


def _stat_key(folder: Path) -> _StatKey:
    """Changes whenever files are added to or removed from the folder or style.json changes."""
    folder_stat = folder.stat()
    try:
        manifest_stat = (folder / MANIFEST_FILE).stat()
        manifest_key: tuple[int, ...] = (
            manifest_stat.st_mtime_ns,
            manifest_stat.st_size,
            manifest_stat.st_ino,
        )
    except OSError:
        manifest_key = ()
    return (folder_stat.st_mtime_ns, folder_stat.st_ino, *manifest_key)


class StyleLibrary:
    """Lists, finds, imports, exports, renames, deletes and adds styles."""

    def __init__(
        self,
        user_dir: Path | None = None,
        builtin_dir: Path | None = None,
        config: LibraryConfig | None = None,
    ) -> None:
        self.user_dir = Path(user_dir) if user_dir is not None else paths.user_styles_dir()
        self.builtin_dir = (
            Path(builtin_dir) if builtin_dir is not None else paths.builtin_styles_dir()
        )
        self.config = config or LibraryConfig()
        self._cache: dict[Path, tuple[_StatKey, StyleRecord | None]] = {}
        self._cache_lock = threading.RLock()  # this instance's cache, shared by its threads

    @contextlib.contextmanager
    def _changing(self) -> Iterator[None]:
        """Hold the library's lock against other threads and processes while changing it."""
        lock = interprocess_lock.lock_for(self.user_dir / LOCK_FILE, self.config.lock)
        try:
            lock.acquire(self.config.lock.timeout_s)
        except interprocess_lock.LockTimeout:
            raise StyleLibraryError(
                "The style library is busy: another StyleStudio window or command is changing "
                "it. Please try again in a moment."
            ) from None
        except OSError as exc:
            raise StyleLibraryError(atomic.describe_os_error(exc, self.user_dir)) from None
        try:
            yield
        finally:
            lock.release()

    # ---------------------------------------------------------------------------------- reading

    def list(self) -> list[StyleRecord]:
        """Built-in styles, then user styles, each sorted by name; invalid folders are skipped."""
        with self._cache_lock:
            try:
                atomic.clean_stale_temps(self.user_dir)
            except OSError as exc:
                log.warning("Could not clean temporary files in %s: %s", self.user_dir, exc)
            seen: set[Path] = set()
            builtin = self._scan(self.builtin_dir, seen, builtin=True)
            user = self._scan(self.user_dir, seen, builtin=False)
            for gone in [path for path in self._cache if path not in seen]:
                del self._cache[gone]
            return sorted(builtin, key=_sort_key) + sorted(user, key=_sort_key)

    def get(self, id_or_name: str) -> StyleRecord:
        """The style with this id, else the one with this name (case-insensitive)."""
        records = self.list()
        for record in records:
            if record.id == id_or_name:
                return record
        wanted = id_or_name.strip().casefold()
        matches = [r for r in records if r.name.casefold() == wanted]
        if len(matches) == 1:
            return matches[0]
        if matches:
            ids = ", ".join(r.id for r in matches)
            raise StyleLibraryError(
                f"Several styles are named {id_or_name!r} (ids: {ids}); please use an id."
            )
        raise StyleNotFoundError(f"There is no style with the id or name {id_or_name!r}.")

    def _by_id(self, style_id: str) -> StyleRecord:
        for record in self.list():
            if record.id == style_id:
                return record
        raise StyleNotFoundError(f"There is no style with the id {style_id!r}.")

    def _scan(self, root: Path, seen: set[Path], *, builtin: bool) -> list[StyleRecord]:
        try:
            children = sorted(root.iterdir()) if root.is_dir() else []
        except OSError as exc:
            log.warning("Could not list styles in %s: %s", root, exc)
            return []
        records = []
        for child in children:
            if child.name.startswith(".") or child.is_symlink() or not child.is_dir():
                continue
            seen.add(child)
            record = self._record_for(child, builtin=builtin)
            if record is not None:
                records.append(record)
        return records

    def _record_for(self, folder: Path, *, builtin: bool) -> StyleRecord | None:
        try:
            key = _stat_key(folder)
        except OSError:
            return None
        cached = self._cache.get(folder)
        if cached is not None and cached[0] == key:
            return cached[1]
        if not builtin:
            # Leftovers of an interrupted rename (atomic_write_text temp files).
            atomic.clean_stale_temps(folder)
            try:
                key = _stat_key(folder)
            except OSError:
                return None
        record = None
        try:
            manifest = stylepack.read_folder_manifest(folder)
            if manifest.id != folder.name:
                raise StyleFormatError(
                    f"Style folder {folder.name!r} holds a style with the id {manifest.id!r}."
                )
            thumbnail = folder / THUMBNAIL_FILE
            record = StyleRecord(
                manifest, folder, builtin, thumbnail if thumbnail.is_file() else None
            )
        except StyleStudioError as exc:
            if not folder.exists():
                return None  # deleted by another process while we read it: nothing to report
            log.warning("Skipping invalid style folder %s: %s", folder, exc)
        self._cache[folder] = (key, record)
        return record

    def _fresh_record(self, folder: Path) -> StyleRecord:
        with self._cache_lock:
            self._cache.pop(folder, None)
            record = self._record_for(folder, builtin=False)
        if record is None:
            raise StyleLibraryError(f"The style in {folder} could not be read back after writing.")
        return record

    # ---------------------------------------------------------------------------------- naming

    def _unique_id(self, name: str, records: list[StyleRecord]) -> str:
        taken = {r.id for r in records}
        while True:
            candidate = stylepack.new_style_id(name)
            if candidate not in taken and not os.path.lexists(self.user_dir / candidate):
                return candidate

    @staticmethod
    def _unique_name(name: str, records: list[StyleRecord]) -> str:
        """``name``, or ``name (2)``, ``name (3)``… if another style already has that name."""
        taken = {r.name.casefold() for r in records}
        if name.casefold() not in taken:
            return name
        n = 2
        while True:
            suffix = f" ({n})"
            candidate = name[: stylepack.MAX_NAME_LENGTH - len(suffix)].rstrip() + suffix
            if candidate.casefold() not in taken:
                return candidate
            n += 1

    # ---------------------------------------------------------------------------------- changes

    def import_pack(self, pack: Path) -> StyleRecord:
        """Install a ``.stylepack`` (or style folder) after validating it completely.

        Importing a style that is already installed (same id and weights) returns the installed
        record; a different style with a taken id is installed under a fresh id. A user folder
        that holds no usable style but blocks the id (half-published, or the same style with
        damaged weights) is healed first (see :meth:`_clear_blocker`).
        """
        files = stylepack.read_style_files(pack)
        manifest, _ = stylepack.validate_style_files(files)
        with self._changing():
            records = self.list()
            existing = next((r for r in records if r.id == manifest.id), None)
            if existing is not None and existing.manifest.weights_sha256 == manifest.weights_sha256:
                if self._intact(existing):
                    log.info("Style %r is already installed.", existing.id)
                    return existing
                if not existing.builtin:  # our own copy, damaged: replace it
                    self._clear_blocker(existing.location)
                    records.remove(existing)
                    existing = None
            if existing is not None:
                manifest = dataclasses.replace(manifest, id=self._unique_id(manifest.name, records))
            elif os.path.lexists(self.user_dir / manifest.id):
                self._clear_blocker(self.user_dir / manifest.id)  # not a valid style folder
            manifest = dataclasses.replace(manifest, name=self._unique_name(manifest.name, records))
            content = {
                MANIFEST_FILE: manifest.to_json().encode("utf-8"),
                stylepack.WEIGHTS_FILE: files.weights,
            }
            if files.thumbnail is not None:
                content[THUMBNAIL_FILE] = files.thumbnail
            folder = stylepack.write_files_to_folder(self.user_dir, manifest.id, content)
            return self._fresh_record(folder)

    def _clear_blocker(self, entry: Path) -> None:
        """Make room at ``entry``, which holds no usable style but blocks that id (lock held).

        What an interrupted publication leaves (a real folder with no weights, only a thumbnail,
        a manifest or dead processes' temps) is removed: nothing in it could be used again.
        Anything else (weights that fail their checks, other files, a link) is moved aside to a
        hidden ``.set-aside-*`` sibling, untouched. An entry that changed moments ago may still
        be being copied in by another program and is left alone for now.
        """
        if self._recently_changed(entry):
            raise StyleLibraryError(
                f"The style folder {entry} is incomplete and was changed moments ago (is it still "
                "being copied?); please try again in a minute."
            )
        try:
            if _holds_only_leftovers(entry):
                atomic.remove_dir_atomically(entry)
                log.warning("Removed the incomplete style folder %s (it held no weights).", entry)
            else:
                stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
                aside = entry.with_name(
                    f"{SET_ASIDE_PREFIX}{entry.name}-{stamp}-{secrets.token_hex(3)}"
                )
                os.rename(entry, aside)
                log.warning(
                    "Moved the damaged style folder %s aside to %s (nothing was deleted).",
                    entry,
                    aside,
                )
        except OSError as exc:
            raise StyleLibraryError(
                f"The damaged style folder {entry} is in the way and could not be moved aside: "
                f"{exc.strerror or exc}."
            ) from None
        with self._cache_lock:
            self._cache.pop(entry, None)

    def _recently_changed(self, entry: Path) -> bool:
        """Whether ``entry`` or anything directly in it was modified within ``settle_s``.

        Times far in the future (a skewed clock) do not count, so they cannot block for ever.
        """
        try:
            times = [entry.lstat().st_mtime]
            if entry.is_dir() and not entry.is_symlink():
                times += [child.lstat().st_mtime for child in entry.iterdir()]
        except OSError:
            return False
        now = time.time()
        return any(abs(now - mtime) < self.config.settle_s for mtime in times)

    @staticmethod
    def _intact(record: StyleRecord) -> bool:
        try:
            stylepack.read_style(record.location)
        except StyleStudioError as exc:
            log.warning("Installed style %s is damaged: %s", record.location, exc)
            return False
        return True

    def export_pack(self, style_id: str, dest: Path) -> Path:
        """Write the style as a ``.stylepack``; ``dest`` may be a folder. Returns the pack path."""
        record = self._by_id(style_id)
        files = stylepack.read_style_files(record.location)
        stylepack.validate_style_files(files)  # never hand out a damaged style
        dest = Path(dest)
        if dest.is_dir():
            dest = dest / f"{record.id}{PACK_SUFFIX}"
        elif dest.suffix.lower() != PACK_SUFFIX:
            dest = dest.with_name(dest.name + PACK_SUFFIX)
        return stylepack.write_style_pack(files, dest)

    def rename(self, style_id: str, new_name: str) -> StyleRecord:
        """Give a user style a new display name (its id and folder stay the same)."""
        with self._changing():
            record = self._by_id(style_id)
            if record.builtin:
                raise StyleLibraryError(f"The built-in style {record.name!r} cannot be renamed.")
            try:
                name = stylepack.clean_name(new_name)
            except StyleFormatError as exc:
                raise StyleLibraryError(str(exc)) from None
            manifest = stylepack.read_folder_manifest(record.location)
            updated = dataclasses.replace(manifest, name=name)
            try:
                atomic.atomic_write_text(record.location / MANIFEST_FILE, updated.to_json())
            except StyleStudioError as exc:  # atomic_write_* reports disk errors this way
                raise StyleLibraryError(str(exc)) from None
            return self._fresh_record(record.location)

    def delete(self, style_id: str) -> None:
        """Remove a user style; built-in styles cannot be deleted."""
        with self._changing():
            record = self._by_id(style_id)
            if record.builtin:
                raise StyleLibraryError(f"The built-in style {record.name!r} cannot be deleted.")
            try:
                atomic.remove_dir_atomically(record.location)
            except OSError as exc:
                raise StyleLibraryError(
                    f"Could not delete the style {record.name!r}: {exc.strerror or exc}."
                ) from None
            with self._cache_lock:
                self._cache.pop(record.location, None)

    def add(
        self,
        name: str,
        state_dict: Mapping[str, torch.Tensor],
        *,
        architecture: str,
        params: Mapping[str, Any],
        thumbnail: Image.Image | None = None,
        training: Mapping[str, Any] | None = None,
        license: str = "",
        attribution: str = "",
        description: str = "",
    ) -> StyleRecord:
        """Save freshly trained weights as a new user style with a new unique id."""
        name = stylepack.clean_name(name)
        with self._changing():
            records = self.list()
            manifest = StyleManifest(
                id=self._unique_id(name, records),
                name=self._unique_name(name, records),
                version=1,
                architecture=architecture,
                params=dict(params),
                created=stylepack.utc_now_iso(),
                weights_sha256="",
                license=license,
                attribution=attribution,
                description=description,
                training=dict(training or {}),
            )
            folder = stylepack.write_style_folder(self.user_dir, manifest, state_dict, thumbnail)
            return self._fresh_record(folder)


def _holds_only_leftovers(entry: Path) -> bool:
    """True for a real folder without weights holding only a manifest, a thumbnail or temps of
    ended processes: the remains of an interrupted publication, with nothing worth keeping."""
    if entry.is_symlink() or not entry.is_dir():
        return False
    for child in entry.iterdir():
        if atomic.is_stale_temp(child.name):
            continue
        if child.name not in (MANIFEST_FILE, THUMBNAIL_FILE):
            return False
        if child.is_symlink() or not child.is_file():
            return False
    return True
