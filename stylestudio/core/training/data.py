"""Training inputs: loading and checking images, and sampling random crops reproducibly.

Practice photos are optional. Without them the generator practises on StyleStudio's bundled
sample photos (``resources/samples``) and, when none are bundled, on generated images (smooth
colour gradients with soft shapes). The style images themselves are never used as practice
photos: reproducing them is trivially good for the style loss, so they would teach the generator
to change nothing.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from stylestudio.core.errors import ImageLoadError, TrainingError

#: Images with a side shorter than this are refused (nothing to learn from, crops would blur).
MIN_IMAGE_SIDE = 64
#: Generated practice images used when no photos are given and no samples are bundled.
SYNTHETIC_COUNT = 8
#: Below this many practice photos the user is told that more would help.
RECOMMENDED_PHOTOS = 20

ImageInput = str | os.PathLike[str] | np.ndarray


@dataclass(frozen=True)
class SourceImage:
    """One decoded input, scaled down to the size training uses."""

    name: str
    sha256: str  # of the file's bytes (or of the array's bytes for in-memory images)
    original_size: tuple[int, int]  # (width, height) before scaling
    tensor: torch.Tensor  # (3, H, W) float32 in [0, 1], CPU


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """``(H, W, 3)`` float array → ``(3, H, W)`` float32 tensor."""
    return torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32)).permute(2, 0, 1)


def to_array(tensor: torch.Tensor) -> np.ndarray:
    """``(3, H, W)`` tensor → ``(H, W, 3)`` float32 array clipped to [0, 1]."""
    array = tensor.detach().float().clamp(0.0, 1.0).permute(1, 2, 0).cpu().numpy()
    return np.ascontiguousarray(array)


def resize_long_side(image: torch.Tensor, long_side: int, *, enlarge: bool = False) -> torch.Tensor:
    """Scale ``(3, H, W)`` so its long side is ``long_side`` (antialiased, never enlarged unless
    ``enlarge``)."""
    h, w = image.shape[-2:]
    factor = long_side / max(h, w)
    if (factor >= 1.0 and not enlarge) or abs(factor - 1.0) < 1e-9:
        return image
    size = (max(1, round(h * factor)), max(1, round(w * factor)))
    return resize(image.unsqueeze(0), size).squeeze(0)


def resize(batch: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of ``(N, 3, H, W)``, antialiased when shrinking."""
    if tuple(batch.shape[-2:]) == tuple(size):
        return batch
    shrink = size[0] < batch.shape[-2] or size[1] < batch.shape[-1]
    return F.interpolate(batch, size=size, mode="bilinear", align_corners=False, antialias=shrink)


def load_source(item: ImageInput, role: str, index: int, long_side: int) -> SourceImage:
    """Decode and check one image; TrainingError with one sentence when it cannot be used."""
    if isinstance(item, np.ndarray):
        rgb = item
        name = f"#{index + 1}"
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise TrainingError(f"The {role} {name} is not an RGB image array.")
        rgb = np.clip(rgb.astype(np.float32, copy=False), 0.0, 1.0)
        sha = hashlib.sha256(np.ascontiguousarray(rgb).tobytes()).hexdigest()
    else:
        from stylestudio.core.imageio import load_image

        path = Path(item)
        name = path.name or str(path)
        try:
            loaded = load_image(path)
            sha = _sha256_file(path)
        except ImageLoadError as exc:
            raise TrainingError(f"The {role} {name} cannot be used: {_sentence(str(exc))}") from exc
        except OSError as exc:
            raise TrainingError(f"The {role} {name} could not be read.") from exc
        rgb = loaded.rgb
        if loaded.alpha is not None:  # transparent areas hold arbitrary colours: use white
            from stylestudio.core.imageio import composite_on_white

            rgb = composite_on_white(rgb, loaded.alpha)
    h, w = rgb.shape[:2]
    if min(h, w) < MIN_IMAGE_SIDE:
        raise TrainingError(
            f"The {role} {name} is only {w}×{h} pixels; training needs images at least "
            f"{MIN_IMAGE_SIDE} pixels on each side."
        )
    tensor = resize_long_side(to_tensor(rgb), long_side)
    return SourceImage(name=name, sha256=sha, original_size=(w, h), tensor=tensor.contiguous())


def _sentence(message: str) -> str:
    message = message.strip()
    return message if message.endswith(".") else message + "."


def load_style_images(
    items: Sequence[ImageInput] | ImageInput, long_side: int
) -> list[SourceImage]:
    if isinstance(items, (str, os.PathLike, np.ndarray)):
        items = [items]
    if not items:
        raise TrainingError("Add at least one style image to learn from.")
    return [load_source(item, "style image", i, long_side) for i, item in enumerate(items)]


def expand_content(
    content: ImageInput | Sequence[ImageInput] | None,
) -> list[ImageInput]:
    """Files, folders (their supported images, sorted) and arrays → a flat list of inputs."""
    from stylestudio.core.imageio import is_supported_image_path

    if content is None:
        return []
    if isinstance(content, (str, os.PathLike, np.ndarray)):
        content = [content]
    items: list[ImageInput] = []
    for item in content:
        if isinstance(item, np.ndarray):
            items.append(item)
            continue
        path = Path(item)
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.is_file() and not p.name.startswith(".") and is_supported_image_path(p)
            )
            if not found:
                raise TrainingError(f"The folder {path.name} contains no supported images.")
            items.extend(found)
        else:
            items.append(path)
    return items


