"""ONNX Runtime inference for ``Generator`` styles run whole (untiled) on the CPU.

onnxruntime runs the slim gallery generator about twice as fast as eager PyTorch on a small CPU
(its NCHWc convolution kernels). The engine uses it only where the result is the same network on
the same input: a plain :class:`~stylestudio.core.models.generator.Generator`, float32 on the CPU,
one pass over the whole (padded) image. Tiled runs, which need whole-image norm statistics fed
into the norm layers, and CUDA / MPS stay on PyTorch.

The graph is written by ``generator_graph`` (no ``onnx`` package needed), in float32 or with
most convolutions in int8 (``CpuRuntime.INT8``, see ``quantize``: calibrated once per style when
its first int8 session is built, from the float32 graph on a few small fixed images). Sessions
are built per style, precision and thread count (the app runs previews on one core fewer than
exports) and kept in the engine's model cache next to the module, so switching between loaded
styles builds nothing. Anything that goes wrong falls back with a note, never an error: int8
(calibration, a graph onnxruntime refuses) to float32, and float32 (onnxruntime missing or
broken, a refused graph, a failed run) to PyTorch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from types import ModuleType
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from stylestudio.core.engine.generator_graph import (
    INPUT_NAME,
    calibration_onnx,
    generator_onnx,
    norm_is_plain,
)
from stylestudio.core.engine.quantize import (
    Int8Plan,
    QuantConfig,
    RangeCollector,
    calibration_images,
    planned_convs,
)
from stylestudio.core.models.generator import Generator
from stylestudio.core.models.norm import StatsInstanceNorm

#: The network's input must already be padded to this multiple (the engine does it).
SIZE_MULTIPLE = Generator.size_multiple


class CpuRuntime(str, Enum):
    """What runs a style's network on the CPU."""

    #: The default: onnxruntime at :data:`AUTO_PRECISION` where it applies (see the module
    #: docstring), else PyTorch.
    AUTO = "auto"
    #: onnxruntime float32 where it applies (the same network), else PyTorch.
    FP32 = "fp32"
    #: onnxruntime with int8 convolutions where it applies, else as ``FP32``.
    INT8 = "int8"
    #: Always PyTorch (for comparisons and debugging).
    TORCH = "torch"


class Runtime(str, Enum):
    """What ran a style's network (``StylizeResult.runtime``)."""

    TORCH = "PyTorch"
    ONNXRUNTIME = "ONNX Runtime float32"
    ONNXRUNTIME_INT8 = "ONNX Runtime int8"


class OrtPrecision(str, Enum):
    """The arithmetic of an onnxruntime session's convolutions."""

    FP32 = "fp32"
    INT8 = "int8"


#: What ``CpuRuntime.AUTO`` runs. float32: int8 is about 0.7× its time at 1 MP, but on photos it
#: was not calibrated on it measured 45 dB PSNR against float32 at the median and 37.7 dB at
#: worst (the gallery, 18 styles × 7 photos; the bar for the default is ≥ 38 dB everywhere),
#: with a few rare highlights visibly dimmer, and every first load of a style or a blend pays
#: its calibration (~150-300 ms on 2 cores).
AUTO_PRECISION = OrtPrecision.FP32


def ort_precision(runtime: CpuRuntime) -> OrtPrecision | None:
    """The onnxruntime precision ``runtime`` asks for; None for PyTorch only."""
    if runtime is CpuRuntime.TORCH:
        return None
    if runtime is CpuRuntime.AUTO:
        return AUTO_PRECISION
    return OrtPrecision.INT8 if runtime is CpuRuntime.INT8 else OrtPrecision.FP32


@dataclass(frozen=True)
class OrtConfig:
    """Session settings. The arena is shrunk after every run, so a cached session does not keep
    the activations of the largest image it has seen (hundreds of MB per megapixel)."""

    graph_optimization: Literal["ORT_ENABLE_BASIC", "ORT_ENABLE_EXTENDED", "ORT_ENABLE_ALL"] = (
        "ORT_ENABLE_ALL"
    )
    shrink_arena_after_run: bool = True
    #: onnxruntime's log level for session warnings (3 = errors only).
    log_severity: int = 3
    #: Which convolutions the int8 graph quantises and how they are calibrated.
    quant: QuantConfig = field(default_factory=QuantConfig)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line if len(line) <= 160 else line[:157] + "…"


