"""Helpers for ``stylestudio.spec``: options, version, resources, CUDA filtering, Info.plist.

Kept out of the spec so that ``tests/test_packaging.py`` can test them without PyInstaller.
Imports nothing heavy at module level (torch only inside the functions that need it).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import fnmatch
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "StyleStudio"
BUNDLE_ID = "org.stylestudio.StyleStudio"
STYLEPACK_UTI = "org.stylestudio.stylepack"
VGG_BUNDLE_DIR = "resources/vgg"
VGG_BUNDLE_NAME = "vgg19_features.safetensors"

ENV_VARIANT = "STYLESTUDIO_BUNDLE_VARIANT"
ENV_VGG = "STYLESTUDIO_BUNDLE_VGG_WEIGHTS"
ENV_STRIP_CUDA = "STYLESTUDIO_BUNDLE_STRIP_CUDA"

#: Modules the app never needs; all are optional for torch (checked by importing torch, running
#: a conv net forward/backward and an optimiser step with these blocked).
EXCLUDES = (
    "tkinter",
    "_tkinter",
    "turtle",
    "turtledemo",
    "idlelib",
    "lib2to3",
    "pydoc_data",
    "test",  # CPython's own test suite
    "pytest",
    "_pytest",
    "pytestqt",
    "ruff",
    "IPython",
    "matplotlib",
    "tensorboard",
    "torch.utils.tensorboard",
    "triton",  # torch.compile's GPU compiler (~900 MB); StyleStudio never compiles
    "setuptools",
    "pkg_resources",
    "pip",
)

#: Imported only inside the functions that use them, listed so that the analysis follows them
#: for certain: onnxruntime is the engine's CPU runtime (imported on the first stylisation).
HIDDEN_IMPORTS = ("onnxruntime",)

#: Native libraries a package opens at run time instead of linking them (onnxruntime's provider
#: bridge, ``libonnxruntime_providers_shared``), which the binary analysis of its extension
#: modules cannot follow: package → file-name patterns, versioned ``.so.N`` names included.
RUNTIME_LIBRARIES: dict[str, tuple[str, ...]] = {
    "onnxruntime": ("*.so", "*.so.*", "*.pyd", "*.dll", "*.dylib"),
}

#: Resources never shipped: editor/OS litter and half-written temporary files.
RESOURCE_IGNORE = ("__pycache__", "*.pyc", ".DS_Store", "Thumbs.db", ".gitkeep", ".tmp-*", "*~")

#: Shared-library name stems that only CUDA needs (Linux ``lib*.so*``, Windows ``*.dll``).
_CUDA_STEMS = (
    "cudart",
    "cublas",
    "cublaslt",
    "cudnn",
    "cufft",
    "cufile",
    "curand",
    "cusolver",
    "cusparse",
    "cusparselt",
    "cupti",
    "nvrtc",
    "nvjitlink",
    "nvtoolsext",
    "nvtx",
    "nccl",
    "nvshmem",
    "nvjpeg",
    "caffe2_nvrtc",
    "c10_cuda",
    "torch_cuda",
    "torch_nvshmem",
)
_CUDA_NAME = re.compile(r"^(lib)?(" + "|".join(_CUDA_STEMS) + r")([_.\-0-9]|64|$)", re.IGNORECASE)


@dataclass(frozen=True)
class BuildOptions:
    """What to bundle. ``variant`` is "cuda", "cpu" or "mps" (macOS)."""

    variant: str
    vgg_weights: Path | None = None
    strip_cuda_libs: bool = False
    resources: Path | None = None  # None: the checkout's resources/


def read_version(init_file: Path) -> str:
    """``__version__`` from ``stylestudio/__init__.py``, without importing the package."""
    tree = ast.parse(Path(init_file).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets
        ):
            value = node.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                return value.value
    raise ValueError(f"no __version__ = '...' string in {init_file}")


def numeric_version(version: str) -> str:
    """ "1.2.0rc1" → "1.2.0": Windows file versions and CFBundleVersion take numbers only."""
    parts = re.findall(r"\d+", version.split("+")[0])[:3]
    return ".".join(parts + ["0"] * (3 - len(parts)))


def installed_torch_variant() -> str:
    """ "cuda", "mps" or "cpu": what the torch in this environment was built for."""
    import torch

    if torch.version.cuda:
        return "cuda"
    if sys.platform == "darwin":
        return "mps"
    return "cpu"


def parse_options(argv: Sequence[str], env: Mapping[str, str] | None = None) -> BuildOptions:
    """Spec arguments (after ``--`` on the PyInstaller command line), env vars as fallbacks."""
    env = os.environ if env is None else env
    parser = argparse.ArgumentParser(prog="stylestudio.spec")
    parser.add_argument(
        "--variant",
        choices=("auto", "cuda", "cpu", "mps"),
        default=env.get(ENV_VARIANT, "auto") or "auto",
        help="which torch build the bundle must carry; auto = the installed one",
    )
    parser.add_argument(
        "--vgg-weights",
        type=Path,
        default=Path(env[ENV_VGG]) if env.get(ENV_VGG) else None,
        help="bundle this VGG19 weights file (safetensors or tensor-only torch file)",
    )
    parser.add_argument(
        "--strip-cuda-libs",
        action="store_true",
        default=env.get(ENV_STRIP_CUDA, "") in ("1", "true", "yes"),
        help="drop CUDA libraries even though torch is a CUDA build (size measurement only)",
    )
    parser.add_argument(
        "--resources",
        type=Path,
        default=None,
        help="bundle this folder as resources/ instead of the checkout's (test builds)",
    )
    args = parser.parse_args(list(argv))
    return BuildOptions(args.variant, args.vgg_weights, args.strip_cuda_libs, args.resources)


def check_variant(requested: str, installed: str) -> str:
    """The variant to build; a mismatch with the installed torch is a clear error."""
    if requested in ("auto", installed):
        return installed
    hint = {
        "cpu": "pip install torch torchvision --index-url https://download.pytorch.org/whl/cpu",
        "cuda": "pip install torch torchvision --index-url https://download.pytorch.org/whl/cu130",
        "mps": "build on macOS",
    }[requested]
    raise SystemExit(
        f"The {requested} variant was requested but the installed torch is a {installed} build "
        f"({hint})."
    )


def _ignored(name: str) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in RESOURCE_IGNORE)


def resource_datas(resources: Path, dest_root: str = "resources") -> list[tuple[str, str]]:
    """``(source file, destination folder)`` pairs for every shipped file under ``resources``."""
    resources = Path(resources)
    if not resources.is_dir():
        raise SystemExit(f"The resources folder {resources} does not exist.")
    datas: list[tuple[str, str]] = []
    for folder, dirnames, filenames in os.walk(resources):
        dirnames[:] = sorted(d for d in dirnames if not _ignored(d))
        rel = Path(folder).relative_to(resources)
        dest = Path(dest_root, rel).as_posix()
        datas.extend((str(Path(folder, f)), dest) for f in sorted(filenames) if not _ignored(f))
    return datas


def runtime_library_files(package: str) -> list[Path]:
    """The files of the installed ``package`` that :data:`RUNTIME_LIBRARIES` collects (what
    ``collect_dynamic_libs`` finds with those patterns), without importing the package."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return []
    patterns = RUNTIME_LIBRARIES[package]
    found: list[Path] = []
    for location in spec.submodule_search_locations:
        for path in sorted(Path(location).rglob("*")):
            if path.is_file() and any(fnmatch.fnmatch(path.name, p) for p in patterns):
                found.append(path)
    return found


