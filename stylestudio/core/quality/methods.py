"""The methods the quality benchmark runs side by side.

Each method is told the painting once (``prepare``, which may train and returns the training time)
and then stylises photos one at a time (``apply``). Methods:

* ``PhotoMethod``: the photo itself, the no-style baseline;
* ``StyleMethod``: a StyleStudio style (library id or name, style folder, ``.stylepack``, or an
  in-memory generator ``nn.Module``), run through the project's ``Engine``;
* ``TrainMethod``: trains a style on the painting now with a preset (the project's ``Trainer``);
* ``GatysMethod``: Gatys optimisation, the quality ceiling (results cached on disk, see below);
* ``MagentaMethod``: Magenta arbitrary stylisation through onnxruntime, the zero-shot anchor.

Gatys results are cached as PNG + JSON under ``<cache>/quality/gatys/<key>``; the key is the
SHA-256 of the 8-bit photo and painting pixels, the Gatys settings, the feature network's weights,
the torch version and the device type, so a cached image is exactly what a fresh run would give
(8-bit outputs are what the benchmark measures anyway).
"""

from __future__ import annotations

import enum
import hashlib
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from torch import nn

from stylestudio.core.errors import StyleStudioError
from stylestudio.core.quality.gatys import GatysConfig, gatys_transfer
from stylestudio.core.quality.images import ImageLike, QualityBenchError, to_uint8
from stylestudio.core.quality.magenta import MagentaModels
from stylestudio.core.quality.metrics import StyleTarget

Log = Callable[[str], None]
#: Part of the Gatys cache key: bump it when ``gatys_transfer`` changes what it computes.
GATYS_CACHE_VERSION = 1


class MethodKind(str, enum.Enum):
    PHOTO = "photo"
    STYLE = "style"
    TRAIN = "train"
    GATYS = "gatys"
    MAGENTA = "magenta"


@dataclass(frozen=True)
class Painting:
    """A painting as every method sees it."""

    name: str
    image: np.ndarray  # float32 (H, W, 3) at the benchmark's style size, 8-bit values
    source: ImageLike  # the original file or array (what training reads)
    target: StyleTarget


@dataclass(frozen=True)
class MethodOutput:
    image: np.ndarray
    seconds: float
    cached: bool = False


class Method(Protocol):
    label: str
    kind: MethodKind

    def prepare(self, painting: Painting) -> float | None:
        """Get ready for this painting; the training time in seconds (None: no training)."""
        ...

    def apply(self, photo: np.ndarray) -> MethodOutput: ...


def _quiet(_message: str) -> None:
    pass


class PhotoMethod:
    """The photo unchanged: content 0, and 1.0 on the photo-normalised metrics."""

    label = "photo"
    kind = MethodKind.PHOTO

    def prepare(self, painting: Painting) -> float | None:
        return None

    def apply(self, photo: np.ndarray) -> MethodOutput:
        return MethodOutput(photo, 0.0)


class _EngineMethod:
    """Runs a generator through the project's inference engine (untiled at benchmark sizes)."""

    def __init__(self, device: str) -> None:
        from stylestudio.core.engine.stylize import Engine

        self.engine = Engine(device=device, precision="fp32")
        self.model: nn.Module | None = None

    def _ready(self, model: nn.Module) -> nn.Module:
        return model.eval().requires_grad_(False).to(self.engine.device)

    def apply(self, photo: np.ndarray) -> MethodOutput:
        from stylestudio.core.engine.stylize import StylizeOptions

        if self.model is None:
            raise RuntimeError("prepare() must be called before apply()")
        result = self.engine.run_network(photo, self.model, StylizeOptions())
        return MethodOutput(result.image, result.elapsed_s)


