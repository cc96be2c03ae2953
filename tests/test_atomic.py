"""Atomic writes: normal file modes, and cleanup that removes only provably abandoned temps."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from stylestudio.core import atomic
from tests.conftest import dead_process_temp_name


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_written_files_get_the_umask_mode_not_0600(tmp_path: Path) -> None:
    target = tmp_path / "out.png"
    atomic.atomic_write_bytes(target, b"data")
    mode = stat.S_IMODE(target.stat().st_mode)
    assert mode == 0o666 & ~atomic._current_umask()
    assert mode & 0o044  # group/others can read under the usual umask 022


def test_temp_names_record_host_and_pid() -> None:
    name = atomic.temp_name(".png")
    assert atomic.is_temp_name(name)
    assert f"-{os.getpid()}-" in name and name.endswith(".png")
    assert not atomic.is_stale_temp(name)  # our own process is alive


def test_clean_removes_only_temps_of_dead_processes(tmp_path: Path) -> None:
    stale_file = tmp_path / dead_process_temp_name(".jpg")
    stale_file.write_bytes(b"")
    stale_dir = tmp_path / dead_process_temp_name()
    stale_dir.mkdir()
    (stale_dir / "weights.safetensors").write_bytes(b"half")
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live_name = f"{atomic.TEMP_PREFIX}{atomic._HOST_TAG}-{live.pid}-{'a' * 32}.png"
        (tmp_path / live_name).write_bytes(b"in progress")
        mine = tmp_path / atomic.temp_name(".png")
        mine.write_bytes(b"")
        foreign_host = tmp_path / f"{atomic.TEMP_PREFIX}00000000-1-{'b' * 32}"
        foreign_host.write_bytes(b"")
        unknown = tmp_path / ".tmp-not-ours.txt"  # another program's, or an old format
        unknown.write_bytes(b"")
        user_file = tmp_path / "photo.jpg"
        user_file.write_bytes(b"keep")

        atomic.clean_stale_temps(tmp_path)

        left = sorted(p.name for p in tmp_path.iterdir())
        assert stale_file.name not in left and stale_dir.name not in left
        for kept in (live_name, mine.name, foreign_host.name, unknown.name, "photo.jpg"):
            assert kept in left
    finally:
        live.kill()
        live.wait()
