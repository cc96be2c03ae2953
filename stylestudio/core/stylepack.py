"""The style format: a manifest, safetensors weights and a thumbnail, as a folder or a zip.

A style is a folder (or a single ``.stylepack`` zip of the same three files)::

    style.json           manifest (StyleManifest), required
    weights.safetensors  the generator's state dict, required
    thumbnail.png        preview image, optional

Style files come from strangers, so reading is defensive: the manifest is validated strictly,
zips are checked member by member (paths, links, encryption, declared and actual sizes) before
anything is read, the weights' checksum and every tensor's name, shape and dtype are checked
against the declared architecture before a model is built, every value must be finite (no NaN or
infinity), and nothing is ever unpickled: weights are parsed only by safetensors.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import re
import secrets
import shutil
import stat
import struct
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from stylestudio.core import atomic
from stylestudio.core.errors import StyleFormatError, StyleLibraryError, StyleNotFoundError

if TYPE_CHECKING:
    import torch
    from PIL import Image

FORMAT = "stylestudio.style"
FORMAT_VERSION = 1

MANIFEST_FILE = "style.json"
WEIGHTS_FILE = "weights.safetensors"
THUMBNAIL_FILE = "thumbnail.png"
PACK_SUFFIX = ".stylepack"

MiB = 1024 * 1024
#: Largest accepted size of each member, checked on the declared size and while reading.
SIZE_LIMITS: dict[str, int] = {
    MANIFEST_FILE: 1 * MiB,
    THUMBNAIL_FILE: 8 * MiB,
    WEIGHTS_FILE: 512 * MiB,
}
REQUIRED_FILES = (MANIFEST_FILE, WEIGHTS_FILE)
MAX_THUMBNAIL_SIDE = 4096
#: Thumbnails written by StyleStudio are downscaled to fit this box.
THUMBNAIL_WRITE_SIDE = 512
MAX_NAME_LENGTH = 80
MAX_TEXT_LENGTH = 20_000
MAX_SAFETENSORS_HEADER = 16 * MiB

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")
#: Names Windows will not accept as a folder name, whatever the extension.
WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"} | {f"{p}{n}" for p in ("com", "lpt") for n in range(1, 10)}
)
PICKLE_SUFFIXES = frozenset({".pkl", ".pt", ".pth", ".bin", ".ckpt", ".pickle"})

#: A fixed timestamp for zip members, so that exporting the same style twice gives equal bytes.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

_MANIFEST_KEYS = frozenset(
    {
        "format",
        "format_version",
        "id",
        "name",
        "version",
        "architecture",
        "created",
        "training",
        "license",
        "attribution",
        "description",
        "weights",
    }
)
_REQUIRED_KEYS = ("format", "format_version", "id", "name", "version", "architecture")
_REQUIRED_KEYS += ("created", "weights")

# safetensors dtype code → (torch dtype attribute name, bytes per element)
_SAFETENSORS_DTYPES: dict[str, tuple[str, int]] = {
    "F64": ("float64", 8),
    "F32": ("float32", 4),
    "F16": ("float16", 2),
    "BF16": ("bfloat16", 2),
    "I64": ("int64", 8),
    "I32": ("int32", 4),
    "I16": ("int16", 2),
    "I8": ("int8", 1),
    "U8": ("uint8", 1),
    "BOOL": ("bool", 1),
}


# --------------------------------------------------------------------------------------------
# Manifest


def _fail(message: str) -> StyleFormatError:
    return StyleFormatError(message)


def clean_name(name: object) -> str:
    """A style name stripped of surrounding whitespace; 1 to 80 characters (StyleFormatError)."""
    if not isinstance(name, str):
        raise _fail("The style name must be text.")
    cleaned = name.strip()
    if not cleaned:
        raise _fail("The style name must not be empty.")
    if any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in cleaned):
        raise _fail("The style name must not contain line breaks or control characters.")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise _fail(f"The style name is longer than {MAX_NAME_LENGTH} characters.")
    return cleaned


def utc_now_iso() -> str:
    """The current time as ISO 8601 UTC with a ``Z`` suffix, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _check_created(value: object) -> str:
    if not isinstance(value, str):
        raise _fail("The manifest field 'created' must be an ISO 8601 date string.")
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(f"The manifest field 'created' is not an ISO 8601 date: {value!r}.") from None
    if parsed.tzinfo is None:
        raise _fail(f"The manifest field 'created' has no time zone (expected UTC): {value!r}.")
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class StyleManifest:
    """What ``style.json`` says about a style. Constructing one validates every field.

    ``weights_sha256`` may be empty only in a manifest that is about to be written
    (``write_style_folder`` fills it in); manifests read from disk always carry one.
    """

    id: str
    name: str
    version: int
    architecture: str
    params: dict[str, Any]
    created: str
    weights_sha256: str
    license: str = ""
    attribution: str = ""
    description: str = ""
    training: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (
            not isinstance(self.id, str)
            or not ID_PATTERN.fullmatch(self.id)
            or self.id in WINDOWS_RESERVED
        ):
            raise _fail(
                f"The style id {self.id!r} is invalid; ids are 1 to 64 lower-case letters, digits "
                "and hyphens, starting with a letter or digit."
            )
        object.__setattr__(self, "name", clean_name(self.name))
        if not _is_int(self.version) or self.version < 1:
            raise _fail("The manifest field 'version' must be a whole number of at least 1.")
        if not isinstance(self.architecture, str) or not self.architecture:
            raise _fail("The manifest must name an architecture.")
        if not isinstance(self.params, dict) or not all(isinstance(k, str) for k in self.params):
            raise _fail("The architecture parameters must be a JSON object.")
        _check_created(self.created)
        sha = self.weights_sha256
        if not isinstance(sha, str) or (sha and not SHA256_PATTERN.fullmatch(sha)):
            raise _fail("The weights checksum must be 64 lower-case hexadecimal digits.")
        for key in ("license", "attribution", "description"):
            value = getattr(self, key)
            if not isinstance(value, str):
                raise _fail(f"The manifest field {key!r} must be text.")
            if len(value) > MAX_TEXT_LENGTH:
                raise _fail(f"The manifest field {key!r} is too long.")
        if not isinstance(self.training, dict):
            raise _fail("The manifest field 'training' must be a JSON object.")
        try:
            json.dumps(self.params, allow_nan=False)
            json.dumps(self.training, allow_nan=False)
        except (TypeError, ValueError):
            raise _fail("The manifest's parameters and training data must be plain JSON.") from None

    def __hash__(self) -> int:  # the dict fields are not hashable; these identify a manifest
        return hash((self.id, self.name, self.version, self.weights_sha256))

    def to_dict(self) -> dict[str, Any]:
        """The JSON object stored in ``style.json``."""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "architecture": {"name": self.architecture, "params": self.params},
            "created": self.created,
            "training": self.training,
            "license": self.license,
            "attribution": self.attribution,
            "description": self.description,
            "weights": {"file": WEIGHTS_FILE, "sha256": self.weights_sha256},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> StyleManifest:
        """Parse and validate ``style.json`` (StyleFormatError with the first problem found)."""
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise _fail("style.json is not UTF-8 text.") from None
        try:
            data = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            raise _fail(f"style.json is not valid JSON (line {exc.lineno}: {exc.msg}).") from None
        except ValueError:  # e.g. an integer with thousands of digits
            raise _fail("style.json is not valid JSON (a value is out of range).") from None
        except RecursionError:
            raise _fail("style.json is nested too deeply.") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: object) -> StyleManifest:
        if not isinstance(data, dict):
            raise _fail("style.json must contain a JSON object.")
        if data.get("format") != FORMAT:
            raise _fail(
                f"style.json is not a StyleStudio style manifest (format is not {FORMAT!r})."
            )
        version = data.get("format_version")
        if not _is_int(version) or version < 1:
            raise _fail("The manifest field 'format_version' must be a whole number of at least 1.")
        if version > FORMAT_VERSION:
            raise _fail(
                f"This style was made by a newer StyleStudio (format version {version}; this "
                f"version reads up to {FORMAT_VERSION}); please update StyleStudio."
            )
        missing = [key for key in _REQUIRED_KEYS if key not in data]
        if missing:
            raise _fail(f"style.json lacks the required field {missing[0]!r}.")
        unknown = sorted(set(data) - _MANIFEST_KEYS)
        if unknown:
            raise _fail(f"style.json has an unknown field {unknown[0]!r}.")

        arch = data["architecture"]
        if not isinstance(arch, dict) or set(arch) != {"name", "params"}:
            raise _fail("The manifest field 'architecture' must be an object with name and params.")
        if not isinstance(arch["name"], str):
            raise _fail("The architecture name must be text.")
        weights = data["weights"]
        if not isinstance(weights, dict) or set(weights) != {"file", "sha256"}:
            raise _fail("The manifest field 'weights' must be an object with file and sha256.")
        if weights["file"] != WEIGHTS_FILE:
            raise _fail(f"The manifest's weights file must be {WEIGHTS_FILE!r}.")
        if not isinstance(weights["sha256"], str) or not SHA256_PATTERN.fullmatch(
            weights["sha256"]
        ):
            raise _fail("The weights checksum must be 64 lower-case hexadecimal digits.")
        for key in ("id", "name", "created"):
            if not isinstance(data[key], str):
                raise _fail(f"The manifest field {key!r} must be text.")
        return cls(
            id=data["id"],
            name=data["name"],
            version=data["version"],
            architecture=arch["name"],
            params=arch["params"],
            created=data["created"],
            weights_sha256=weights["sha256"],
            license=data.get("license", ""),
            attribution=data.get("attribution", ""),
            description=data.get("description", ""),
            training=data.get("training", {}),
        )


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _fail(f"style.json repeats the field {key!r}.")
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise _fail(f"style.json contains {name}, which is not valid JSON.")


