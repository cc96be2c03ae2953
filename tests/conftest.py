"""Shared fixtures: isolated user folders and tiny random-weight styles."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

# Tests never need a display; set before any test module imports Qt.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


_SUMMARY_LINES = pytest.StashKey[list[str]]()


@pytest.fixture
def terminal_summary(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """``add(line)``: a line for the end of the test log (shown by ``make test``, without -s)."""
    return request.config.stash.setdefault(_SUMMARY_LINES, []).append


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    lines = config.stash.get(_SUMMARY_LINES, [])
    if lines:
        terminalreporter.section("measurements")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """No test reads or writes the real user's data, cache or network."""
    root = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("STYLESTUDIO_DATA_DIR", str(root / "data"))
    monkeypatch.setenv("STYLESTUDIO_CACHE_DIR", str(root / "cache"))
    monkeypatch.setenv("STYLESTUDIO_OFFLINE", "1")
    monkeypatch.delenv("STYLESTUDIO_DEVICE", raising=False)


def make_tiny_style(
    parent: Path, name: str = "Tiny", seed: int = 0, style_id: str | None = None
) -> Path:
    """A valid style folder with a small random-init generator (quality is irrelevant)."""
    import torch

    from stylestudio.core.models.generator import ARCHITECTURE_NAME, Generator, GeneratorConfig
    from stylestudio.core.stylepack import (
        StyleManifest,
        new_style_id,
        utc_now_iso,
        write_style_folder,
    )

    torch.manual_seed(seed)
    config = GeneratorConfig(base_channels=4, residual_blocks=1)
    manifest = StyleManifest(
        id=style_id or new_style_id(name),
        name=name,
        version=1,
        architecture=ARCHITECTURE_NAME,
        params=config.to_dict(),
        created=utc_now_iso(),
        weights_sha256="",
    )
    return write_style_folder(parent, manifest, Generator(config).state_dict())


@pytest.fixture
def builtin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A built-in styles folder holding one tiny style, "Tiny Ink", instead of the bundled ones."""
    resources = tmp_path / "resources"
    (resources / "styles").mkdir(parents=True)
    make_tiny_style(resources / "styles", "Tiny Ink")
    monkeypatch.setenv("STYLESTUDIO_RESOURCES_DIR", str(resources))
    return resources / "styles"


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two images in [0, 1] (capped at 200 dB)."""
    return float(10 * np.log10(1.0 / max(float(np.mean((a - b) ** 2)), 1e-20)))


def dead_process_temp_name(suffix: str = "") -> str:
    """A temp name in StyleStudio's own format whose owner (a process that has exited) is gone."""
    import subprocess
    import sys
    import uuid

    from stylestudio.core import atomic

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{atomic.TEMP_PREFIX}{atomic._HOST_TAG}-{child.pid}-{uuid.uuid4().hex}{suffix}"
