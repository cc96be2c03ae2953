"""Turn a base-model training state into the built-in gallery (one style folder per painting).

    python -m stylestudio.tools.export_gallery --data $STYLESTUDIO_SHARED_DATA \
        --state build/base-model --out resources/styles

Style ``s`` is the shared base generator with painting ``s``'s normalisation parameters: a plain
``stylestudio.generator.v1`` state dict, so the engine runs it like any other style. Each
manifest records the painting (title, artist, year, licence, source and SHA-256, read from the
shared data's ``styles/PROVENANCE.md``) and how the base was trained (the commands, steps, time,
device, torch version, and the practice photos with their hashes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

#: Painting file stem → (style id, display name). Ids are stable: apps refer to them.
GALLERY_NAMES: dict[str, tuple[str, str]] = {
    "van-gogh-starry-night": ("starry-night", "Starry Night"),
    "hokusai-great-wave-off-kanagawa": ("great-wave", "Great Wave"),
    "monet-water-lilies-1919": ("water-lilies", "Water Lilies"),
    "klimt-the-kiss": ("the-kiss", "Golden Kiss"),
    "munch-the-scream": ("the-scream", "The Scream"),
    "huang-gongwang-dwelling-in-the-fuchun-mountains": ("fuchun-ink", "Fuchun Ink"),
    "roman-mosaic-plato-academy-pompeii": ("pompeii-mosaic", "Pompeii Mosaic"),
    "tiffany-hibiscus-and-parrots-stained-glass": ("stained-glass", "Stained Glass"),
    "kandinsky-composition-vii": ("composition-vii", "Composition VII"),
    "picabia-udnie": ("udnie", "Udnie"),
    "seurat-the-seine-at-la-grande-jatte": ("grande-jatte", "Pointillist"),
    "bruegel-the-harvesters": ("harvesters", "Harvesters"),
    "giotto-lamentation": ("lamentation", "Fresco"),
    "william-morris-trellis-wallpaper-design": ("morris-trellis", "Morris Trellis"),
    "turner-shipwreck-of-the-minotaur": ("turner-storm", "Turner Storm"),
    "van-gogh-starry-night-over-the-rhone": ("rhone-night", "Night on the Rhône"),
}


BASE_MODEL_ID = "stylestudio-base-1"


@dataclass(frozen=True)
class Painting:
    file: str
    title: str
    artist: str
    year: str
    source: str
    licence: str
    sha256: str

    def record(self) -> dict[str, str]:
        """The painting as a gallery manifest's ``training.paintings`` entry."""
        return {
            "file": self.file,
            "title": self.title,
            "artist": self.artist,
            "year": self.year,
            "licence": self.licence,
            "source": self.source,
            "sha256": self.sha256,
        }


def thumbnail_sample(photo: Path):  # type: ignore[no-untyped-def]
    """The thumbnail photo as the 256 px centre sample trained styles' thumbnails use."""
    from stylestudio.core.imageio import load_image
    from stylestudio.core.training import data

    tensor = data.to_tensor(load_image(photo).rgb)
    return data.preview_samples([data.SourceImage("t", "", (0, 0), tensor)], 256, count=1)


def style_thumbnail(generator, sample):  # type: ignore[no-untyped-def]
    """``generator`` (eval mode) on ``sample`` as an RGB image."""
    import torch
    from PIL import Image

    from stylestudio.core.imageio import to_uint8
    from stylestudio.core.training import data

    with torch.no_grad():
        thumb = generator(sample)[0]
    return Image.fromarray(to_uint8(data.to_array(thumb)), "RGB")


def replace_style_folder(out: Path, manifest, state, thumbnail) -> Path:  # type: ignore[no-untyped-def]
    """Write ``out/<id>``, removing an older folder of that id first."""
    from stylestudio.core import atomic
    from stylestudio.core.stylepack import write_style_folder

    existing = out / manifest.id
    if existing.exists():
        atomic.remove_dir_atomically(existing)
    return write_style_folder(out, manifest, state, thumbnail)


def _clean(cell: str) -> str:
    return cell.strip().strip("`").strip()