def new_style_id(name: str) -> str:
    """A fresh id for a style called ``name``: a slug of the name plus a random suffix."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:48].strip("-")
    return f"{slug or 'style'}-{secrets.token_hex(3)}"


# --------------------------------------------------------------------------------------------
# Reading raw files (folder or zip), with every safety check on the container


@dataclass(frozen=True)
class StyleFiles:
    """The raw bytes of a style's files, read with size limits but not yet validated."""

    manifest: bytes
    weights: bytes
    thumbnail: bytes | None
    source: str  # for messages: the folder or pack name


def read_style_files(location: str | Path) -> StyleFiles:
    """Read the files of a style folder or ``.stylepack`` (StyleFormatError if unsafe)."""
    location = Path(location)
    if location.is_dir():
        return _read_folder(location)
    if location.is_file():
        return _read_pack(location)
    raise StyleNotFoundError(f"There is no style at {location}.")


def _read_bounded(path: Path, name: str, source: str) -> bytes:
    limit = SIZE_LIMITS[name]
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
            raise _fail(f"{source}: {name} is not a regular file.")
        if info.st_size > limit:
            raise _fail(f"{source}: {name} is larger than the {_size(limit)} limit.")
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise _fail(f"{source}: cannot read {name} ({exc.strerror or exc}).") from None
    if len(data) > limit:
        raise _fail(f"{source}: {name} is larger than the {_size(limit)} limit.")
    return data


