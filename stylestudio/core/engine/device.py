"""Choosing the compute device and the numeric precision the network runs in."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator

import torch

from stylestudio.core.errors import StyleStudioError

ENV_DEVICE = "STYLESTUDIO_DEVICE"
PRECISIONS = ("auto", "fp32", "fp16", "bf16")
_CUDA_RE = re.compile(r"^cuda(?::(\d+))?$")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def select_device(preference: str | None = None) -> torch.device:
    """The device to run on: ``preference``, else ``$STYLESTUDIO_DEVICE``, else CUDA → MPS → CPU.

    Accepted values: "auto", "cpu", "cuda", "cuda:N", "mps". Asking for a device this computer
    does not have raises StyleStudioError.
    """
    choice = (preference or os.environ.get(ENV_DEVICE) or "auto").strip().lower()
    if choice == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", torch.cuda.current_device())
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if choice == "cpu":
        return torch.device("cpu")
    if choice == "mps":
        if not _mps_available():
            raise StyleStudioError(
                "The Apple GPU (MPS) was requested but is not available on this computer."
            )
        return torch.device("mps")
    match = _CUDA_RE.match(choice)
    if match:
        if not torch.cuda.is_available():
            raise StyleStudioError(
                f"The device {choice!r} was requested but no CUDA GPU is available on this "
                "computer (choose 'auto' or 'cpu')."
            )
        index = int(match.group(1) or torch.cuda.current_device())
        count = torch.cuda.device_count()
        if index >= count:
            raise StyleStudioError(
                f"The device {choice!r} was requested but this computer has only {count} CUDA "
                f"GPU(s) (cuda:0 to cuda:{count - 1})."
            )
        return torch.device("cuda", index)
    raise StyleStudioError(f"Unknown device {choice!r}; use auto, cpu, cuda, cuda:N or mps.")


def describe_device(device: torch.device | str) -> str:
    """A short human-readable name: "CUDA · <GPU name>", "Apple GPU (MPS)" or "CPU"."""
    device = torch.device(device)
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"CUDA · {torch.cuda.get_device_name(index)}"
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return "CPU"


def resolve_precision(device: torch.device, precision: str = "auto") -> torch.dtype | None:
    """The autocast dtype for ``device`` (None: plain float32).

    CPU always runs in float32. CUDA uses float16, or bfloat16 when asked for and supported.
    MPS uses float16 autocast when this torch build supports it.
    """
    if precision not in PRECISIONS:
        raise StyleStudioError(
            f"Unknown precision {precision!r}; use one of: {', '.join(PRECISIONS)}."
        )
    if precision == "fp32" or device.type == "cpu":
        return None
    if device.type == "cuda":
        if precision == "bf16" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float16
    if device.type == "mps":
        return torch.float16 if _mps_autocast_supported() else None
    return None


def _mps_autocast_supported() -> bool:
    try:
        with torch.autocast(device_type="mps", dtype=torch.float16):
            pass
    except (RuntimeError, ValueError, TypeError):
        return False
    return True


@contextlib.contextmanager
def autocast(device: torch.device, dtype: torch.dtype | None) -> Iterator[None]:
    """Autocast to ``dtype`` on ``device``; a no-op for float32."""
    if dtype is None:
        yield
        return
    with torch.autocast(device_type=device.type, dtype=dtype):
        yield


def is_out_of_memory(exc: BaseException) -> bool:
    """True for out-of-memory failures (CUDA, MPS and CPU allocators report them differently)."""
    oom_type = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    if isinstance(exc, MemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and (
        "out of memory" in text or "can't allocate memory" in text
    )


def free_device_memory(device: torch.device) -> None:
    """Release cached allocator blocks after a failure."""
    if device.type == "cuda":
        torch.cuda.empty_cache()
    elif device.type == "mps" and hasattr(torch, "mps"):
        with contextlib.suppress(Exception):
            torch.mps.empty_cache()