class StyleMethod(_EngineMethod):
    """A StyleStudio style: library id or name, style folder, ``.stylepack``, or an nn.Module."""

    kind = MethodKind.STYLE

    def __init__(
        self,
        style: str | Path | nn.Module,
        device: str = "cpu",
        *,
        label: str | None = None,
        library: object | None = None,
    ) -> None:
        super().__init__(device)
        if isinstance(style, nn.Module):
            self.model = self._ready(style)
            self.label = label or "style"
            return
        location, name = _resolve_style(style, library)
        self.model = self.engine.model_for(location)
        self.label = label or f"style:{name}"

    def prepare(self, painting: Painting) -> float | None:
        return None


def _resolve_style(style: str | Path, library: object | None) -> tuple[Path, str]:
    path = Path(style).expanduser()
    if path.exists():
        from stylestudio.core.stylepack import read_style

        manifest, _ = read_style(path)
        return path, manifest.id
    from stylestudio.core.library import StyleLibrary

    lib = library if library is not None else StyleLibrary()
    record = lib.get(str(style))  # type: ignore[attr-defined]
    return record.location, record.id


class TrainMethod(_EngineMethod):
    """Trains a style on the painting with a preset, then applies it like ``StyleMethod``."""

    kind = MethodKind.TRAIN

    def __init__(
        self,
        preset: str = "quick",
        device: str = "cpu",
        *,
        content: ImageLike | list[ImageLike] | None = None,
        vgg_weights: Path | None = None,
        feature_extractor: nn.Module | None = None,
        seed: int = 0,
        overrides: dict[str, object] | None = None,
        log: Log = _quiet,
    ) -> None:
        from stylestudio.core.training.config import TrainingConfig

        super().__init__(device)
        self.config = TrainingConfig.preset(preset, seed=seed, **(overrides or {}))
        steps = overrides.get("steps") if overrides else None
        self.label = f"train:{preset}" + (f"({steps} steps)" if steps else "")
        self.device = device
        self.content = content
        self.vgg_weights = vgg_weights
        self.feature_extractor = feature_extractor
        self.log = log

    def prepare(self, painting: Painting) -> float | None:
        from stylestudio.core.library import StyleLibrary
        from stylestudio.core.training import events
        from stylestudio.core.training.run import TrainingRun
        from stylestudio.core.training.trainer import Trainer

        last = [0.0]

        def on_event(event: object) -> None:
            if isinstance(event, events.Progress) and time.monotonic() - last[0] > 30:
                last[0] = time.monotonic()
                self.log(f"  training {event.step}/{event.total} ({event.it_per_s:.2f} it/s)")

        start = time.perf_counter()
        # A throw-away library: the Trainer saves the style as it would for a user (and can warm
        # start from the built-in styles); the model is loaded before the folder goes away.
        with tempfile.TemporaryDirectory(prefix="stylestudio-quality-") as tmp:
            run = TrainingRun(
                self.config,
                [painting.source],
                self.content,
                name=f"quality {painting.name}",
                vgg_weights=self.vgg_weights,
                device=self.device,
                run_dir=Path(tmp) / "run",
                allow_download=False,
            )
            trainer = Trainer(
                run,
                StyleLibrary(user_dir=Path(tmp) / "styles"),
                feature_extractor=self.feature_extractor,
                on_event=on_event,
            )
            record = trainer.run()
            seconds = time.perf_counter() - start
            if record is None:
                raise QualityBenchError("Training finished without saving a style.")
            self.engine.clear_cache()
            self.model = self.engine.model_for(record.location)
        return seconds


class MagentaMethod:
    """Magenta arbitrary stylisation conditioned on the painting's style vector."""

    label = "magenta"
    kind = MethodKind.MAGENTA

    def __init__(self, models: MagentaModels) -> None:
        self.models = models
        self.vector: np.ndarray | None = None

    def prepare(self, painting: Painting) -> float | None:
        self.vector = painting.target.magenta
        if self.vector is None:
            self.vector = self.models.style_vector(painting.image)
        return None

    def apply(self, photo: np.ndarray) -> MethodOutput:
        if self.vector is None:
            raise RuntimeError("prepare() must be called before apply()")
        start = time.perf_counter()
        image = self.models.stylize(photo, self.vector)
        return MethodOutput(image, time.perf_counter() - start)


