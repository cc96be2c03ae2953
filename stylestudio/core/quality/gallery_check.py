"""The built-in gallery against its quality bar: each style beside Magenta on its own painting.

Every gallery style records the painting it was learned from (``training.paintings`` in its
manifest). For each one, the quality benchmark runs the style and Magenta arbitrary stylisation
on the same photos against that painting, in one run, and the bar is checked: style distance
and independent (Magenta-vector) style distance below Magenta's, at a content distance no more
than ``content_ratio`` times Magenta's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from stylestudio.core.quality.benchmark import QualityBench, QualityReport
from stylestudio.core.quality.images import ImageLike, QualityBenchError

MAGENTA_LABEL = "magenta"
Log = Callable[[str], None]


@dataclass(frozen=True)
class GalleryBar:
    content_ratio: float = 1.2  # the style's content distance ≤ this × Magenta's


@dataclass(frozen=True)
class GalleryStyle:
    """A gallery style and the painting it was learned from."""

    style_id: str
    name: str
    location: Path
    painting: Path


@dataclass
class GalleryRow:
    style: GalleryStyle
    ours: dict[str, float | None]
    magenta: dict[str, float | None]
    failures: list[str] = field(default_factory=list)

    @property
    def passes(self) -> bool:
        return not self.failures


def gallery_styles(style_dirs: Sequence[Path], paintings_dir: Path) -> list[GalleryStyle]:
    """Styles in ``style_dirs`` whose manifest names a painting found in ``paintings_dir``."""
    from stylestudio.core.stylepack import read_folder_manifest

    found = []
    for folder in style_dirs:
        manifest = read_folder_manifest(folder)
        paintings = manifest.training.get("paintings") or []
        if not paintings or not isinstance(paintings[0], dict):
            continue
        painting = paintings_dir / str(paintings[0].get("file", ""))
        if painting.is_file():
            found.append(GalleryStyle(manifest.id, manifest.name, folder, painting))
    return found


def judge(
    ours: dict[str, float | None], magenta: dict[str, float | None], bar: GalleryBar
) -> list[str]:
    """What fails the bar (empty: it passes). A metric Magenta lacks cannot be compared."""
    failures = []
    for metric, label in (("style", "style"), ("magenta", "independent style")):
        a, b = ours.get(metric), magenta.get(metric)
        if a is None or b is None:
            failures.append(f"{label} not measured")
        elif a >= b:
            failures.append(f"{label} {a:.3f} ≥ Magenta's {b:.3f}")
    a, b = ours.get("content"), magenta.get("content")
    if a is None or b is None:
        failures.append("content not measured")
    elif a > bar.content_ratio * b:
        failures.append(f"content {a:.3f} > {bar.content_ratio:g} × Magenta's {b:.3f}")
    return failures


def check_gallery(
    bench: QualityBench,
    styles: Sequence[GalleryStyle],
    photos: Sequence[ImageLike],
    bar: GalleryBar | None = None,
    log: Log | None = None,
) -> tuple[list[GalleryRow], list[QualityReport]]:
    """One benchmark run per painting (the style and Magenta on the same photos)."""
    bar = bar or GalleryBar()
    if not styles:
        raise QualityBenchError("No gallery styles with a recorded painting were found.")
    rows, reports = [], []
    magenta = bench.magenta()
    for index, style in enumerate(styles):
        if log is not None:
            log(f"{index + 1}/{len(styles)}: {style.style_id} on {style.painting.name}")
        report = bench.run(
            [style.painting], photos, [bench.style(style.location, label=style.style_id), magenta]
        )
        reports.append(report)
        name = next(iter(report.paintings))
        ours = report.summary(name, style.style_id).medians
        theirs = report.summary(name, MAGENTA_LABEL).medians
        rows.append(GalleryRow(style, dict(ours), dict(theirs), judge(ours, theirs, bar)))
    return rows, reports


def format_gallery_table(rows: Sequence[GalleryRow], bar: GalleryBar | None = None) -> str:
    bar = bar or GalleryBar()

    def cell(value: float | None) -> str:
        return "–" if value is None else f"{value:.3f}"

    lines = [
        "| style | painting | style (ours / Magenta) | independent (ours / Magenta) "
        "| content (ours / Magenta) | SWD (ours / Magenta) | bar |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        cells = [
            f"{cell(row.ours.get(m))} / {cell(row.magenta.get(m))}"
            for m in ("style", "magenta", "content", "swd")
        ]
        verdict = "pass" if row.passes else "fail: " + "; ".join(row.failures)
        lines.append(
            f"| {row.style.name} | {row.style.painting.stem} | "
            + " | ".join(cells)
            + f" | {verdict} |"
        )
    passed = sum(row.passes for row in rows)
    lines.append("")
    lines.append(
        f"{passed} of {len(rows)} styles pass (style and independent style below Magenta's, "
        f"content ≤ {bar.content_ratio:g} × Magenta's)."
    )
    return "\n".join(lines) + "\n"
