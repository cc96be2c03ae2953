"""Exports under hostile conditions: bad name patterns, umasks, killed runs, concurrent runs.

CLI and GUI (the export dialog and the engine worker that writes the files) are both covered.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import stylestudio
from stylestudio.cli.inputs import expand_inputs
from stylestudio.cli.main import main
from stylestudio.core import atomic
from stylestudio.core.errors import ImageSaveError
from stylestudio.core.imageio import save_image
from stylestudio.core.output_names import (
    IfExists,
    NamePattern,
    PatternError,
    Placeholder,
    ValueKind,
    publish_file,
)
from tests.conftest import dead_process_temp_name, make_tiny_style

REPO_ROOT = Path(stylestudio.__file__).resolve().parents[1]
BAD_PATTERNS = [
    "{stem}-{bogus}.png",  # unknown placeholder (was a KeyError traceback)
    "{stem.png",  # malformed (was written literally)
    "{index:99999999999}.png",  # absurd width (was written literally)
    "{index:x}.png",  # a format that is not a plain number
    "{stem!r}.png",  # conversion
    "{stem.upper}.png",  # attribute access
    "{}.png",  # positional
    "{index:{stem}}.png",  # nested
    ".tmp-{stem}.png",  # would look like an unfinished write
]
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes and signals")


def _photo(path: Path, seed: int = 0, size: tuple[int, int] = (48, 40)) -> Path:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if atomic.is_temp_name(p.name))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _run_cli(script: str, *args: str, umask: int | None = None) -> subprocess.Popen[str]:
    """Start ``python -c script args…`` (the script ends by running the CLI on sys.argv)."""
    prelude = f"import os; os.umask({umask})\n" if umask is not None else ""
    return subprocess.Popen(
        [sys.executable, "-c", prelude + textwrap.dedent(script), *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


RUN_CLI = """
import sys
from stylestudio.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


# --------------------------------------------------------------------------------------------
# 3. name patterns


@pytest.mark.parametrize("pattern", BAD_PATTERNS)
def test_cli_bad_pattern_is_a_one_line_error_before_any_work(
    builtin_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], pattern: str
) -> None:
    src = _photo(tmp_path / "cat.png")
    out = tmp_path / "out"
    code = main(["stylize", str(src), "-o", str(out / pattern), "--tile", "0"])
    err = capsys.readouterr().err
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stylestudio: error:"), err
    assert "pattern" in lines[0]
    assert not out.exists()  # nothing written, not even the folder
    assert "Style:" not in err  # refused before the style or the engine was loaded


