"""ONNX export: dynamic sizes, metadata, parity with torch (onnxruntime), errors, atomic writes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from stylestudio.cli.main import main
from stylestudio.core import onnx_export
from stylestudio.core.library import StyleLibrary
from stylestudio.core.model_import import ModelImportRequest, import_model
from stylestudio.core.models.generator import ARCHITECTURE_NAME, Generator, GeneratorConfig
from stylestudio.core.stylepack import load_style_model
from tests.conftest import make_tiny_style, psnr
from tests.test_import_model import fake_checkpoint

ort = pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.skipif(
    not onnx_export.onnx_available(), reason="the 'onnx' extra (onnx, onnxscript) is not installed"
)

#: Odd and tiny sizes (height, width); the networks pad to multiples of 4 and crop back.
ODD_SIZES = [(37, 53), (101, 67), (5, 7), (9, 130)]


@dataclass(frozen=True)
class Exported:
    style: Path
    onnx: Path
    name: str


def _photo_batch(n: int, height: int, width: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([xx / width, yy / height, 0.5 + 0.4 * np.sin((xx - yy) / 5)], axis=0)
    batch = base[None] + rng.normal(0, 0.08, (n, 3, height, width))
    return np.clip(batch, 0, 1).astype(np.float32)


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, Exported]:
    """A generator style exported through the CLI, an imported fast-neural-style one through the
    core function (one export each: they take seconds)."""
    root = tmp_path_factory.mktemp("onnx")
    result = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STYLESTUDIO_DATA_DIR", str(root / "data"))
        mp.setenv("STYLESTUDIO_RESOURCES_DIR", str(root / "no-resources"))
        library = StyleLibrary()
        torch.manual_seed(5)
        config = GeneratorConfig(base_channels=8, residual_blocks=2)
        gen = library.add(
            "Night & Day",
            Generator(config).state_dict(),
            architecture=ARCHITECTURE_NAME,
            params=config.to_dict(),
            license="CC BY 4.0",
            attribution="A. Painter",
        )
        out = root / "night.onnx"
        assert main(["styles", "export", "Night & Day", "--onnx", str(out)]) == 0
        result["generator"] = Exported(gen.location, out, gen.name)

        ckpt = root / "candy.pth"
        torch.save(fake_checkpoint(seed=7), ckpt)
        fns = import_model(library, ModelImportRequest(ckpt, "Candy", "BSD-3-Clause", "pytorch"))
        (root / "exports").mkdir()
        written = onnx_export.export_onnx(fns.record.location, root / "exports")
        assert written.path == root / "exports" / f"{fns.record.id}.onnx"  # a folder: <id>.onnx
        result["fast-neural-style"] = Exported(fns.record.location, written.path, "Candy")
    return result


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["generator", "fast-neural-style"])
def test_onnx_matches_torch_on_odd_sizes(exported, kind) -> None:
    item = exported[kind]
    _, model = load_style_model(item.style)
    session = ort.InferenceSession(str(item.onnx), providers=["CPUExecutionProvider"])
    for index, (h, w) in enumerate(ODD_SIZES):
        batch = 2 if index == 0 else 1
        x = _photo_batch(batch, h, w, seed=index)
        with torch.no_grad():
            want = model(torch.from_numpy(x)).numpy()
        got = session.run(None, {onnx_export.INPUT_NAME: x})[0]
        assert got.shape == (batch, 3, h, w)
        assert want.std() > 0.02, "the test network must not be flat"
        assert psnr(got, want) >= 40.0, (kind, (h, w), psnr(got, want))


@pytest.mark.slow
def test_onnx_model_declares_dynamic_axes_opset_and_metadata(exported) -> None:
    import onnx

    item = exported["generator"]
    model = onnx.load(str(item.onnx))
    opsets = {o.domain: o.version for o in model.opset_import}
    assert opsets[""] >= 17
    for value in (model.graph.input[0], model.graph.output[0]):
        dims = value.type.tensor_type.shape.dim
        assert [d.dim_param or d.dim_value for d in dims] == ["batch", 3, "height", "width"]
    doc = model.doc_string
    assert "'Night & Day'" in doc and "\nLicence: CC BY 4.0\n" in doc
    assert "\nAttribution: A. Painter\n" in doc and "values in [0, 1]" in doc and "NCHW" in doc
    meta = ort.InferenceSession(str(item.onnx), providers=["CPUExecutionProvider"]).get_modelmeta()
    assert meta.description == doc
    assert meta.producer_name == "StyleStudio"
    props = meta.custom_metadata_map
    assert props["stylestudio.style_name"] == "Night & Day"
    assert props["license"] == "CC BY 4.0" and props["attribution"] == "A. Painter"
    assert props["stylestudio.architecture"] == ARCHITECTURE_NAME
    assert "RGB" in props["input_format"] and "RGB" in props["output_format"]
    assert not [p for p in item.onnx.parent.iterdir() if p.name.startswith(".tmp-")]


def test_missing_extra_is_one_clear_line(tmp_path, monkeypatch, capsys) -> None:
    make_tiny_style(StyleLibrary().user_dir, "Tiny")
    monkeypatch.setattr(onnx_export.importlib.util, "find_spec", lambda name: None)
    out = tmp_path / "tiny.onnx"
    assert main(["styles", "export", "Tiny", "--onnx", str(out)]) == 1
    err = capsys.readouterr().err
    assert err == f"stylestudio: error: {onnx_export.MISSING_EXTRA}\n"
    assert "pip install 'stylestudio[onnx]'" in err
    assert not out.exists()


def test_export_needs_exactly_one_destination(tmp_path, capsys) -> None:
    make_tiny_style(StyleLibrary().user_dir, "Tiny")
    assert main(["styles", "export", "Tiny"]) == 2
    assert "either DEST" in capsys.readouterr().err
    assert main(["styles", "export", "Tiny", str(tmp_path), "--onnx", str(tmp_path / "x")]) == 2


def test_failed_export_is_one_line_and_leaves_the_old_file(tmp_path, monkeypatch, capsys) -> None:
    make_tiny_style(StyleLibrary().user_dir, "Tiny")
    out = tmp_path / "tiny.onnx"
    out.write_bytes(b"the previous export")

    def broken(*_args, **_kwargs):
        raise RuntimeError("unsupported operator aten::weird\nlong exporter report")

    monkeypatch.setattr(torch.onnx, "export", broken)
    assert main(["styles", "export", "Tiny", "--onnx", str(out)]) == 1
    err = capsys.readouterr().err
    assert err == (
        "stylestudio: error: The style 'Tiny' could not be exported to ONNX: "
        "unsupported operator aten::weird\n"
    )
    assert out.read_bytes() == b"the previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.onnx"]
