"""The style format: manifests, safe reading of folders and .stylepack zips, atomic writing."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import pickle
import struct
import zipfile
from pathlib import Path

import pytest
import safetensors.torch
import torch
from PIL import Image

from stylestudio.core import stylepack
from stylestudio.core.errors import StyleFormatError, StyleLibraryError, StyleNotFoundError
from stylestudio.core.models.generator import ARCHITECTURE_NAME, Generator, GeneratorConfig
from stylestudio.core.stylepack import StyleManifest

TINY = GeneratorConfig(base_channels=4, residual_blocks=1)


def tiny_state() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return {k: v.clone() for k, v in Generator(TINY).state_dict().items()}


def make_manifest(**changes: object) -> StyleManifest:
    fields: dict[str, object] = {
        "id": "tiny-style",
        "name": "Tiny Style",
        "version": 1,
        "architecture": ARCHITECTURE_NAME,
        "params": TINY.to_dict(),
        "created": "2026-01-02T03:04:05Z",
        "weights_sha256": "",
        "license": "CC-BY-4.0",
        "attribution": "Test painter",
        "description": "A tiny test style.",
        "training": {"steps": 3},
    }
    fields.update(changes)
    return StyleManifest(**fields)  # type: ignore[arg-type]


def png_bytes(size: tuple[int, int] = (16, 12)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def manifest_dict(weights: bytes, **changes: object) -> dict:
    data = make_manifest().to_dict()
    data["weights"]["sha256"] = hashlib.sha256(weights).hexdigest()
    data.update(changes)
    return data


def write_raw_folder(folder: Path, manifest: dict, weights: bytes, thumb: bytes | None) -> Path:
    """A style folder written by hand (bypassing write_style_folder's own checks)."""
    folder.mkdir(parents=True)
    (folder / "style.json").write_text(json.dumps(manifest), encoding="utf-8")
    (folder / "weights.safetensors").write_bytes(weights)
    if thumb is not None:
        (folder / "thumbnail.png").write_bytes(thumb)
    return folder


def write_zip(path: Path, members: list[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return path


def valid_members() -> list[tuple[str | zipfile.ZipInfo, bytes]]:
    weights = safetensors.torch.save(tiny_state())
    return [
        ("style.json", json.dumps(manifest_dict(weights)).encode()),
        ("weights.safetensors", weights),
        ("thumbnail.png", png_bytes()),
    ]


def rejected(location: Path) -> str:
    with pytest.raises(StyleFormatError) as info:
        stylepack.read_style(location)
    return str(info.value)


# ------------------------------------------------------------------------------ round trips


def test_folder_round_trip(tmp_path: Path) -> None:
    state = tiny_state()
    folder = stylepack.write_style_folder(
        tmp_path, make_manifest(), state, Image.new("RGB", (1024, 512), "blue")
    )
    assert folder == tmp_path / "tiny-style"
    assert sorted(p.name for p in folder.iterdir()) == [
        "style.json",
        "thumbnail.png",
        "weights.safetensors",
    ]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
    manifest, tensors = stylepack.read_style(folder)
    weights = (folder / "weights.safetensors").read_bytes()
    assert manifest == make_manifest(weights_sha256=hashlib.sha256(weights).hexdigest())
    assert tensors.keys() == state.keys()
    for key, value in state.items():
        assert torch.equal(tensors[key], value)
    with Image.open(folder / "thumbnail.png") as thumb:
        assert max(thumb.size) == stylepack.THUMBNAIL_WRITE_SIDE

    manifest2, model = stylepack.load_style_model(folder)
    assert manifest2 == manifest and not model.training
    out = model(torch.rand(1, 3, 10, 14))
    assert out.shape == (1, 3, 10, 14)


def test_pack_round_trip_is_deterministic(tmp_path: Path) -> None:
    folder = stylepack.write_style_folder(tmp_path / "lib", make_manifest(), tiny_state(), None)
    files = stylepack.read_style_files(folder)
    assert files.thumbnail is None
    a = stylepack.write_style_pack(files, tmp_path / "a.stylepack")
    b = stylepack.write_style_pack(stylepack.read_style_files(folder), tmp_path / "b.stylepack")
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as archive:
        assert archive.namelist() == ["style.json", "weights.safetensors"]
    from_pack, tensors = stylepack.read_style(a)
    from_folder, _ = stylepack.read_style(folder)
    assert from_pack == from_folder
    assert torch.equal(tensors["head.1.weight"], tiny_state()["head.1.weight"])


def test_write_refuses_existing_id_and_mismatched_tensors(tmp_path: Path) -> None:
    stylepack.write_style_folder(tmp_path, make_manifest(), tiny_state(), None)
    with pytest.raises(StyleLibraryError, match="already exists"):
        stylepack.write_style_folder(tmp_path, make_manifest(), tiny_state(), None)
    state = tiny_state()
    del state["head.1.bias"]
    with pytest.raises(StyleFormatError, match=r"head\.1\.bias"):
        stylepack.write_style_folder(tmp_path, make_manifest(id="other"), state, None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny-style"]


def test_missing_location_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(StyleNotFoundError):
        stylepack.read_style(tmp_path / "nope.stylepack")


# ------------------------------------------------------------------------------ manifest


def test_manifest_json_round_trip_and_name_strip() -> None:
    manifest = make_manifest(name="  Spaced  ", weights_sha256="ab" * 32)
    assert manifest.name == "Spaced"
    assert StyleManifest.from_json(manifest.to_json()) == manifest
    data = json.loads(manifest.to_json())
    assert data["format"] == "stylestudio.style" and data["format_version"] == 1
    assert data["architecture"] == {"name": ARCHITECTURE_NAME, "params": TINY.to_dict()}
    assert data["weights"] == {"file": "weights.safetensors", "sha256": "ab" * 32}


def _manifest_json(**changes: object) -> str:
    data = make_manifest(weights_sha256="ab" * 32).to_dict()
    for key, value in changes.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    return json.dumps(data)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format_version": 2}, "newer StyleStudio"),
        ({"format": "something.else"}, "not a StyleStudio style manifest"),
        ({"format_version": "1"}, "format_version"),
        ({"name": None}, "lacks the required field 'name'"),
        ({"weights": None}, "lacks the required field 'weights'"),
        ({"id": "../evil"}, "style id"),
        ({"id": "Upper"}, "style id"),
        ({"id": "a" * 65}, "style id"),
        ({"id": "con"}, "style id"),
        ({"name": "   "}, "must not be empty"),
        ({"name": "x" * 81}, "longer than 80"),
        ({"name": 5}, "'name' must be text"),
        ({"version": "2"}, "'version'"),
        ({"version": True}, "'version'"),
        ({"version": 0}, "'version'"),
        ({"created": "yesterday"}, "ISO 8601"),
        ({"created": "2026-01-02T03:04:05"}, "time zone"),
        ({"training": []}, "'training'"),
        ({"license": 3}, "'license'"),
        ({"extra": 1}, "unknown field 'extra'"),
        ({"architecture": "stylestudio.generator.v1"}, "'architecture'"),
        ({"weights": {"file": "../w.bin", "sha256": "ab" * 32}}, "weights file"),
        ({"weights": {"file": "weights.safetensors", "sha256": "xyz"}}, "checksum"),
    ],
)
def test_manifest_rejects(changes: dict, message: str) -> None:
    with pytest.raises(StyleFormatError, match=message):
        StyleManifest.from_json(_manifest_json(**changes))


def test_manifest_rejects_bad_json() -> None:
    with pytest.raises(StyleFormatError, match="not valid JSON"):
        StyleManifest.from_json("{nope")
    with pytest.raises(StyleFormatError, match="JSON object"):
        StyleManifest.from_json("[1, 2]")
    with pytest.raises(StyleFormatError, match="repeats the field 'id'"):
        StyleManifest.from_json('{"id": "a", "id": "b"}')
    with pytest.raises(StyleFormatError, match="NaN"):
        StyleManifest.from_json('{"x": NaN}')
    with pytest.raises(StyleFormatError, match="UTF-8"):
        StyleManifest.from_json(b"\xff\xfe{")
    with pytest.raises(StyleFormatError, match="out of range"):
        StyleManifest.from_json('{"version": ' + "9" * 5000 + "}")
    with pytest.raises(StyleFormatError, match="nested too deeply"):
        StyleManifest.from_json("[" * 100_000 + "]" * 100_000)


def test_new_style_id_is_a_unique_slug() -> None:
    ids = {stylepack.new_style_id("Stärry Night! 1889") for _ in range(20)}
    assert len(ids) == 20
    for style_id in ids:
        assert stylepack.ID_PATTERN.fullmatch(style_id)
        assert style_id.startswith("starry-night-1889-")
    assert stylepack.new_style_id("印象").startswith("style-")
    assert stylepack.ID_PATTERN.fullmatch(stylepack.new_style_id("x" * 200))


# ------------------------------------------------------------------------------ weights checks


def _folder_with_state(tmp_path: Path, state: dict[str, torch.Tensor], **changes: object) -> Path:
    weights = safetensors.torch.save(state)
    return write_raw_folder(tmp_path / "s", manifest_dict(weights, **changes), weights, None)


def test_wrong_shape_rejected(tmp_path: Path) -> None:
    state = tiny_state()
    state["encoder.1.conv.weight"] = torch.zeros(8, 4, 5, 5)
    message = rejected(_folder_with_state(tmp_path, state))
    assert "'encoder.1.conv.weight' has shape [8, 4, 5, 5], expected [8, 4, 3, 3]" in message


def test_shapes_of_another_config_rejected(tmp_path: Path) -> None:
    state = {k: v for k, v in Generator(GeneratorConfig(8, 1)).state_dict().items()}
    assert "has shape" in rejected(_folder_with_state(tmp_path, state))


def test_missing_tensor_rejected(tmp_path: Path) -> None:
    state = tiny_state()
    del state["decoder.0.block.norm.bias"]
    assert "lack tensor 'decoder.0.block.norm.bias'" in rejected(
        _folder_with_state(tmp_path, state)
    )


def test_extra_tensor_rejected(tmp_path: Path) -> None:
    state = tiny_state()
    state["sneaky.extra"] = torch.zeros(2)
    assert "unexpected tensor 'sneaky.extra'" in rejected(_folder_with_state(tmp_path, state))


def test_wrong_dtype_rejected(tmp_path: Path) -> None:
    state = tiny_state()
    state["head.1.bias"] = state["head.1.bias"].half()
    message = rejected(_folder_with_state(tmp_path, state))
    assert "'head.1.bias' has dtype F16, expected F32" in message


def test_bad_checksum_rejected(tmp_path: Path) -> None:
    folder = _folder_with_state(tmp_path, tiny_state())
    with open(folder / "weights.safetensors", "r+b") as handle:
        handle.seek(-1, 2)
        last = handle.read(1)
        handle.seek(-1, 2)
        handle.write(bytes([last[0] ^ 0xFF]))
    assert "does not match the checksum" in rejected(folder)


def test_unknown_architecture_rejected(tmp_path: Path) -> None:
    state = tiny_state()
    weights = safetensors.torch.save(state)
    data = manifest_dict(weights)
    data["architecture"] = {"name": "acme.unet.v9", "params": {}}
    folder = write_raw_folder(tmp_path / "s", data, weights, None)
    assert "Unknown model architecture 'acme.unet.v9'" in rejected(folder)


def test_newer_format_version_rejected(tmp_path: Path) -> None:
    folder = _folder_with_state(tmp_path, tiny_state(), format_version=2)
    assert "made by a newer StyleStudio" in rejected(folder)


def test_garbage_weights_with_matching_checksum_rejected(tmp_path: Path) -> None:
    weights = struct.pack("<Q", 10**12) + b"{}"
    folder = write_raw_folder(tmp_path / "s", manifest_dict(weights), weights, None)
    assert "not a valid safetensors file" in rejected(folder)


def test_bad_thumbnails_rejected(tmp_path: Path) -> None:
    weights = safetensors.torch.save(tiny_state())
    jpeg = io.BytesIO()
    Image.new("RGB", (8, 8)).save(jpeg, format="JPEG")
    folder = write_raw_folder(tmp_path / "a", manifest_dict(weights), weights, jpeg.getvalue())
    assert "thumbnail.png is not a valid PNG" in rejected(folder)
    folder = write_raw_folder(tmp_path / "b", manifest_dict(weights), weights, png_bytes()[:60])
    assert "thumbnail.png is not a valid PNG" in rejected(folder)
    huge = png_bytes((5000, 1))
    folder = write_raw_folder(tmp_path / "c", manifest_dict(weights), weights, huge)
    assert "5000×1 pixels" in rejected(folder)


# ------------------------------------------------------------------------------ zip safety


def test_valid_hand_made_zip_is_accepted(tmp_path: Path) -> None:
    manifest, _ = stylepack.read_style(write_zip(tmp_path / "ok.stylepack", valid_members()))
    assert manifest.id == "tiny-style"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../evil", "points outside the pack"),
        ("sub/../../evil", "points outside the pack"),
        ("/etc/style.json", "absolute path"),
        ("C:/style.json", "drive letter"),
        ("sub\\style.json", "backslash"),
        ("readme.txt", "unexpected member (readme.txt)"),
        ("nested/style.json", "unexpected member"),
        ("model.pt", "contains a Python pickle (model.pt)"),
        ("weights.ckpt", "contains a Python pickle"),
        ("archive/data.pkl", "contains a Python pickle (archive/data.pkl)"),
    ],
)
def test_unsafe_or_unexpected_members_rejected(tmp_path: Path, name: str, message: str) -> None:
    pack = write_zip(tmp_path / "bad.stylepack", [*valid_members(), (name, b"x")])
    assert message in rejected(pack)