def test_cli_pattern_specs_and_escaped_braces(builtin_dir: Path, tmp_path: Path) -> None:
    src = _photo(tmp_path / "cat.png")
    out = tmp_path / "out"
    assert main(["stylize", str(src), "-o", str(out / "{index:03d}-{stem:.2}.{ext}")]) == 0
    assert main(["stylize", str(src), "-o", str(out / "{{raw}}-{stem}.png")]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["001-ca.png", "{raw}-cat.png"]


def test_pattern_messages_name_the_problem() -> None:
    rules = (Placeholder("stem"), Placeholder("index", ValueKind.NUMBER))
    with pytest.raises(
        PatternError, match=r"^Unknown placeholder \{bogus\} .*\{stem\} or \{index\}"
    ):
        NamePattern("{stem}-{bogus}", rules, "output pattern")
    with pytest.raises(PatternError, match="malformed"):
        NamePattern("{stem", rules, "output pattern")
    with pytest.raises(PatternError, match="width 99999999999 is too large"):
        NamePattern("{index:99999999999}", rules, "output pattern")
    with pytest.raises(PatternError, match="precision 9999 is too large"):
        NamePattern("{stem:.9999}", rules, "output pattern")
    with pytest.raises(PatternError, match="fill character"):
        NamePattern("{index:/>4}", rules, "output pattern")
    with pytest.raises(PatternError, match="empty"):
        NamePattern("  ", rules, "output pattern")
    assert NamePattern("{index:04d}_{stem:>6}", rules, "x").render(stem="ab", index=3) == (
        "0003_    ab"
    )


@pytest.mark.gui
@pytest.mark.parametrize("pattern", ["{stem}-{bogus}", "{stem", "{n:99999999999}", "{n:x}"])
def test_gui_dialog_shows_an_invalid_pattern_and_refuses_to_export(
    qtbot, tmp_path: Path, pattern: str
) -> None:
    from PySide6.QtWidgets import QDialog, QDialogButtonBox

    from stylestudio.core.export import ExportSettings
    from stylestudio.gui.export_dialog import ExportDialog

    sample = tmp_path / "alpine.png"
    dialog = ExportDialog(
        None, ExportSettings(folder=tmp_path), count=1, sample_photo=sample, style_name="Ink"
    )
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    dialog.pattern.setText(pattern)  # must not raise in the preview either
    assert not ok.isEnabled() and not dialog.error.isHidden()
    assert "not valid" in dialog.error.text() and "pattern" in dialog.error.text().splitlines()[1]
    assert dialog.preview.text() == ""
    dialog.accept()  # Enter, or a script: still refused
    assert dialog.result() != QDialog.DialogCode.Accepted
    dialog.pattern.setText("{n:04d}-{stem}")
    assert ok.isEnabled() and dialog.preview.text().endswith("0001-alpine.png")


# --------------------------------------------------------------------------------------------
# GUI export through the real engine worker (its own thread, real signals)


@pytest.fixture
def gui_style(tmp_path: Path) -> Path:
    return make_tiny_style(tmp_path / "builtin", "Tiny Ink")


@pytest.fixture
def engine_client(qtbot, tmp_path: Path, gui_style: Path):
    from stylestudio.gui.worker import EngineClient, WorkerConfig

    client = EngineClient(
        WorkerConfig(builtin_dir=gui_style.parent, user_dir=tmp_path / "user", device="cpu")
    )
    with qtbot.waitSignal(client.worker.engineReady, timeout=60_000):
        client.start()
    yield client
    assert client.shutdown()


def _gui_export(qtbot, client, photos: list[Path], style: Path, **settings):
    from stylestudio.core.export import ExportSettings, StyleRef
    from stylestudio.gui.adjustments import Adjustments
    from stylestudio.gui.messages import ExportJob

    job = ExportJob(
        job_id=client.next_id(),
        photos=tuple(photos),
        style=StyleRef(style, "tiny", "Ink"),
        adjustments=Adjustments(),
        settings=ExportSettings(**settings),
    )
    with qtbot.waitSignal(client.worker.exportFinished, timeout=60_000) as finished:
        client.export(job)
    return finished.args[0]


@pytest.mark.gui
def test_gui_worker_refuses_a_bad_pattern_before_running_the_network(
    qtbot, engine_client, gui_style: Path, tmp_path: Path
) -> None:
    photos = [_photo(tmp_path / "a.png"), _photo(tmp_path / "b.png", seed=1)]
    out = tmp_path / "out"
    runs = engine_client.worker.network_runs
    summary = _gui_export(
        qtbot, engine_client, photos, gui_style, folder=out, pattern="{stem}-{bogus}"
    )
    assert [p for p, _ in summary.failed] == photos and summary.written == []
    assert all(message.startswith("Unknown placeholder {bogus}") for _, message in summary.failed)
    assert engine_client.worker.network_runs == runs
    assert not out.exists()


# --------------------------------------------------------------------------------------------
# 4. file modes: the umask's, not the temp file's 0600


@posix_only
def test_cli_outputs_get_the_umask_mode(builtin_dir: Path, tmp_path: Path) -> None:
    src = _photo(tmp_path / "cat.png")
    out = tmp_path / "out"
    target = str(out / "{stem}.jpg")
    for extra in ([], [], ["--overwrite"]):  # a fresh name, a claimed "(2)" name, a replacement
        proc = _run_cli(RUN_CLI, "stylize", str(src), "-o", target, *extra, umask=0o027)
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["cat (2).jpg", "cat.jpg"]
    assert {p.name: _mode(p) for p in out.iterdir()} == {"cat.jpg": 0o640, "cat (2).jpg": 0o640}


@posix_only
@pytest.mark.gui
def test_gui_exports_get_the_umask_mode(
    qtbot, engine_client, gui_style: Path, tmp_path: Path
) -> None:
    photo = _photo(tmp_path / "a.png")
    out = tmp_path / "out"
    expected = 0o666 & ~atomic._current_umask()
    for replace in (False, False, True):
        summary = _gui_export(
            qtbot, engine_client, [photo], gui_style, folder=out, replace_existing=replace
        )
        assert summary.failed == []
    assert sorted(p.name for p in out.iterdir()) == ["a-Ink (2).png", "a-Ink.png"]
    assert {_mode(p) for p in out.iterdir()} == {expected}


@posix_only
def test_claimed_names_keep_the_umask_mode_without_hard_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: object, dst: object) -> None:  # FAT, some network shares
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    rgb = np.full((4, 4, 3), 0.5, dtype=np.float32)
    first = save_image(tmp_path / "x.png", rgb, if_exists=IfExists.NEW_NAME)
    second = save_image(tmp_path / "x.png", rgb, if_exists=IfExists.NEW_NAME)
    assert (first.name, second.name) == ("x.png", "x (2).png")
    with pytest.raises(ImageSaveError, match="already exists"):
        save_image(tmp_path / "x.png", rgb, if_exists=IfExists.FAIL)
    assert {_mode(p) for p in (first, second)} == {0o666 & ~atomic._current_umask()}
    assert _temps(tmp_path) == []


