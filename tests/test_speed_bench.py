"""``stylestudio bench speed``: the paths it times, the styles it picks, its output (no timings
are asserted: the machine is shared)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stylestudio.cli.main import main
from stylestudio.core import paths
from stylestudio.core.engine import speed
from stylestudio.core.engine.ort_runner import AUTO_PRECISION, OrtPrecision

pytest.importorskip("onnxruntime")

BASE = Path(__file__).resolve().parents[1] / "resources" / "base"
needs_base = pytest.mark.skipif(
    not (BASE / "base.json").is_file(), reason="the base model is not in resources/base"
)


def test_time_interleaved_rotates_the_order() -> None:
    calls: list[str] = []
    runs = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    seconds = speed.time_interleaved(runs, repeats=3, warmup=1)
    assert calls == list("abcabcbcacab")
    assert {k: len(v) for k, v in seconds.items()} == {"a": 3, "b": 3, "c": 3}


@needs_base
def test_styles_from_the_base_model_use_its_layout(tmp_path: Path) -> None:
    styles = speed.styles_from_base(BASE, tmp_path, 2)
    params = speed.base_params(BASE)
    assert len(styles) == 2 and all(s.params == params for s in styles)
    assert all(s.location.parent == tmp_path and s.source.startswith("base row") for s in styles)
    assert "16/32/48/8 channels, 3 residual blocks" in speed.describe_layout(styles[0])


@needs_base
def test_bench_speed_times_the_engine_paths_and_switches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(paths.ENV_RESOURCES_DIR, str(tmp_path / "resources"))
    (tmp_path / "resources").mkdir()
    (tmp_path / "resources" / "base").symlink_to(BASE, target_is_directory=True)
    out = tmp_path / "speed.json"
    args = ["bench", "speed", "--size", "61x47", "--repeats", "2", "--warmup", "0"]
    args += ["--switch-rounds", "1", "--preview-side", "32", "--no-reference", "--json", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    default = "int8" if AUTO_PRECISION is OrtPrecision.INT8 else "float32"
    for precision in ("float32", "int8"):
        mark = " (default)" if precision == default else ""
        row = f"| StyleStudio engine, ONNX Runtime {precision}{mark} | ONNX Runtime {precision} |"
        assert row in printed
    assert "| StyleStudio engine, PyTorch path | PyTorch |" in printed
    assert "ONNX Runtime int8 ÷ float32:" in printed
    assert "int8 calibration (once per style, part of its load):" in printed
    assert "load average at start" in printed
    data = json.loads(out.read_text())
    assert data["size"] == [61, 47]
    assert {k: v["runtime"] for k, v in data["timings"].items()} == {
        "ort": "ONNX Runtime float32",
        "int8": "ONNX Runtime int8",
        "torch": "PyTorch",
    }
    assert all(len(v["seconds"]) == 2 for v in data["timings"].values())
    assert all(v["prepare_ms"] > 0 for v in data["timings"].values())
    assert 0 < data["calibration_ms"] < data["timings"]["int8"]["prepare_ms"]
    switch = data["switch"]
    assert switch["styles"] == 3 and switch["runtime"] == f"ONNX Runtime {default}"
    assert len(switch["first_load_ms"]) == 3 and len(switch["switch_ms"]) == 3
    assert switch["preview_size"] == [32, 25]
    assert not list((tmp_path / "resources").rglob("style.json"))  # nothing written there


def test_bench_speed_with_the_reference_network(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reference = paths.shared_data_dir()
    model = reference.joinpath(*speed.REFERENCE_PARTS) if reference else None
    if model is None or not model.is_file():
        pytest.skip("multistyle26.onnx is not in $STYLESTUDIO_SHARED_DATA")
    from tests.conftest import make_tiny_style

    style = make_tiny_style(tmp_path, "Tiny")
    out = tmp_path / "speed.json"
    args = ["bench", "speed", "--size", "40x36", "--repeats", "1", "--warmup", "0"]
    args += ["--style", str(style), "--reference", str(model), "--json", str(out)]
    assert main(args) == 0
    data = json.loads(out.read_text())
    assert data["timings"]["reference"]["label"] == "multistyle26.onnx"
    assert "switch" not in data  # one style given: nothing to switch between
    assert "÷ reference" in capsys.readouterr().out


def test_bench_speed_without_onnxruntime_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    from tests.conftest import make_tiny_style

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    style = make_tiny_style(tmp_path, "Tiny")
    assert main(["bench", "speed", "--style", str(style), "--no-reference"]) == 1
    err = capsys.readouterr().err.strip()
    assert "needs onnxruntime" in err and "\n" not in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--size", "big"], "--size must look like 1000x1000"),
        (["--repeats", "0"], "repeats at least 1"),
        (["--reference", "/nonexistent/model.onnx"], "does not exist"),
    ],
)
def test_bench_speed_refuses_bad_arguments_in_one_line(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", "speed", *extra]) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
