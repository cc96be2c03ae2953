""".ci/qt_system_deps.py (``make system-deps``): which Debian packages Qt's plugins need."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load():
    spec = importlib.util.spec_from_file_location("qt_system_deps", ROOT / ".ci/qt_system_deps.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


deps = _load()


def makefile_debs() -> list[str]:
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    match = re.search(r"^QT_DEBS\s*:=\s*(.+)$", text, re.MULTILINE)
    assert match, "QT_DEBS not found in the Makefile"
    return match.group(1).split()


def test_sonames_map_to_debian_packages() -> None:
    assert deps.package_for("libxcb-icccm.so.4") == "libxcb-icccm4"
    assert deps.package_for("libxcb-render-util.so.0") == "libxcb-render-util0"
    assert deps.package_for("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert deps.package_for("libX11.so.6") == "libx11-6"
    assert deps.package_for("libEGL.so.1") == "libegl1"
    assert deps.package_for("libdbus-1.so.3") == "libdbus-1-3"
    assert deps.package_for("libglib-2.0.so.0") == "libglib2.0-0"
    assert deps.package_for("libfoo.so.2.4.1") == "libfoo2"
    with pytest.raises(ValueError):
        deps.package_for("ld-linux-x86-64.so.2")


def test_ldd_not_found_lines_are_collected_once() -> None:
    output = (
        "\tlinux-vdso.so.1 (0x00007ffd)\n"
        "\tlibGL.so.1 => /lib/x86_64-linux-gnu/libGL.so.1 (0x00007f9b)\n"
        "\tlibxcb-icccm.so.4 => not found\n"
        "\tlibxcb-keysyms.so.1 => not found\n"
        "\tlibxcb-icccm.so.4 => not found\n"
    )
    assert deps.not_found(output) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert deps.not_found("\tlibc.so.6 => /lib/libc.so.6 (0x1)\n") == []


def test_dpkg_status_counts_installed_native_packages_and_t64_names() -> None:
    output = (
        "libxcb1 amd64 ii \n"
        "libxcb1 i386 un \n"
        "libxcb-icccm4 amd64 rc \n"  # removed, configuration left: not installed
        "libxcb-keysyms1 i386 ii \n"  # another architecture only
        "libglib2.0-0t64 amd64 ii \n"
        "fonts-dejavu-core all ii \n"
        "libdbus-1-3 amd64 hi \n"  # held, installed
    )
    have = deps.installed(output, "amd64")
    assert have == {"libxcb1", "libglib2.0-0", "fonts-dejavu-core", "libdbus-1-3"}


@pytest.mark.skipif(
    sys.platform != "linux" or not (shutil.which("dpkg-query") and shutil.which("ldd")),
    reason="needs a Debian/Ubuntu system (dpkg-query, ldd)",
)
def test_makefile_list_covers_every_library_the_plugins_miss() -> None:
    """If ldd finds a library missing, the dpkg check on QT_DEBS must report its package: the
    old check (a few sonames) passed while libxcb-icccm4 was missing and no window opened."""
    pyside = deps.pyside_dir(Path(sys.prefix))
    if pyside is None:
        pytest.skip("PySide6 is not installed in this environment")
    debs = makefile_debs()
    found = deps.probe(pyside)
    assert set(found.packages()) <= set(debs), found.missing
    assert set(found.packages()) <= set(deps.missing_packages(debs))


def test_check_mode_reports_without_installing(monkeypatch, capsys) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(deps.sys, "platform", "linux")
    monkeypatch.setattr(deps.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(
        deps, "missing_packages", lambda wanted: [w for w in wanted if "icccm" in w]
    )
    monkeypatch.setattr(deps, "apt_install", calls.append)
    assert deps.main(["--check", "libxcb1", "libxcb-icccm4"]) == 1
    assert "libxcb-icccm4" in capsys.readouterr().out and calls == []
    assert deps.main(["libxcb1"]) == 0 and calls == []  # nothing missing: no apt call
    assert deps.main(["libxcb1", "libxcb-icccm4"]) == 0 and calls == [["libxcb-icccm4"]]
