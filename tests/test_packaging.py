"""Packaging: the PyInstaller spec and its helpers, the frozen launcher, the release workflow.

Cheap checks only; the real bundle build is ``build/build_linux.sh`` (see build/README.md).
"""

from __future__ import annotations

import ast
import importlib.util
import logging
import plistlib
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from stylestudio import __version__, launcher
from stylestudio.core import paths
from tests.conftest import make_tiny_style

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build"
SPEC = BUILD / "stylestudio.spec"
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"


@pytest.fixture(scope="module")
def bundling() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bundling", BUILD / "bundling.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bundling"] = module  # dataclasses look their module up by name
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules["bundling"]
    return module


@pytest.fixture
def user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(paths.ENV_DATA_DIR, str(tmp_path / "data"))
    monkeypatch.setenv(paths.ENV_CACHE_DIR, str(tmp_path / "cache"))
    resources = tmp_path / "resources"
    (resources / "styles").mkdir(parents=True)
    monkeypatch.setenv(paths.ENV_RESOURCES_DIR, str(resources))
    return resources


# ------------------------------------------------------------------------------------ the spec


def test_spec_is_python_and_bundles_resources() -> None:
    tree = ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC))
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    assert "resources" in strings
    assert "torchvision" in strings  # its operator libraries, which the contrib hook misses
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call)
              and isinstance(n.func, ast.Name)}  # fmt: skip
    assert {"Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE"} <= called
    keywords = {k.arg: k.value for n in ast.walk(tree) if isinstance(n, ast.Call)
                for k in n.keywords}  # fmt: skip
    assert isinstance(keywords["console"], ast.Constant) and keywords["console"].value is False
    assert (BUILD / "entry_point.py").is_file()


def test_spec_bundles_onnxruntime(bundling: ModuleType) -> None:
    """onnxruntime is imported inside a function (the engine's CPU runtime) and opens its
    provider bridge with dlopen: the spec must name it and collect its libraries."""
    text = SPEC.read_text(encoding="utf-8")
    assert "bundling.HIDDEN_IMPORTS" in text and "bundling.RUNTIME_LIBRARIES" in text
    assert "onnxruntime" in bundling.HIDDEN_IMPORTS
    assert "onnxruntime" in bundling.RUNTIME_LIBRARIES


def test_onnxruntime_libraries_match_the_collected_patterns(bundling: ModuleType) -> None:
    """Every native library of the installed onnxruntime (versioned names included) is one the
    spec collects."""
    spec = importlib.util.find_spec("onnxruntime")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("onnxruntime is not installed")
    package = Path(next(iter(spec.submodule_search_locations)))
    native = {
        p
        for p in package.rglob("*")
        if p.is_file() and re.search(r"\.(so(\.[0-9.]+)?|pyd|dll|dylib)$", p.name)
    }
    collected = set(bundling.runtime_library_files("onnxruntime"))
    assert native and native <= collected
    names = {p.name for p in collected}
    if sys.platform.startswith("linux"):  # the provider bridge, opened with dlopen
        assert any("providers_shared" in n for n in names)
    assert any(n.startswith(("onnxruntime_pybind11_state", "onnxruntime_pybind")) for n in names)


def test_onnxruntime_is_a_normal_dependency() -> None:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = [re.split(r"[<>=!~ \[]", d, maxsplit=1)[0] for d in project["dependencies"]]
    assert "onnxruntime" in names
    extras = project["optional-dependencies"]
    assert {"dev", "bench", "onnx"} <= set(extras)  # the extras keep working


def test_version_is_read_without_importing(bundling: ModuleType, tmp_path: Path) -> None:
    assert bundling.read_version(ROOT / "stylestudio" / "__init__.py") == __version__
    bad = tmp_path / "__init__.py"
    bad.write_text("VERSION = '1'\n")
    with pytest.raises(ValueError, match="__version__"):
        bundling.read_version(bad)
    assert bundling.numeric_version("1.2.0rc1") == "1.2.0"
    assert bundling.numeric_version("2") == "2.0.0"


def test_resource_datas_ship_files_but_not_litter(bundling: ModuleType, tmp_path: Path) -> None:
    res = tmp_path / "resources"
    (res / "styles" / "ink").mkdir(parents=True)
    (res / "styles" / "ink" / "style.json").write_text("{}")
    (res / "styles" / ".tmp-half-written").mkdir()
    (res / "styles" / ".tmp-half-written" / "style.json").write_text("{}")
    (res / "samples").mkdir()
    (res / "samples" / "a.jpg").write_bytes(b"x")
    (res / "samples" / ".DS_Store").write_bytes(b"x")
    (res / "__pycache__").mkdir()
    (res / "__pycache__" / "x.pyc").write_bytes(b"x")

    datas = bundling.resource_datas(res)

    assert sorted((Path(src).relative_to(res).as_posix(), dest) for src, dest in datas) == [
        ("samples/a.jpg", "resources/samples"),
        ("styles/ink/style.json", "resources/styles/ink"),
    ]
    with pytest.raises(SystemExit, match="does not exist"):
        bundling.resource_datas(tmp_path / "missing")


