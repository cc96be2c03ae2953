"""The style library: listing, lookup, import/export, rename, delete, add, crash consistency."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
import torch
from PIL import Image

import stylestudio
from stylestudio.core import stylepack
from stylestudio.core.errors import StyleFormatError, StyleLibraryError, StyleNotFoundError
from stylestudio.core.library import LOCK_FILE, StyleLibrary, StyleRecord
from stylestudio.core.models.generator import ARCHITECTURE_NAME, Generator, GeneratorConfig
from tests.conftest import dead_process_temp_name

TINY = GeneratorConfig(base_channels=4, residual_blocks=1)
REPO_ROOT = Path(stylestudio.__file__).resolve().parents[1]


def tiny_state(seed: int = 0) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    return {k: v.clone() for k, v in Generator(TINY).state_dict().items()}


def add(library: StyleLibrary, name: str, seed: int = 0, **kwargs: object) -> StyleRecord:
    return library.add(
        name, tiny_state(seed), architecture=ARCHITECTURE_NAME, params=TINY.to_dict(), **kwargs
    )


def entries(folder: Path) -> list[str]:
    """What is in ``folder`` apart from the library's lock file."""
    return sorted(p.name for p in folder.iterdir() if p.name != LOCK_FILE)


def temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".tmp-"))


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """User data under tmp_path/data; built-ins (one style) under tmp_path/resources/styles."""
    monkeypatch.setenv("STYLESTUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STYLESTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("STYLESTUDIO_RESOURCES_DIR", str(tmp_path / "resources"))
    builtin = tmp_path / "resources" / "styles"
    manifest = stylepack.StyleManifest(
        id="classic",
        name="Classic",
        version=1,
        architecture=ARCHITECTURE_NAME,
        params=TINY.to_dict(),
        created=stylepack.utc_now_iso(),
        weights_sha256="",
    )
    stylepack.write_style_folder(builtin, manifest, tiny_state(99), Image.new("RGB", (8, 8)))
    return {"user": tmp_path / "data" / "styles", "builtin": builtin, "tmp": tmp_path}


def test_defaults_come_from_paths(dirs: dict[str, Path]) -> None:
    library = StyleLibrary()
    assert library.user_dir == dirs["user"]
    assert library.builtin_dir == dirs["builtin"]


def test_empty_library_without_builtin_dir(tmp_path: Path) -> None:
    library = StyleLibrary(tmp_path / "user", tmp_path / "missing")
    assert library.list() == []
    with pytest.raises(StyleNotFoundError):
        library.get("anything")


def test_add_list_and_get(dirs: dict[str, Path]) -> None:
    library = StyleLibrary()
    zebra = add(library, "Zebra", thumbnail=Image.new("RGB", (40, 20)), training={"steps": 7})
    apple = add(library, "apple", seed=1, license="CC0", description="Red.")
    assert zebra.id.startswith("zebra-") and stylepack.ID_PATTERN.fullmatch(zebra.id)
    assert zebra.location == dirs["user"] / zebra.id and not zebra.builtin
    assert zebra.thumbnail == zebra.location / "thumbnail.png" and apple.thumbnail is None

    records = library.list()
    assert [r.name for r in records] == ["Classic", "apple", "Zebra"]
    assert [r.builtin for r in records] == [True, False, False]
    assert records[0].thumbnail is not None

    assert library.get(zebra.id) == zebra
    assert library.get("ZEBRA") == zebra
    assert library.get("  Apple ").manifest.license == "CC0"
    with pytest.raises(StyleNotFoundError, match="'mango'"):
        library.get("mango")

    manifest, tensors = stylepack.read_style(zebra.location)
    assert manifest.training == {"steps": 7} and manifest.version == 1
    assert torch.equal(tensors["head.1.weight"], tiny_state(0)["head.1.weight"])
    assert temps(dirs["user"]) == []


def test_add_duplicate_name_and_ambiguous_lookup(dirs: dict[str, Path]) -> None:
    library = StyleLibrary()
    first = add(library, "Dup")
    second = add(library, "dup", seed=1)
    assert second.name == "dup (2)" and second.id != first.id
    library.rename(second.id, "DUP")
    with pytest.raises(StyleLibraryError) as info:
        library.get("dup")
    assert first.id in str(info.value) and second.id in str(info.value)
    assert library.get(second.id).name == "DUP"


def test_export_import_round_trip_and_dedupe(dirs: dict[str, Path]) -> None:
    source = StyleLibrary()
    record = add(source, "Traveller", thumbnail=Image.new("RGB", (16, 16), "green"))
    pack = source.export_pack(record.id, dirs["tmp"])
    assert pack == dirs["tmp"] / f"{record.id}.stylepack"
    assert source.export_pack(record.id, dirs["tmp"] / "again").name == "again.stylepack"
    assert (dirs["tmp"] / "again.stylepack").read_bytes() == pack.read_bytes()

    target = StyleLibrary(dirs["tmp"] / "other-user", dirs["builtin"])
    imported = target.import_pack(pack)
    assert (imported.id, imported.name) == (record.id, "Traveller")
    assert imported.thumbnail is not None
    assert imported.manifest == record.manifest
    original = (record.location / "weights.safetensors").read_bytes()
    assert (imported.location / "weights.safetensors").read_bytes() == original

    again = target.import_pack(pack)  # already installed
    assert again == imported
    assert entries(dirs["tmp"] / "other-user") == [record.id]


def test_import_id_collision_with_different_weights(dirs: dict[str, Path]) -> None:
    library = StyleLibrary()
    mine = add(library, "Same")
    scratch = dirs["tmp"] / "scratch"
    stranger = stylepack.write_style_folder(scratch, mine.manifest, tiny_state(5), None)
    pack = stylepack.write_style_pack(
        stylepack.read_style_files(stranger), dirs["tmp"] / "s.stylepack"
    )
    imported = library.import_pack(pack)
    assert imported.id != mine.id and imported.name == "Same (2)"
    assert imported.manifest.weights_sha256 != mine.manifest.weights_sha256
    assert library.get(mine.id).manifest == mine.manifest  # the original is untouched
    assert stylepack.read_style(mine.location)[0] == mine.manifest
    assert stylepack.read_style(imported.location)[0] == imported.manifest
    assert len(library.list()) == 3


def test_invalid_pack_import_changes_nothing(dirs: dict[str, Path]) -> None:
    library = StyleLibrary()
    add(library, "Keep")
    before = sorted(p.name for p in dirs["user"].iterdir())
    bad = dirs["tmp"] / "bad.stylepack"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("style.json", "{}")
        archive.writestr("weights.safetensors", b"")
        archive.writestr("../escape.txt", b"boo")
    with pytest.raises(StyleFormatError, match="outside the pack"):
        library.import_pack(bad)
    assert sorted(p.name for p in dirs["user"].iterdir()) == before
    assert not (dirs["tmp"] / "data" / "escape.txt").exists()


def test_rename_persists_and_invalidates_cache(dirs: dict[str, Path]) -> None:
    library = StyleLibrary()
    record = add(library, "Before")
    library.list()
    renamed = library.rename(record.id, "  After  ")
    assert (renamed.id, renamed.name) == (record.id, "After")
    assert [r.name for r in library.list()] == ["Classic", "After"]
    assert StyleLibrary().get(record.id).name == "After"
    assert json.loads((record.location / "style.json").read_text())["name"] == "After"
    # The weights are untouched, so the style still loads.
    assert stylepack.read_style(record.location)[0].name == "After"
    assert temps(record.location) == []
    with pytest.raises(StyleLibraryError, match="empty"):
        library.rename(record.id, "   ")
    with pytest.raises(StyleNotFoundError):
        library.rename("no-such-style", "X")


def test_list_caches_manifests_but_sees_external_changes(
    dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    library = StyleLibrary()
    record = add(library, "Cached")
    calls: list[Path] = []
    real = stylepack.read_folder_manifest

    def counting(folder: Path) -> stylepack.StyleManifest:
        calls.append(Path(folder))
        return real(folder)

    monkeypatch.setattr(stylepack, "read_folder_manifest", counting)
    library.list()
    first = len(calls)
    library.list()
    library.list()
    assert len(calls) == first  # nothing re-read
    StyleLibrary().rename(record.id, "Changed elsewhere")
    calls.clear()
    assert library.get(record.id).name == "Changed elsewhere"
    assert calls == [record.location]  # only the changed folder was re-read


def test_delete(dirs: dict[str, Path]) -> None:
    library = StyleLibrary()
    gone = add(library, "Gone")
    kept = add(library, "Kept", seed=1)
    library.delete(gone.id)
    assert not gone.location.exists()
    assert [r.id for r in library.list()] == ["classic", kept.id]
    assert temps(dirs["user"]) == []
    with pytest.raises(StyleNotFoundError):
        library.delete(gone.id)


def test_builtin_styles_are_read_only(dirs: dict[str, Path]) -> None:
    library = StyleLibrary()
    snapshot = {p.name: p.read_bytes() for p in (dirs["builtin"] / "classic").iterdir()}
    with pytest.raises(StyleLibraryError, match="built-in style 'Classic' cannot be deleted"):
        library.delete("classic")
    with pytest.raises(StyleLibraryError, match="built-in style 'Classic' cannot be renamed"):
        library.rename("classic", "Mine now")
    assert {p.name: p.read_bytes() for p in (dirs["builtin"] / "classic").iterdir()} == snapshot
    assert library.get("classic").builtin
    # Built-ins can be exported, and importing the export is recognised as already installed.
    pack = library.export_pack("classic", dirs["tmp"] / "classic")
    assert library.import_pack(pack).builtin
    assert not dirs["user"].exists() or entries(dirs["user"]) == []


def test_invalid_folders_are_skipped_with_a_warning(
    dirs: dict[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    library = StyleLibrary()
    good = add(library, "Good")
    user = dirs["user"]
    (user / "broken").mkdir()
    (user / "broken" / "style.json").write_text("{not json")
    (user / "broken" / "weights.safetensors").write_bytes(b"")
    (user / "empty").mkdir()
    mismatch = user / "mismatch"
    mismatch.mkdir()
    for item in good.location.iterdir():
        (mismatch / item.name).write_bytes(item.read_bytes())
    (user / "stray.txt").write_text("hello")
    leftover = user / dead_process_temp_name()
    leftover.mkdir()
    (leftover / "weights.safetensors").write_bytes(b"half")
    (user / dead_process_temp_name(".json")).write_text("{")

    with caplog.at_level(logging.WARNING, logger="stylestudio.core.library"):
        records = library.list()
    assert [r.name for r in records] == ["Classic", "Good"]
    text = caplog.text
    assert "broken" in text and "not valid JSON" in text
    assert "empty" in text and "has no style.json" in text
    assert "mismatch" in text and "holds a style with the id" in text
    assert temps(user) == []
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="stylestudio.core.library"):
        library.list()
    assert caplog.text == ""  # each problem is reported once, not on every list()


def test_export_refuses_damaged_style(dirs: dict[str, Path]) -> None:
    library = StyleLibrary()
    record = add(library, "Damaged")
    (record.location / "weights.safetensors").write_bytes(b"\0" * 64)
    with pytest.raises(StyleFormatError, match="checksum"):
        library.export_pack(record.id, dirs["tmp"])
    assert not (dirs["tmp"] / f"{record.id}.stylepack").exists()


# ------------------------------------------------------------------------------ crash safety

CHILD = textwrap.dedent(
    """
    import contextlib, os, sys
    from pathlib import Path
    from stylestudio.core import atomic
    from stylestudio.core.library import StyleLibrary

    mode, arg = sys.argv[1], sys.argv[2]
    library = StyleLibrary()

    if mode == "import":  # die after the temp folder is complete, before the rename
        def crash_publish(tmp_dir, target):
            os._exit(1)
        atomic.publish_dir = crash_publish
        library.import_pack(Path(arg))
    elif mode == "rename":  # die after writing half of the new style.json
        real_open = atomic.atomic_open

        @contextlib.contextmanager
        def half_open(target):
            with real_open(target) as handle:
                class Half:
                    def write(self, data):
                        handle.write(data[: len(data) // 2])
                        handle.flush()
                        os._exit(1)
                yield Half()

        atomic.atomic_open = half_open
        library.rename(arg, "Half Written Name")
    elif mode == "delete":  # die after the folder was renamed away, before its removal
        def crash_rmtree(*args, **kwargs):
            os._exit(1)
        atomic.shutil.rmtree = crash_rmtree
        library.delete(arg)
    print("survived")
    sys.exit(3)
    """
)


def run_child(mode: str, arg: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)  # includes the STYLESTUDIO_* variables set by the fixture
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-c", CHILD, mode, arg],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_consistent(library: StyleLibrary) -> list[StyleRecord]:
    records = library.list()
    for record in records:
        manifest, _ = stylepack.read_style(record.location)
        assert manifest == record.manifest
        if not record.builtin:
            assert temps(record.location) == []
    assert temps(library.user_dir) == []
    return records


def test_crash_during_import_leaves_old_state(dirs: dict[str, Path]) -> None:
    library = StyleLibrary()
    old = add(library, "Old")
    other = StyleLibrary(dirs["tmp"] / "elsewhere", dirs["tmp"] / "none")
    pack = other.export_pack(add(other, "Newcomer", seed=3).id, dirs["tmp"])

    result = run_child("import", str(pack))
    assert result.returncode == 1, result.stderr
    assert "survived" not in result.stdout
    leftovers = temps(dirs["user"])
    assert len(leftovers) == 1  # the complete but unpublished import
    assert (dirs["user"] / leftovers[0] / "style.json").exists()

    records = assert_consistent(StyleLibrary())
    assert [r.name for r in records] == ["Classic", "Old"]
    assert records[1].manifest == old.manifest
    # The interrupted import can simply be repeated.
    assert StyleLibrary().import_pack(pack).name == "Newcomer"
    assert len(assert_consistent(StyleLibrary())) == 3


def test_crash_during_rename_keeps_old_name(dirs: dict[str, Path]) -> None:
    library = StyleLibrary()
    record = add(library, "Stable Name")
    library.list()  # warm the cache: the crash must invalidate it

    result = run_child("rename", record.id)
    assert result.returncode == 1, result.stderr
    assert "survived" not in result.stdout
    leftovers = temps(record.location)
    assert len(leftovers) == 1  # the half-written style.json
    assert (record.location / leftovers[0]).read_bytes()

    records = assert_consistent(library)
    assert [r.name for r in records] == ["Classic", "Stable Name"]
    assert library.rename(record.id, "Renamed").name == "Renamed"


def test_crash_during_delete_completes_on_next_list(dirs: dict[str, Path]) -> None:
    library = StyleLibrary()
    doomed = add(library, "Doomed")
    kept = add(library, "Kept", seed=1)

    result = run_child("delete", doomed.id)
    assert result.returncode == 1, result.stderr
    assert len(temps(dirs["user"])) == 1  # renamed away, not yet removed

    records = assert_consistent(library)
    assert [r.id for r in records] == ["classic", kept.id]
    assert not doomed.location.exists()