FALLBACK_PREFIX = "ONNX Runtime could not run this style"
INT8_FALLBACK_PREFIX = "ONNX Runtime int8 could not run this style"


def fallback_note(reason: str) -> str:
    return f"{FALLBACK_PREFIX} ({reason}); it ran on PyTorch instead."


def int8_fallback_note(reason: str) -> str:
    return f"{INT8_FALLBACK_PREFIX} ({reason}); it ran on ONNX Runtime float32 instead."


def is_fallback_note(note: str) -> bool:
    """Whether a ``StylizeResult`` note says onnxruntime (float32 or int8) failed (the
    launcher's self-test)."""
    return note.startswith((FALLBACK_PREFIX, INT8_FALLBACK_PREFIX))


def supports(model: nn.Module) -> bool:
    """Whether ``model`` is exactly a ``Generator`` none of whose norm layers has statistics
    fixed, recorded or adjusted from outside right now (tiled runs, video smoothing)."""
    if type(model) is not Generator:
        return False
    return all(norm_is_plain(m) for m in model.modules() if isinstance(m, StatsInstanceNorm))


class OrtBackend:
    """The onnxruntime module, imported on first use; ``unavailable`` says why it cannot be.
    ``precision``: what the engine's sessions compute in (int8 falls back to float32)."""

    def __init__(
        self, config: OrtConfig | None = None, precision: OrtPrecision = OrtPrecision.FP32
    ) -> None:
        self.config = config or OrtConfig()
        self.precision = precision
        self._module: ModuleType | None = None
        self.unavailable: str | None = None
        self._tried = False
        self._told = False

    def unavailable_note(self) -> str | None:
        """The note saying why onnxruntime cannot be used: once per backend (engine)."""
        if self.unavailable is None or self._told:
            return None
        self._told = True
        return fallback_note(self.unavailable)

    def module(self) -> ModuleType | None:
        if not self._tried:
            self._tried = True
            try:
                import onnxruntime  # a plain import: PyInstaller's analysis sees it

                onnxruntime.InferenceSession  # noqa: B018  (a broken install fails here)
                self._module = onnxruntime
            except Exception as exc:  # ImportError, or a DLL that does not load
                self._module = None
                self.unavailable = f"onnxruntime cannot be imported: {_first_line(exc)}"
        return self._module

    def _session(self, graph: bytes, threads: int) -> tuple[Any, Any]:
        ort = self.module()
        if ort is None:
            raise RuntimeError(self.unavailable or "onnxruntime is not available")
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = getattr(
            ort.GraphOptimizationLevel, self.config.graph_optimization
        )
        options.log_severity_level = self.config.log_severity
        session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        run_options = ort.RunOptions()
        run_options.log_severity_level = self.config.log_severity
        if self.config.shrink_arena_after_run:
            run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        return session, run_options

    def build(self, model: nn.Module, threads: int, plan: Int8Plan | None = None) -> OrtNetwork:
        """A session running ``model``'s current weights with ``threads`` intra-op threads,
        in float32, or with ``plan``'s convolutions in int8."""
        session, run_options = self._session(generator_onnx(model, plan), threads)
        runtime = Runtime.ONNXRUNTIME if plan is None else Runtime.ONNXRUNTIME_INT8
        return OrtNetwork(session, run_options, threads, runtime)

    def calibrate(self, model: nn.Module, threads: int) -> Int8Plan:
        """The int8 plan of ``model``: its float32 graph, with the planned convs' inputs and
        outputs as extra outputs, run on the calibration images (see ``quantize``)."""
        if not isinstance(model, Generator):
            raise TypeError(f"{type(model).__name__} is not a Generator")
        convs = planned_convs(model, self.config.quant)
        collector = RangeCollector(convs, self.config.quant)  # times from here
        graph, index = calibration_onnx(model, convs)
        session, run_options = self._session(graph, threads)
        for image in calibration_images(self.config.quant):
            feed = np.ascontiguousarray(image.transpose(2, 0, 1))[None]
            outputs = session.run(None, {INPUT_NAME: feed}, run_options)
            for name, i in index.items():
                collector.add(name, outputs[i], outputs[i + 1])
            collector.image_done()
        return collector.plan()


