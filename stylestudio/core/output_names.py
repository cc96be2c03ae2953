"""How outputs get their names: name patterns, and claiming a name without replacing anyone's file.

Both the CLI (``-o 'out/{stem}-{style}.{ext}'``) and the GUI's export dialog name their outputs
with a pattern. :class:`NamePattern` checks a pattern completely before any work starts: unknown,
empty or nested placeholders, attribute or index access, conversions (``!r``) and format specs
that are malformed or absurd (``{index:99999999999}``) are refused with one sentence.

:func:`publish_file` moves a finished temporary file to its name. Unless replacing is asked for,
the name is claimed atomically (a hard link, which fails if the name exists), so two exports that
run at the same time into one folder each keep their result: ``photo-ink.jpg`` and
``photo-ink (2).jpg``.
"""

from __future__ import annotations

import contextlib
import enum
import os
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from stylestudio.core import atomic
from stylestudio.core.errors import ImageSaveError, StyleStudioError

#: Widths and precisions above this are refused (a file name has at most 255 bytes anyway).
MAX_FIELD_WIDTH = 64
#: How many "name (n)" candidates are tried before giving up.
MAX_FREE_NAME_TRIES = 10_000

_SPEC = re.compile(
    r"(?:(?P<fill>.)?(?P<align>[<>=^]))?(?P<sign>[-+ ])?z?#?0?(?P<width>\d+)?[,_]?"
    r"(?:\.(?P<precision>\d+))?(?P<type>[A-Za-z%])?",
    re.DOTALL,
)
_UNSAFE_FILL = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
_NUMBERED = re.compile(r"(.*) \((\d+)\)")


class PatternError(StyleStudioError, ValueError):
    """A name pattern is malformed or uses an unknown placeholder (message is user-facing)."""


class ValueKind(enum.Enum):
    TEXT = "text"
    NUMBER = "number"


_SAMPLES: dict[ValueKind, object] = {ValueKind.TEXT: "photo", ValueKind.NUMBER: 7}
_TYPES: dict[ValueKind, str] = {ValueKind.TEXT: "s", ValueKind.NUMBER: "d"}
_EXAMPLE_SPECS: dict[ValueKind, str] = {ValueKind.TEXT: ".20", ValueKind.NUMBER: "03d"}


@dataclass(frozen=True)
class Placeholder:
    name: str
    kind: ValueKind = ValueKind.TEXT
    #: Format used when the pattern gives none (the GUI's ``{n}`` means ``{n:03d}``).
    default_spec: str = ""


def _as_written(name: str, conversion: str | None, spec: str) -> str:
    """A placeholder as the user wrote it, for messages: ``{index:03d}``."""
    conversion_part = f"!{conversion}" if conversion else ""
    spec_part = f":{spec}" if spec else ""
    return f"{{{name}{conversion_part}{spec_part}}}"


@dataclass(frozen=True)
class _Part:
    literal: str
    field: str | None
    spec: str