@pytest.mark.parametrize(
    ("name", "cuda"),
    [
        ("nvidia/cu13/lib/libcublas.so.13", True),
        ("nvidia/cudnn/lib/libcudnn_engines_precompiled.so.9", True),
        ("torch/lib/libtorch_cuda.so", True),
        ("torch/lib/libtorch_cuda_linalg.so", True),
        ("torch/lib/libc10_cuda.so", True),
        ("torch/lib/libcudart.so.13", True),
        ("torch\\lib\\cublasLt64_13.dll", True),
        ("torch\\lib\\cudnn_ops64_9.dll", True),
        ("torch\\lib\\nvrtc-builtins64_130.dll", True),
        ("torch/lib/libtorch_cpu.so", False),
        ("torch/lib/libc10.so", False),
        ("torch/lib/libgomp.so.1", False),
        ("torch\\lib\\torch_cpu.dll", False),
        ("PySide6/Qt/lib/libQt6Core.so.6", False),
        ("libcurl.so.4", False),
    ],
)
def test_cuda_library_filter(bundling: ModuleType, name: str, cuda: bool) -> None:
    assert bundling.is_cuda_binary(name) is cuda


def test_drop_cuda_counts_removed_bytes(bundling: ModuleType, tmp_path: Path) -> None:
    lib = tmp_path / "libcudnn.so.9"
    lib.write_bytes(b"0" * 1000)
    toc = [("nvidia/cudnn/lib/libcudnn.so.9", str(lib), "BINARY"), ("libc10.so", "x", "BINARY")]
    kept, removed = bundling.drop_cuda(toc)
    assert kept == [("libc10.so", "x", "BINARY")]
    assert removed == 1000


def test_options_and_variant_checks(bundling: ModuleType) -> None:
    options = bundling.parse_options(["--variant", "cpu", "--vgg-weights", "v.safetensors"], {})
    assert options.variant == "cpu"
    assert options.vgg_weights == Path("v.safetensors")
    assert not options.strip_cuda_libs
    from_env = bundling.parse_options([], {bundling.ENV_STRIP_CUDA: "1"})
    assert from_env.variant == "auto" and from_env.strip_cuda_libs
    assert bundling.check_variant("auto", "cuda") == "cuda"
    assert bundling.check_variant("cpu", "cpu") == "cpu"
    with pytest.raises(SystemExit, match=r"download\.pytorch\.org/whl/cpu"):
        bundling.check_variant("cpu", "cuda")


