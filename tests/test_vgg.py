"""VGG19 feature extractor: weights loading, validation, resolver order, forward pass.

No test touches the network: downloads are forbidden by ``STYLESTUDIO_OFFLINE=1`` and
``torch.hub.download_url_to_file`` is replaced by a tripwire unless a test fakes it on purpose.
Random weights with VGG19's real shapes (~80 MB in float32) are generated once per session.
"""

from __future__ import annotations

import os
import pickle
import shutil
import sys
import urllib.error
from pathlib import Path

import pytest
import torch
import torchvision
from safetensors import safe_open
from safetensors.torch import save_file
from torch.nn import functional as F

from stylestudio.core.errors import WeightsUnavailableError
from stylestudio.core.models import vgg
from stylestudio.core.models.vgg import VGG_LAYERS, VGGFeatures, load_vgg_state, resolve_vgg_weights

CHANNELS = {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple]:
    """Empty caches inside tmp_path, downloads forbidden, and a tripwire on the downloader."""
    monkeypatch.setenv("STYLESTUDIO_OFFLINE", "1")
    monkeypatch.setenv("STYLESTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("STYLESTUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("STYLESTUDIO_RESOURCES_DIR", str(tmp_path / "resources"))
    monkeypatch.delenv(vgg.ENV_VGG_WEIGHTS, raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "torch" / "hub"))
    calls: list[tuple] = []

    def tripwire(*args: object, **kwargs: object) -> None:
        calls.append((args, kwargs))
        pytest.fail("a test tried to download something")

    monkeypatch.setattr(torch.hub, "download_url_to_file", tripwire)
    return calls


@pytest.fixture(scope="session")
def feature_state() -> dict[str, torch.Tensor]:
    """Random VGG19 feature tensors, He-scaled so activations stay in a sane range."""
    gen = torch.Generator().manual_seed(1234)
    state = {}
    for name, shape in vgg.expected_feature_shapes().items():
        if len(shape) == 4:
            fan_in = shape[1] * shape[2] * shape[3]
            state[name] = torch.randn(shape, generator=gen) * (2.0 / fan_in) ** 0.5
        else:
            state[name] = torch.randn(shape, generator=gen) * 0.01
    return state


@pytest.fixture(scope="session")
def weight_files(
    tmp_path_factory: pytest.TempPathFactory, feature_state: dict[str, torch.Tensor]
) -> dict[str, Path]:
    """The same weights in every accepted layout, written once per session."""
    folder = tmp_path_factory.mktemp("vgg_weights")
    files = {
        "safetensors": folder / "features.safetensors",
        "torch_prefixed": folder / "features.pth",
        "torch_bare": folder / "bare.pth",
        "torch_full": folder / "full.pth",
    }
    save_file(feature_state, str(files["safetensors"]))
    torch.save(feature_state, files["torch_prefixed"])
    torch.save(
        {k.removeprefix("features."): v for k, v in feature_state.items()}, files["torch_bare"]
    )
    full = dict(feature_state)
    # A torchvision checkpoint also holds classifier.* (small stand-ins: they must be ignored).
    full.update({"classifier.0.weight": torch.zeros(8, 4), "classifier.6.bias": torch.zeros(3)})
    torch.save(full, files["torch_full"])
    # safetensors recognised by its header, not its name.
    files["safetensors_odd_name"] = folder / "weights.bin"
    os.symlink(files["safetensors"], files["safetensors_odd_name"])
    return files


@pytest.fixture(scope="module")
def model_all_layers(weight_files: dict[str, Path]) -> VGGFeatures:
    return VGGFeatures(list(VGG_LAYERS), weights=weight_files["safetensors"])


def _assert_same_state(loaded: dict[str, torch.Tensor], reference: dict[str, torch.Tensor]) -> None:
    assert set(loaded) == set(reference)
    for name, tensor in reference.items():
        assert loaded[name].dtype == torch.float32
        assert torch.equal(loaded[name], tensor), name


# --------------------------------------------------------------------------- layer table