def _read_folder(folder: Path) -> StyleFiles:
    source = f"Style folder {folder.name!r}"
    for name in REQUIRED_FILES:
        if not (folder / name).exists():
            raise _fail(f"{source} has no {name}.")
    thumbnail = None
    if (folder / THUMBNAIL_FILE).exists() or (folder / THUMBNAIL_FILE).is_symlink():
        thumbnail = _read_bounded(folder / THUMBNAIL_FILE, THUMBNAIL_FILE, source)
    return StyleFiles(
        manifest=_read_bounded(folder / MANIFEST_FILE, MANIFEST_FILE, source),
        weights=_read_bounded(folder / WEIGHTS_FILE, WEIGHTS_FILE, source),
        thumbnail=thumbnail,
        source=source,
    )


def read_folder_manifest(folder: str | Path) -> StyleManifest:
    """Only the manifest of a style folder: cheap, no checksum or tensor checks (for listing)."""
    folder = Path(folder)
    source = f"Style folder {folder.name!r}"
    for name in REQUIRED_FILES:
        if not (folder / name).is_file():
            raise _fail(f"{source} has no {name}.")
    data = _read_bounded(folder / MANIFEST_FILE, MANIFEST_FILE, source)
    try:
        return StyleManifest.from_json(data)
    except StyleFormatError as exc:
        raise _fail(f"{source}: {exc}") from None