def bundled_samples() -> list[Path]:
    from stylestudio.core.imageio import is_supported_image_path
    from stylestudio.core.paths import sample_images_dir

    folder = sample_images_dir()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and is_supported_image_path(p))


def synthetic_photos(count: int, size: int, seed: int) -> list[np.ndarray]:
    """Smooth gradients with soft ellipses and low-frequency shading, reproducible from seed."""
    gen = torch.Generator().manual_seed(seed)
    h, w = (size * 3) // 4, size
    ys = torch.linspace(0, 1, h).view(h, 1)
    xs = torch.linspace(0, 1, w).view(1, w)
    images = []
    for _ in range(count):
        c0, c1 = torch.rand(3, generator=gen), torch.rand(3, generator=gen)
        angle = torch.rand(1, generator=gen) * 6.2832
        t = (xs * torch.cos(angle) + ys * torch.sin(angle)).clamp(-1, 2)
        t = (t - t.min()) / (t.max() - t.min() + 1e-6)
        img = c0.view(3, 1, 1) * (1 - t) + c1.view(3, 1, 1) * t
        for _ in range(3):
            cy, cx, r = torch.rand(3, generator=gen).tolist()
            colour = torch.rand(3, generator=gen).view(3, 1, 1)
            d = ((ys - cy) ** 2 + (xs - cx) ** 2).sqrt() / (0.1 + 0.3 * r)
            alpha = torch.sigmoid((1.0 - d) * 12.0)
            img = img * (1 - alpha) + colour * alpha
        shade = torch.rand(1, 1, 4, 4, generator=gen)
        shade = F.interpolate(shade, size=(h, w), mode="bicubic", align_corners=False)[0]
        img = (img * (0.7 + 0.6 * shade)).clamp(0, 1)
        images.append(img.permute(1, 2, 0).numpy().astype(np.float32))
    return images


def load_content_images(
    content: ImageInput | Sequence[ImageInput] | None, long_side: int, seed: int
) -> tuple[list[SourceImage], str | None]:
    """The practice photos, plus a note for the user (a fallback was used, or few photos)."""
    items = expand_content(content)
    note = None
    if not items:
        items = list(bundled_samples())
        note = "No practice photos were given; practising on StyleStudio's sample photos."
        if not items:
            items = list(synthetic_photos(SYNTHETIC_COUNT, max(long_side, 128), seed))
            note = "No practice photos were given; practising on generated images."
    elif len(items) < RECOMMENDED_PHOTOS:
        note = (
            f"Only {len(items)} practice photo{'s' if len(items) != 1 else ''}; "
            f"{RECOMMENDED_PHOTOS} or more varied photos usually give better results."
        )
    sources = [load_source(item, "photo", i, long_side) for i, item in enumerate(items)]
    return sources, note


@dataclass(frozen=True)
class InputCheck:
    """What a settings page can show before training starts."""

    style_images: int
    practice_photos: int  # after fallbacks (bundled samples or generated images)
    notes: tuple[str, ...]


def check_inputs(
    style_images: Sequence[ImageInput] | ImageInput,
    content_images: ImageInput | Sequence[ImageInput] | None = None,
    *,
    style_size: int = 512,
    content_size: int = 640,
) -> InputCheck:
    """Decode and check every input as training will (TrainingError on the first problem)."""
    styles = load_style_images(style_images, style_size)
    photos, note = load_content_images(content_images, content_size, seed=0)
    return InputCheck(len(styles), len(photos), (note,) if note else ())


class CropSampler:
    """Random square crops at random scales with random horizontal flips.

    A crop covers ``crop / s`` source pixels, ``s`` uniform in ``[min_scale, max_scale]``
    (clamped to the image), resized to ``crop``: a handful of photos still gives varied inputs.
    """

    def __init__(
        self, images: Sequence[torch.Tensor], crop: int, min_scale: float, max_scale: float = 1.0
    ) -> None:
        if not images:
            raise ValueError("no images to sample from")
        self.images = list(images)
        self.crop = crop
        self.min_scale = min_scale
        self.max_scale = max_scale

    def sample(self, count: int, gen: torch.Generator) -> torch.Tensor:
        crops = []
        for _ in range(count):
            index = int(torch.randint(len(self.images), (1,), generator=gen))
            image = self.images[index]
            h, w = image.shape[-2:]
            u = float(torch.rand(1, generator=gen))
            scale = self.min_scale + (self.max_scale - self.min_scale) * u
            side = min(round(self.crop / scale), h, w)
            top = int(torch.randint(h - side + 1, (1,), generator=gen))
            left = int(torch.randint(w - side + 1, (1,), generator=gen))
            patch = image[:, top : top + side, left : left + side].unsqueeze(0)
            patch = resize(patch, (self.crop, self.crop))
            if float(torch.rand(1, generator=gen)) < 0.5:
                patch = patch.flip(-1)
            crops.append(patch)
        return torch.cat(crops, dim=0).clamp(0.0, 1.0)


def preview_samples(sources: Sequence[SourceImage], size: int, count: int = 2) -> torch.Tensor:
    """Fixed photos for previews and the thumbnail: centre squares of the first ``count``."""
    out = []
    for source in sources[:count]:
        image = source.tensor
        h, w = image.shape[-2:]
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        square = image[:, top : top + side, left : left + side].unsqueeze(0)
        out.append(resize(square, (size, size)))
    return torch.cat(out, dim=0)


def shard(items: Sequence[SourceImage], rank: int, world_size: int) -> list[SourceImage]:
    """This rank's share of the practice photos (all of them when there are too few)."""
    if world_size <= 1 or len(items) < world_size:
        return list(items)
    return list(items[rank::world_size])
