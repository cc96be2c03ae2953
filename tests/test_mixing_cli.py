"""``stylestudio stylize --style "a:0.6,b:0.4"`` and ``stylestudio styles mix``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylestudio.cli.main import main
from stylestudio.core import paths
from stylestudio.core.engine.stylize import Engine, StylizeOptions
from stylestudio.core.library import StyleLibrary
from stylestudio.core.mixing import parse_blend_spec, resolve_blend
from tests.mixing_styles import BASE_ID, write_lineage_styles


@pytest.fixture
def styles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The lineage test styles in the user library; no built-in styles."""
    resources = tmp_path / "resources"
    (resources / "styles").mkdir(parents=True)
    monkeypatch.setenv("STYLESTUDIO_RESOURCES_DIR", str(resources))
    return write_lineage_styles(paths.user_styles_dir())


def _photo(path: Path) -> Path:
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)).save(path)
    return path


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def test_stylize_with_a_blend_writes_the_interpolated_style(styles, tmp_path, capsys) -> None:
    photo = _photo(tmp_path / "cat.png")
    out = tmp_path / "out.png"
    code = main(
        ["stylize", str(photo), "--style", "Starry Night:0.6, Great Wave:0.4", "-o", str(out)]
    )
    assert code == 0, capsys.readouterr().err
    assert "Style: Starry Night 60% + Great Wave 40%" in capsys.readouterr().err
    blend = resolve_blend(parse_blend_spec("Starry Night:0.6,Great Wave:0.4"), StyleLibrary())
    image = _pixels(photo)
    expected = Engine("cpu").stylize(image, blend, StylizeOptions()).image
    assert np.abs(_pixels(out) - expected).max() <= 1.5 / 255
    # a plain style name keeps working, and gives another picture
    plain = tmp_path / "plain.png"
    assert main(["stylize", str(photo), "-s", "Starry Night", "-o", str(plain)]) == 0
    assert np.abs(_pixels(plain) - _pixels(out)).mean() > 0.005


def test_the_default_name_carries_the_blend(styles, tmp_path) -> None:
    photo = _photo(tmp_path / "cat.png")
    starry, wave = styles["Starry Night"], styles["Great Wave"]
    code = main(["stylize", str(photo), "-s", f"{starry}:1,{wave}:3"])
    assert code == 0
    assert (tmp_path / f"cat-{starry}-25+{wave}-75.png").is_file()


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("Starry Night:0.6,Great Wave", "'Great Wave' has no weight"),
        ("Starry Night:0,Great Wave:1", "must be more than 0"),
        ("Starry Night:-1,Great Wave:1", "must be more than 0"),
        ("Starry Night:1,Nope:1", "no style with the id or name 'Nope'"),
        ("Starry Night:1,Ink Wash:1", "'Ink Wash' cannot be blended"),
        ("Starry Night:1,Alien:1", "'Alien' cannot be blended with 'Starry Night'"),
        ("a:1,b:1,c:1,d:1,e:1", "at most 4 styles"),
        ("Starry Night:1", "at least 2 styles"),
    ],
)
def test_bad_blends_are_a_one_line_error_before_any_work(
    styles, tmp_path, capsys, spec: str, says: str
) -> None:
    photo = _photo(tmp_path / "cat.png")
    out = tmp_path / "out.png"
    code = main(["stylize", str(photo), "--style", spec, "-o", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert err.startswith("stylestudio: error:") and says in err and "\n" not in err
    assert not out.exists()


def test_styles_mix_saves_a_style_that_stylize_and_mix_can_use(styles, tmp_path, capsys) -> None:
    code = main(["styles", "mix", "Starry Night:0.6,Great Wave:0.4", "--name", "Night Wave"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Starry Night (60 %) and Great Wave (40 %)" in out and "'Night Wave'" in out
    record = StyleLibrary().get("Night Wave")
    data = json.loads((record.location / "style.json").read_text())
    assert data["format"] == "stylestudio.style"
    assert (record.location / "weights.safetensors").is_file()
    mix = data["training"]["mix"]
    assert [(p["id"], p["name"], p["version"]) for p in mix["parents"]] == [
        (styles["Starry Night"], "Starry Night", 1),
        (styles["Great Wave"], "Great Wave", 1),
    ]
    assert all(len(p["weights_sha256"]) == 64 for p in mix["parents"])
    assert mix["weights"] == pytest.approx([0.6, 0.4])
    assert mix["lineage"]["base_model"] == BASE_ID
    photo = _photo(tmp_path / "cat.png")
    assert main(["stylize", str(photo), "-s", "Night Wave", "-o", str(tmp_path / "a.png")]) == 0
    # mixed again with a fine-tune of the same base
    again = ["styles", "mix", "Night Wave:1,Kanagawa Fine:1", "--name", "Twice"]
    assert main(again) == 0
    assert StyleLibrary().get("Twice").manifest.training["mix"]["weights"] == [0.5, 0.5]


def test_styles_mix_errors(styles, capsys) -> None:
    before = sorted(p.name for p in paths.user_styles_dir().iterdir())
    for argv, says in (
        (["styles", "mix", "Starry Night:1,Ink Wash:1", "--name", "X"], "'Ink Wash' cannot"),
        (["styles", "mix", "Starry Night:1,Great Wave:1", "--name", "  "], "must not be empty"),
        (["styles", "mix", "Starry Night:1", "--name", "X"], "at least 2 styles"),
    ):
        assert main(argv) == 1
        err = capsys.readouterr().err.strip()
        assert says in err and "\n" not in err
    assert sorted(p.name for p in paths.user_styles_dir().iterdir()) == before