def _size(n: int) -> str:
    return f"{n // MiB} MiB" if n >= MiB else f"{n} bytes"


def _is_pickle_name(name: str) -> bool:
    base = name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1].lower()
    return base == "data.pkl" or PurePosixPath(base).suffix in PICKLE_SUFFIXES


def _check_member(info: zipfile.ZipInfo, source: str) -> None:
    """Refuse a zip member that is unsafe or not part of the style format."""
    names = {info.filename, getattr(info, "orig_filename", info.filename)}
    for name in names:
        shown = name.encode("unicode_escape").decode("ascii")
        if "\\" in name:
            raise _fail(f"{source} has a member with a backslash in its path ({shown}).")
        if name.startswith("/"):
            raise _fail(f"{source} has a member with an absolute path ({shown}).")
        if re.match(r"[A-Za-z]:", name):
            raise _fail(f"{source} has a member with a drive letter ({shown}).")
        if ".." in name.split("/"):
            raise _fail(f"{source} has a member that points outside the pack ({shown}).")
        if "\x00" in name or any(ord(ch) < 32 for ch in name):
            raise _fail(f"{source} has a member with control characters in its name.")
    name = info.filename
    if stat.S_ISLNK(info.external_attr >> 16):
        raise _fail(f"{source} contains a symbolic link ({name}), which is not allowed.")
    if _is_pickle_name(name):
        raise _fail(
            f"{source} contains a Python pickle ({name}), which StyleStudio never loads for safety."
        )
    if name not in SIZE_LIMITS:
        raise _fail(
            f"{source} contains an unexpected member ({name}); a style pack holds only "
            f"{MANIFEST_FILE}, {WEIGHTS_FILE} and {THUMBNAIL_FILE}."
        )
    if info.flag_bits & 0x1:
        raise _fail(f"{source} has an encrypted member ({name}); packs must not be encrypted.")
    limit = SIZE_LIMITS[name]
    if info.file_size > limit:
        raise _fail(f"{source}: {name} is larger than the {_size(limit)} limit.")


