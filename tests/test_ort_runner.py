"""onnxruntime inference of Generator styles: parity with PyTorch, caching, fallbacks, scope."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from stylestudio.core.engine import ort_runner
from stylestudio.core.engine.generator_graph import UnsupportedNetwork, generator_onnx
from stylestudio.core.engine.ort_runner import CpuRuntime, Runtime
from stylestudio.core.engine.stylize import Engine, StylizeOptions, TilingConfig
from stylestudio.core.models.generator import ARCHITECTURE_NAME, Generator, GeneratorConfig
from stylestudio.core.models.norm import fixed_stats
from stylestudio.core.stylepack import StyleManifest, new_style_id, utc_now_iso, write_style_folder
from tests.conftest import psnr
from tests.test_engine import structured_image

pytest.importorskip("onnxruntime")

#: The gallery's slim layout, and the original default one (older styles).
SLIM = GeneratorConfig(16, 3, mid_channels=32, deep_channels=48, out_channels=8)
SMALL_DEFAULT = GeneratorConfig(base_channels=8, residual_blocks=2)
ODD_SIZES = [(37, 53), (101, 67), (9, 130), (5, 7)]


def _style(parent: Path, config: GeneratorConfig, seed: int, name: str = "Slim") -> Path:
    """A style whose weights are far from the initialisation (so every layer matters)."""
    torch.manual_seed(seed)
    model = Generator(config)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.3 * torch.randn_like(p))
    manifest = StyleManifest(
        id=new_style_id(name),
        name=name,
        version=1,
        architecture=ARCHITECTURE_NAME,
        params=config.to_dict(),
        created=utc_now_iso(),
        weights_sha256="",
    )
    return write_style_folder(parent, manifest, model.state_dict())


@pytest.fixture
def slim_style(tmp_path: Path) -> Path:
    return _style(tmp_path, SLIM, seed=1)


class ForwardCounter:
    """Counts PyTorch forward passes of a module."""

    def __init__(self, module: nn.Module) -> None:
        self.calls = 0
        module.register_forward_hook(self._hook)

    def _hook(self, *_args: object) -> None:
        self.calls += 1


def _slot(engine: Engine, location: Path) -> ort_runner.OrtSlot:
    return engine._cached_style(location).ort


def _pair(engine: Engine, image: np.ndarray, location: Path, options: StylizeOptions):
    """The engine's result (onnxruntime) and the same through PyTorch."""
    fast = engine.stylize(image, location, options)
    reference = engine.run_network(image, engine.model_for(location), options)
    return fast, reference


@pytest.mark.parametrize("config", [SLIM, SMALL_DEFAULT], ids=["slim", "default-layout"])
def test_onnxruntime_matches_torch_on_odd_sizes(tmp_path: Path, config: GeneratorConfig) -> None:
    location = _style(tmp_path, config, seed=2)
    engine = Engine("cpu")
    counter = ForwardCounter(engine.model_for(location))
    for i, (h, w) in enumerate(ODD_SIZES):
        image = structured_image(h, w, seed=i)
        fast, reference = _pair(engine, image, location, StylizeOptions())
        assert fast.runtime is Runtime.ONNXRUNTIME and reference.runtime is Runtime.TORCH
        assert fast.image.shape == (h, w, 3) and not fast.notes
        assert psnr(fast.raw, reference.raw) >= 40.0, (h, w)
        assert psnr(fast.image, reference.image) >= 40.0, (h, w)
    assert counter.calls == len(ODD_SIZES)  # only the reference runs went through torch


def test_adjustments_preview_and_scale_are_the_same(slim_style: Path) -> None:
    engine = Engine("cpu")
    image = structured_image(123, 97, seed=3)
    cases = [
        StylizeOptions(strength=0.4),
        StylizeOptions(preserve_colors=True),
        StylizeOptions(strength=0.7, preserve_colors=True, style_scale=1.6),
        StylizeOptions(max_side=61, style_scale=0.5),
    ]
    for options in cases:
        fast, reference = _pair(engine, image, slim_style, options)
        assert fast.runtime is Runtime.ONNXRUNTIME
        assert fast.image.shape == reference.image.shape
        assert psnr(fast.image, reference.image) >= 40.0, options