class NamePattern:
    """A validated name pattern such as ``{stem}-{style}``; :meth:`render` cannot fail."""

    def __init__(self, text: str, placeholders: tuple[Placeholder, ...], what: str) -> None:
        self.text = text
        self.what = what
        self._placeholders = {p.name: p for p in placeholders}
        self._parts = self._parse()
        self._check_sample()

    def render(self, **values: object) -> str:
        """The pattern with ``values`` filled in (every used placeholder must have a value)."""
        out = []
        for part in self._parts:
            out.append(part.literal)
            if part.field is not None:
                placeholder = self._placeholders[part.field]
                out.append(format(values[part.field], part.spec or placeholder.default_spec))
        return "".join(out)

    # validation -----------------------------------------------------------------------------
    def _names(self) -> str:
        names = [f"{{{name}}}" for name in self._placeholders]
        return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]

    def _parse(self) -> list[_Part]:
        if not self.text.strip():
            raise PatternError(f"The {self.what} is empty.")
        try:
            parsed = list(string.Formatter().parse(self.text))
        except ValueError as exc:
            raise PatternError(
                f"The {self.what} is malformed ({exc}); write {{{{ and }}}} for literal braces."
            ) from None
        parts = []
        for literal, name, spec, conversion in parsed:
            if name is None:
                parts.append(_Part(literal, None, ""))
                continue
            shown = _as_written(name, conversion, spec)
            if not name:
                raise PatternError(
                    f"Empty placeholder {shown} in the {self.what}; use {self._names()}."
                )
            if name not in self._placeholders:
                raise PatternError(
                    f"Unknown placeholder {shown} in the {self.what}; use {self._names()}."
                )
            if conversion:
                raise PatternError(f"{shown} in the {self.what}: conversions are not supported.")
            self._check_spec(self._placeholders[name], spec, shown)
            parts.append(_Part(literal, name, spec))
        return parts

    def _check_spec(self, placeholder: Placeholder, spec: str, shown: str) -> None:
        if not spec:
            return
        example = f"{{{placeholder.name}:{_EXAMPLE_SPECS[placeholder.kind]}}}"
        invalid = PatternError(
            f"{shown} in the {self.what} is not a valid format for {{{placeholder.name}}} "
            f"(for example {example})."
        )
        if "{" in spec or "}" in spec:
            raise PatternError(
                f"{shown} in the {self.what}: nested placeholders are not supported."
            )
        found = _SPEC.fullmatch(spec)
        if found is None:
            raise invalid
        for key in ("width", "precision"):
            digits = (found[key] or "0").lstrip("0") or "0"
            if len(digits) > len(str(MAX_FIELD_WIDTH)) or int(digits) > MAX_FIELD_WIDTH:
                raise PatternError(
                    f"{shown} in the {self.what}: the {key} {digits} is too large "
                    f"(at most {MAX_FIELD_WIDTH})."
                )
        if found["type"] not in (None, _TYPES[placeholder.kind]):
            raise invalid
        if found["fill"] is not None and _UNSAFE_FILL.match(found["fill"]):
            raise PatternError(
                f"{shown} in the {self.what}: the fill character cannot be in a name."
            )
        try:
            format(_SAMPLES[placeholder.kind], spec)
        except (ValueError, TypeError):
            raise invalid from None

    def _check_sample(self) -> None:
        sample = self.render(**{name: _SAMPLES[p.kind] for name, p in self._placeholders.items()})
        last = re.split(r"[\\/]", sample)[-1]
        if atomic.is_temp_name(last):
            raise PatternError(
                f"The {self.what} makes names starting with {atomic.TEMP_PREFIX}, which are "
                "reserved for unfinished files."
            )


# --------------------------------------------------------------------------------------------
# free names and claiming them


class IfExists(enum.Enum):
    """What a save does when its output name is already taken."""

    REPLACE = "replace"  # replace the existing file (atomically)
    FAIL = "fail"  # refuse, keep the existing file
    NEW_NAME = "new-name"  # take the first free "name (2).ext", "name (3).ext", ...


def free_name_candidates(path: Path) -> Iterator[Path]:
    """``path``, then "name (2).ext", "name (3).ext", ... (a name already numbered counts on)."""
    yield path
    stem = path.stem
    found = _NUMBERED.fullmatch(stem)
    if found:
        stem = found.group(1)
    for counter in range(2, MAX_FREE_NAME_TRIES + 2):
        candidate = path.with_name(f"{stem} ({counter}){path.suffix}")
        if candidate != path:
            yield candidate


def _link_no_replace(source: Path, target: Path) -> None:
    """Give ``source`` the name ``target`` unless ``target`` exists (then FileExistsError).

    A hard link is the no-replace rename that every POSIX filesystem and NTFS offer. Where links
    are not supported (FAT, some network shares), the name is claimed with an O_EXCL placeholder
    that the finished file then replaces; there a crash at that instant can leave an empty file.
    """
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError:
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        try:
            os.replace(source, target)
        except OSError:
            with contextlib.suppress(OSError):
                if target.stat().st_size == 0:  # still our empty placeholder
                    target.unlink()
            raise
        return
    with contextlib.suppress(OSError):  # a leftover is a stale temp, removed by a later run
        os.unlink(source)


def publish_file(tmp: Path, target: Path, if_exists: IfExists) -> Path:
    """Move the finished file ``tmp`` (in ``target``'s folder) to ``target``; the name used.

    With ``NEW_NAME`` the first free candidate is claimed atomically, so concurrent writers never
    replace each other's file; with ``FAIL`` an existing ``target`` raises ``ImageSaveError``.
    ``tmp`` is gone afterwards, also when this raises.
    """
    try:
        if if_exists is IfExists.REPLACE:
            os.replace(tmp, target)
            return _synced(target)
        for candidate in free_name_candidates(target):
            try:
                _link_no_replace(tmp, candidate)
            except FileExistsError:
                if if_exists is IfExists.FAIL:
                    raise ImageSaveError(f"{target.name} already exists.") from None
                continue
            return _synced(candidate)
        raise ImageSaveError(f"No free name left for {target.name} in {target.parent}.")
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _synced(path: Path) -> Path:
    atomic._fsync_dir(path.parent)  # the rename/link must survive a power cut, as atomic_open's
    return path
