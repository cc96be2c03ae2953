"""The gallery's contact sheet: each built-in style on the same two photos, beside its painting.

    python -m stylestudio.tools.gallery_sheet --data $STYLESTUDIO_SHARED_DATA \
        --out resources/styles/contact-sheet.jpg

The photos are the app's bundled samples (public domain), run through the same engine the app
uses; the painting thumbnail is a centre crop of the painting the style was learned from.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

CELL = 200
LABEL = 34
PER_ROW = 2  # styles per row of the sheet (each: painting, photo 1, photo 2)
GAP = 8


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """DejaVu Sans where the system has it (accented names), else Pillow's own font."""
    for path in (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/Library/Fonts/Arial Unicode.ttf",
        "C:/Windows/Fonts/arial.ttf",
    ):
        if Path(path).is_file():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def _square(image: Image.Image, size: int) -> Image.Image:
    return ImageOps.fit(image.convert("RGB"), (size, size), Image.Resampling.LANCZOS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=os.environ.get("STYLESTUDIO_SHARED_DATA"))
    parser.add_argument("--styles", type=Path, default=Path("resources/styles"))
    parser.add_argument(
        "--photos",
        type=Path,
        nargs=2,
        default=[Path("resources/samples/chelsea.jpg"), Path("resources/samples/coffee.jpg")],
    )
    parser.add_argument("--out", type=Path, default=Path("resources/styles/contact-sheet.jpg"))
    args = parser.parse_args(argv)
    if args.data is None:
        parser.error("--data (or $STYLESTUDIO_SHARED_DATA) must name the shared data folder")

    from stylestudio.core.atomic import atomic_write_bytes
    from stylestudio.core.engine import Engine, StylizeOptions
    from stylestudio.core.imageio import load_image, to_uint8
    from stylestudio.core.quality.gallery_check import style_folders

    engine = Engine(device="cpu")
    photos = [load_image(p).rgb for p in args.photos]
    entries = []
    for folder in style_folders(args.styles):
        manifest = json.loads((folder / "style.json").read_text(encoding="utf-8"))
        paintings = manifest.get("training", {}).get("paintings") or []
        if not paintings:
            continue
        painting = paintings[0]
        thumb = _square(Image.open(Path(args.data) / "styles" / painting["file"]), CELL)
        cells = [thumb]
        for photo in photos:
            result = engine.stylize(photo, folder, StylizeOptions(max_side=2 * CELL))
            cells.append(_square(Image.fromarray(to_uint8(result.image)), CELL))
        label = f"{manifest['name']} · {painting['artist']}, {painting['title']}"
        entries.append((label, cells))
        print(f"{manifest['id']}: done", flush=True)

    block_w = 3 * CELL + 2 * 2
    rows = (len(entries) + PER_ROW - 1) // PER_ROW
    width = PER_ROW * block_w + (PER_ROW + 1) * GAP
    height = rows * (CELL + LABEL) + (rows + 1) * GAP
    sheet = Image.new("RGB", (width, height), (250, 250, 248))
    draw = ImageDraw.Draw(sheet)
    font = _font(14)
    for index, (label, cells) in enumerate(entries):
        x0 = GAP + (index % PER_ROW) * (block_w + GAP)
        y0 = GAP + (index // PER_ROW) * (CELL + LABEL + GAP)
        for column, cell in enumerate(cells):
            sheet.paste(cell, (x0 + column * (CELL + 2), y0))
        text = label
        while draw.textlength(text, font=font) > block_w and len(text) > 2:
            text = text[:-2] + "…"
        draw.text((x0, y0 + CELL + 6), text, fill=(30, 30, 30), font=font)
    import io

    buffer = io.BytesIO()
    sheet.save(buffer, format="JPEG", quality=85, optimize=True)
    atomic_write_bytes(args.out, buffer.getvalue())
    print(f"wrote {args.out} ({len(entries)} styles, {len(buffer.getvalue()) // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
