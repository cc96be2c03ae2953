"""The style library under hostile conditions: several processes at once, half-published
folders, and styles whose weights are NaN or infinite."""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import multiprocessing
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import torch
from PIL import Image

import stylestudio
from stylestudio.core import stylepack
from stylestudio.core.errors import StyleFormatError, StyleLibraryError
from stylestudio.core.interprocess_lock import InterProcessLock, LockConfig, LockTimeout, lock_for
from stylestudio.core.library import SET_ASIDE_PREFIX, LibraryConfig, StyleLibrary
from stylestudio.core.models.generator import ARCHITECTURE_NAME, Generator, GeneratorConfig

TINY = GeneratorConfig(base_channels=4, residual_blocks=1)
REPO_ROOT = Path(stylestudio.__file__).resolve().parents[1]

TRIALS = 10
WORKERS = 3


def _visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".tmp-"))


def _cli(*args: str) -> tuple[int, str, str]:
    """Run the CLI in this process; (exit code, stdout, stderr)."""
    from stylestudio.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


class _Collect(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(f"{record.levelname} {record.name}: {record.getMessage()}")


def _collect_warnings(sink: list[str]) -> None:
    """Route this process's warnings into ``sink`` (the CLI's basicConfig then adds nothing)."""
    logging.getLogger().addHandler(_Collect(sink))


# ------------------------------------------------------------------------ several processes


def _worker(index: int, data_dirs: list[str], packs: list[str], barrier, results) -> None:
    """One 'app window' or CLI: per trial, import every pack and list the library in a loop."""
    problems: list[str] = []
    _collect_warnings(problems)
    for trial, data_dir in enumerate(data_dirs):
        os.environ["STYLESTUDIO_DATA_DIR"] = data_dir
        os.environ["STYLESTUDIO_RESOURCES_DIR"] = str(Path(data_dir).parent / "no-resources")
        barrier.wait(timeout=120)
        order = packs if (index + trial) % 2 == 0 else packs[::-1]
        for pack in order:
            for command in (("styles", "list"), ("styles", "import", pack), ("styles", "list")):
                code, _, err = _cli(*command)
                if code != 0 or err:
                    problems.append(f"trial {trial} worker {index} {command}: {code} {err!r}")
    results.put(problems)


def test_concurrent_imports_and_listings_from_several_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    library = StyleLibrary(scratch, tmp_path / "none")
    packs = []
    for seed, name in enumerate(("Alpha", "Beta")):
        torch.manual_seed(seed)
        state = Generator(TINY).state_dict()
        record = library.add(name, state, architecture=ARCHITECTURE_NAME, params=TINY.to_dict())
        packs.append(str(library.export_pack(record.id, tmp_path)))
    pack_ids = sorted(Path(p).stem for p in packs)
    data_dirs = [str(tmp_path / f"trial-{n}" / "data") for n in range(TRIALS)]

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WORKERS)
    results = context.Queue()
    workers = [
        context.Process(target=_worker, args=(i, data_dirs, packs, barrier, results))
        for i in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    problems = [line for _ in workers for line in results.get(timeout=540)]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0

    assert problems == [], "\n".join(problems)
    for data_dir in data_dirs:
        styles = Path(data_dir) / "styles"
        assert _visible(styles) == pack_ids  # exactly one style per pack
        assert _temps(styles) == []
        for style_id in pack_ids:
            assert stylepack.read_style(styles / style_id)[0].id == style_id
    # And the library is still fully usable afterwards.
    monkeypatch.setenv("STYLESTUDIO_DATA_DIR", data_dirs[0])
    monkeypatch.setenv("STYLESTUDIO_RESOURCES_DIR", str(tmp_path / "no-resources"))
    for style_id in pack_ids:
        assert _cli("styles", "remove", style_id)[0] == 0
    assert _visible(Path(data_dirs[0]) / "styles") == []


def _add_worker(index: int, user_dir: str, rounds: int, barrier, results) -> None:
    """Add styles that all want the same name, rename some and list, all at once; then all try
    to delete every style at once."""
    from stylestudio.core.errors import StyleNotFoundError

    problems: list[str] = []
    _collect_warnings(problems)
    library = StyleLibrary(Path(user_dir), Path(user_dir) / "no-builtins")
    barrier.wait(timeout=120)
    mine = []
    for n in range(rounds):
        try:
            torch.manual_seed(100 * index + n)
            state = Generator(TINY).state_dict()
            record = library.add(
                "Same", state, architecture=ARCHITECTURE_NAME, params=TINY.to_dict()
            )
            mine.append(record.id)
            if n % 2:
                library.rename(record.id, f"Renamed {index}-{n}")
            library.list()
        except Exception as exc:
            problems.append(f"worker {index} round {n}: {exc!r}")
    barrier.wait(timeout=120)
    snapshot = [(r.id, r.name) for r in library.list()]
    barrier.wait(timeout=120)  # everyone has seen the full library; now delete it all at once
    ids = sorted(i for i, _ in snapshot)
    deleted = []
    for style_id in ids[index:] + ids[:index]:
        try:
            library.delete(style_id)
            deleted.append(style_id)
        except StyleNotFoundError:
            pass  # another process was first: fine
        except Exception as exc:
            problems.append(f"worker {index} deleting {style_id}: {exc!r}")
        library.list()
    results.put((mine, snapshot, deleted, problems))


def test_concurrent_adds_renames_and_deletes_keep_names_unique(tmp_path: Path) -> None:
    user_dir = tmp_path / "styles"
    rounds = 4
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WORKERS)
    results = context.Queue()
    workers = [
        context.Process(target=_add_worker, args=(i, str(user_dir), rounds, barrier, results))
        for i in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=540) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    problems = [line for *_, lines in outcomes for line in lines]
    assert problems == [], "\n".join(problems)

    added = sorted(i for mine, *_ in outcomes for i in mine)
    assert len(added) == WORKERS * rounds
    snapshot = outcomes[0][1]
    assert all(outcome[1] == snapshot for outcome in outcomes)
    assert sorted(i for i, _ in snapshot) == added
    names = [name.casefold() for _, name in snapshot]
    assert len(set(names)) == len(names)  # "Same", "Same (2)", …: never two alike
    assert sum(name.startswith("renamed") for name in names) == WORKERS * (rounds // 2)
    # Each style was deleted exactly once, by one of the processes.
    assert sorted(i for *_, deleted, _ in outcomes for i in deleted) == added
    assert StyleLibrary(user_dir, tmp_path / "none").list() == []
    assert _visible(user_dir) == [] and _temps(user_dir) == []


def _spawn(script: str, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        env=env,
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(path: Path, child: subprocess.Popen[str], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if child.poll() is not None:
            raise AssertionError(f"the child ended early: {child.communicate()}")
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


#: Imports a pack, but pauses between staging and publishing until the file ``go`` appears.
SLOW_IMPORT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from stylestudio.core import atomic
    from stylestudio.core.library import StyleLibrary

    user_dir, pack, signals = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    real_publish = atomic.publish_dir

    def paused_publish(tmp_dir, target):
        (signals / "staged").write_text(tmp_dir.name)
        while not (signals / "go").exists():
            time.sleep(0.02)
        real_publish(tmp_dir, target)

    atomic.publish_dir = paused_publish
    record = StyleLibrary(user_dir, user_dir / "no-builtins").import_pack(pack)
    print(record.id)
    """
)


def test_listing_and_importing_elsewhere_never_touch_an_import_in_progress(
    tmp_path: Path,
) -> None:
    source = StyleLibrary(tmp_path / "source", tmp_path / "none")
    torch.manual_seed(0)
    record = source.add(
        "Patient",
        Generator(TINY).state_dict(),
        architecture=ARCHITECTURE_NAME,
        params=TINY.to_dict(),
    )
    pack = source.export_pack(record.id, tmp_path)
    user_dir, signals = tmp_path / "styles", tmp_path / "signals"
    signals.mkdir()
    child = _spawn(SLOW_IMPORT, str(user_dir), str(pack), str(signals))
    try:
        _wait_for(signals / "staged", child)
        staging = user_dir / (signals / "staged").read_text()
        library = StyleLibrary(user_dir, tmp_path / "none", LibraryConfig(lock=LockConfig(0.3)))
        for _ in range(5):  # the other window lists in a loop: it neither waits nor deletes
            assert library.list() == []
        assert staging.is_dir() and sorted(p.name for p in staging.iterdir()) == [
            "style.json",
            "weights.safetensors",
        ]
        with pytest.raises(StyleLibraryError, match="busy"):  # changes wait for the import
            library.import_pack(pack)
        (signals / "go").write_text("")
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0, err
    assert out.strip() == record.id
    assert [r.id for r in library.list()] == [record.id]
    assert library.import_pack(pack).id == record.id  # already installed, once
    assert _visible(user_dir) == [record.id] and _temps(user_dir) == []


# ------------------------------------------------------------------------------ the lock


HOLD_LOCK = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from stylestudio.core.interprocess_lock import lock_for

    lock = lock_for(Path(sys.argv[1]))
    lock.acquire()
    print("locked", flush=True)
    if sys.argv[2] == "die":
        os._exit(0)  # never releases: the OS must
    sys.stdin.read()
    lock.release()
    """
)


def test_lock_excludes_other_processes_until_released(tmp_path: Path) -> None:
    path = tmp_path / "lib" / ".lock"
    child = _spawn(HOLD_LOCK, str(path), "hold")
    try:
        assert child.stdout.readline().strip() == "locked"
        lock = InterProcessLock(path, LockConfig(timeout_s=0.2))
        started = time.monotonic()
        with pytest.raises(LockTimeout):
            lock.acquire()
        assert time.monotonic() - started >= 0.2
        child.communicate(input="", timeout=60)  # the holder releases and exits
        lock.acquire(timeout_s=30)
        lock.release()
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()


def test_lock_of_a_process_that_died_is_free(tmp_path: Path) -> None:
    path = tmp_path / ".lock"
    child = _spawn(HOLD_LOCK, str(path), "die")
    out, err = child.communicate(timeout=120)
    assert out.strip() == "locked", err
    lock = InterProcessLock(path, LockConfig(timeout_s=0))
    lock.acquire()
    lock.release()
    assert path.exists()  # the lock file stays; only the OS lock is dropped


def test_lock_is_reentrant_per_thread_and_exclusive_between_threads(tmp_path: Path) -> None:
    lock = lock_for(tmp_path / ".lock")
    assert lock_for(tmp_path / "." / ".lock") is lock  # one object per file in a process
    seen: list[str] = []
    with lock, lock:  # nested use in one thread does not deadlock
        thread = threading.Thread(
            target=lambda: (lock.acquire(), seen.append("in"), lock.release())
        )
        thread.start()
        time.sleep(0.2)
        assert seen == []  # the other thread waits
        other = InterProcessLock(tmp_path / ".lock", LockConfig(timeout_s=0))
        with pytest.raises(LockTimeout):
            other.acquire()  # a second handle (like another process) is excluded too
    thread.join(timeout=30)
    assert seen == ["in"]
    with pytest.raises(RuntimeError):
        lock.release()


def test_unwritable_library_gives_a_clear_message(tmp_path: Path) -> None:
    blocker = tmp_path / "styles"
    blocker.write_text("a file where the library folder should be")
    library = StyleLibrary(blocker, tmp_path / "none")
    with pytest.raises(StyleLibraryError, match=r"Could not write|Permission denied"):
        library.rename("anything", "New")
    assert blocker.read_text().startswith("a file")


# ---------------------------------------------------------------------------------- healing


def _pack(tmp_path: Path, name: str = "Healer", seed: int = 0) -> tuple[Path, str]:
    source = StyleLibrary(tmp_path / "source", tmp_path / "none")
    torch.manual_seed(seed)
    record = source.add(
        name,
        Generator(TINY).state_dict(),
        architecture=ARCHITECTURE_NAME,
        params=TINY.to_dict(),
        thumbnail=Image.new("RGB", (8, 8), "red"),
    )
    return source.export_pack(record.id, tmp_path), record.id


def _age(entry: Path, seconds: float = 3600) -> None:
    then = time.time() - seconds
    for path in [*entry.rglob("*"), entry]:
        os.utime(path, (then, then), follow_symlinks=False)


def test_half_published_folder_heals_on_reimport(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    pack, style_id = _pack(tmp_path)
    monkeypatch.setenv("STYLESTUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STYLESTUDIO_RESOURCES_DIR", str(tmp_path / "no-resources"))
    user_dir = tmp_path / "data" / "styles"
    half = user_dir / style_id  # what the old race left: a folder holding only the thumbnail
    half.mkdir(parents=True)
    (half / "thumbnail.png").write_bytes(b"\x89PNG thumbnail only")
    _age(half)
    assert _cli("styles", "list")[1].strip() == "No styles installed."  # invisible to the user

    with caplog.at_level(logging.WARNING, logger="stylestudio.core.library"):
        code, out, err = _cli("styles", "import", str(pack))
    assert code == 0, err
    assert style_id in out
    assert "Removed the incomplete style folder" in caplog.text
    assert stylepack.read_style(half)[0].id == style_id  # a complete style in its place
    assert _visible(user_dir) == [style_id] and not [
        p for p in user_dir.iterdir() if p.name.startswith(SET_ASIDE_PREFIX)
    ]
    assert _cli("styles", "remove", style_id)[0] == 0
    assert _visible(user_dir) == []
    assert _cli("styles", "import", str(pack))[0] == 0  # and again, as often as wanted


def test_damaged_folder_holding_weights_is_set_aside_not_deleted(tmp_path: Path) -> None:
    pack, style_id = _pack(tmp_path)
    user_dir = tmp_path / "styles"
    blocker = user_dir / style_id
    blocker.mkdir(parents=True)
    (blocker / "weights.safetensors").write_bytes(b"someone's weights")
    (blocker / "style.json").write_text("{half a manifest")
    (blocker / "notes.txt").write_text("mine")
    _age(blocker)
    before = {p.name: p.read_bytes() for p in blocker.iterdir()}

    library = StyleLibrary(user_dir, tmp_path / "none")
    assert library.import_pack(pack).id == style_id
    aside = [p for p in user_dir.iterdir() if p.name.startswith(SET_ASIDE_PREFIX + style_id)]
    assert len(aside) == 1
    assert {p.name: p.read_bytes() for p in aside[0].iterdir()} == before  # nothing lost
    assert [r.id for r in library.list()] == [style_id]


def test_installed_style_with_damaged_weights_is_replaced_by_reimport(tmp_path: Path) -> None:
    pack, style_id = _pack(tmp_path)
    library = StyleLibrary(tmp_path / "styles", tmp_path / "none")
    installed = library.import_pack(pack)
    weights = installed.location / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:-7])  # truncated by a sync tool, say
    _age(installed.location)
    with pytest.raises(StyleFormatError):
        stylepack.read_style(installed.location)

    again = library.import_pack(pack)
    assert again.id == style_id and again.name == installed.name  # not "Healer (2)"
    stylepack.read_style(again.location)
    assert [r.id for r in library.list()] == [style_id]
    aside = [p for p in library.user_dir.iterdir() if p.name.startswith(SET_ASIDE_PREFIX)]
    assert len(aside) == 1 and len((aside[0] / "weights.safetensors").read_bytes()) > 0


def test_folder_changed_moments_ago_is_left_alone(tmp_path: Path) -> None:
    pack, style_id = _pack(tmp_path)
    user_dir = tmp_path / "styles"
    copying = user_dir / style_id  # perhaps a file manager is copying it in right now
    copying.mkdir(parents=True)
    (copying / "thumbnail.png").write_bytes(b"first file copied")
    library = StyleLibrary(user_dir, tmp_path / "none")
    with pytest.raises(StyleLibraryError, match="changed moments ago"):
        library.import_pack(pack)
    assert sorted(p.name for p in copying.iterdir()) == ["thumbnail.png"]
    # Once it has settled (here: at once), the import heals it.
    settled = StyleLibrary(user_dir, tmp_path / "none", LibraryConfig(settle_s=0))
    assert settled.import_pack(pack).id == style_id


@pytest.mark.skipif(os.name != "posix", reason="symbolic links need privileges on Windows")
def test_link_in_the_way_is_set_aside_and_its_target_untouched(tmp_path: Path) -> None:
    pack, style_id = _pack(tmp_path)
    user_dir = tmp_path / "styles"
    user_dir.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "thumbnail.png").write_bytes(b"not yours to delete")
    (user_dir / style_id).symlink_to(elsewhere, target_is_directory=True)
    _age(user_dir / style_id)

    library = StyleLibrary(user_dir, tmp_path / "none", LibraryConfig(settle_s=0))
    record = library.import_pack(pack)
    assert not record.location.is_symlink() and stylepack.read_style(record.location)
    assert (elsewhere / "thumbnail.png").read_bytes() == b"not yours to delete"
    aside = [p for p in user_dir.iterdir() if p.name.startswith(SET_ASIDE_PREFIX)]
    assert len(aside) == 1 and aside[0].is_symlink()