def test_vgg_layers_match_torchvision_vgg19() -> None:
    with torch.device("meta"):
        features = torchvision.models.vgg19(weights=None).features
    block, conv, derived = 1, 0, {}
    for index, layer in enumerate(features):
        if isinstance(layer, torch.nn.MaxPool2d):
            block, conv = block + 1, 0
        elif isinstance(layer, torch.nn.Conv2d):
            conv += 1
        elif isinstance(layer, torch.nn.ReLU):
            derived[f"relu{block}_{conv}"] = index
    wanted = [f"relu{b}_{c}" for b, n in ((1, 2), (2, 2), (3, 4), (4, 4)) for c in range(1, n + 1)]
    wanted.append("relu5_1")
    assert {name: derived[name] for name in wanted} == VGG_LAYERS
    assert len(vgg.expected_feature_shapes()) == 32  # 16 convs × (weight, bias)


# --------------------------------------------------------------------------- loading


@pytest.mark.parametrize(
    "layout", ["safetensors", "safetensors_odd_name", "torch_prefixed", "torch_bare", "torch_full"]
)
def test_loader_accepts_supported_layouts(
    layout: str, weight_files: dict[str, Path], feature_state: dict[str, torch.Tensor]
) -> None:
    _assert_same_state(load_vgg_state(weight_files[layout]), feature_state)


def test_loader_converts_half_precision(
    tmp_path: Path, feature_state: dict[str, torch.Tensor]
) -> None:
    path = tmp_path / "half.safetensors"
    save_file({k: v.half() for k, v in feature_state.items()}, str(path))
    loaded = load_vgg_state(path)
    assert all(t.dtype == torch.float32 for t in loaded.values())
    assert torch.equal(
        loaded["features.0.weight"], feature_state["features.0.weight"].half().float()
    )