PICKLE_LOADED: list[str] = []


def _mark_loaded() -> None:
    PICKLE_LOADED.append("unpickled!")


class Tripwire:
    """Unpickling this object calls ``_mark_loaded`` (harmless, but detectable)."""

    def __reduce__(self) -> tuple:
        return (_mark_loaded, ())


def test_pickle_member_is_never_unpickled(tmp_path: Path) -> None:
    payload = pickle.dumps(Tripwire())
    pickle.loads(payload)  # the tripwire works...
    assert PICKLE_LOADED == ["unpickled!"]
    PICKLE_LOADED.clear()
    members = valid_members()
    pack = write_zip(tmp_path / "p.stylepack", [*members, ("data.pkl", payload)])
    message = rejected(pack)
    assert "contains a Python pickle (data.pkl)" in message
    assert "never loads for safety" in message
    # ...and also when the pickle poses as the weights file.
    pack = write_zip(tmp_path / "q.stylepack", [members[0], ("weights.safetensors", payload)])
    assert "checksum" in rejected(pack)
    assert PICKLE_LOADED == []


def test_symlink_member_rejected(tmp_path: Path) -> None:
    link = zipfile.ZipInfo("thumbnail.png")
    link.create_system = 3
    link.external_attr = (0o120777) << 16
    members = valid_members()
    pack = write_zip(tmp_path / "l.stylepack", [*members[:2], (link, b"/etc/passwd")])
    assert "symbolic link (thumbnail.png)" in rejected(pack)