# --------------------------------------------------------------------------------------------
# 7. killed exports: stale temp files are removed by the next export and never listed

HANG_WHILE_WRITING = """
import contextlib, sys, time
from pathlib import Path
from stylestudio.core import imageio

real_open = imageio.atomic_open

@contextlib.contextmanager
def hang(target):
    with real_open(target) as handle:
        handle.write(b"partial")
        handle.flush()
        Path(sys.argv[1]).touch()  # tell the test: the temp file exists, kill me now
        time.sleep(600)
        yield handle

imageio.atomic_open = hang
from stylestudio.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


@posix_only
def test_cli_kill_9_during_export_then_next_export_cleans_up(
    builtin_dir: Path, tmp_path: Path
) -> None:
    src = _photo(tmp_path / "in" / "cat.png")
    out = tmp_path / "out"
    ready = tmp_path / "writing"
    proc = _run_cli(HANG_WHILE_WRITING, str(ready), "stylize", str(src), "-o", f"{out}/")
    try:
        deadline = time.monotonic() + 300
        while not ready.exists():
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.communicate()
    left = _temps(out)
    assert left, "the killed run should have left its temp file"
    live = out / atomic.temp_name(".png")  # a write in progress (this process): kept
    live.write_bytes(b"")

    assert main(["stylize", str(src), "-o", f"{out}/"]) == 0

    assert _temps(out) == [live.name]
    assert [p.suffix for p in out.iterdir() if not atomic.is_temp_name(p.name)] == [".png"]


def test_cli_inputs_never_list_temp_files(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    _photo(folder / "a.png")
    stale = _photo(folder / dead_process_temp_name(".png"))
    temp_dir = folder / dead_process_temp_name()
    _photo(temp_dir / "inside.png")
    found = expand_inputs([str(folder), str(folder / "*.png"), str(folder / ".tmp-*")])
    assert [p.name for p in found.images] == ["a.png"]
    assert found.ignored == []
    named = expand_inputs([str(stale)])
    assert named.images == [] and "temporary" in named.missing[0][1]


@pytest.mark.gui
def test_gui_export_removes_stale_temps_and_keeps_live_ones(
    qtbot, engine_client, gui_style: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    stale = out / dead_process_temp_name(".png")
    stale.write_bytes(b"")
    live = out / atomic.temp_name(".png")
    live.write_bytes(b"")
    summary = _gui_export(qtbot, engine_client, [_photo(tmp_path / "a.png")], gui_style, folder=out)
    assert summary.failed == []
    assert sorted(p.name for p in out.iterdir()) == sorted([live.name, "a-Ink.png"])


@pytest.mark.gui
def test_gui_drops_skip_temp_files(tmp_path: Path) -> None:
    from stylestudio.gui.drops import collect_image_paths

    folder = tmp_path / "photos"
    good = _photo(folder / "a.png")
    stale = _photo(folder / dead_process_temp_name(".png"))
    _photo(folder / dead_process_temp_name() / "inside.png")
    collected = collect_image_paths([folder, stale])
    assert collected.images == [good] and collected.skipped == []


# --------------------------------------------------------------------------------------------
# 9. concurrent runs into one folder: each keeps its own file

# Both processes wait for each other right before each save, so their saves really race.
SAVE_IN_STEP = """
import os, sys, time
from pathlib import Path
from stylestudio.core import imageio

