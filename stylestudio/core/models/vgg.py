"""VGG19 features for perceptual (content and style) losses.

The network is torchvision's VGG19 ``features`` stack built *without* weights and then loaded from
a local file, so nothing is fetched behind the user's back. The ImageNet weights are found, in
order: an explicit path, ``$STYLESTUDIO_VGG_WEIGHTS``, the user cache (our features-only
safetensors file, or torchvision's own hub checkpoint), a copy bundled with the app, and only
then downloaded (hash-checked). A download keeps just the ~80 MB of convolution weights, not
the 548 MB checkpoint.

Weights files are never unpickled: safetensors, or ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sys
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as safetensors_save
from torch import nn

from stylestudio.core import paths
from stylestudio.core.atomic import atomic_open, describe_os_error, temp_name
from stylestudio.core.errors import WeightsUnavailableError

#: ReLU outputs by name (``relu<block>_<conv>``) → index in ``torchvision.models.vgg19().features``.
VGG_LAYERS: dict[str, int] = {
    "relu1_1": 1,
    "relu1_2": 3,
    "relu2_1": 6,
    "relu2_2": 8,
    "relu3_1": 11,
    "relu3_2": 13,
    "relu3_3": 15,
    "relu3_4": 17,
    "relu4_1": 20,
    "relu4_2": 22,
    "relu4_3": 24,
    "relu4_4": 26,
    "relu5_1": 29,
}

ENV_VGG_WEIGHTS = "STYLESTUDIO_VGG_WEIGHTS"
#: Set to 1 to forbid every download (tests, air-gapped machines).
ENV_OFFLINE = "STYLESTUDIO_OFFLINE"

VGG19_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
VGG19_HASH_PREFIX = "dcbb9e9d"  # first hex digits of the file's SHA-256
HUB_FILENAME = "vgg19-dcbb9e9d.pth"
CACHE_FILENAME = "vgg19_features.safetensors"

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: ``True``/``None``: console progress bar; ``False``: silent; a callable is told (fraction,
#: message) when the download starts and ends (torch.hub reports finer progress only as a bar).
Progress = bool | Callable[[float, str], None] | None

_BARE_KEY = re.compile(r"^\d+\.[A-Za-z_]+$")
_SAFETENSORS_SUFFIX = ".safetensors"


def downloads_allowed() -> bool:
    """False when ``$STYLESTUDIO_OFFLINE`` is set to a true value."""
    return os.environ.get(ENV_OFFLINE, "").strip().lower() not in {"1", "true", "yes", "on"}


def cache_weights_path() -> Path:
    """Where a downloaded (features-only) copy of the weights is kept."""
    return paths.user_cache_dir() / CACHE_FILENAME


def hub_weights_path() -> Path:
    """torchvision's own checkpoint, if the user already has it in the torch hub cache."""
    return Path(torch.hub.get_dir()) / "checkpoints" / HUB_FILENAME


def bundled_weights_path() -> Path:
    """Weights shipped inside an app bundle (``build/bundling.py --vgg-weights``), if any."""
    return paths.resources_dir() / "vgg" / CACHE_FILENAME


def _how_to_provide() -> str:
    return (
        f"set {ENV_VGG_WEIGHTS} (or pass --vgg-weights) to a VGG19 weights file, "
        f"or put one at {cache_weights_path()}"
    )


def _existing_file(path: Path, what: str) -> Path:
    if path.is_dir():
        raise WeightsUnavailableError(f"{what} {path} is a folder, not a VGG19 weights file.")
    if not path.is_file():
        raise WeightsUnavailableError(f"{what} {path} does not exist.")
    return path


def resolve_vgg_weights(
    explicit: str | os.PathLike[str] | None = None,
    *,
    allow_download: bool = True,
    progress: Progress = None,
) -> Path:
    """The path of a VGG19 weights file, downloading it into the user cache as a last resort.

    Order: ``explicit``, ``$STYLESTUDIO_VGG_WEIGHTS``, the user cache, torchvision's hub cache,
    weights bundled with the app, then the download. ``$STYLESTUDIO_OFFLINE=1`` forbids the
    download whatever ``allow_download`` says. A path given explicitly or by the environment
    must exist: it is never silently skipped.
    """
    if explicit is not None:
        return _existing_file(Path(explicit).expanduser(), "The VGG19 weights file")
    from_env = os.environ.get(ENV_VGG_WEIGHTS, "").strip()
    if from_env:
        return _existing_file(Path(from_env).expanduser(), f"{ENV_VGG_WEIGHTS} points to")
    for candidate in (cache_weights_path(), hub_weights_path(), bundled_weights_path()):
        if candidate.is_file():
            return candidate
    if not allow_download or not downloads_allowed():
        raise WeightsUnavailableError(
            f"No VGG19 weights were found and downloading is disabled; {_how_to_provide()}."
        )
    return _download_to_cache(progress)


