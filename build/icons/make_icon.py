"""Draw StyleStudio's application icon: ``stylestudio.png`` (1024 px) and ``stylestudio.ico``.

Run once and commit the results (``python build/icons/make_icon.py``); the spec uses the .ico on
Windows and the .png elsewhere (PyInstaller converts it to .icns on macOS with Pillow). Drawn
from code so that the icon has no licensing question attached.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SIZE = 1024
HERE = Path(__file__).resolve().parent
ICO_SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]


def draw(size: int = SIZE) -> Image.Image:
    # Diagonal gradient from deep indigo to warm orange: "photo → painting".
    t = np.linspace(0.0, 1.0, size, dtype=np.float32)
    mix = (t[None, :] + t[:, None]) / 2.0
    start = np.array([40, 36, 110], dtype=np.float32)
    end = np.array([245, 140, 60], dtype=np.float32)
    rgb = start + (end - start) * mix[..., None]
    background = Image.fromarray(rgb.astype(np.uint8), "RGB").convert("RGBA")

    # Rounded-square mask.
    mask = Image.new("L", (size, size), 0)
    margin = size // 16
    ImageDraw.Draw(mask).rounded_rectangle(
        (margin, margin, size - margin, size - margin), radius=size // 5, fill=255
    )

    # Three broad brush strokes.
    strokes = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    pen = ImageDraw.Draw(strokes)
    colours = [(255, 236, 179, 235), (120, 200, 230, 225), (255, 255, 255, 240)]
    for i, colour in enumerate(colours):
        y = size * (0.32 + 0.18 * i)
        pen.line(
            [(size * 0.22, y + size * 0.10), (size * 0.50, y - size * 0.02), (size * 0.78, y)],
            fill=colour,
            width=size // 11,
            joint="curve",
        )
    strokes = strokes.filter(ImageFilter.GaussianBlur(size / 400))

    icon = Image.alpha_composite(background, strokes)
    icon.putalpha(mask)
    return icon


def main() -> None:
    icon = draw()
    icon.save(HERE / "stylestudio.png", optimize=True)
    icon.save(HERE / "stylestudio.ico", sizes=ICO_SIZES)


if __name__ == "__main__":
    main()