def _read_pack(pack: Path) -> StyleFiles:
    source = f"Style pack {pack.name!r}"
    corrupt = f"{source} is not a valid style pack (the zip file is damaged or incomplete)."
    try:
        with zipfile.ZipFile(pack) as archive:
            infos = archive.infolist()
            seen: set[str] = set()
            for info in infos:
                if info.filename in seen:
                    raise _fail(f"{source} contains {info.filename} more than once.")
                seen.add(info.filename)
                _check_member(info, source)
            for name in REQUIRED_FILES:
                if name not in seen:
                    raise _fail(f"{source} has no {name}.")
            data: dict[str, bytes] = {}
            for info in infos:
                limit = SIZE_LIMITS[info.filename]
                with archive.open(info) as handle:
                    content = handle.read(limit + 1)  # bounded: defeats lying sizes and bombs
                if len(content) > limit:
                    raise _fail(
                        f"{source}: {info.filename} is larger than the {_size(limit)} limit."
                    )
                if len(content) != info.file_size:
                    raise _fail(corrupt)
                data[info.filename] = content
    except StyleFormatError:
        raise
    except FileNotFoundError:
        raise StyleNotFoundError(f"There is no style pack at {pack}.") from None
    except NotImplementedError:
        raise _fail(f"{source} uses a compression method StyleStudio cannot read.") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, ValueError):
        raise _fail(corrupt) from None
    except RuntimeError:  # e.g. zipfile's "encrypted, password required"
        raise _fail(corrupt) from None
    except OSError as exc:
        raise _fail(f"Cannot read {pack}: {exc.strerror or exc}.") from None
    return StyleFiles(
        manifest=data[MANIFEST_FILE],
        weights=data[WEIGHTS_FILE],
        thumbnail=data.get(THUMBNAIL_FILE),
        source=source,
    )


# --------------------------------------------------------------------------------------------
# Validating contents


def parse_safetensors_header(data: bytes, source: str = "The style") -> dict[str, dict]:
    """Tensor name → ``{"dtype", "shape", "data_offsets"}``, checked for consistency."""
    bad = f"{source}: {WEIGHTS_FILE} is not a valid safetensors file"
    if len(data) < 8:
        raise _fail(f"{bad} (too short).")
    (header_len,) = struct.unpack("<Q", data[:8])
    if header_len > MAX_SAFETENSORS_HEADER or 8 + header_len > len(data):
        raise _fail(f"{bad} (bad header length).")
    try:
        header = json.loads(data[8 : 8 + header_len].decode("utf-8"))
    except (ValueError, RecursionError):  # includes UnicodeDecodeError and JSONDecodeError
        raise _fail(f"{bad} (unreadable header).") from None
    if not isinstance(header, dict):
        raise _fail(f"{bad} (header is not an object).")
    payload = len(data) - 8 - header_len
    tensors: dict[str, dict] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(entry, dict):
            raise _fail(f"{bad} (entry for tensor {name!r} is malformed).")
        dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
        if dtype not in _SAFETENSORS_DTYPES:
            raise _fail(f"{source}: tensor {name!r} has an unsupported dtype {dtype!r}.")
        if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
            raise _fail(f"{bad} (tensor {name!r} has a malformed shape).")
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(_is_int(o) for o in offsets)
            or not 0 <= offsets[0] <= offsets[1] <= payload
            or offsets[1] - offsets[0] != math.prod(shape) * _SAFETENSORS_DTYPES[dtype][1]
        ):
            raise _fail(f"{bad} (tensor {name!r} has inconsistent data offsets).")
        tensors[name] = entry
    return tensors


def _torch_dtype_code(dtype: torch.dtype) -> str:
    import torch

    for code, (attr, _) in _SAFETENSORS_DTYPES.items():
        if getattr(torch, attr) == dtype:
            return code
    return str(dtype)