# ------------------------------------------------------------------------ NaN and infinity


def _raw_style(parent: Path, name: str, poison: float | None, style_id: str | None = None) -> Path:
    """A style folder written without StyleStudio's checks, optionally with one bad value."""
    import safetensors.torch

    torch.manual_seed(0)
    state = {k: v.clone().contiguous() for k, v in Generator(TINY).state_dict().items()}
    if poison is not None:
        state["head.1.weight"].view(-1)[:3] = poison
    data = safetensors.torch.save(state)
    manifest = stylepack.StyleManifest(
        id=style_id or stylepack.new_style_id(name),
        name=name,
        version=1,
        architecture=ARCHITECTURE_NAME,
        params=TINY.to_dict(),
        created=stylepack.utc_now_iso(),
        weights_sha256=hashlib.sha256(data).hexdigest(),
    )
    folder = parent / manifest.id
    folder.mkdir(parents=True)
    (folder / "style.json").write_text(manifest.to_json())
    (folder / "weights.safetensors").write_bytes(data)
    return folder


@pytest.mark.parametrize(
    ("poison", "wording"),
    [(float("nan"), "3 NaN values"), (float("inf"), "3 infinite values"), (-float("inf"), "3 inf")],
)
def test_import_refuses_non_finite_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, poison: float, wording: str
) -> None:
    folder = _raw_style(tmp_path / "made", "Poisoned", poison)
    pack = stylepack.write_style_pack(
        stylepack.read_style_files(folder), tmp_path / "poisoned.stylepack"
    )
    library = StyleLibrary(tmp_path / "styles", tmp_path / "none")
    for source in (pack, folder):
        with pytest.raises(StyleFormatError) as info:
            library.import_pack(source)
        message = str(info.value)
        assert "'Poisoned'" in message and "'head.1.weight'" in message and wording in message
        assert "\n" not in message
    assert not (tmp_path / "styles").exists() or _visible(tmp_path / "styles") == []

    monkeypatch.setenv("STYLESTUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STYLESTUDIO_RESOURCES_DIR", str(tmp_path / "no-resources"))
    code, _, err = _cli("styles", "import", str(pack))
    assert (code == 1 and "'head.1.weight'" in err and "NaN" in err) or "infinite" in err