real_save = imageio.save_image
calls = 0

def save_in_step(*args, **kwargs):
    global calls
    calls += 1
    gate = Path(sys.argv[1]) / str(calls)
    gate.mkdir(parents=True, exist_ok=True)
    (gate / str(os.getpid())).touch()
    deadline = time.monotonic() + 120
    while len(list(gate.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.002)
    return real_save(*args, **kwargs)

imageio.save_image = save_in_step
from stylestudio.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


def _two_runs_at_once(tmp_path: Path, gate: Path, *args: str) -> list[str]:
    procs = [_run_cli(SAVE_IN_STEP, str(gate), "stylize", *args) for _ in range(2)]
    errors = []
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        errors.append(err)
    return errors


@posix_only
def test_two_concurrent_cli_runs_each_keep_their_results(builtin_dir: Path, tmp_path: Path):
    a = _photo(tmp_path / "in" / "a.png")
    b = _photo(tmp_path / "in" / "b.png", seed=1)
    out = tmp_path / "out"
    pattern = str(out / "{stem}.png")

    logs = _two_runs_at_once(tmp_path, tmp_path / "gate1", str(a), str(b), "-o", pattern)

    names = sorted(p.name for p in out.iterdir())
    assert names == ["a (2).png", "a.png", "b (2).png", "b.png"]  # 4 results, 4 files
    written = [m[1] for log in logs for m in re.finditer(r"→ (.+?) \(\d+\.\d s\)", log)]
    assert sorted(Path(p).name for p in written) == names  # each run reports its own files
    for path in out.iterdir():
        with Image.open(path) as image:
            image.load()  # complete, decodable

    # With --overwrite, replacing is what was asked for: still one file per name, no leftovers.
    _two_runs_at_once(tmp_path, tmp_path / "gate2", str(a), "-o", pattern, "--overwrite")
    assert sorted(p.name for p in out.iterdir()) == names


def test_publish_file_claims_without_replacing(tmp_path: Path) -> None:
    target = tmp_path / "photo-ink.jpg"
    target.write_bytes(b"theirs")

    def finished(data: bytes) -> Path:
        tmp = tmp_path / atomic.temp_name(".jpg")
        tmp.write_bytes(data)
        return tmp

    assert publish_file(finished(b"mine"), target, IfExists.NEW_NAME).name == "photo-ink (2).jpg"
    with pytest.raises(ImageSaveError, match="already exists"):
        publish_file(finished(b"again"), target, IfExists.FAIL)
    assert target.read_bytes() == b"theirs" and _temps(tmp_path) == []
    assert publish_file(finished(b"replaced"), target, IfExists.REPLACE) == target
    assert target.read_bytes() == b"replaced"
    assert (tmp_path / "photo-ink (2).jpg").read_bytes() == b"mine"