@dataclass
class OrtNetwork:
    """One onnxruntime session of one style's network."""

    session: Any
    run_options: Any
    threads: int
    runtime: Runtime = Runtime.ONNXRUNTIME

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: (N, 3, H, W) float32 on the CPU, H and W multiples of 4 → the network output."""
        if x.shape[-2] % SIZE_MULTIPLE or x.shape[-1] % SIZE_MULTIPLE:
            raise ValueError(f"input {tuple(x.shape)} is not padded to a multiple of 4")
        feed = np.ascontiguousarray(x.detach().to("cpu", torch.float32).numpy())
        (out,) = self.session.run(None, {INPUT_NAME: feed}, self.run_options)
        return torch.from_numpy(out)


@dataclass
class OrtSlot:
    """The onnxruntime sessions of one cached style (per precision and thread count), its int8
    plan, or why there are none.

    Lives in the engine's model cache next to the style's module, so it goes when the module
    goes (eviction, changed weights)."""

    sessions: dict[tuple[OrtPrecision, int], OrtNetwork] = field(default_factory=dict)
    failed: str | None = None  # set once a session could not be built: no retry per image
    int8_failed: str | None = None  # calibration or the int8 session failed: float32 instead
    plan: Int8Plan | None = None  # calibrated once, for every thread count
    builds: int = 0
    _told: bool = False
    _told_int8: bool = False

    def network(self, backend: OrtBackend, model: nn.Module, threads: int) -> OrtNetwork | None:
        """The session for ``threads`` at the backend's precision (or float32 where int8
        failed), built on first use; None where PyTorch must run."""
        if not supports(model) or backend.module() is None:
            return None
        if backend.precision is OrtPrecision.INT8 and self.int8_failed is None:
            found = self.sessions.get((OrtPrecision.INT8, threads))
            if found is not None:
                return found
            try:
                if self.plan is None:
                    self.plan = backend.calibrate(model, threads)
                self.builds += 1
                found = backend.build(model, threads, self.plan)
            except Exception as exc:  # a failed calibration, or a graph onnxruntime refuses
                self.int8_failed = _first_line(exc)
            else:
                self.sessions[(OrtPrecision.INT8, threads)] = found
                return found
        if self.failed is not None:
            return None
        found = self.sessions.get((OrtPrecision.FP32, threads))
        if found is None:
            self.builds += 1
            try:
                found = backend.build(model, threads)
            except Exception as exc:  # UnsupportedNetwork, or onnxruntime refusing the graph
                self.failed = _first_line(exc)
                return None
            self.sessions[(OrtPrecision.FP32, threads)] = found
        return found

    def _failure_notes(self, backend: OrtBackend) -> list[str]:
        notes = []
        if self.int8_failed is not None and not self._told_int8:
            self._told_int8 = True
            notes.append(int8_fallback_note(self.int8_failed))
        note = backend.unavailable_note()
        if note is None and self.failed is not None and not self._told:
            self._told = True
            note = fallback_note(self.failed)
        return notes + ([note] if note is not None else [])

    def run(
        self, backend: OrtBackend, model: nn.Module, x: torch.Tensor, notes: list[str]
    ) -> tuple[torch.Tensor, Runtime] | None:
        """The network output through onnxruntime and what computed it, or None when the
        caller should use PyTorch (with a note, once, where onnxruntime failed rather than did
        not apply; likewise where int8 failed and float32 ran)."""
        network = self.network(backend, model, torch.get_num_threads())
        notes.extend(self._failure_notes(backend))
        if network is None:
            return None
        try:
            return network(x), network.runtime
        except Exception as exc:  # e.g. out of memory: PyTorch tiles instead
            notes.append(fallback_note(_first_line(exc)))
            return None
