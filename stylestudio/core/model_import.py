"""Community models in: a fast-neural-style ``TransformerNet`` checkpoint becomes a style.

pytorch/examples' ``fast_neural_style`` saves ``TransformerNet.state_dict()`` with ``torch.save``.
Such files come from strangers and a torch checkpoint is a pickle, so reading is strict:

* the file is read once, with a size limit; a safetensors file is parsed by safetensors, anything
  else only by ``torch.load(weights_only=True)``, whose unpickler builds tensors and plain
  containers and refuses every other global (no code in the file ever runs);
* the result must be a flat mapping of names to dense floating-point tensors;
* ``running_mean``/``running_var`` of the network's instance-norm layers (older PyTorch saved
  them; instance norm never uses them) are dropped, and the user is told; anything else that is
  not exactly the architecture's tensor, name and shape, is refused;
* every value must be finite.

The style is then saved through :meth:`StyleLibrary.add` (validated again and written
atomically), as architecture ``fast_neural_style.ARCHITECTURE_NAME`` with the user's licence and
attribution, and the source file's name and SHA-256 in the manifest. The source file is only read.
"""

from __future__ import annotations

import enum
import hashlib
import io
import logging
import pickle
import stat
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stylestudio.core import paths, stylepack
from stylestudio.core.errors import StyleFormatError

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from stylestudio.core.library import StyleLibrary, StyleRecord

log = logging.getLogger(__name__)

#: Largest checkpoint read (the TransformerNet is about 6.7 MB in float32).
MAX_CHECKPOINT_BYTES = stylepack.SIZE_LIMITS[stylepack.WEIGHTS_FILE]
#: Tensors older PyTorch versions stored for every ``InstanceNorm2d``; unused by instance norm.
RUNNING_STAT_SUFFIXES = ("running_mean", "running_var")
#: Side of the thumbnail rendered from the bundled sample photo.
THUMBNAIL_SIDE = 256
SOURCE_FORMAT = "pytorch/examples fast_neural_style TransformerNet"
DESCRIPTION = "Imported from a fast-neural-style TransformerNet checkpoint (pytorch/examples)."
#: Key of the import's provenance in the manifest's ``training`` object.
PROVENANCE_KEY = "imported_model"


class CheckpointContainer(enum.Enum):
    """How the checkpoint file is stored."""

    SAFETENSORS = "safetensors"
    TORCH = "torch"  # torch.save (zip or legacy pickle), read with weights_only=True


@dataclass(frozen=True)
class ModelImportRequest:
    """What the user asked to import: the checkpoint, the style's name and its licence terms."""

    path: Path
    name: str
    license: str = ""
    attribution: str = ""


@dataclass(frozen=True)
class Checkpoint:
    """A validated checkpoint: exactly the architecture's tensors, as float32."""

    tensors: dict[str, torch.Tensor]
    container: CheckpointContainer
    sha256: str
    #: Names of the running statistics that were dropped.
    dropped: tuple[str, ...] = ()

    @property
    def notes(self) -> tuple[str, ...]:
        """What the user should be told about the conversion."""
        if not self.dropped:
            return ()
        return (
            f"Dropped {len(self.dropped)} instance-norm running statistics "
            "(running_mean/running_var, saved by older PyTorch versions; instance norm does not "
            "use them).",
        )


@dataclass(frozen=True)
class ModelImportResult:
    record: StyleRecord
    notes: tuple[str, ...]


# --------------------------------------------------------------------------------------------
# reading


def _read_bounded(path: Path) -> bytes:
    name = path.name
    too_large = (
        f"{name} is larger than {MAX_CHECKPOINT_BYTES // stylepack.MiB} MiB; a TransformerNet "
        "checkpoint is about 7 MB."
    )
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise StyleFormatError(f"{name} is not a regular file.")
        if info.st_size > MAX_CHECKPOINT_BYTES:
            raise StyleFormatError(too_large)
        with open(path, "rb") as handle:
            data = handle.read(MAX_CHECKPOINT_BYTES + 1)
    except FileNotFoundError:
        raise StyleFormatError(f"There is no file {path}.") from None
    except OSError as exc:
        raise StyleFormatError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if len(data) > MAX_CHECKPOINT_BYTES:
        raise StyleFormatError(too_large)
    if not data:
        raise StyleFormatError(f"{name} is empty.")
    return data


def _looks_like_safetensors(data: bytes) -> bool:
    """An 8-byte little-endian header length, then a JSON object that fits in the file."""
    if len(data) < 10:
        return False
    (length,) = struct.unpack("<Q", data[:8])
    return 2 <= length <= len(data) - 8 and data[8:9] == b"{"


def _load_safetensors(data: bytes, name: str) -> Any:
    import safetensors.torch

    try:
        return safetensors.torch.load(data)
    except Exception as exc:  # safetensors raises its own error types
        raise StyleFormatError(f"{name} is not a readable safetensors file ({exc}).") from None


def _load_torch(data: bytes, name: str) -> Any:
    import torch

    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # the weights-only unpickler refused something
        raise StyleFormatError(
            f"{name} is not a plain state dict of tensors: it holds other Python objects or "
            "code, which StyleStudio never loads (nothing in the file was run)."
        ) from None
    except Exception:  # not a torch file at all: zip, magic number and EOF errors
        raise StyleFormatError(
            f"{name} is not a PyTorch checkpoint or safetensors file StyleStudio can read."
        ) from None