def test_session_is_built_once_per_style_and_thread_count(tmp_path: Path) -> None:
    first, second = _style(tmp_path, SLIM, 4, "First"), _style(tmp_path, SLIM, 5, "Second")
    engine = Engine("cpu")
    image = structured_image(40, 44)
    results = [engine.stylize(image, loc, StylizeOptions()) for loc in (first, second) * 3]
    assert all(r.runtime is Runtime.ONNXRUNTIME for r in results)
    assert psnr(results[0].raw, results[1].raw) < 40  # two styles, two networks
    assert psnr(results[0].raw, results[2].raw) >= 200  # the cached session, same output
    slots = [entry.ort for entry in engine._models.values()]
    assert [slot.builds for slot in slots] == [1, 1]
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        engine.stylize(image, first, StylizeOptions())
    finally:
        torch.set_num_threads(threads)
    slot = _slot(engine, first)
    assert slot.builds == (1 if threads == 1 else 2)
    assert slot.sessions[(ort_runner.OrtPrecision.FP32, 1)].threads == 1


def test_prepare_style_builds_the_session_ahead(
    slim_style: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = Engine("cpu")
    assert engine.prepare_style(slim_style) is Runtime.ONNXRUNTIME
    slot = _slot(engine, slim_style)
    assert slot.builds == 1
    assert engine.prepare_style(slim_style) is Runtime.ONNXRUNTIME and slot.builds == 1
    result = engine.stylize(structured_image(30, 30), slim_style, StylizeOptions())
    assert result.runtime is Runtime.ONNXRUNTIME and slot.builds == 1
    assert Engine("cpu", cpu_runtime="torch").prepare_style(slim_style) is Runtime.TORCH

    def refuse(self, model, threads):
        raise RuntimeError("simulated refusal")

    monkeypatch.setattr(ort_runner.OrtBackend, "build", refuse)
    failing = Engine("cpu")
    assert failing.prepare_style(slim_style) is Runtime.TORCH
    first = failing.stylize(structured_image(30, 30), slim_style, StylizeOptions())
    assert first.runtime is Runtime.TORCH and "simulated refusal" in first.notes[0]


def test_changed_weights_on_disk_get_a_new_session(tmp_path: Path) -> None:
    location = _style(tmp_path / "a", SLIM, 6)
    engine = Engine("cpu")
    image = structured_image(40, 40)
    before = engine.stylize(image, location, StylizeOptions()).raw
    replacement = _style(tmp_path / "b", SLIM, 7)
    for name in ("weights.safetensors", "style.json"):
        (location / name).write_bytes((replacement / name).read_bytes())
    after = engine.stylize(image, location, StylizeOptions())
    reference = engine.run_network(image, engine.model_for(location), StylizeOptions())
    assert after.runtime is Runtime.ONNXRUNTIME
    assert psnr(after.raw, before) < 40 and psnr(after.raw, reference.raw) >= 40


def test_falls_back_to_torch_when_onnxruntime_cannot_be_imported(
    slim_style: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import raises ImportError
    engine = Engine("cpu")
    image = structured_image(45, 38)
    first = engine.stylize(image, slim_style, StylizeOptions(strength=0.8))
    again = engine.stylize(image, slim_style, StylizeOptions(strength=0.8))
    reference = engine.run_network(
        image, engine.model_for(slim_style), StylizeOptions(strength=0.8)
    )
    assert first.runtime is Runtime.TORCH and again.runtime is Runtime.TORCH
    assert len(first.notes) == 1 and "ONNX Runtime" in first.notes[0]
    assert "onnxruntime cannot be imported" in first.notes[0]
    assert again.notes == []  # told once per engine
    assert psnr(first.image, reference.image) >= 200


def test_a_session_that_cannot_be_built_falls_back_once(
    slim_style: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def refuse(self, model, threads):
        calls.append(threads)
        raise RuntimeError("[ONNXRuntimeError] : 10 : INVALID_GRAPH : simulated\nsecond line")

    monkeypatch.setattr(ort_runner.OrtBackend, "build", refuse)
    engine = Engine("cpu")
    image = structured_image(41, 43)
    first = engine.stylize(image, slim_style, StylizeOptions())
    second = engine.stylize(image, slim_style, StylizeOptions())
    assert first.runtime is Runtime.TORCH and second.runtime is Runtime.TORCH
    assert first.notes == [
        "ONNX Runtime could not run this style ([ONNXRuntimeError] : 10 : INVALID_GRAPH : "
        "simulated); it ran on PyTorch instead."
    ]
    assert second.notes == [] and len(calls) == 1  # not retried for every image


def test_a_failed_run_falls_back_for_that_image(
    slim_style: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(self, x):
        raise RuntimeError("Failed to allocate memory for requested buffer of size 123")

    monkeypatch.setattr(ort_runner.OrtNetwork, "__call__", fail)
    engine = Engine("cpu")
    image = structured_image(50, 30)
    result = engine.stylize(image, slim_style, StylizeOptions(preserve_colors=True))
    reference = engine.run_network(
        image, engine.model_for(slim_style), StylizeOptions(preserve_colors=True)
    )
    assert result.runtime is Runtime.TORCH and "Failed to allocate" in result.notes[0]
    assert psnr(result.image, reference.image) >= 200


def test_tiled_images_go_through_torch(slim_style: Path) -> None:
    engine = Engine("cpu", tiling=TilingConfig(min_tile_size=80))
    image = structured_image(150, 170)
    tiled = engine.stylize(image, slim_style, StylizeOptions(tile_size=96))
    assert tiled.tiles > 1 and tiled.runtime is Runtime.TORCH
    assert _slot(engine, slim_style).builds == 0
    untiled = engine.stylize(image, slim_style, StylizeOptions(tile_size=0))
    assert untiled.runtime is Runtime.ONNXRUNTIME
    assert psnr(tiled.raw, untiled.raw) >= 40  # whole-image statistics: the same picture


def test_large_images_tile_automatically_and_use_torch(slim_style: Path) -> None:
    tiny_budget = TilingConfig(min_tile_size=80, cpu_memory_budget=4e6)
    engine = Engine("cpu", tiling=tiny_budget)
    result = engine.stylize(structured_image(200, 210), slim_style, StylizeOptions())
    assert result.tiles > 1 and result.runtime is Runtime.TORCH


def test_torch_runtime_option_and_run_network_use_torch(slim_style: Path) -> None:
    engine = Engine("cpu", cpu_runtime=CpuRuntime.TORCH)
    result = engine.stylize(structured_image(40, 40), slim_style, StylizeOptions())
    assert result.runtime is Runtime.TORCH and _slot(engine, slim_style).builds == 0
    with pytest.raises(ValueError):
        Engine("cpu", cpu_runtime="tensorflow")


def test_norm_statistics_set_from_outside_keep_torch(slim_style: Path) -> None:
    """Statistics fixed in the norm layers (as tiling and video smoothing do) are not in the
    graph, so such a run must stay on torch."""
    engine = Engine("cpu")
    model = engine.model_for(slim_style)
    image = structured_image(40, 48)
    plain = engine.stylize(image, slim_style, StylizeOptions())
    stats = {i: (torch.zeros(c), torch.ones(c)) for i, c in enumerate(_norm_channels(model))}
    with fixed_stats(model, stats):
        fixed = engine.stylize(image, slim_style, StylizeOptions())
    assert plain.runtime is Runtime.ONNXRUNTIME and fixed.runtime is Runtime.TORCH
    assert psnr(fixed.raw, plain.raw) < 40


def _norm_channels(model: nn.Module) -> list[int]:
    from stylestudio.core.models.norm import stats_norms

    return [norm.channels for norm in stats_norms(model)]


def test_other_networks_stay_on_torch_quietly(slim_style: Path) -> None:
    class Shifted(Generator):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return super().forward(x) * 0.5

    engine = Engine("cpu", model_loader=lambda _path: (_Manifest(), Shifted(SLIM)))
    result = engine.stylize(structured_image(32, 32), slim_style, StylizeOptions())
    assert result.runtime is Runtime.TORCH and result.notes == []
    with pytest.raises(UnsupportedNetwork):
        generator_onnx(Shifted(SLIM))


class _Manifest:
    weights_sha256 = "0" * 64


def test_session_needs_neither_onnx_nor_onnxscript(
    slim_style: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [m for m in sys.modules if m.split(".")[0] in ("onnx", "onnxscript")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "onnx", None)
    monkeypatch.setitem(sys.modules, "onnxscript", None)
    engine = Engine("cpu")
    result = engine.stylize(structured_image(33, 47), slim_style, StylizeOptions())
    assert result.runtime is Runtime.ONNXRUNTIME and result.notes == []


def test_written_graph_is_a_valid_onnx_model() -> None:
    """The hand-written protobuf passes the onnx package's full checker (where installed)."""
    onnx = pytest.importorskip("onnx")
    model = onnx.load_from_string(generator_onnx(Generator(SLIM)))
    onnx.checker.check_model(model, full_check=True)
    assert [i.name for i in model.graph.input] == ["image"]
    dims = model.graph.output[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["batch", 3, "height", "width"]
    ops = [node.op_type for node in model.graph.node]
    # The full-resolution steps in their cheaper arrangement (see generator_graph).
    assert ops.count("DepthToSpace") == 2 and ops.count("SpaceToDepth") == 1
    assert ops.count("Resize") == 1  # the half-resolution upsample stays as it is
