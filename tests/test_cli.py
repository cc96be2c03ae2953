"""The ``stylestudio`` command line, end to end, on tiny styles and images."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylestudio.cli.inputs import expand_inputs, require_images
from stylestudio.cli.main import main
from stylestudio.core.export import StyleRef, parse_output
from tests.conftest import make_tiny_style


def _photo(path: Path, size=(48, 40), seed=0) -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


def test_stylize_folder_with_one_bad_file_continues_and_reports(builtin_dir, tmp_path, capsys):
    photos = tmp_path / "photos"
    (photos / "nested").mkdir(parents=True)
    good1 = _photo(photos / "a.png")
    good2 = _photo(photos / "nested" / "b.jpg", seed=1)
    (photos / "broken.jpg").write_text("this is not a JPEG")
    (photos / "notes.txt").write_text("ignored")
    before = {p: p.read_bytes() for p in photos.rglob("*") if p.is_file()}
    out = tmp_path / "out"

    code = main(["stylize", str(photos), "-o", str(out) + "/", "--tile", "0"])

    err = capsys.readouterr().err
    assert code == 1  # one file failed
    assert "broken.jpg" in err and "not an image" in err
    assert "notes.txt" in err  # listed as skipped
    assert "Done: 2 of 3" in err
    written = sorted(p.name for p in out.iterdir())
    assert len(written) == 2 and all(name.endswith((".png", ".jpg")) for name in written)
    with Image.open(out / written[0]) as im:
        assert im.size == (48, 40)
    # Originals untouched.
    assert {p: p.read_bytes() for p in photos.rglob("*") if p.is_file()} == before
    assert good1.exists() and good2.exists()


@pytest.mark.parametrize("overwrite", [False, True])
def test_stylize_refuses_to_write_onto_an_input(builtin_dir, tmp_path, capsys, overwrite):
    src = _photo(tmp_path / "cat.png")
    original = src.read_bytes()
    # A pattern that points the output at the input itself is refused up front (the same rule
    # as the GUI's export), with or without --overwrite: no "cat (2).png" next to it either.
    extra = ["--overwrite"] if overwrite else []
    code = main(["stylize", str(src), "-o", str(tmp_path / "{stem}.png"), "--tile", "0", *extra])
    assert code == 1
    assert "would overwrite an original photo" in capsys.readouterr().err
    assert src.read_bytes() == original
    assert sorted(p.name for p in tmp_path.glob("cat*.png")) == ["cat.png"]


def test_stylize_never_overwrites_an_existing_output(builtin_dir, tmp_path):
    src = _photo(tmp_path / "cat.png")
    out = tmp_path / "out"
    out.mkdir()
    (out / "cat.png").write_bytes(b"someone else's file")
    assert main(["stylize", str(src), "-o", str(out / "{stem}.png"), "--tile", "0"]) == 0
    assert (out / "cat.png").read_bytes() == b"someone else's file"
    assert sorted(p.name for p in out.iterdir()) == ["cat (2).png", "cat.png"]


def test_stylize_strength_zero_returns_the_photo(builtin_dir, tmp_path):
    src = _photo(tmp_path / "p.png")
    out = tmp_path / "o.png"
    assert main(["stylize", str(src), "-o", str(out), "--strength", "0", "--tile", "0"]) == 0
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(src)))


def test_stylize_cpu_runtimes_agree(builtin_dir, tmp_path):
    """``--cpu-runtime`` reaches the engine: float32 ONNX Runtime and PyTorch give the same picture,
    int8 a close one."""
    src = _photo(tmp_path / "p.png", size=(64, 48))
    outputs = {}
    for runtime in ("torch", "fp32", "int8"):
        out = tmp_path / f"{runtime}.png"
        args = ["stylize", str(src), "-o", str(out), "--tile", "0", "--device", "cpu"]
        assert main([*args, "--cpu-runtime", runtime]) == 0
        outputs[runtime] = np.asarray(Image.open(out), dtype=np.float64)
    assert np.abs(outputs["fp32"] - outputs["torch"]).max() <= 1
    mse = np.mean((outputs["int8"] - outputs["fp32"]) ** 2)
    assert mse < 255**2 * 10 ** (-25 / 10)  # PSNR above 25 dB on a tiny random style
    with pytest.raises(SystemExit):
        main(["stylize", str(src), "--cpu-runtime", "fast"])


def test_stylize_missing_input_and_bad_option(builtin_dir, tmp_path, capsys):
    assert main(["stylize", str(tmp_path / "nope.jpg")]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["stylize", str(_photo(tmp_path / "x.png")), "--strength", "3"]) == 1
    assert "--strength" in capsys.readouterr().err


def test_styles_list_import_export_rename_remove(builtin_dir, tmp_path, capsys):
    assert main(["styles", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == ["Tiny Ink"] and rows[0]["builtin"]

    pack = tmp_path / "tiny.stylepack"
    assert main(["styles", "export", "Tiny Ink", str(pack)]) == 0
    assert pack.is_file()
    assert main(["styles", "remove", "Tiny Ink"]) == 1  # built-ins are read-only
    assert "built-in" in capsys.readouterr().err.lower()

    other = make_tiny_style(tmp_path / "elsewhere", "Other", seed=3)
    assert main(["styles", "import", str(other)]) == 0
    assert main(["styles", "rename", "Other", "Renamed"]) == 0
    assert main(["styles", "list"]) == 0
    listing = capsys.readouterr().out
    assert "Renamed" in listing and "user" in listing
    assert main(["styles", "remove", "Renamed"]) == 0
    assert main(["styles", "import", str(tmp_path / "missing.stylepack")]) == 1


def test_inputs_expand_globs_and_dedupe(tmp_path):
    a = _photo(tmp_path / "a.png")
    _photo(tmp_path / "b.png")
    found = expand_inputs([str(tmp_path / "*.png"), str(a), str(tmp_path / "zz*.jpg")])
    assert [p.name for p in found.images] == ["a.png", "b.png"]
    assert found.missing and "matches no image" in found.missing[0][1]


def test_require_images_raises_the_commands_own_error(tmp_path):
    from stylestudio.core.errors import TrainingError
    from stylestudio.core.quality.images import QualityBenchError

    photo = _photo(tmp_path / "a.png")
    assert require_images([str(tmp_path)], "photo", TrainingError) == [photo]
    missing = tmp_path / "missing.png"
    reason = f"The photo {missing} cannot be used: no such file or folder."
    with pytest.raises(QualityBenchError, match=f"^{re.escape(reason)}$"):
        require_images([str(photo), str(missing)], "photo", QualityBenchError)
    empty = tmp_path / "empty"
    empty.mkdir()
    reason = f"No style images were found in {empty}."
    with pytest.raises(TrainingError, match=f"^{re.escape(reason)}$"):
        require_images([str(empty)], "style image", TrainingError)


def test_output_path_patterns(tmp_path):
    src = tmp_path / "in" / "photo.jpg"
    ink = StyleRef(tmp_path, "ink", "Ink: Wash")

    def output_path(output, fmt, index, strength=1.0):
        return parse_output(output, fmt).path_for(src, ink, index, strength)

    assert output_path(None, None, 1) == tmp_path / "in" / "photo-ink.jpg"
    assert output_path(str(tmp_path / "o") + "/", "png", 1).name == "photo-ink.png"
    pattern = str(tmp_path / "{style_id}_{index}_{stem}")
    assert output_path(pattern, "webp", 7).name == "ink_7_photo.webp"
    # The GUI's placeholders work here too: {style} is the name, {n} is padded.
    pattern = str(tmp_path / "{style}-{n}-{strength}")
    assert output_path(pattern, None, 7, 0.5).name == "Ink_ Wash-007-50.jpg"


def test_module_entry_point_runs_without_display(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    proc = subprocess.run(
        [sys.executable, "-m", "stylestudio", "--help"], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0
    for command in ("stylize", "styles", "info", "bench"):
        assert command in proc.stdout


def test_info_reports_device_and_library(builtin_dir, capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "Device in use" in out and "CPU" in out
    assert "User styles" in out and "torch" in out