def _plain_state_dict(obj: Any, name: str) -> dict[str, torch.Tensor]:
    import torch

    if not isinstance(obj, dict):
        raise StyleFormatError(
            f"{name} holds a {type(obj).__name__}, not a state dict (a mapping of names to "
            "tensors)."
        )
    tensors: dict[str, torch.Tensor] = {}
    for key, value in obj.items():
        if not isinstance(key, str):
            raise StyleFormatError(f"{name} has a non-text entry name {key!r}.")
        if not isinstance(value, torch.Tensor):
            raise StyleFormatError(
                f"{name}: entry {key!r} is a {type(value).__name__}, not a tensor; only a plain "
                "state dict of the network's tensors can be imported."
            )
        tensors[key] = value
    return tensors


def _check_dense_float(tensors: dict[str, torch.Tensor], name: str) -> None:
    import torch

    for key, value in tensors.items():
        if value.layout is not torch.strided or value.is_quantized or not value.is_floating_point():
            raise StyleFormatError(
                f"{name}: tensor {key!r} is not a dense floating-point tensor ({value.dtype})."
            )


def _drop_running_stats(
    tensors: dict[str, torch.Tensor], channels: dict[str, int], name: str
) -> tuple[str, ...]:
    """Remove exactly the running statistics of the known norm layers (checked for shape)."""
    dropped = []
    for norm, count in channels.items():
        for suffix in RUNNING_STAT_SUFFIXES:
            key = f"{norm}.{suffix}"
            if key not in tensors:
                continue
            shape = tuple(tensors[key].shape)
            if shape != (count,):
                raise StyleFormatError(
                    f"{name}: tensor {key!r} has shape {list(shape)}, expected [{count}]."
                )
            del tensors[key]
            dropped.append(key)
    return tuple(dropped)


def read_checkpoint(path: str | Path) -> Checkpoint:
    """The checkpoint's tensors, validated against the TransformerNet (StyleFormatError)."""
    import torch

    from stylestudio.core.models import fast_neural_style, registry

    path = Path(path)
    name = path.name
    data = _read_bounded(path)
    if _looks_like_safetensors(data):
        container = CheckpointContainer.SAFETENSORS
        loaded = _load_safetensors(data, name)
    else:
        container = CheckpointContainer.TORCH
        loaded = _load_torch(data, name)
    tensors = _plain_state_dict(loaded, name)

    expected = registry.expected_tensors(fast_neural_style.ARCHITECTURE_NAME, {})
    channels = {n: expected[f"{n}.weight"][0][0] for n in fast_neural_style.NORM_NAMES}
    dropped = _drop_running_stats(tensors, channels, name)
    if tensors and not set(tensors) & set(expected):
        example = sorted(tensors)[0]
        raise StyleFormatError(
            f"{name} is not a fast-neural-style TransformerNet checkpoint: none of its "
            f"{len(tensors)} tensors (such as {example!r}) belongs to that network."
        )
    # Names and shapes first (the dtype is converted below, so it is not compared here).
    actual = {k: (tuple(v.shape), "F32") for k, v in tensors.items()}
    stylepack.check_tensors(actual, expected, f"{name} (a TransformerNet checkpoint)")
    _check_dense_float(tensors, name)
    tensors = {k: v.to(torch.float32).contiguous() for k, v in tensors.items()}
    stylepack.check_finite(tensors, name)
    return Checkpoint(tensors, container, hashlib.sha256(data).hexdigest(), dropped)


# --------------------------------------------------------------------------------------------
# importing


def _thumbnail(model: torch.nn.Module) -> Image.Image | None:
    """The bundled sample photo through the network, or None without a sample."""
    import numpy as np
    import torch
    from PIL import Image, ImageOps

    samples = sorted(paths.sample_images_dir().glob("*.jpg"))
    if not samples:
        return None
    try:
        with Image.open(samples[0]) as opened:
            photo = ImageOps.exif_transpose(opened).convert("RGB")
    except OSError as exc:
        log.warning("No thumbnail: cannot read the sample photo %s: %s", samples[0], exc)
        return None
    photo.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    x = torch.from_numpy(np.asarray(photo, dtype=np.float32) / 255.0).permute(2, 0, 1)[None]
    with torch.inference_mode():
        y = model(x)[0].permute(1, 2, 0).numpy()
    return Image.fromarray((y * 255.0 + 0.5).clip(0, 255).astype(np.uint8), "RGB")


def import_model(library: StyleLibrary, request: ModelImportRequest) -> ModelImportResult:
    """Convert the checkpoint into a new user style (StyleStudioError when refused)."""
    from stylestudio.core.models import fast_neural_style, registry

    name = stylepack.clean_name(request.name)
    checkpoint = read_checkpoint(request.path)
    model = registry.build_model(fast_neural_style.ARCHITECTURE_NAME, {})
    model.load_state_dict(checkpoint.tensors, strict=True)
    model.eval()
    provenance = {
        "format": SOURCE_FORMAT,
        "container": checkpoint.container.value,
        "file": Path(request.path).name,
        "sha256": checkpoint.sha256,
        "dropped_tensors": list(checkpoint.dropped),
    }
    record = library.add(
        name,
        checkpoint.tensors,
        architecture=fast_neural_style.ARCHITECTURE_NAME,
        params={},
        thumbnail=_thumbnail(model),
        training={PROVENANCE_KEY: provenance},
        license=request.license.strip(),
        attribution=request.attribution.strip(),
        description=DESCRIPTION,
    )
    return ModelImportResult(record, checkpoint.notes)