def _rejected(path: Path, *fragments: str) -> str:
    with pytest.raises(WeightsUnavailableError) as info:
        load_vgg_state(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message
    assert "\n" not in message
    return message


def test_loader_rejects_missing_tensor(tmp_path: Path, feature_state: dict[str, torch.Tensor]):
    path = tmp_path / "missing.safetensors"
    save_file({k: v for k, v in feature_state.items() if k != "features.34.bias"}, str(path))
    _rejected(path, "features.34.bias", "missing")


def test_loader_rejects_missing_tensor_in_torch_file(
    tmp_path: Path, feature_state: dict[str, torch.Tensor]
) -> None:
    path = tmp_path / "missing.pth"
    torch.save({k: v for k, v in feature_state.items() if k != "features.16.weight"}, path)
    _rejected(path, "features.16.weight")


def test_loader_rejects_wrong_shape(tmp_path: Path, feature_state: dict[str, torch.Tensor]):
    state = dict(feature_state)
    state["features.2.weight"] = torch.zeros(64, 64, 5, 5)
    path = tmp_path / "wrong_shape.safetensors"
    save_file(state, str(path))
    _rejected(path, "features.2.weight", "(64, 64, 5, 5)", "(64, 64, 3, 3)")


def test_loader_rejects_other_architecture(tmp_path: Path, feature_state: dict[str, torch.Tensor]):
    """A batch-norm VGG has extra tensors: refused rather than loaded half-right."""
    state = dict(feature_state)
    state["features.1.running_mean"] = torch.zeros(64)
    path = tmp_path / "bn.pth"
    torch.save(state, path)
    _rejected(path, "features.1.running_mean")


def test_loader_rejects_non_finite_values(tmp_path: Path, feature_state: dict[str, torch.Tensor]):
    state = dict(feature_state)
    state["features.5.bias"] = torch.full((128,), float("nan"))
    path = tmp_path / "nan.safetensors"
    save_file(state, str(path))
    _rejected(path, "features.5.bias")


@pytest.mark.parametrize(
    "content", [b"", b"not a weights file at all", b"\x10\x00\x00\x00\x00\x00\x00\x00{broken"]
)
def test_loader_rejects_garbage(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "garbage.safetensors"
    path.write_bytes(content)
    _rejected(path)
    other = tmp_path / "garbage.pth"
    other.write_bytes(content)
    _rejected(other)


def test_loader_rejects_file_without_features(tmp_path: Path) -> None:
    path = tmp_path / "classifier_only.pth"
    torch.save({"classifier.0.weight": torch.zeros(2, 2)}, path)
    _rejected(path, "no VGG19 feature tensors")


def test_loader_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.safetensors"
    with pytest.raises(WeightsUnavailableError, match=r"nowhere\.safetensors"):
        load_vgg_state(path)


def _side_effect(marker: str) -> torch.Tensor:
    """Would run on unpickling: proof that the unpickler executed file-supplied code."""
    Path(marker).write_text("code from the file ran")
    return torch.zeros(64, 3, 3, 3)


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (_side_effect, (str(self.marker),))


def test_loader_never_unpickles_code(
    tmp_path: Path, feature_state: dict[str, torch.Tensor]
) -> None:
    marker = tmp_path / "side_effect_ran.txt"
    zipped = tmp_path / "evil.pth"
    state = {"features.0.weight": _Payload(marker), "features.0.bias": torch.zeros(64)}
    torch.save(state, zipped)
    plain = tmp_path / "evil_plain.pth"
    with open(plain, "wb") as handle:
        pickle.dump(state, handle, protocol=2)

    for path in (zipped, plain):
        _rejected(path)
        assert not marker.exists(), f"loading {path.name} executed code from the file"

    # Control: the payload is live, so the assertions above could fail.
    with open(plain, "rb") as handle:
        pickle.load(handle)  # our own payload: proves it is live
    assert marker.exists()


# --------------------------------------------------------------------------- resolver


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_resolver_order_explicit_env_cache_hub_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    explicit = _touch(tmp_path / "explicit.safetensors")
    from_env = _touch(tmp_path / "env.pth")
    cache = _touch(tmp_path / "cache" / "vgg19_features.safetensors")
    hub = _touch(tmp_path / "torch" / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth")
    bundled = _touch(tmp_path / "resources" / "vgg" / "vgg19_features.safetensors")
    assert vgg.cache_weights_path() == cache
    assert vgg.hub_weights_path() == hub
    assert vgg.bundled_weights_path() == bundled
    monkeypatch.setenv(vgg.ENV_VGG_WEIGHTS, str(from_env))

    assert resolve_vgg_weights(explicit) == explicit
    assert resolve_vgg_weights(str(explicit)) == explicit
    assert resolve_vgg_weights() == from_env
    monkeypatch.delenv(vgg.ENV_VGG_WEIGHTS)
    assert resolve_vgg_weights() == cache
    cache.unlink()
    assert resolve_vgg_weights() == hub
    hub.unlink()
    assert resolve_vgg_weights() == bundled
    bundled.unlink()
    with pytest.raises(WeightsUnavailableError):
        resolve_vgg_weights()


def test_explicit_path_that_does_not_exist_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never falls through to the environment or the cache."""
    monkeypatch.setenv(vgg.ENV_VGG_WEIGHTS, str(_touch(tmp_path / "env.pth")))
    _touch(vgg.cache_weights_path())
    missing = tmp_path / "typo.safetensors"
    with pytest.raises(WeightsUnavailableError, match=r"typo\.safetensors") as info:
        resolve_vgg_weights(missing)
    assert "does not exist" in str(info.value)
    with pytest.raises(WeightsUnavailableError, match="folder"):
        resolve_vgg_weights(tmp_path)


def test_env_path_that_does_not_exist_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _touch(vgg.cache_weights_path())
    monkeypatch.setenv(vgg.ENV_VGG_WEIGHTS, str(tmp_path / "gone.pth"))
    with pytest.raises(WeightsUnavailableError) as info:
        resolve_vgg_weights()
    assert vgg.ENV_VGG_WEIGHTS in str(info.value)
    assert "gone.pth" in str(info.value)


@pytest.mark.parametrize("offline_env, allow_download", [("1", True), ("0", False)])
def test_nothing_available_gives_instructions(
    monkeypatch: pytest.MonkeyPatch, _isolated: list, offline_env: str, allow_download: bool
) -> None:
    monkeypatch.setenv("STYLESTUDIO_OFFLINE", offline_env)
    with pytest.raises(WeightsUnavailableError) as info:
        resolve_vgg_weights(allow_download=allow_download)
    message = str(info.value)
    assert vgg.ENV_VGG_WEIGHTS in message
    assert "--vgg-weights" in message
    assert str(vgg.cache_weights_path()) in message
    assert "\n" not in message and message.endswith(".")
    assert _isolated == []  # the downloader was never called
    with pytest.raises(WeightsUnavailableError):
        VGGFeatures(["relu1_1"], allow_download=allow_download)


def test_offline_env_is_respected_by_default() -> None:
    assert not vgg.downloads_allowed()
    with pytest.raises(WeightsUnavailableError, match="downloading is disabled"):
        resolve_vgg_weights()


def test_download_keeps_only_features_in_cache(
    monkeypatch: pytest.MonkeyPatch,
    weight_files: dict[str, Path],
    feature_state: dict[str, torch.Tensor],
) -> None:
    """The download itself is faked (a local copy); the bookkeeping around it is real."""
    monkeypatch.setenv("STYLESTUDIO_OFFLINE", "0")
    seen: list[dict] = []

    def fake_download(url: str, dst: str, hash_prefix: str | None = None, progress: bool = True):
        seen.append({"url": url, "dst": dst, "hash_prefix": hash_prefix, "progress": progress})
        shutil.copyfile(weight_files["torch_full"], dst)

    monkeypatch.setattr(torch.hub, "download_url_to_file", fake_download)
    reports: list[tuple[float, str]] = []
    path = resolve_vgg_weights(progress=lambda f, m: reports.append((f, m)))

    assert path == vgg.cache_weights_path()
    assert seen[0]["url"] == "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
    assert seen[0]["hash_prefix"] == "dcbb9e9d"
    assert Path(seen[0]["dst"]).parent == path.parent
    assert [f for f, _ in reports] == [0.0, 1.0]
    assert seen[0]["progress"] is False  # the callback replaces the console bar
    # Only the features-only safetensors file is left: the full checkpoint is gone.
    assert sorted(p.name for p in path.parent.iterdir()) == ["vgg19_features.safetensors"]
    with safe_open(str(path), framework="pt") as handle:
        assert set(handle.keys()) == set(feature_state)
    _assert_same_state(load_vgg_state(path), feature_state)
    # Next time the cache is used, without downloading again.
    assert resolve_vgg_weights() == path
    assert len(seen) == 1


@pytest.mark.parametrize(
    "failure",
    [
        urllib.error.URLError("Temporary failure in name resolution"),
        RuntimeError('invalid hash value (expected "dcbb9e9d", got "0000")'),
        OSError(28, "No space left on device"),
    ],
)
def test_download_failure_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    monkeypatch.setenv("STYLESTUDIO_OFFLINE", "0")

    def failing_download(url: str, dst: str, hash_prefix=None, progress=True) -> None:
        Path(dst).write_bytes(b"partial")
        raise failure

    monkeypatch.setattr(torch.hub, "download_url_to_file", failing_download)
    with pytest.raises(WeightsUnavailableError) as info:
        resolve_vgg_weights(progress=False)
    message = str(info.value)
    assert "Could not download" in message and vgg.ENV_VGG_WEIGHTS in message
    assert "\n" not in message
    cache = vgg.cache_weights_path()
    assert not cache.exists()
    assert list(cache.parent.iterdir()) == []  # no partial file left behind


def test_console_progress_bar_only_where_there_is_a_console(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STYLESTUDIO_OFFLINE", "0")
    bars: list[bool] = []

    def recording_download(url: str, dst: str, hash_prefix=None, progress=True) -> None:
        bars.append(progress)
        raise urllib.error.URLError("offline")

    monkeypatch.setattr(torch.hub, "download_url_to_file", recording_download)
    for choice in (None, True, False, lambda f, m: None):
        with pytest.raises(WeightsUnavailableError):
            resolve_vgg_weights(progress=choice)
    monkeypatch.setattr(sys, "stderr", None)  # a windowed app has no console
    with pytest.raises(WeightsUnavailableError):
        resolve_vgg_weights()
    assert bars == [True, True, False, False, False]


def test_downloaded_file_that_is_unusable_is_not_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYLESTUDIO_OFFLINE", "0")

    def bad_download(url: str, dst: str, hash_prefix=None, progress=True) -> None:
        torch.save({"classifier.0.weight": torch.zeros(2)}, dst)

    monkeypatch.setattr(torch.hub, "download_url_to_file", bad_download)
    with pytest.raises(WeightsUnavailableError):
        resolve_vgg_weights(progress=False)
    assert list(vgg.cache_weights_path().parent.iterdir()) == []


# --------------------------------------------------------------------------- forward


def test_forward_returns_requested_layers(model_all_layers: VGGFeatures) -> None:
    x = torch.rand(2, 3, 48, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = model_all_layers(x)
    assert list(out) == list(VGG_LAYERS)
    for name, tensor in out.items():
        block = int(name[4])
        scale = 2 ** (block - 1)
        assert tensor.shape == (2, CHANNELS[block], 48 // scale, 64 // scale), name
        assert torch.isfinite(tensor).all()
        assert (tensor >= 0).all()


def test_forward_runs_only_up_to_deepest_layer(weight_files: dict[str, Path]) -> None:
    model = VGGFeatures(["relu2_1", "relu1_2", "relu2_1"], weights=weight_files["torch_full"])
    assert len(model.features) == VGG_LAYERS["relu2_1"] + 1
    out = model(torch.rand(1, 3, 20, 18))
    assert list(out) == ["relu2_1", "relu1_2"]  # requested order, duplicates dropped


def test_forward_normalises_and_uses_the_file_weights(
    weight_files: dict[str, Path], feature_state: dict[str, torch.Tensor]
) -> None:
    model = VGGFeatures(["relu1_1"], weights=weight_files["torch_bare"])
    x = torch.rand(1, 3, 16, 12, generator=torch.Generator().manual_seed(1))
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    expected = F.relu(
        F.conv2d(
            (x - mean) / std,
            feature_state["features.0.weight"],
            feature_state["features.0.bias"],
            padding=1,
        )
    )
    torch.testing.assert_close(model(x)["relu1_1"], expected)
    buffers = dict(model.named_buffers())
    torch.testing.assert_close(buffers["mean"], mean)
    torch.testing.assert_close(buffers["std"], std)


def test_model_is_frozen_but_passes_gradients(model_all_layers: VGGFeatures) -> None:
    model = model_all_layers
    assert all(not p.requires_grad for p in model.parameters())
    assert not model.training
    model.train()
    assert not model.training
    x = torch.rand(1, 3, 32, 32, requires_grad=True)
    out = model(x)
    (out["relu1_1"].mean() + out["relu3_1"].mean()).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.parameters())


def test_bad_layer_names_and_inputs(weight_files: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match="relu6_1"):
        VGGFeatures(["relu1_1", "relu6_1"], weights=weight_files["safetensors"])
    with pytest.raises(ValueError):
        VGGFeatures([], weights=weight_files["safetensors"])
    model = VGGFeatures(["relu1_1"], weights=weight_files["safetensors"])
    with pytest.raises(ValueError, match="RGB"):
        model(torch.rand(1, 4, 8, 8))


# --------------------------------------------------------------------------- real weights


def _real_weights_file() -> Path | None:
    root = os.environ.get("STYLESTUDIO_SHARED_DATA")
    if not root or not (Path(root) / "vgg").is_dir():
        return None
    folder = Path(root) / "vgg"
    found = sorted(folder.rglob("*.safetensors")) + sorted(folder.rglob("*.pth"))
    return found[0] if found else None


def _conv1_1_from_file(path: Path) -> torch.Tensor:
    """Read the first conv weight straight from the file, independently of the loader."""
    if path.suffix == ".safetensors":
        with safe_open(str(path), framework="pt") as handle:
            keys = set(handle.keys())
            return handle.get_tensor(
                "features.0.weight" if "features.0.weight" in keys else "0.weight"
            )
    state = torch.load(path, map_location="cpu", weights_only=True)
    return state.get("features.0.weight", state.get("0.weight"))


def test_real_imagenet_weights() -> None:
    path = _real_weights_file()
    if path is None:
        pytest.skip("no VGG19 weights in $STYLESTUDIO_SHARED_DATA/vgg/ (*.safetensors or *.pth)")
    model = VGGFeatures(list(VGG_LAYERS), weights=path)
    torch.testing.assert_close(model.features[0].weight, _conv1_1_from_file(path).float())
    ramp = torch.linspace(0.0, 1.0, 64).view(1, 1, 1, 64).expand(1, 3, 48, 64)
    plain = torch.full((1, 3, 48, 64), 0.5)
    with torch.no_grad():
        for image in (plain, ramp):
            for name, tensor in model(image).items():
                assert torch.isfinite(tensor).all(), name
                assert (tensor >= 0).all(), name