def _list_names(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def check_tensors(
    actual: Mapping[str, tuple[tuple[int, ...], str]],
    expected: Mapping[str, tuple[tuple[int, ...], torch.dtype]],
    source: str,
) -> None:
    """Compare (shape, safetensors dtype code) per tensor with the architecture's expectation."""
    missing = sorted(set(expected) - set(actual))
    if missing:
        raise _fail(f"{source}: the weights lack tensor {_list_names(missing)}.")
    unexpected = sorted(set(actual) - set(expected))
    if unexpected:
        raise _fail(f"{source}: the weights have unexpected tensor {_list_names(unexpected)}.")
    for name in expected:
        want_shape, want_dtype = expected[name]
        have_shape, have_dtype = actual[name]
        if tuple(have_shape) != tuple(want_shape):
            raise _fail(
                f"{source}: tensor {name!r} has shape {list(have_shape)}, "
                f"expected {list(want_shape)}."
            )
        want_code = _torch_dtype_code(want_dtype)
        if have_dtype != want_code:
            raise _fail(f"{source}: tensor {name!r} has dtype {have_dtype}, expected {want_code}.")


def check_finite(tensors: Mapping[str, torch.Tensor], source: str) -> None:
    """Refuse NaN or infinite weights: a model with them turns every photo into flat grey."""
    import torch

    for name in sorted(tensors):
        tensor = tensors[name]
        if not tensor.is_floating_point():
            continue
        finite = torch.isfinite(tensor)
        if bool(finite.all()):
            continue
        nan = int(torch.isnan(tensor).sum())
        infinite = int((~finite).sum()) - nan
        found = " and ".join(
            text
            for count, text in ((nan, f"{nan} NaN"), (infinite, f"{infinite} infinite"))
            if count
        )
        raise _fail(
            f"{source}: tensor {name!r} contains {found} value{'s' if nan + infinite > 1 else ''}; "
            "the weights are damaged and cannot be used."
        )


def check_thumbnail(data: bytes, source: str) -> tuple[int, int]:
    """Decode ``thumbnail.png`` fully; it must be a PNG of at most 4096 px per side."""
    from PIL import Image

    bad = f"{source}: {THUMBNAIL_FILE} is not a valid PNG image."
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
                width, height = image.size
                if not (0 < width <= MAX_THUMBNAIL_SIDE and 0 < height <= MAX_THUMBNAIL_SIDE):
                    raise _fail(
                        f"{source}: {THUMBNAIL_FILE} is {width}×{height} pixels; "
                        f"at most {MAX_THUMBNAIL_SIDE} per side is allowed."
                    )
                image.verify()  # chunk checksums and structure up to IEND
            with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
                image.load()  # and the pixels really decode
    except StyleFormatError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Warning):
        raise _fail(bad) from None
    return width, height


def validate_style_files(files: StyleFiles) -> tuple[StyleManifest, dict[str, torch.Tensor]]:
    """Check everything, then load the tensors with safetensors (never pickle)."""
    import safetensors.torch

    from stylestudio.core.models import registry

    source = files.source
    try:
        manifest = StyleManifest.from_json(files.manifest)
    except StyleFormatError as exc:
        raise _fail(f"{source}: {exc}") from None
    digest = hashlib.sha256(files.weights).hexdigest()
    if digest != manifest.weights_sha256:
        raise _fail(
            f"{source}: {WEIGHTS_FILE} does not match the checksum in {MANIFEST_FILE} "
            "(the file is damaged or was modified)."
        )
    header = parse_safetensors_header(files.weights, source)
    expected = registry.expected_tensors(manifest.architecture, manifest.params)
    actual = {name: (tuple(e["shape"]), e["dtype"]) for name, e in header.items()}
    check_tensors(actual, expected, source)
    if files.thumbnail is not None:
        check_thumbnail(files.thumbnail, source)
    try:
        tensors = safetensors.torch.load(files.weights)
    except Exception as exc:  # safetensors raises its own error types
        raise _fail(f"{source}: {WEIGHTS_FILE} could not be read ({exc}).") from None
    loaded = {k: (tuple(v.shape), _torch_dtype_code(v.dtype)) for k, v in tensors.items()}
    check_tensors(loaded, expected, source)
    check_finite(tensors, f"{source} (style {manifest.name!r})")
    return manifest, tensors


def read_style(location: str | Path) -> tuple[StyleManifest, dict[str, torch.Tensor]]:
    """Manifest and CPU tensors of a style folder or ``.stylepack``, fully validated."""
    return validate_style_files(read_style_files(location))


