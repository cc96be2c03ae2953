"""ONNX Runtime inference for ``Generator`` styles run whole (untiled) on the CPU.

onnxruntime runs the slim gallery generator about twice as fast as eager PyTorch on a small CPU
(its NCHWc convolution kernels). The engine uses it only where the result is the same network on
the same input: a plain :class:`~stylestudio.core.models.generator.Generator`, float32 on the CPU,
one pass over the whole (padded) image. Tiled runs, which need whole-image norm statistics fed
into the norm layers, and CUDA / MPS stay on PyTorch.

The graph is written by ``generator_graph`` (no ``onnx`` package needed). Sessions are built per
style and per thread count (the app runs previews on one core fewer than exports) and kept in
the engine's model cache next to the module, so switching between loaded styles builds nothing.
Anything that goes wrong (onnxruntime missing or broken, a graph it refuses, a failed run) falls
back to PyTorch with a note; the user never sees an error from this path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from types import ModuleType
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from stylestudio.core.engine.generator_graph import INPUT_NAME, generator_onnx, norm_is_plain
from stylestudio.core.models.generator import Generator
from stylestudio.core.models.norm import StatsInstanceNorm

#: The network's input must already be padded to this multiple (the engine does it).
SIZE_MULTIPLE = Generator.size_multiple


class CpuRuntime(str, Enum):
    """What runs a style's network on the CPU."""

    #: onnxruntime where it gives the same result (see the module docstring), else PyTorch.
    AUTO = "auto"
    #: Always PyTorch (for comparisons and debugging).
    TORCH = "torch"


class Runtime(str, Enum):
    """What ran a style's network (``StylizeResult.runtime``)."""

    TORCH = "PyTorch"
    ONNXRUNTIME = "ONNX Runtime"


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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line if len(line) <= 160 else line[:157] + "…"


FALLBACK_PREFIX = "ONNX Runtime could not run this style"


def fallback_note(reason: str) -> str:
    return f"{FALLBACK_PREFIX} ({reason}); it ran on PyTorch instead."


def is_fallback_note(note: str) -> bool:
    """Whether a ``StylizeResult`` note says onnxruntime failed (the launcher's self-test)."""
    return note.startswith(FALLBACK_PREFIX)


def supports(model: nn.Module) -> bool:
    """Whether ``model`` is exactly a ``Generator`` none of whose norm layers has statistics
    fixed, recorded or adjusted from outside right now (tiled runs, video smoothing)."""
    if type(model) is not Generator:
        return False
    return all(norm_is_plain(m) for m in model.modules() if isinstance(m, StatsInstanceNorm))


class OrtBackend:
    """The onnxruntime module, imported on first use; ``unavailable`` says why it cannot be."""

    def __init__(self, config: OrtConfig | None = None) -> None:
        self.config = config or OrtConfig()
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

    def build(self, model: nn.Module, threads: int) -> OrtNetwork:
        """A session running ``model``'s current weights with ``threads`` intra-op threads."""
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
        session = ort.InferenceSession(
            generator_onnx(model), options, providers=["CPUExecutionProvider"]
        )
        run_options = ort.RunOptions()
        run_options.log_severity_level = self.config.log_severity
        if self.config.shrink_arena_after_run:
            run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        return OrtNetwork(session, run_options, threads)


@dataclass
class OrtNetwork:
    """One onnxruntime session of one style's network."""

    session: Any
    run_options: Any
    threads: int

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: (N, 3, H, W) float32 on the CPU, H and W multiples of 4 → the network output."""
        if x.shape[-2] % SIZE_MULTIPLE or x.shape[-1] % SIZE_MULTIPLE:
            raise ValueError(f"input {tuple(x.shape)} is not padded to a multiple of 4")
        feed = np.ascontiguousarray(x.detach().to("cpu", torch.float32).numpy())
        (out,) = self.session.run(None, {INPUT_NAME: feed}, self.run_options)
        return torch.from_numpy(out)


@dataclass
class OrtSlot:
    """The onnxruntime sessions of one cached style (per thread count), or why there are none.

    Lives in the engine's model cache next to the style's module, so it goes when the module
    goes (eviction, changed weights)."""

    sessions: dict[int, OrtNetwork] = field(default_factory=dict)
    failed: str | None = None  # set once a session could not be built: no retry per image
    builds: int = 0
    _told: bool = False

    def network(self, backend: OrtBackend, model: nn.Module, threads: int) -> OrtNetwork | None:
        """The session for ``threads``, built on first use; None where PyTorch must run."""
        if self.failed is not None or not supports(model) or backend.module() is None:
            return None
        found = self.sessions.get(threads)
        if found is None:
            self.builds += 1
            try:
                found = backend.build(model, threads)
            except Exception as exc:  # UnsupportedNetwork, or onnxruntime refusing the graph
                self.failed = _first_line(exc)
                return None
            self.sessions[threads] = found
        return found

    def _failure_note(self, backend: OrtBackend) -> str | None:
        note = backend.unavailable_note()
        if note is None and self.failed is not None and not self._told:
            self._told = True
            note = fallback_note(self.failed)
        return note

    def run(
        self, backend: OrtBackend, model: nn.Module, x: torch.Tensor, notes: list[str]
    ) -> torch.Tensor | None:
        """The network output through onnxruntime, or None when the caller should use PyTorch
        (with a note, once, when onnxruntime failed rather than did not apply)."""
        network = self.network(backend, model, torch.get_num_threads())
        if network is None:
            note = self._failure_note(backend)
            if note is not None:
                notes.append(note)
            return None
        try:
            return network(x)
        except Exception as exc:  # e.g. out of memory: PyTorch tiles instead
            notes.append(fallback_note(_first_line(exc)))
            return None
