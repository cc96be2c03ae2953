"""Saving a blend as a new style of the library (``styles mix`` and the GUI's "Save blend").

The parents are read afresh (and verified) and their lineage is checked again against the
library as it is now; the interpolated weights are written like every style's, through
``StyleLibrary.add`` (one atomic publication). The manifest's ``training.mix`` records the parents
(id, name, version, weights sha256, weight), the weights and the lineage, so the saved blend can
itself be mixed again (``mixing.lineage_of`` reads it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stylestudio.core.mixing import (
    MIX_KEY,
    Blend,
    MixError,
    MixMember,
    library_lineages,
    make_blend,
    mix_states,
)

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from stylestudio.core.library import StyleLibrary, StyleRecord
    from stylestudio.core.stylepack import StyleManifest

MIX_METHOD = "linear interpolation of every generator parameter (styles of one base model)"
#: Side of the thumbnail a saved blend gets (from the first sample photo).
THUMBNAIL_SIDE = 256


@dataclass(frozen=True)
class ParentStyle:
    manifest: StyleManifest
    tensors: dict[str, torch.Tensor]
    weight: float


def _read_parents(blend: Blend, library: StyleLibrary) -> list[ParentStyle]:
    """Each parent freshly read and verified, its lineage re-checked against the library now."""
    from stylestudio.core.stylepack import read_style

    records = library.list()
    by_id = {r.id: r for r in records}
    lineages = library_lineages(records)
    members = []
    for part in blend.parts:
        record = by_id.get(part.style_id)
        if record is None:
            raise MixError(f"The style {part.name!r} of the blend is no longer in the library.")
        members.append(
            MixMember(record.id, record.name, record.location, lineages[record.id], part.weight)
        )
    make_blend(members)  # the lineage still holds (styles may have changed since)
    parents = []
    for part, member in zip(blend.parts, members, strict=True):
        manifest, tensors = read_style(member.location)
        if manifest.id != part.style_id:
            raise MixError(f"The style {part.name!r} changed on disk; choose the blend again.")
        parents.append(ParentStyle(manifest, tensors, part.weight))
    return parents


def _clip(text: str) -> str:
    from stylestudio.core.stylepack import MAX_TEXT_LENGTH

    return text if len(text) <= MAX_TEXT_LENGTH else text[: MAX_TEXT_LENGTH - 1] + "…"


def _credits(parents: Sequence[ParentStyle], field: str) -> str:
    values = [(p.manifest.name, getattr(p.manifest, field)) for p in parents]
    distinct = {v for _, v in values if v}
    if len(distinct) == 1 and all(v for _, v in values):
        return distinct.pop()
    return "; ".join(f"{name}: {value}" for name, value in values if value)


def blend_training_record(blend: Blend, parents: Sequence[ParentStyle]) -> dict[str, Any]:
    """The ``training`` of a saved blend: parents, weights, method and the lineage it keeps."""
    from stylestudio import __version__
    from stylestudio.core.training.warm_start import BASE_MODEL_KEY

    return {
        "trainer": f"StyleStudio {__version__}",
        "method": MIX_METHOD,
        MIX_KEY: {
            "parents": [
                {
                    "id": p.manifest.id,
                    "name": p.manifest.name,
                    "version": p.manifest.version,
                    "weights_sha256": p.manifest.weights_sha256,
                    "weight": p.weight,
                }
                for p in parents
            ],
            "weights": [p.weight for p in parents],
            "lineage": {
                BASE_MODEL_KEY: blend.lineage.base_model,
                "architecture": blend.lineage.architecture,
                "params": dict(blend.lineage.params),
            },
        },
    }


def _thumbnail(blend_model: torch.nn.Module, photo: Path | None) -> Image.Image | None:
    """The blend applied to the centre square of ``photo`` (as trained styles' thumbnails are
    made), or None without a photo."""
    if photo is None or not photo.is_file():
        return None
    import torch
    from PIL import Image

    from stylestudio.core.imageio import load_image, to_uint8
    from stylestudio.core.training import data

    source = data.SourceImage(photo.name, "", (0, 0), data.to_tensor(load_image(photo).rgb))
    x = data.preview_samples([source], THUMBNAIL_SIDE, count=1)
    with torch.inference_mode():
        y = blend_model.eval()(x)[0]
    return Image.fromarray(to_uint8(data.to_array(y)), "RGB")


def default_thumbnail_photo() -> Path | None:
    """The first of the app's sample photos (what the gallery thumbnails show), if any."""
    from stylestudio.core import paths
    from stylestudio.core.imageio import SUPPORTED_EXTENSIONS

    folder = paths.sample_images_dir()
    try:
        photos = sorted(p for p in folder.iterdir() if p.suffix.lower() in SUPPORTED_EXTENSIONS)
    except OSError:
        return None
    return photos[0] if photos else None


def save_blend(
    library: StyleLibrary,
    blend: Blend,
    name: str,
    *,
    thumbnail_photo: Path | None = None,
) -> StyleRecord:
    """Save ``blend`` as a new user style ``name`` (safetensors + manifest, written atomically
    through ``StyleLibrary.add``); its manifest records the parents, weights and lineage.

    The thumbnail is the blend applied to ``thumbnail_photo`` (default: the first sample photo).
    """
    from stylestudio.core.models import registry

    parents = _read_parents(blend, library)
    first = parents[0].manifest
    mixed = mix_states([p.tensors for p in parents], [p.weight for p in parents])
    model = registry.build_model(first.architecture, first.params)
    model.load_state_dict(mixed, strict=True)
    photo = thumbnail_photo if thumbnail_photo is not None else default_thumbnail_photo()
    return library.add(
        name,
        mixed,
        architecture=first.architecture,
        params=first.params,
        thumbnail=_thumbnail(model, photo),
        training=blend_training_record(blend, parents),
        license=_clip(_credits(parents, "license")),
        attribution=_clip(_credits(parents, "attribution")),
        description=_clip(f"A blend of {blend.describe()}: their networks interpolated."),
    )