def load_style_model(location: str | Path) -> tuple[StyleManifest, torch.nn.Module]:
    """The style's model on the CPU, in eval mode."""
    from stylestudio.core.models import registry

    manifest, tensors = read_style(location)
    model = registry.build_model(manifest.architecture, manifest.params)
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:  # already checked above; kept as a clear error just in case
        raise _fail(f"The weights do not fit the {manifest.architecture} model: {exc}") from None
    return manifest, model.eval()


# --------------------------------------------------------------------------------------------
# Writing


def _thumbnail_png(thumbnail: Image.Image) -> bytes:
    image = thumbnail.copy()
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    image.thumbnail((THUMBNAIL_WRITE_SIDE, THUMBNAIL_WRITE_SIDE))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def serialize_weights(
    manifest: StyleManifest, state_dict: Mapping[str, torch.Tensor]
) -> tuple[bytes, str]:
    """The safetensors bytes and their sha256, after checking the tensors fit the manifest."""
    import safetensors.torch

    from stylestudio.core.models import registry

    expected = registry.expected_tensors(manifest.architecture, manifest.params)
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state_dict.items()}
    actual = {k: (tuple(v.shape), _torch_dtype_code(v.dtype)) for k, v in tensors.items()}
    check_tensors(actual, expected, f"Style {manifest.name!r}")
    check_finite(tensors, f"Style {manifest.name!r}")
    data = safetensors.torch.save(tensors)
    return data, hashlib.sha256(data).hexdigest()


def write_files_to_folder(
    parent: Path, style_id: str, files: Mapping[str, bytes], *, exists_message: str | None = None
) -> Path:
    """Write ``files`` into a temp folder in ``parent`` and publish it as ``parent/style_id``.

    Either the complete folder appears, by one rename, or nothing does (a crash leaves only a
    ``.tmp-*`` folder, which the library removes once this process has ended; only its owner
    removes it before). StyleLibraryError if the target exists or on disk errors.
    """
    target = parent / style_id
    taken = exists_message or f"A style with id {style_id!r} already exists in {parent}."
    if target.exists() or target.is_symlink():
        raise StyleLibraryError(taken)
    try:
        tmp = atomic.make_temp_dir(parent)
    except OSError as exc:
        raise StyleLibraryError(atomic.describe_os_error(exc, parent)) from None
    try:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        atomic.publish_dir(tmp, target)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if target.exists():
            raise StyleLibraryError(taken) from None
        raise StyleLibraryError(atomic.describe_os_error(exc, target)) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def write_style_folder(
    parent: Path,
    manifest_without_sha: StyleManifest,
    state_dict: Mapping[str, torch.Tensor],
    thumbnail: Image.Image | None = None,
) -> Path:
    """Write a new style folder ``parent/<id>`` atomically; returns its path.

    The weights' checksum in ``manifest_without_sha`` is replaced by the real one.
    """
    parent = Path(parent)
    data, digest = serialize_weights(manifest_without_sha, state_dict)
    manifest = dataclasses.replace(manifest_without_sha, weights_sha256=digest)
    files = {MANIFEST_FILE: manifest.to_json().encode("utf-8"), WEIGHTS_FILE: data}
    if thumbnail is not None:
        files[THUMBNAIL_FILE] = _thumbnail_png(thumbnail)
    return write_files_to_folder(parent, manifest.id, files)


def write_style_pack(files: StyleFiles, dest: Path) -> Path:
    """Write ``files`` as a ``.stylepack`` at ``dest`` atomically, with a deterministic layout."""
    members = [(MANIFEST_FILE, files.manifest), (WEIGHTS_FILE, files.weights)]
    if files.thumbnail is not None:
        members.append((THUMBNAIL_FILE, files.thumbnail))
    try:
        with atomic.atomic_open(dest) as handle, zipfile.ZipFile(handle, "w") as archive:
            for name, data in members:
                info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3  # Unix, so external_attr below means permissions
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                archive.writestr(info, data)
    except OSError as exc:
        raise StyleLibraryError(atomic.describe_os_error(exc, dest)) from None
    return dest
