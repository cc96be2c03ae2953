"""Contact sheets: for one painting, rows = photos, columns = the painting + each method's output.

Each output cell is captioned with its metrics (S = style (Gram), C = content, M = style
(Magenta), W = patches (SWD)), so a number can be checked against what it measures.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from stylestudio.core.quality.benchmark import QualityReport
from stylestudio.core.quality.metrics import Scores

BACKGROUND = (250, 250, 250)
INK = (20, 20, 20)
PAD = 6


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: fixed-size bitmap font
        return ImageFont.load_default()


def _thumbnail(image: np.ndarray, cell: int) -> Image.Image:
    return ImageOps.contain(Image.fromarray(image), (cell, cell), Image.Resampling.LANCZOS)


def _caption(scores: Scores | None, seconds: float | None) -> list[str]:
    if scores is None:
        return []
    magenta = "–" if scores.magenta is None else f"{scores.magenta:.2f}"
    second = f"M {magenta}  W {scores.swd:.2f}"
    if seconds is not None:
        second += f"  {seconds:.1f} s"
    return [f"S {scores.style:.3f}  C {scores.content:.3f}", second]


def render_contact_sheet(report: QualityReport, painting: str, cell: int = 256) -> Image.Image:
    """The sheet of one painting as a PIL image."""
    if painting not in report.paintings:
        raise KeyError(painting)
    font = _font(max(10, cell // 18))
    title_font = _font(max(11, cell // 16))
    line = int(font.size * 1.3) if hasattr(font, "size") else 12
    columns = ["painting", *report.methods]
    by_key = {(r.photo, r.method): r for r in report.rows if r.painting == painting}
    painting_thumb = _thumbnail(report.paintings[painting], cell)
    # One list of (thumbnail, caption lines) per photo; a row is as tall as its tallest image.
    grid: list[list[tuple[Image.Image, list[str]] | None]] = []
    for photo in report.photos:
        cells: list[tuple[Image.Image, list[str]] | None] = [(painting_thumb, [photo])]
        for method in report.methods:
            image = report.outputs.get((painting, photo, method))
            row = by_key.get((photo, method))
            caption = _caption(row.scores, row.seconds) if row else []
            cells.append(None if image is None else (_thumbnail(image, cell), caption))
        grid.append(cells)
    head = int(line * 2)
    heights = [max(c[0].height for c in cells if c) + 2 * line + PAD for cells in grid]
    width = len(columns) * (cell + PAD) + PAD
    sheet = Image.new("RGB", (width, head + sum(heights) + PAD), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for c, title in enumerate(columns):
        draw.text((PAD + c * (cell + PAD), PAD), title, fill=INK, font=title_font)
    top = head
    for cells, row_h in zip(grid, heights, strict=True):
        image_h = row_h - 2 * line - PAD
        for c, item in enumerate(cells):
            if item is None:
                continue
            thumb, caption = item
            left = PAD + c * (cell + PAD)
            sheet.paste(
                thumb, (left + (cell - thumb.width) // 2, top + (image_h - thumb.height) // 2)
            )
            for i, text in enumerate(caption):
                draw.text((left, top + image_h + 2 + i * line), text, fill=INK, font=font)
        top += row_h
    return sheet


def contact_sheet_png(report: QualityReport, painting: str, cell: int = 256) -> bytes:
    buffer = io.BytesIO()
    render_contact_sheet(report, painting, cell).save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()
