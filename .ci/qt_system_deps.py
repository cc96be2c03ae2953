#!/usr/bin/env python3
"""Install the Debian/Ubuntu packages that Qt needs for windows (xcb) and offscreen rendering.

``make system-deps`` runs this with the package list ``QT_DEBS``. Two checks decide what is
missing, both without any apt call when everything is there:

1. the listed packages, by ``dpkg-query`` (works before pip has installed PySide6);
2. with ``--venv``, once PySide6 is installed: ``ldd`` of Qt's xcb and offscreen platform plugins,
   the xcb GL integrations and the Qt modules the app imports; every "not found" library is mapped
   to its Debian package (Debian's naming rule, with a table of the exceptions).

Missing packages are installed with apt-get (through sudo unless root). A library still missing
afterwards ends the run with a one-line message naming it. Other systems (no dpkg/apt-get) ship
these libraries with the desktop: nothing is done there.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

#: The PySide6 files whose libraries must load, relative to the PySide6 package folder.
PROBED = (
    "Qt/plugins/platforms/libqxcb.so",
    "Qt/plugins/platforms/libqoffscreen.so",
    "Qt/plugins/xcbglintegrations/*.so",
    "Qt/plugins/platforminputcontexts/libcomposeplatforminputcontextplugin.so",
    "Qt/plugins/imageformats/libqjpeg.so",
    "Qt/plugins/iconengines/libqsvgicon.so",
    "QtCore.abi3.so",
    "QtGui.abi3.so",
    "QtWidgets.abi3.so",
    "QtSvg.abi3.so",
)

#: Libraries whose package name does not follow Debian's rule (name + soversion).
PACKAGE_OF = {
    "libc.so.6": "libc6",
    "libm.so.6": "libc6",
    "libdl.so.2": "libc6",
    "libpthread.so.0": "libc6",
    "libgcc_s.so.1": "libgcc-s1",
    "libz.so.1": "zlib1g",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libbrotlidec.so.1": "libbrotli1",
    "libbrotlicommon.so.1": "libbrotli1",
    "liblz4.so.1": "liblz4-1",
    "libGLdispatch.so.0": "libglvnd0",
}

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)
_SONAME = re.compile(r"^(lib.+)\.so\.(\d+)(?:\..*)?$")


def package_for(soname: str) -> str:
    """The Debian package that ships ``soname`` (``libxcb-icccm.so.4`` → ``libxcb-icccm4``)."""
    if soname in PACKAGE_OF:
        return PACKAGE_OF[soname]
    match = _SONAME.match(soname)
    if match is None:
        raise ValueError(f"{soname} is not a versioned shared library name")
    name, version = match.group(1).lower(), match.group(2)
    return f"{name}-{version}" if name[-1].isdigit() else f"{name}{version}"


def not_found(ldd_output: str) -> list[str]:
    """The libraries that ``ldd`` could not find, in order, each once."""
    return list(dict.fromkeys(_NOT_FOUND.findall(ldd_output)))


def installed(dpkg_query_output: str, native_arch: str) -> set[str]:
    """Installed package names from ``dpkg-query -W -f='${Package} ${Architecture}
    ${db:Status-Abbrev}\\n'`` output; a ``t64`` package (Ubuntu 24.04, Debian 13) counts for its
    old name, which is what the list and the library table use."""
    names = set()
    for line in dpkg_query_output.splitlines():
        parts = line.split()
        if len(parts) < 3 or parts[1] not in (native_arch, "all") or parts[2][1:2] != "i":
            continue
        names.add(parts[0].removesuffix("t64"))
    return names


@dataclass
class Probe:
    """What the platform plugins miss: library → the files that need it."""

    missing: dict[str, list[str]] = field(default_factory=dict)

    def packages(self) -> list[str]:
        return sorted({package_for(soname) for soname in self.missing if _maps(soname)})

    def unmapped(self) -> list[str]:
        return [soname for soname in self.missing if not _maps(soname)]


def _maps(soname: str) -> bool:
    return soname in PACKAGE_OF or _SONAME.match(soname) is not None


def pyside_dir(venv: Path) -> Path | None:
    for pattern in ("lib/python3*/site-packages/PySide6", "lib64/python3*/site-packages/PySide6"):
        found = sorted(glob.glob(str(venv / pattern)))
        if found:
            return Path(found[-1])
    return None


def probe(pyside: Path) -> Probe:
    """``ldd`` every probed file; only "not found" lines count (ldd output varies otherwise)."""
    result = Probe()
    files = [Path(p) for pattern in PROBED for p in sorted(glob.glob(str(pyside / pattern)))]
    if not files:
        raise SystemExit(
            f"qt-system-deps: no Qt platform plugins under {pyside}; reinstall PySide6"
        )
    for file in files:
        run = subprocess.run(["ldd", str(file)], capture_output=True, text=True, check=False)
        for soname in not_found(run.stdout):
            result.missing.setdefault(soname, []).append(file.name)
    return result


def native_arch() -> str:
    run = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True)
    return run.stdout.strip()


def missing_packages(wanted: list[str]) -> list[str]:
    """The packages of ``wanted`` that dpkg does not have installed (one dpkg-query call)."""
    if not wanted:
        return []
    names = [n for w in wanted for n in (w, f"{w}t64")]
    fmt = "${Package} ${Architecture} ${db:Status-Abbrev}\n"
    run = subprocess.run(
        ["dpkg-query", "-W", f"-f={fmt}", *names], capture_output=True, text=True, check=False
    )  # exit status 1 for the names dpkg does not know: expected
    have = installed(run.stdout, native_arch())
    return [w for w in wanted if w not in have]


def apt_install(packages: list[str]) -> None:
    if os.geteuid() == 0:
        sudo: list[str] = []
    elif shutil.which("sudo"):
        sudo = ["sudo"]
    else:
        joined = " ".join(packages)
        raise SystemExit(f"qt-system-deps: as root, run: apt-get install {joined}")
    env = [*sudo, "env", "DEBIAN_FRONTEND=noninteractive"]
    print(f"Installing the system libraries Qt needs: {' '.join(packages)}", flush=True)
    subprocess.run([*env, "apt-get", "update", "-qq"], check=True)
    subprocess.run(
        [*env, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages], check=True
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("packages", nargs="*", help="Debian packages that must be installed")
    parser.add_argument("--venv", type=Path, help="probe the PySide6 installed in this venv")
    parser.add_argument(
        "--check", action="store_true", help="only report what is missing (exit status 1)"
    )
    args = parser.parse_args(argv)
    if sys.platform != "linux" or not (shutil.which("dpkg-query") and shutil.which("apt-get")):
        return 0

    pyside = pyside_dir(args.venv) if args.venv else None
    can_probe = pyside is not None and shutil.which("ldd") is not None
    found = probe(pyside) if can_probe else Probe()
    if found.unmapped():
        raise SystemExit(f"qt-system-deps: no package known for {', '.join(found.unmapped())}")
    missing = sorted(set(missing_packages(args.packages)) | set(found.packages()))
    if not missing:
        return 0
    if args.check:
        print(f"qt-system-deps: missing {' '.join(missing)}")
        return 1
    try:
        apt_install(missing)
    except subprocess.CalledProcessError as exc:
        raise SystemExit(
            f"qt-system-deps: apt-get failed ({exc.returncode}) for: {missing}"
        ) from None
    still = probe(pyside) if can_probe else Probe()
    if still.missing:
        lines = [f"{so} (needed by {', '.join(files)})" for so, files in still.missing.items()]
        raise SystemExit(f"qt-system-deps: still missing after install: {'; '.join(lines)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
