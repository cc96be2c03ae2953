"""The int8 (QDQ) onnxruntime path: the graph, its calibration, its closeness to float32, the
engine's choice of it and its fallbacks."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from stylestudio.core.engine import ort_runner, quantize
from stylestudio.core.engine.generator_graph import (
    UnsupportedNetwork,
    calibration_onnx,
    generator_onnx,
)
from stylestudio.core.engine.ort_runner import (
    CpuRuntime,
    OrtBackend,
    OrtPrecision,
    Runtime,
    is_fallback_note,
)
from stylestudio.core.engine.quantize import (
    ConvGroup,
    Int8Plan,
    QuantConfig,
    TensorRange,
    WeightBits,
)
from stylestudio.core.engine.stylize import Engine, StylizeOptions, TilingConfig
from stylestudio.core.models.generator import Generator
from tests.conftest import psnr
from tests.test_engine import structured_image
from tests.test_ort_runner import SLIM, _style

pytest.importorskip("onnxruntime")

#: int8 against float32 on a freshly initialised slim network (measured 37.8 dB; the gallery's
#: trained styles measure 39-50 dB on photos); activation scales off by 10× in either direction
#: measure about 20-22 dB, off by 2× about 32 dB.
CLOSE_DB = 34.0


def _network(seed: int = 3) -> Generator:
    """A slim generator at its initialisation (the 0.3-noise weights of the parity tests make
    a chaotic network that amplifies any rounding; neither a trained nor a new one does)."""
    torch.manual_seed(seed)
    return Generator(SLIM).eval()


def _plan(model: Generator, config: QuantConfig | None = None) -> Int8Plan:
    backend = OrtBackend(ort_runner.OrtConfig(quant=config or QuantConfig()), OrtPrecision.INT8)
    return backend.calibrate(model, threads=1)


def _run(model: Generator, plan: Int8Plan | None, image: np.ndarray) -> np.ndarray:
    network = OrtBackend().build(model, threads=1, plan=plan)
    x = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None]
    return network(x)[0].numpy().transpose(1, 2, 0)


def _scaled(plan: Int8Plan, factor: float) -> Int8Plan:
    """The plan with every activation range (and per-channel range) ``factor`` times wider."""

    def scale(r: TensorRange) -> TensorRange:
        return TensorRange(r.low * factor, r.high * factor)

    convs = {
        name: dataclasses.replace(
            r,
            input=scale(r.input),
            output=scale(r.output),
            output_channels=tuple(scale(c) for c in r.output_channels),
        )
        for name, r in plan.convs.items()
    }
    return dataclasses.replace(plan, convs=convs)


def test_int8_output_is_close_to_float32_and_wrong_scales_are_not() -> None:
    model = _network()
    plan = _plan(model)
    assert plan.images >= 2 and plan.calibration_ms > 0
    image = structured_image(96, 128, seed=11)  # not a calibration image
    reference = _run(model, None, image)
    int8 = _run(model, plan, image)
    assert int8.shape == reference.shape and np.isfinite(int8).all()
    assert psnr(int8, reference) >= CLOSE_DB
    for factor in (10.0, 0.1):
        assert psnr(_run(model, _scaled(plan, factor), image), reference) < CLOSE_DB - 8, factor


def test_calibration_is_deterministic_and_covers_the_planned_convs() -> None:
    model = _network()
    first, second = _plan(model), _plan(model)
    assert first == second  # ranges and weight bits; the timing is not compared
    assert generator_onnx(model, first) == generator_onnx(model, second)
    groups = quantize.conv_groups(model)
    assert set(first.convs) == {n for n, (g, _) in groups.items() if g in quantize.DEFAULT_GROUPS}
    assert groups["encoder.0.conv"][0] is ConvGroup.FIRST and "encoder.0.conv" not in first.convs
    assert groups["head.1"][0] is ConvGroup.HEAD
    for ranges in first.convs.values():
        assert ranges.input.low <= ranges.input.high and ranges.output.low < ranges.output.high
        assert all(c.low <= c.high for c in ranges.output_channels)
    residual_in = first.convs["residuals.0.body.1.conv"].input  # after a ReLU
    assert residual_in.low == 0.0 and residual_in.uint8()[1] == 0


def test_every_group_can_be_quantised_and_stays_close() -> None:
    model = _network(4)
    with torch.no_grad():  # the head has no norm after it: its bias must come through
        model.head[1].bias.copy_(torch.tensor([0.9, -0.7, 0.4]))
    config = QuantConfig(groups=frozenset(ConvGroup))
    plan = _plan(model, config)
    assert len(plan.convs) == len(quantize.conv_groups(model))
    image = structured_image(64, 72, seed=5)
    assert psnr(_run(model, plan, image), _run(model, None, image)) >= CLOSE_DB - 3


def test_the_graph_is_fused_into_qlinearconv(tmp_path: Path) -> None:
    """onnxruntime turns the QDQ pairs into int8 convolutions (else there is no speed-up)."""
    import onnxruntime as ort

    model = _network()
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "optimised.onnx")
    options.log_severity_level = 3
    ort.InferenceSession(
        generator_onnx(model, _plan(model)), options, providers=["CPUExecutionProvider"]
    )
    optimised = (tmp_path / "optimised.onnx").read_bytes()
    planned = len(quantize.planned_convs(model, QuantConfig()))
    assert optimised.count(b"QLinearConv") >= planned
    float_graph = generator_onnx(model)
    assert b"QuantizeLinear" not in float_graph and b"QuantizeLinear" in generator_onnx(
        model, _plan(model)
    )


def test_written_int8_graph_is_a_valid_onnx_model() -> None:
    onnx = pytest.importorskip("onnx")
    model = _network()
    checked = onnx.load_from_string(generator_onnx(model, _plan(model)))
    onnx.checker.check_model(checked, full_check=True)
    ops = [node.op_type for node in checked.graph.node]
    planned = len(quantize.planned_convs(model, QuantConfig()))
    assert ops.count("Conv") == len(quantize.conv_groups(model))
    assert ops.count("DequantizeLinear") == 4 * planned  # input, weight, bias, output
    assert ops.count("QuantizeLinear") == 2 * planned


def test_calibration_graph_returns_each_convs_input_and_output() -> None:
    import onnxruntime as ort

    model = _network()
    names = ["encoder.1.conv", "decoder.1.block.conv"]
    graph, index = calibration_onnx(model, names)
    session = ort.InferenceSession(graph, providers=["CPUExecutionProvider"])
    x = structured_image(32, 48).transpose(2, 0, 1)[None].copy()
    outputs = session.run(None, {"image": x})
    assert outputs[0].shape == (1, 3, 32, 48)
    assert outputs[index["encoder.1.conv"]].shape == (1, 16, 34, 50)  # padded input
    assert outputs[index["encoder.1.conv"] + 1].shape == (1, 32, 16, 24)
    assert outputs[index["decoder.1.block.conv"] + 1].shape == (1, 4 * 8, 16, 24)  # 4 phases
    with pytest.raises(UnsupportedNetwork):
        calibration_onnx(model, ["no.such.conv"])


def test_a_plan_for_another_network_is_refused() -> None:
    model = _network()
    plan = _plan(model)
    ranges = plan.convs["encoder.1.conv"]
    bad = dataclasses.replace(plan, convs={**plan.convs, "extra.conv": ranges})
    with pytest.raises(UnsupportedNetwork, match="unknown convs"):
        generator_onnx(model, bad)
    with pytest.raises(UnsupportedNetwork, match="not a Generator"):
        generator_onnx(torch.nn.Conv2d(3, 3, 3), plan)


# -- the pieces -------------------------------------------------------------------------------


@pytest.mark.parametrize("bits", list(WeightBits))
def test_weights_are_symmetric_per_output_channel(bits: WeightBits) -> None:
    rng = np.random.default_rng(0)
    weight = rng.normal(size=(6, 4, 3, 3)).astype(np.float32)
    weight[2] *= 100.0  # one loud channel must not coarsen the others
    weight[4] = 0.0
    q, scale = quantize.quantize_weight(weight, bits)
    top = 2 ** (int(bits) - 1) - 1
    assert q.dtype == np.int8 and scale.shape == (6,)
    assert np.abs(q).reshape(6, -1).max(axis=1).tolist() == [top, top, top, top, 0, top]
    error = np.abs(q * scale[:, None, None, None] - weight).reshape(6, -1).max(axis=1)
    assert (error <= scale / 2 + 1e-6).all()
    bias = quantize.quantize_bias(np.array([0.5, -0.25], np.float32), np.full(2, 0.01, np.float32))
    assert bias.dtype == np.int32 and bias.tolist() == [50, -25]


def test_weight_bits_follow_the_cpu() -> None:
    assert quantize.weight_bits_for_cpu("x86_64", {"avx2", "avx512_vnni"}) is WeightBits.FULL
    assert quantize.weight_bits_for_cpu("AMD64", {"avx2", "avx_vnni"}) is WeightBits.FULL
    assert quantize.weight_bits_for_cpu("x86_64", {"avx2", "fma"}) is WeightBits.REDUCED
    assert quantize.weight_bits_for_cpu("x86_64", set()) is WeightBits.REDUCED  # unknown
    assert quantize.weight_bits_for_cpu("arm64", set()) is WeightBits.FULL
    assert quantize.weight_bits_for_cpu("aarch64", set()) is WeightBits.FULL


def test_uint8_ranges_keep_zero_exact() -> None:
    scale, zero = TensorRange(-1.0, 3.0).uint8()
    assert scale == pytest.approx(4.0 / 255) and zero == round(255 / 4)
    assert TensorRange(0.0, 5.1).uint8() == (pytest.approx(0.02), 0)
    assert TensorRange(0.5, 2.0).uint8()[1] == 0  # the range is widened to contain 0
    assert TensorRange(0.0, 0.0).uint8() == (1.0, 0)


def test_equalising_for_the_norm_changes_nothing_after_it() -> None:
    """Instance norm ignores a per-channel stretch and shift of its input: the conv rewritten
    for uint8 gives the same normalised output, each channel spans the same range."""
    torch.manual_seed(0)
    x = torch.randn(1, 5, 20, 20)
    weight = torch.randn(12, 5, 3, 3)
    weight[4:8] *= 30.0
    bias = torch.randn(12) * 5
    y = F.conv2d(x, weight, bias)
    per_channel = [TensorRange(float(c.min()), float(c.max())) for c in y[0]]
    new_w, new_b, span = quantize.equalise_for_norm(
        weight.numpy(), bias.numpy(), per_channel, phases=1, headroom=1.5
    )
    z = F.conv2d(x, torch.from_numpy(new_w), torch.from_numpy(new_b))
    assert span == TensorRange(-1.5, 1.5)
    assert torch.allclose(z.amin(dim=(2, 3)), torch.tensor(-1.0), atol=1e-4)
    assert torch.allclose(z.amax(dim=(2, 3)), torch.tensor(1.0), atol=1e-4)
    assert torch.allclose(F.instance_norm(z), F.instance_norm(y), atol=1e-3)
    # Phases (the sub-pixel conv): channel o of every phase block shares one stretch.
    w4, _, _ = quantize.equalise_for_norm(weight.numpy(), bias.numpy(), per_channel, phases=4)
    ratio = (w4 / weight.numpy()).reshape(4, 3, -1)[:, :, 0]
    assert np.allclose(ratio, ratio[0:1])
    with pytest.raises(ValueError):
        quantize.equalise_for_norm(weight.numpy(), bias.numpy(), per_channel[:5])


def test_calibration_images_are_fixed_and_fit_the_graph(tmp_path: Path) -> None:
    config = QuantConfig(calibration_side=90, synthetic_images=2)
    images = quantize.calibration_images(config, samples=tmp_path)  # no photos there
    assert len(images) == 2
    assert all(i.shape == (88, 88, 3) and i.dtype == np.float32 for i in images)
    again = quantize.calibration_images(config, samples=tmp_path)
    assert all(np.array_equal(a, b) for a, b in zip(images, again, strict=True))
    assert not np.array_equal(images[0], images[1])


@pytest.mark.parametrize(
    "kwargs",
    [{"percentile": 40.0}, {"calibration_side": 8}, {"norm_headroom": 0.5}],
)
def test_bad_quant_settings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        QuantConfig(**kwargs)


# -- the engine ---------------------------------------------------------------------------------


@pytest.fixture
def style(tmp_path: Path) -> Path:
    return _style(tmp_path, SLIM, seed=1)


def test_engine_int8_runtime_runs_int8_and_caches_it(style: Path) -> None:
    engine = Engine("cpu", cpu_runtime=CpuRuntime.INT8)
    assert engine.prepare_style(style) is Runtime.ONNXRUNTIME_INT8
    slot = engine._cached_style(style).ort
    plan = slot.plan
    assert plan is not None and slot.builds == 1
    image = structured_image(60, 52, seed=2)
    first = engine.stylize(image, style, StylizeOptions())
    second = engine.stylize(image, style, StylizeOptions(strength=0.5))
    assert first.runtime is Runtime.ONNXRUNTIME_INT8 and first.notes == []
    assert first.runtime.value == "ONNX Runtime int8"
    assert second.runtime is Runtime.ONNXRUNTIME_INT8
    assert slot.plan is plan and slot.builds == 1  # calibrated and built once
    assert first.image.shape == image.shape and np.isfinite(first.image).all()
    fp32 = Engine("cpu", cpu_runtime=CpuRuntime.FP32).stylize(image, style, StylizeOptions())
    assert fp32.runtime is Runtime.ONNXRUNTIME
    assert psnr(first.raw, fp32.raw) > 15  # the same picture (a chaotic random network)


def test_auto_is_the_documented_precision(style: Path) -> None:
    engine = Engine("cpu")
    expected = {
        OrtPrecision.FP32: Runtime.ONNXRUNTIME,
        OrtPrecision.INT8: Runtime.ONNXRUNTIME_INT8,
    }[ort_runner.AUTO_PRECISION]
    assert engine.prepare_style(style) is expected
    assert Engine("cpu", cpu_runtime="fp32").prepare_style(style) is Runtime.ONNXRUNTIME
    assert Engine("cpu", cpu_runtime="torch").prepare_style(style) is Runtime.TORCH


def test_failed_calibration_falls_back_to_float32_once(
    style: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def fail(self, model, threads):
        calls.append(threads)
        raise ValueError("the calibration values are not finite\nmore")

    monkeypatch.setattr(OrtBackend, "calibrate", fail)
    engine = Engine("cpu", cpu_runtime="int8")
    image = structured_image(40, 36)
    first = engine.stylize(image, style, StylizeOptions())
    second = engine.stylize(image, style, StylizeOptions())
    reference = Engine("cpu", cpu_runtime="fp32").stylize(image, style, StylizeOptions())
    assert first.runtime is Runtime.ONNXRUNTIME and second.runtime is Runtime.ONNXRUNTIME
    assert first.notes == [
        "ONNX Runtime int8 could not run this style (the calibration values are not finite); "
        "it ran on ONNX Runtime float32 instead."
    ]
    assert is_fallback_note(first.notes[0])  # the self-test does not pass it silently
    assert second.notes == [] and len(calls) == 1
    assert psnr(first.raw, reference.raw) >= 200


def test_refused_int8_graph_falls_back_to_float32_then_torch(
    style: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = OrtBackend.build

    def refuse_int8(self, model, threads, plan=None):
        if plan is not None:
            raise RuntimeError("[ONNXRuntimeError] : 1 : FAIL : QLinearConv simulated")
        return original(self, model, threads)

    monkeypatch.setattr(OrtBackend, "build", refuse_int8)
    engine = Engine("cpu", cpu_runtime="int8")
    assert engine.prepare_style(style) is Runtime.ONNXRUNTIME
    result = engine.stylize(structured_image(33, 41), style, StylizeOptions())
    assert result.runtime is Runtime.ONNXRUNTIME and "QLinearConv simulated" in result.notes[0]

    def refuse_all(self, model, threads, plan=None):
        raise RuntimeError("simulated refusal")

    monkeypatch.setattr(OrtBackend, "build", refuse_all)
    failing = Engine("cpu", cpu_runtime="int8")
    result = failing.stylize(structured_image(33, 41), style, StylizeOptions())
    assert result.runtime is Runtime.TORCH
    assert len(result.notes) == 2
    assert result.notes[0].startswith("ONNX Runtime int8 could not run this style")
    assert result.notes[1].startswith("ONNX Runtime could not run this style")


def test_int8_keeps_the_torch_cases_on_torch(style: Path) -> None:
    engine = Engine("cpu", cpu_runtime="int8", tiling=TilingConfig(min_tile_size=80))
    tiled = engine.stylize(structured_image(150, 170), style, StylizeOptions(tile_size=96))
    assert tiled.tiles > 1 and tiled.runtime is Runtime.TORCH
    assert engine._cached_style(style).ort.plan is None  # nothing calibrated for it