def module_fingerprint(module: nn.Module) -> str:
    """SHA-256 of a module's parameters and buffers (names, shapes, values)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().cpu().float().contiguous().numpy().tobytes())
    return digest.hexdigest()


class GatysMethod:
    """Gatys optimisation from the photo with the benchmark's feature network."""

    kind = MethodKind.GATYS

    def __init__(
        self,
        features: nn.Module,
        config: GatysConfig | None = None,
        device: str = "cpu",
        *,
        cache_dir: Path | None = None,
        log: Log = _quiet,
    ) -> None:
        self.config = (config or GatysConfig()).validated()
        self.features = features
        self.device = device
        self.cache_dir = cache_dir
        self.log = log
        scales = self.config.style_scales
        at = "" if scales == (1.0,) else ", scales " + "/".join(f"{x:g}" for x in scales)
        if self.config.swd_weight:
            at += f", features SWD {self.config.swd_weight:g}"
        if self.config.color_weight:
            at += f", colours SWD {self.config.color_weight:g}"
        self.label = f"gatys:{self.config.optimizer.value}({self.config.iterations} it{at})"
        self.painting: np.ndarray | None = None
        self._network_key = module_fingerprint(features) if cache_dir is not None else ""

    def prepare(self, painting: Painting) -> float | None:
        self.painting = painting.image
        return None

    def _key(self, photo: np.ndarray) -> str:
        assert self.painting is not None
        digest = hashlib.sha256()
        for image in (photo, self.painting):
            pixels = to_uint8(image)
            digest.update(str(pixels.shape).encode())
            digest.update(pixels.tobytes())
        settings = {
            k: (v.value if isinstance(v, enum.Enum) else v) for k, v in asdict(self.config).items()
        }
        digest.update(json.dumps(settings, sort_keys=True).encode())
        digest.update(f"{GATYS_CACHE_VERSION}:{self._network_key}".encode())
        digest.update(torch.__version__.encode())
        digest.update(torch.device(self.device).type.encode())
        return digest.hexdigest()[:32]

    def apply(self, photo: np.ndarray) -> MethodOutput:
        if self.painting is None:
            raise RuntimeError("prepare() must be called before apply()")
        key = self._key(photo) if self.cache_dir is not None else None
        if key is not None:
            cached = _read_cached(self.cache_dir, key, photo.shape)  # type: ignore[arg-type]
            if cached is not None:
                return cached
        result = gatys_transfer(
            photo, self.painting, self.features, self.config, device=self.device
        )
        self.log(
            f"  gatys: {result.evaluations} evaluations, loss {result.loss_start:.3g} → "
            f"{result.loss_end:.3g}, {result.seconds:.0f} s"
        )
        if key is not None:
            try:
                _write_cached(self.cache_dir, key, result.image, result.seconds)  # type: ignore[arg-type]
            except StyleStudioError as exc:  # a cache that cannot be written only costs time
                self.log(f"  gatys: not cached ({exc})")
        return MethodOutput(result.image, result.seconds)


def _read_cached(folder: Path, key: str, shape: tuple[int, ...]) -> MethodOutput | None:
    from PIL import Image

    png, meta = folder / f"{key}.png", folder / f"{key}.json"
    try:
        info = json.loads(meta.read_text())
        with Image.open(png) as pil:
            image = np.asarray(pil.convert("RGB"), dtype=np.float32) / 255.0
    except (OSError, ValueError):
        return None
    if image.shape != tuple(shape):
        return None
    return MethodOutput(image, float(info.get("seconds", 0.0)), cached=True)


def _write_cached(folder: Path, key: str, image: np.ndarray, seconds: float) -> None:
    import io

    from PIL import Image

    from stylestudio.core.atomic import atomic_write_bytes, atomic_write_text

    buffer = io.BytesIO()
    Image.fromarray(to_uint8(image)).save(buffer, format="PNG")
    atomic_write_bytes(folder / f"{key}.png", buffer.getvalue())
    atomic_write_text(folder / f"{key}.json", json.dumps({"seconds": round(seconds, 3)}))
