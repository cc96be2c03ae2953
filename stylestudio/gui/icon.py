"""The application icon: an SVG source plus PNG sizes rendered from it with Qt.

``python -m stylestudio.gui.icon`` re-renders the PNGs after editing the SVG.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QGuiApplication, QIcon, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from stylestudio.core.paths import resources_dir

ICON_NAME = "stylestudio"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def icons_dir() -> Path:
    return resources_dir() / "icons"


def svg_path() -> Path:
    return icons_dir() / f"{ICON_NAME}.svg"


def png_path(size: int, folder: Path | None = None) -> Path:
    return (folder or icons_dir()) / f"{ICON_NAME}-{size}.png"


def render_svg(svg: Path, size: int) -> QImage:
    """The SVG rendered into a transparent ``size``×``size`` ARGB image."""
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"not a valid SVG: {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def render_pngs(svg: Path | None = None, folder: Path | None = None) -> list[Path]:
    """Write every PNG size next to the SVG (or into ``folder``); needs a QGuiApplication."""
    svg = svg or svg_path()
    written = []
    for size in PNG_SIZES:
        target = png_path(size, folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not render_svg(svg, size).save(str(target), "PNG"):
            raise OSError(f"could not write {target}")
        written.append(target)
    return written


def app_icon() -> QIcon:
    """The window/application icon: all rendered PNG sizes (the SVG as a fallback)."""
    icon = QIcon()
    for size in PNG_SIZES:
        path = png_path(size)
        if path.is_file():
            icon.addFile(str(path))
    if icon.isNull() and svg_path().is_file():
        icon.addFile(str(svg_path()))
    return icon


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    for path in render_pngs():
        print(path)
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