def read_provenance(path: Path) -> dict[str, Painting]:
    """The rows of ``styles/PROVENANCE.md`` (a Markdown table), by file stem."""
    rows: dict[str, Painting] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `"):
            continue
        cells = [_clean(c) for c in line.strip().strip("|").split("|")]
        if len(cells) < 9:
            continue
        file, title, artist, year, source, licence = cells[:6]
        sha = cells[8]
        if not re.fullmatch(r"[0-9a-f]{64}", sha):
            continue
        rows[Path(file).stem] = Painting(file, title, artist, year, source, licence, sha)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=os.environ.get("STYLESTUDIO_SHARED_DATA"))
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--out", type=Path, help="folder to write the gallery's styles into")
    parser.add_argument(
        "--base-out", type=Path, help="folder to write the compact base model into (warm starts)"
    )
    parser.add_argument(
        "--thumbnail-photo", type=Path, default=Path("resources/samples/chelsea.jpg")
    )
    args = parser.parse_args(argv)
    if args.data is None:
        parser.error("--data (or $STYLESTUDIO_SHARED_DATA) must name the shared data folder")

    import torch
    from safetensors.torch import load_file

    from stylestudio.core.models.generator import ARCHITECTURE_NAME, Generator, GeneratorConfig
    from stylestudio.core.stylepack import StyleManifest, utc_now_iso
    from stylestudio.core.training import multistyle as ms
    from stylestudio.core.training import warm_start
    from stylestudio.core.training.base_model import BaseModel

    meta = json.loads((args.state / ms.META_FILE).read_text(encoding="utf-8"))
    tensors = load_file(str(args.state / ms.STATE_FILE))
    inputs = meta["inputs"]
    config = GeneratorConfig.from_dict(inputs["generator"])
    generator = Generator(config)
    shared = {k[2:]: v for k, v in tensors.items() if k.startswith("G.")}
    generator.load_state_dict(shared, strict=True)
    keys = list(inputs["paintings"])
    bank = ms.StyleBank(generator, len(keys))
    bank.load_state_dict({k[5:]: v for k, v in tensors.items() if k.startswith("bank.")})
    provenance = read_provenance(Path(args.data) / "styles" / "PROVENANCE.md")
    photo = thumbnail_sample(args.thumbnail_photo)

    runs = meta.get("runs", [])
    digest = hashlib.sha256()
    for name in sorted(shared):
        if name not in bank.names:
            digest.update(name.encode())
            digest.update(shared[name].detach().float().contiguous().numpy().tobytes())
    training_record = {
        warm_start.BASE_MODEL_KEY: {
            "id": BASE_MODEL_ID,
            "shared_weights_sha256": digest.hexdigest(),
            "note": "a member of the base family: new styles may start from it",
        },
        "method": (
            "multi-style GAN base model (shared convolutions, one set of instance-norm "
            "parameters per painting; PatchGAN + VGG19 content + Gram style losses), "
            "trained by stylestudio.tools.train_base"
        ),
        "commands": [r.get("command", "") for r in runs],
        "runs": runs,
        "steps": meta["step"],
        "steps_per_painting": round(meta["step"] / len(keys), 1),
        "time_s": round(float(meta.get("elapsed_s", 0.0)), 1),
        "settings": inputs["settings"],
        "photos": inputs["photos"],
        "gallery_paintings": len(keys),
        "export_command": " ".join(
            ["python -m stylestudio.tools.export_gallery", *(argv or sys.argv[1:])]
        ),
    }
    # The base model (shared weights with the mean row, and every painting's row) is what both
    # outputs are made of: --base-out writes it, each gallery style is one of its rows.
    mean = bank.mixture(torch.full((len(keys),), 1.0 / len(keys)))
    base_state = dict(generator.state_dict())
    base_state.update({k: v.detach().clone() for k, v in mean.items()})
    rows = {
        key: {k: v.detach().clone() for k, v in bank.row(i).items()} for i, key in enumerate(keys)
    }
    info = {
        "paintings": {
            key: {
                "title": provenance[key].title,
                "artist": provenance[key].artist,
                "year": provenance[key].year,
                "licence": provenance[key].licence,
                "sha256": provenance[key].sha256,
            }
            for key in keys
        },
        "training": training_record,
        "license": "MIT (weights trained by StyleStudio's own code on public-domain paintings)",
    }
    model = BaseModel(BASE_MODEL_ID, config.to_dict(), base_state, rows, info)
    if args.base_out is not None:
        model.save(args.base_out)
        print(f"wrote the base model to {args.base_out}")
    if args.out is None:
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for index, key in enumerate(keys):
        style_id, name = GALLERY_NAMES[key]
        painting = provenance[key]
        if painting.sha256 != inputs["paintings"][key]:
            print(f"{key}: the painting's hash differs from PROVENANCE.md; skipped")
            continue
        state = model.state_for(key)
        generator_s = Generator(config)
        generator_s.load_state_dict(state)
        generator_s.eval()
        thumbnail = style_thumbnail(generator_s, photo)
        manifest = StyleManifest(
            id=style_id,
            name=name,
            version=1,
            architecture=ARCHITECTURE_NAME,
            params=config.to_dict(),
            created=utc_now_iso(),
            weights_sha256="",
            license="Weights: MIT, trained by StyleStudio's own code. Painting: public domain.",
            attribution=f"After {painting.artist}, {painting.title} ({painting.year}).",
            description=f"Learned from {painting.title} by {painting.artist} ({painting.year}).",
            training={
                **training_record,
                "paintings": [painting.record()],
                "style_index": index,
            },
        )
        replace_style_folder(args.out, manifest, state, thumbnail)
        print(f"wrote {args.out / style_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
