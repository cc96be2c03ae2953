"""``stylestudio info``: versions, devices and where things are stored."""

from __future__ import annotations

import argparse
import platform
import sys

from stylestudio import __version__
from stylestudio.core import paths


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("info", help="show versions, devices and storage locations")
    p.add_argument("--device", default=None, help="device to report on (default: auto)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch
    import torchvision

    from stylestudio.core.engine.device import describe_device, select_device
    from stylestudio.core.errors import WeightsUnavailableError
    from stylestudio.core.library import StyleLibrary
    from stylestudio.core.models.vgg import resolve_vgg_weights

    rows = [
        ("StyleStudio", __version__),
        ("Python", f"{platform.python_version()} ({sys.executable})"),
        ("Platform", platform.platform()),
        ("torch", torch.__version__),
        ("torchvision", torchvision.__version__),
        ("CUDA", _cuda_summary(torch)),
        ("MPS", "available" if _mps_available(torch) else "not available"),
        ("Device in use", describe_device(select_device(args.device))),
    ]
    styles = StyleLibrary().list()
    rows += [
        ("User styles", str(paths.user_styles_dir())),
        ("Built-in styles", str(paths.builtin_styles_dir())),
        ("Installed styles", f"{sum(s.builtin for s in styles)} built-in, "
         f"{sum(not s.builtin for s in styles)} user"),
        ("Cache", str(paths.user_cache_dir())),
        ("Logs", str(paths.user_log_dir())),
    ]  # fmt: skip
    try:
        vgg = str(resolve_vgg_weights(allow_download=False))
    except WeightsUnavailableError:
        vgg = "not found (needed only for training; see README)"
    rows.append(("VGG19 weights", vgg))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0


def _cuda_summary(torch) -> str:
    if not torch.cuda.is_available():
        built = torch.version.cuda
        return f"not available (torch built with CUDA {built})" if built else "not available"
    names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return f"CUDA {torch.version.cuda}: " + ", ".join(names)


def _mps_available(torch) -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())