def test_duplicate_member_rejected(tmp_path: Path) -> None:
    members = valid_members()
    with pytest.warns(UserWarning):  # zipfile itself warns about the duplicate
        pack = write_zip(tmp_path / "d.stylepack", [*members, members[0]])
    assert "contains style.json more than once" in rejected(pack)


def _patch_central_directory(pack: Path, member: str, offset: int, value: bytes) -> None:
    """Overwrite bytes at ``offset`` of ``member``'s central directory record."""
    data = bytearray(pack.read_bytes())
    name = member.encode()
    position = data.find(b"PK\x01\x02")
    while position >= 0:
        name_len = struct.unpack("<H", data[position + 28 : position + 30])[0]
        if data[position + 46 : position + 46 + name_len] == name:
            data[position + offset : position + offset + len(value)] = value
            pack.write_bytes(bytes(data))
            return
        position = data.find(b"PK\x01\x02", position + 4)
    raise AssertionError(f"{member} not found")


def test_encrypted_member_rejected(tmp_path: Path) -> None:
    pack = write_zip(tmp_path / "e.stylepack", valid_members())
    _patch_central_directory(pack, "thumbnail.png", 8, struct.pack("<H", 0x1))
    assert "encrypted member (thumbnail.png)" in rejected(pack)


def test_oversize_declared_member_rejected(tmp_path: Path) -> None:
    pack = write_zip(tmp_path / "big.stylepack", valid_members())
    _patch_central_directory(pack, "weights.safetensors", 24, struct.pack("<I", 600 * 2**20))
    assert "weights.safetensors is larger than the 512 MiB limit" in rejected(pack)