def is_cuda_binary(dest_name: str) -> bool:
    """True for CUDA-only libraries: anything from the ``nvidia`` wheels, torch's CUDA parts."""
    parts = Path(dest_name.replace("\\", "/")).parts
    if "nvidia" in parts[:-1]:
        return True
    return bool(_CUDA_NAME.match(parts[-1])) if parts else False


def drop_cuda(toc: Iterable[tuple]) -> tuple[list[tuple], int]:
    """The TOC without CUDA libraries, and how many bytes that removed."""
    kept: list[tuple] = []
    removed = 0
    for entry in toc:
        if is_cuda_binary(entry[0]):
            with contextlib.suppress(OSError):
                removed += os.path.getsize(entry[1])
        else:
            kept.append(entry)
    return kept, removed


def stage_vgg_weights(source: Path, staging: Path) -> Path:
    """Validate ``source`` and write it as ``staging/vgg19_features.safetensors``.

    Uses the app's own loader, so a file the bundle would reject fails the build instead;
    torch files are converted (features only, no pickles in the bundle).
    """
    from safetensors.torch import save_file

    from stylestudio.core.errors import StyleStudioError
    from stylestudio.core.models.vgg import load_vgg_state

    source = Path(source).expanduser()
    try:
        state = load_vgg_state(source)
    except StyleStudioError as exc:
        raise SystemExit(f"Cannot bundle the VGG weights: {exc}") from exc
    staging.mkdir(parents=True, exist_ok=True)
    target = staging / VGG_BUNDLE_NAME
    tmp = staging / (".tmp-" + VGG_BUNDLE_NAME)
    save_file({k: v.contiguous() for k, v in state.items()}, str(tmp))
    os.replace(tmp, target)
    return target