def _short_reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    text = str(reason).strip().splitlines()
    return (text[0] if text else type(exc).__name__).rstrip(".")[:200]


def _download_to_cache(progress: Progress) -> Path:
    """Download torchvision's checkpoint, keep its features as safetensors, delete the rest."""
    target = cache_weights_path()
    notify = progress if callable(progress) else None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WeightsUnavailableError(describe_os_error(exc, target.parent)) from exc
    if notify is not None:
        notify(0.0, "Downloading VGG19 weights (548 MB)…")
    full = target.parent / temp_name(f"-{HUB_FILENAME}")
    try:
        try:
            torch.hub.download_url_to_file(
                VGG19_URL,
                str(full),
                hash_prefix=VGG19_HASH_PREFIX,
                # No console bar in a windowed app (no stderr) or when a callback is given.
                progress=(progress is None or progress is True) and sys.stderr is not None,
            )
        except Exception as exc:  # network, HTTP, disk or hash failure: all mean "no weights"
            raise WeightsUnavailableError(
                f"Could not download the VGG19 weights from {VGG19_URL} "
                f"({_short_reason(exc)}); {_how_to_provide()}."
            ) from exc
        state = load_vgg_state(full)
        data = safetensors_save(state, metadata={"source": VGG19_URL})
        try:
            with atomic_open(target) as handle:
                handle.write(data)
        except OSError as exc:
            raise WeightsUnavailableError(describe_os_error(exc, target)) from exc
    finally:
        with contextlib.suppress(OSError):
            full.unlink()
    if notify is not None:
        notify(1.0, "VGG19 weights downloaded.")
    return target


@functools.lru_cache(maxsize=1)
def expected_feature_shapes() -> dict[str, tuple[int, ...]]:
    """``features.*`` tensor name → shape, read from torchvision's VGG19 (built on meta)."""
    return {f"features.{k}": tuple(v.shape) for k, v in _features_skeleton().state_dict().items()}


def _features_skeleton() -> nn.Sequential:
    """``vgg19(weights=None).features`` on the meta device: no memory, no random init cost."""
    import torchvision  # deferred: heavy, and only needed once weights are being loaded

    with torch.device("meta"):
        return torchvision.models.vgg19(weights=None).features


def _canonical_key(key: str) -> str | None:
    """``features.N.x`` as is, bare ``N.x`` prefixed; anything else (classifier.*) ignored."""
    if key.startswith("features."):
        return key
    if _BARE_KEY.match(key):
        return f"features.{key}"
    return None


def _unusable(path: Path, why: str) -> WeightsUnavailableError:
    return WeightsUnavailableError(f"{path} is not a usable VGG19 weights file: {why}.")


def _looks_like_safetensors(path: Path) -> bool:
    """safetensors starts with a little-endian u64 header length followed by a JSON object."""
    with open(path, "rb") as handle:
        head = handle.read(9)
    if len(head) < 9:
        return False
    header_len = int.from_bytes(head[:8], "little")
    return 0 < header_len <= path.stat().st_size - 8 and head[8:9] == b"{"


def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            out: dict[str, torch.Tensor] = {}
            for key in handle.keys():  # noqa: SIM118 - safe_open is not a Mapping
                name = _canonical_key(key)
                if name is not None and name not in out:
                    out[name] = handle.get_tensor(key)
            return out
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise _unusable(path, f"the safetensors data is invalid ({_short_reason(exc)})") from exc


def _read_torch_file(path: Path) -> dict[str, torch.Tensor]:
    try:
        # mmap avoids reading a full 548 MB checkpoint just to keep its 80 MB of features.
        raw = torch.load(path, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(path))
    except Exception as exc:  # refused pickle, corrupt or truncated data: all unusable
        raise _unusable(
            path, "it is neither a safetensors file nor a tensor-only PyTorch file"
        ) from exc
    if not isinstance(raw, Mapping):
        raise _unusable(path, "it does not hold a dictionary of tensors")
    out: dict[str, torch.Tensor] = {}
    for key, value in raw.items():
        name = _canonical_key(key) if isinstance(key, str) else None
        if name is None or name in out:
            continue
        if not isinstance(value, torch.Tensor):
            raise _unusable(path, f"{key} is not a tensor")
        out[name] = value
    return out