def test_zip_bomb_manifest_rejected_before_reading(tmp_path: Path) -> None:
    members = valid_members()
    bomb = b" " * (stylepack.SIZE_LIMITS["style.json"] + 1)  # compresses to about 1 KiB
    pack = write_zip(tmp_path / "bomb.stylepack", [("style.json", bomb), *members[1:]])
    assert pack.stat().st_size < 100_000
    assert "style.json is larger than the 1 MiB limit" in rejected(pack)


def test_understated_size_rejected(tmp_path: Path) -> None:
    pack = write_zip(tmp_path / "lie.stylepack", valid_members())
    _patch_central_directory(pack, "thumbnail.png", 24, struct.pack("<I", 10))
    assert "damaged" in rejected(pack)


def test_corrupt_and_truncated_zips_rejected(tmp_path: Path) -> None:
    junk = tmp_path / "junk.stylepack"
    junk.write_bytes(b"this is not a zip file at all" * 10)
    assert "not a valid style pack" in rejected(junk)
    good = write_zip(tmp_path / "good.stylepack", valid_members()).read_bytes()
    cut = tmp_path / "cut.stylepack"
    cut.write_bytes(good[: len(good) // 2])
    assert "not a valid style pack" in rejected(cut)
    flipped = bytearray(good)
    start = good.find(b"PK\x03\x04", 10)  # inside the compressed weights
    flipped[start - 200 : start - 100] = bytes(100)
    bad = tmp_path / "flipped.stylepack"
    bad.write_bytes(bytes(flipped))
    assert "not a valid style pack" in rejected(bad)


def test_missing_required_member_rejected(tmp_path: Path) -> None:
    pack = write_zip(tmp_path / "m.stylepack", valid_members()[:1])
    assert "has no weights.safetensors" in rejected(pack)


def test_manifest_and_record_are_hashable() -> None:
    manifest = make_manifest(weights_sha256="cd" * 32)
    assert len({manifest, StyleManifest.from_json(manifest.to_json())}) == 1
    from stylestudio.core.library import StyleRecord

    assert (
        len(
            {StyleRecord(manifest, Path("a"), False, None)}
            | {StyleRecord(manifest, Path("a"), False, None)}
        )
        == 1
    )


def test_manifest_dataclass_replace_validates() -> None:
    with pytest.raises(StyleFormatError):
        dataclasses.replace(make_manifest(), id="Not A Slug")