def test_unusable_vgg_weights_stop_the_build(bundling: ModuleType, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    import torch
    from safetensors.torch import save_file

    bad = tmp_path / "vgg.safetensors"
    save_file({"features.0.weight": torch.zeros(2, 2)}, str(bad))
    with pytest.raises(SystemExit, match=r"Cannot bundle the VGG weights: .*vgg\.safetensors"):
        bundling.stage_vgg_weights(bad, tmp_path / "staging")
    with pytest.raises(SystemExit, match="does not exist"):
        bundling.stage_vgg_weights(tmp_path / "missing.safetensors", tmp_path / "staging")
    assert not (tmp_path / "staging" / bundling.VGG_BUNDLE_NAME).exists()


def test_app_icons_come_from_the_gui_pngs(bundling: ModuleType, tmp_path: Path) -> None:
    from PIL import Image

    icons = tmp_path / "icons"
    icons.mkdir()
    for size in (16, 32, 256, 512):
        Image.new("RGBA", (size, size), (200, 100, 50, 255)).save(icons / f"stylestudio-{size}.png")
    (icons / "stylestudio.svg").write_text("<svg/>")

    ico, png = bundling.app_icons(icons, tmp_path / "out")

    assert png == icons / "stylestudio-512.png"
    with Image.open(ico) as image:
        assert image.format == "ICO"
        assert {(16, 16), (32, 32), (256, 256)} <= set(image.info["sizes"])
    with pytest.raises(SystemExit, match=r"No stylestudio-<size>\.png"):
        bundling.app_icons(tmp_path / "out", tmp_path / "out2")


def test_macos_info_plist(bundling: ModuleType) -> None:
    info = bundling.macos_info_plist("1.2.0rc1")
    plistlib.dumps(info)  # only plist-representable values
    assert info["NSHighResolutionCapable"] is True
    assert info["CFBundleIdentifier"] == bundling.BUNDLE_ID
    assert info["CFBundleShortVersionString"] == "1.2.0"
    types = {t for doc in info["CFBundleDocumentTypes"] for t in doc["LSItemContentTypes"]}
    assert {bundling.STYLEPACK_UTI, "public.jpeg", "public.png"} <= types
    (exported,) = info["UTExportedTypeDeclarations"]
    assert exported["UTTypeTagSpecification"]["public.filename-extension"] == ["stylepack"]


def test_installer_recipes_exist() -> None:
    iss = (BUILD / "windows" / "stylestudio.iss").read_text(encoding="utf-8")
    assert 'OutputName "StyleStudio-Setup-" + AppVersion' in iss
    assert ".stylepack" in iss and "{group}" in iss and "uninstallexe" in iss
    for script in ("macos/codesign.sh", "macos/make_dmg.sh", "macos/notarize.sh",
                   "linux/make_tarball.sh", "build_linux.sh"):  # fmt: skip
        text = (BUILD / script).read_text(encoding="utf-8")
        assert text.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in text
    assert "skipping" in (BUILD / "macos" / "codesign.sh").read_text(encoding="utf-8")
    plistlib.loads((BUILD / "macos" / "entitlements.plist").read_bytes())


# ------------------------------------------------------------------------------- the workflow


def _workflow() -> dict:
    text = WORKFLOW.read_text(encoding="utf-8")
    assert "\t" not in text, "YAML must be indented with spaces"
    try:
        import yaml
    except ImportError:
        yaml = None
    if yaml is not None:
        return yaml.safe_load(text)
    # Minimal structural check without pyyaml: top-level keys and the matrix entries.
    top = set(re.findall(r"^([A-Za-z_-]+):", text, flags=re.MULTILINE))
    return {
        "_top": top,
        "_os": re.findall(r"^\s+- os: (\S+)$", text, flags=re.MULTILINE),
        "_text": text,
    }


def test_workflow_has_three_oses_and_a_self_test() -> None:
    data = _workflow()
    if "_text" in data:
        assert {"name", "on", "jobs"} <= data["_top"]
        oses = set(data["_os"])
        runs = data["_text"]
    else:
        assert {"name", "jobs"} <= set(data) and (True in data or "on" in data)
        (job,) = data["jobs"].values()
        oses = {entry["os"] for entry in job["strategy"]["matrix"]["include"]}
        runs = "\n".join(step.get("run", "") for step in job["steps"])
    assert oses == {"windows-latest", "macos-latest", "ubuntu-latest"}
    assert runs.count("--self-test") >= 3
    assert "QT_QPA_PLATFORM" in WORKFLOW.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- the launcher


def _write_tiny_style(styles_dir: Path) -> Path:
    pytest.importorskip("torch")
    return make_tiny_style(styles_dir, "Tiny test", style_id="tiny-test")


def test_self_test_passes_with_a_builtin_style(user_dirs: Path) -> None:
    pytest.importorskip("stylestudio.core.engine.stylize")
    _write_tiny_style(user_dirs / "styles")
    lines: list[str] = []

    assert launcher.self_test(lines.append) == 0

    assert lines[-1] == launcher.SELF_TEST_OK
    assert any("tiny-test" in line for line in lines)


@pytest.mark.slow
def test_self_test_does_not_import_qt(user_dirs: Path) -> None:
    import subprocess

    pytest.importorskip("stylestudio.core.engine.stylize")
    _write_tiny_style(user_dirs / "styles")
    code = (
        "import sys\n"
        "from stylestudio import launcher\n"
        "rc = launcher.self_test(lambda line: None)\n"
        "assert not any(m.startswith('PySide6') for m in sys.modules), 'Qt imported'\n"
        "sys.exit(rc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr


def test_self_test_fails_readably_without_styles(user_dirs: Path) -> None:
    pytest.importorskip("stylestudio.core.engine.stylize")
    lines: list[str] = []

    assert launcher.self_test(lines.append) == 1

    assert lines[-1].startswith("self-test FAILED: No built-in style was found in ")
    assert str(user_dirs / "styles") in lines[-1]
    assert "Traceback" not in "\n".join(lines)


def test_self_test_runs_the_style_through_onnxruntime(user_dirs: Path) -> None:
    pytest.importorskip("onnxruntime")
    _write_tiny_style(user_dirs / "styles")
    lines: list[str] = []

    assert launcher.self_test(lines.append) == 0

    assert any("through ONNX Runtime" in line for line in lines)


def test_self_test_fails_when_onnxruntime_is_missing(
    user_dirs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bundle that lost onnxruntime still stylises (on torch), but must not pass."""
    pytest.importorskip("stylestudio.core.engine.stylize")
    _write_tiny_style(user_dirs / "styles")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import raises ImportError
    lines: list[str] = []

    assert launcher.self_test(lines.append) == 1

    assert lines[-1].startswith("self-test FAILED: ONNX Runtime could not run this style")
    assert "onnxruntime cannot be imported" in lines[-1] and "\n" not in lines[-1]


def test_self_test_reports_a_broken_style(user_dirs: Path) -> None:
    pytest.importorskip("stylestudio.core.engine.stylize")
    folder = _write_tiny_style(user_dirs / "styles")
    (folder / "weights.safetensors").write_bytes(b"not safetensors")
    lines: list[str] = []

    assert launcher.self_test(lines.append) == 1

    assert lines[-1].startswith("self-test FAILED: ")
    assert "\n" not in lines[-1]


def test_main_self_test_logs_to_user_log_dir(
    user_dirs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("stylestudio.core.engine.stylize")
    root = logging.getLogger()
    level = root.level
    try:
        assert launcher.main(["--self-test"]) == 1  # no style: fails, readably
    finally:
        launcher.close_logging()
        root.setLevel(level)
    out = capsys.readouterr().out
    assert "self-test FAILED" in out
    log_file = paths.user_log_dir() / launcher.LOG_FILE_NAME
    assert log_file.is_file()
    text = log_file.read_text(encoding="utf-8")
    assert "starting" in text and "No built-in style was found" in text


def test_gradient_image() -> None:
    np = pytest.importorskip("numpy")
    image = launcher.gradient_image(16)
    assert image.shape == (16, 16, 3) and image.dtype == np.float32
    assert image.min() == 0.0 and image.max() == 1.0
    assert image[0, 0].tolist() == [0.0, 0.0, 0.0] and image[-1, -1].tolist() == [1.0, 1.0, 1.0]


def test_exception_hook_logs_and_shows_log_path(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shown: list[tuple[str, bool]] = []

    def dialog(text: str, *, can_continue: bool) -> bool:
        shown.append((text, can_continue))
        return True

    log_file = tmp_path / "stylestudio.log"
    hook = launcher.ExceptionHook(log_file, show_dialog=dialog)
    try:
        raise RuntimeError("boom\nsecond line")
    except RuntimeError as exc:
        with caplog.at_level(logging.CRITICAL):
            hook(type(exc), exc, exc.__traceback__)

    (text, can_continue) = shown[0]
    assert "RuntimeError: boom" in text and "second line" not in text
    assert str(log_file) in text
    assert can_continue is False  # not inside the GUI's event loop
    assert "Traceback" in caplog.text and "boom" in caplog.text


def test_exception_hook_falls_back_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    def broken_dialog(text: str, *, can_continue: bool) -> bool:
        raise RuntimeError("no display")

    hook = launcher.ExceptionHook(None, show_dialog=broken_dialog)
    try:
        raise ValueError("bad value")
    except ValueError as exc:
        hook(type(exc), exc, exc.__traceback__)
    assert "ValueError: bad value" in capsys.readouterr().err


def test_user_errors_show_their_own_sentence() -> None:
    from stylestudio.core.errors import StyleFormatError

    text = launcher.error_dialog_text(StyleFormatError("The style is damaged."), None)
    assert "The style is damaged." in text and "StyleFormatError" not in text
    assert "No log file" in text


@pytest.mark.gui
@pytest.mark.parametrize(("can_continue", "button", "keep"), [(True, "Ignore", True),
                                                            (False, "Close", False)])  # fmt: skip
def test_error_dialog_buttons(qtbot, can_continue: bool, button: str, keep: bool) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    seen: dict[str, object] = {}

    def answer() -> None:
        boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]
        if not boxes:
            QTimer.singleShot(20, answer)
            return
        box = boxes[0]
        seen["text"] = box.text()
        seen["has_ignore"] = box.button(QMessageBox.StandardButton.Ignore) is not None
        box.button(getattr(QMessageBox.StandardButton, button)).click()

    QTimer.singleShot(0, answer)
    assert launcher._show_error_dialog("Something broke.", can_continue=can_continue) is keep
    assert seen == {"text": "Something broke.", "has_ignore": can_continue}