def load_vgg_state(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """The 32 ``features.*`` tensors of a VGG19 weights file, validated, float32, on the CPU.

    Accepts safetensors or PyTorch files holding the features (``features.N.weight`` or bare
    ``N.weight`` keys) or a full torchvision VGG19 state dict (``classifier.*`` is ignored).
    Raises ``WeightsUnavailableError`` naming the file when it cannot be used.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsUnavailableError(f"The VGG19 weights file {path} does not exist.")
    try:
        as_safetensors = _looks_like_safetensors(path) or path.suffix == _SAFETENSORS_SUFFIX
        raw = _read_safetensors(path) if as_safetensors else _read_torch_file(path)
    except OSError as exc:
        raise WeightsUnavailableError(f"Could not read the VGG19 weights file {path}.") from exc
    expected = expected_feature_shapes()
    if not raw:
        raise _unusable(path, "it contains no VGG19 feature tensors")
    unexpected = sorted(set(raw) - set(expected))
    if unexpected:
        raise _unusable(path, f"unexpected tensor {unexpected[0]} (not a plain VGG19?)")
    missing = [k for k in expected if k not in raw]
    if missing:
        raise _unusable(
            path, f"{len(missing)} of {len(expected)} tensors are missing ({missing[0]})"
        )
    state: dict[str, torch.Tensor] = {}
    for name, shape in expected.items():
        tensor = raw[name]
        if tuple(tensor.shape) != shape:
            raise _unusable(path, f"{name} has shape {tuple(tensor.shape)} instead of {shape}")
        if not tensor.is_floating_point():
            raise _unusable(path, f"{name} is not a floating-point tensor")
        # A copy: detaches from mmap'd or shared storage so the source can be deleted or saved.
        tensor = tensor.to(dtype=torch.float32, copy=True).contiguous()
        if not torch.isfinite(tensor).all():
            raise _unusable(path, f"{name} contains NaN or infinite values")
        state[name] = tensor
    return state


class VGGFeatures(nn.Module):
    """Frozen VGG19 returning the requested ReLU outputs of an RGB [0, 1] batch.

    Only the layers up to the deepest requested one are kept. Parameters never require grad and
    the module stays in eval mode, but gradients do flow back to the input (perceptual losses).
    """

    def __init__(
        self,
        layers: Sequence[str],
        weights: str | os.PathLike[str] | None = None,
        *,
        allow_download: bool = True,
    ) -> None:
        super().__init__()
        if isinstance(layers, str):
            layers = [layers]
        names = list(dict.fromkeys(layers))
        if not names:
            raise ValueError("VGGFeatures needs at least one layer")
        unknown = [n for n in names if n not in VGG_LAYERS]
        if unknown:
            raise ValueError(
                f"unknown VGG layer(s) {', '.join(unknown)}; known: {', '.join(VGG_LAYERS)}"
            )
        self.layers: tuple[str, ...] = tuple(names)
        self._name_at = {VGG_LAYERS[n]: n for n in names}

        state = load_vgg_state(resolve_vgg_weights(weights, allow_download=allow_download))
        features = _features_skeleton()
        features.load_state_dict(
            {k.removeprefix("features."): v for k, v in state.items()}, strict=True, assign=True
        )
        self.features = features[: max(self._name_at) + 1]

        mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float32).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD, dtype=torch.float32).view(1, 3, 1, 1)
        self.register_buffer("mean", mean, persistent=False)
        self.register_buffer("std", std, persistent=False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> VGGFeatures:
        """Always eval: the extractor is fixed even inside a model being trained."""
        return super().train(False)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"expected an (N, 3, H, W) RGB batch, got shape {tuple(x.shape)}")
        h = (x - self.mean) / self.std
        found: dict[str, torch.Tensor] = {}
        for index, layer in enumerate(self.features):
            # torchvision's ReLUs are in place, but a ReLU output is only ever read afterwards
            # (by a conv or a pool), so the tensors returned here are not modified later.
            h = layer(h)
            name = self._name_at.get(index)
            if name is not None:
                found[name] = h
        return {name: found[name] for name in self.layers}

    def extra_repr(self) -> str:
        return f"layers={list(self.layers)}"