def test_non_finite_user_and_builtin_styles_are_refused_at_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resources = tmp_path / "resources"
    _raw_style(resources / "styles", "Grey Builtin", float("nan"), style_id="grey-builtin")
    monkeypatch.setenv("STYLESTUDIO_RESOURCES_DIR", str(resources))
    monkeypatch.setenv("STYLESTUDIO_DATA_DIR", str(tmp_path / "data"))
    user = _raw_style(tmp_path / "data" / "styles", "Grey User", float("inf"), style_id="grey-user")
    photo = tmp_path / "photo.png"
    Image.new("RGB", (24, 16), "blue").save(photo)

    for style_id, name in (("grey-builtin", "Grey Builtin"), ("grey-user", "Grey User")):
        out = tmp_path / f"{style_id}.png"
        code, _, err = _cli("stylize", str(photo), "-s", style_id, "-o", str(out), "--tile", "0")
        assert code == 1, err  # not 0 with a flat grey image
        assert f"'{name}'" in err and "'head.1.weight'" in err
        assert not out.exists()
    with pytest.raises(StyleFormatError, match="infinite"):
        stylepack.load_style_model(user)


def test_adding_non_finite_weights_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    state = {k: v.clone() for k, v in Generator(TINY).state_dict().items()}
    state["head.1.bias"][0] = float("nan")
    library = StyleLibrary(tmp_path / "styles", tmp_path / "none")
    with pytest.raises(StyleFormatError, match=r"'Diverged'.*'head\.1\.bias'.*1 NaN value;"):
        library.add("Diverged", state, architecture=ARCHITECTURE_NAME, params=TINY.to_dict())
    assert _visible(tmp_path / "styles") == [] and _temps(tmp_path / "styles") == []