def app_icons(icons_dir: Path, out_dir: Path) -> tuple[Path, Path]:
    """The app icon as ``.ico`` (written to ``out_dir``) and as the largest PNG.

    Made from the GUI's ``resources/icons/stylestudio-<size>.png`` so that the executable, the
    installer and the window share one icon. PyInstaller turns the PNG into ``.icns`` on macOS.
    """
    from PIL import Image

    pngs: dict[int, Path] = {}
    for path in Path(icons_dir).glob("stylestudio-*.png"):
        size = path.stem.rsplit("-", 1)[-1]
        if size.isdigit():
            pngs[int(size)] = path
    if not pngs:
        raise SystemExit(f"No stylestudio-<size>.png icons in {icons_dir}.")
    out_dir.mkdir(parents=True, exist_ok=True)
    ico = out_dir / "stylestudio.ico"
    largest = max(pngs)
    sizes = [(n, n) for n in sorted(pngs) if n <= 256]
    with Image.open(pngs[largest]) as image:
        image.convert("RGBA").save(ico, sizes=sizes or [(256, 256)])
    return ico, pngs[largest]


def macos_info_plist(version: str) -> dict:
    """Info.plist entries for ``StyleStudio.app`` (document types, Retina, bundle id)."""
    images = [
        "public.jpeg",
        "public.png",
        "public.tiff",
        "org.webmproject.webp",
        "com.microsoft.bmp",
    ]
    return {
        "CFBundleName": APP_NAME,
        "CFBundleDisplayName": APP_NAME,
        "CFBundleIdentifier": BUNDLE_ID,
        "CFBundleShortVersionString": numeric_version(version),
        "CFBundleVersion": numeric_version(version),
        "NSHighResolutionCapable": True,
        "NSRequiresAquaSystemAppearance": False,
        "LSMinimumSystemVersion": "12.3",  # MPS needs macOS 12.3
        "LSApplicationCategoryType": "public.app-category.graphics-design",
        "NSHumanReadableCopyright": "StyleStudio developers, MIT licence",
        "CFBundleDocumentTypes": [
            {
                "CFBundleTypeName": "StyleStudio Style Pack",
                "CFBundleTypeRole": "Viewer",
                "LSHandlerRank": "Owner",
                "LSItemContentTypes": [STYLEPACK_UTI],
            },
            {
                "CFBundleTypeName": "Image",
                "CFBundleTypeRole": "Viewer",
                "LSHandlerRank": "Alternate",
                "LSItemContentTypes": images,
            },
        ],
        "UTExportedTypeDeclarations": [
            {
                "UTTypeIdentifier": STYLEPACK_UTI,
                "UTTypeDescription": "StyleStudio Style Pack",
                "UTTypeConformsTo": ["public.data", "public.content"],
                "UTTypeTagSpecification": {
                    "public.filename-extension": ["stylepack"],
                    "public.mime-type": ["application/x-stylestudio-stylepack"],
                },
            }
        ],
    }
