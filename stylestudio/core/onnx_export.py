"""A style as a standalone ONNX model (``stylestudio styles export STYLE --onnx OUT.onnx``).

The style's network is exported with torch's ``torch.export``-based ONNX exporter (it needs the
optional ``onnx`` and ``onnxscript`` packages: the ``onnx`` extra). Height, width and batch are
dynamic. The networks pad their input to a multiple of 4 with Python-level branches that would
freeze one image size into the graph, so the export runs them through :class:`_AnySize`, which
pads by a fixed 3 pixels (reflect) and slices to the next multiple of 4: the same pixels as the
networks' own padding, without a branch. The model carries a docstring and metadata (style
name, id, licence, attribution, input and output format), and is written atomically.

The exported model normalises with the statistics of the whole input it is given; it does not
tile (run large images on a runtime with enough memory).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch.nn import functional as F

from stylestudio import __version__
from stylestudio.core import atomic
from stylestudio.core.errors import StyleLibraryError, StyleStudioError

if TYPE_CHECKING:
    from stylestudio.core.stylepack import StyleManifest

#: The packages torch's ONNX exporter imports.
REQUIRED_PACKAGES = ("onnx", "onnxscript")
MISSING_EXTRA = (
    "ONNX export needs the optional packages onnx and onnxscript; install them with "
    "pip install 'stylestudio[onnx]'."
)
INPUT_NAME = "image"
OUTPUT_NAME = "stylized"
ONNX_SUFFIX = ".onnx"
#: Smallest height and width the exported graph accepts (its paddings need a few pixels).
MIN_SIDE = 5


class OnnxUnavailableError(StyleStudioError):
    """The optional ONNX packages are not installed."""


class OnnxExportError(StyleStudioError):
    """The exporter could not convert a style's network."""


@dataclass(frozen=True)
class OnnxExportConfig:
    #: The ai.onnx opset of the graph (17 is the first with every op used here at its newest).
    opset: int = 18
    #: Size of the example input the graph is traced with (not a limit: the axes are dynamic).
    example_size: tuple[int, int] = (67, 93)

    def __post_init__(self) -> None:
        if self.opset < 17:
            raise ValueError("the ONNX export needs opset 17 or newer")
        if min(self.example_size) < 2 * MIN_SIDE:
            raise ValueError("the example input is too small")


@dataclass(frozen=True)
class OnnxExportResult:
    path: Path
    opset: int
    size_bytes: int


def onnx_available() -> bool:
    """Whether the exporter's packages can be imported (checked without importing them)."""
    return all(importlib.util.find_spec(name) is not None for name in REQUIRED_PACKAGES)


def require_onnx() -> None:
    """Raise :class:`OnnxUnavailableError` (one sentence) without the ``onnx`` extra."""
    if not onnx_available():
        raise OnnxUnavailableError(MISSING_EXTRA)


class _AnySize(torch.nn.Module):
    """Pad to a multiple of 4 without data-dependent branches, run the network, crop back."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2], x.shape[-1]
        # Reflect padding by 3 then slicing equals reflect padding by (-h) % 4: row h + i
        # mirrors row h - 2 - i whatever the total amount.
        padded = F.pad(x, (0, 3, 0, 3), mode="reflect")
        padded = padded[..., : (h + 3) // 4 * 4, : (w + 3) // 4 * 4]
        return self.net(padded)[..., :h, :w]


def docstring(manifest: StyleManifest) -> str:
    """The text stored as the model's ``doc_string``."""
    return "\n".join(
        [
            f"StyleStudio style {manifest.name!r} (id {manifest.id}, version {manifest.version}), "
            f"exported by StyleStudio {__version__}.",
            f"Licence: {manifest.license or 'not stated'}",
            f"Attribution: {manifest.attribution or 'none given'}",
            f"Input {INPUT_NAME!r}: {input_format()}.",
            f"Output {OUTPUT_NAME!r}: {output_format()}.",
            "Instance norm uses the statistics of the whole input (the model does not tile).",
        ]
    )


def input_format() -> str:
    return (
        "float32 RGB, NCHW (batch, 3, height, width), values in [0, 1]; any batch size, height "
        f"and width of at least {MIN_SIDE} pixels"
    )


def output_format() -> str:
    return "float32 RGB, NCHW, the input's batch size, height and width, values in [0, 1]"


def _metadata(manifest: StyleManifest) -> dict[str, str]:
    return {
        "stylestudio.style_name": manifest.name,
        "stylestudio.style_id": manifest.id,
        "stylestudio.style_version": str(manifest.version),
        "stylestudio.architecture": manifest.architecture,
        "stylestudio.weights_sha256": manifest.weights_sha256,
        "stylestudio.version": __version__,
        "license": manifest.license,
        "attribution": manifest.attribution,
        "input_format": input_format(),
        "output_format": output_format(),
    }


def _export_proto(
    model: torch.nn.Module, config: OnnxExportConfig, manifest: StyleManifest
) -> bytes:
    height, width = config.example_size
    example = torch.rand(2, 3, height, width, generator=torch.Generator().manual_seed(0))
    batch = torch.export.Dim("batch", min=1, max=4096)
    dims = {
        0: batch,
        2: torch.export.Dim("height", min=MIN_SIDE, max=2**20),
        3: torch.export.Dim("width", min=MIN_SIDE, max=2**20),
    }
    quiet = io.StringIO()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(quiet):
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                _AnySize(model).eval(),
                (example,),
                dynamo=True,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_shapes={"x": dims},
                opset_version=config.opset,
                optimize=True,
                external_data=False,
                verbose=False,
            )
    except ImportError:
        raise OnnxUnavailableError(MISSING_EXTRA) from None
    except Exception as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise OnnxExportError(
            f"The style {manifest.name!r} could not be exported to ONNX: {first_line}"
        ) from None
    proto = program.model_proto
    # The exporter names the output's axes after the symbolic crop arithmetic; they are the
    # input's axes.
    for axis, out_dim in enumerate(proto.graph.output[0].type.tensor_type.shape.dim):
        in_dim = proto.graph.input[0].type.tensor_type.shape.dim[axis]
        out_dim.CopyFrom(in_dim)
    proto.doc_string = docstring(manifest)
    proto.producer_name = "StyleStudio"
    proto.producer_version = __version__
    proto.graph.name = manifest.id
    for key, value in _metadata(manifest).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    return proto.SerializeToString()


def export_onnx(
    location: str | Path, dest: str | Path, config: OnnxExportConfig | None = None
) -> OnnxExportResult:
    """Write the style at ``location`` (folder or pack) as an ONNX model at ``dest``.

    ``dest`` may be a folder (then ``<id>.onnx`` in it); a name without ``.onnx`` gets it. An
    existing file is replaced atomically; nothing is written when the export fails.
    """
    require_onnx()
    from stylestudio.core.stylepack import load_style_model

    config = config or OnnxExportConfig()
    manifest, model = load_style_model(location)
    dest = Path(dest)
    if dest.is_dir():
        dest = dest / f"{manifest.id}{ONNX_SUFFIX}"
    elif dest.suffix.lower() != ONNX_SUFFIX:
        dest = dest.with_name(dest.name + ONNX_SUFFIX)
    data = _export_proto(model, config, manifest)
    try:
        with atomic.atomic_open(dest) as handle:
            handle.write(data)
    except OSError as exc:
        raise StyleLibraryError(atomic.describe_os_error(exc, dest)) from None
    return OnnxExportResult(dest, config.opset, len(data))
