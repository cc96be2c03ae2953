"""The built-in gallery against its quality bar: each style beside Magenta on its own painting.

Every gallery style records the painting it was learned from (``training.paintings`` in its
manifest). For each one, the quality benchmark runs the style and Magenta arbitrary stylisation
on the same photos against that painting, in one run, and the bar is checked: style distance
and independent (Magenta-vector) style distance below Magenta's, at a content distance no more
than ``content_ratio`` times Magenta's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from stylestudio.core.quality.benchmark import QualityBench, QualityReport
from stylestudio.core.quality.images import ImageLike, QualityBenchError

MAGENTA_LABEL = "magenta"
BEFORE_SUFFIX = " (before)"  # the label of an earlier version of a style, run beside it
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
    before: dict[str, float | None] | None = None  # an earlier version of the style, same run

    @property
    def passes(self) -> bool:
        return not self.failures


def style_folders(root: Path) -> list[Path]:
    """The style folders directly in ``root`` (those with a manifest), sorted."""
    from stylestudio.core.stylepack import MANIFEST_FILE

    return sorted(p for p in root.iterdir() if (p / MANIFEST_FILE).is_file())


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
    before: Mapping[str, Path] | None = None,
) -> tuple[list[GalleryRow], list[QualityReport]]:
    """One benchmark run per painting (the style and Magenta on the same photos).

    ``before`` maps style ids to an earlier version of the style (e.g. the gallery as it was
    before a training stage); each is run in the same benchmark run, so a change is measured
    side by side with the same photos and the same Magenta outputs. The bar judges the style.
    """
    bar = bar or GalleryBar()
    if not styles:
        raise QualityBenchError("No gallery styles with a recorded painting were found.")
    rows, reports = [], []
    magenta = bench.magenta()
    for index, style in enumerate(styles):
        if log is not None:
            log(f"{index + 1}/{len(styles)}: {style.style_id} on {style.painting.name}")
        earlier = None if before is None else before.get(style.style_id)
        methods = [bench.style(style.location, label=style.style_id), magenta]
        if earlier is not None:
            methods.insert(0, bench.style(earlier, label=style.style_id + BEFORE_SUFFIX))
        report = bench.run([style.painting], photos, methods)
        reports.append(report)
        name = next(iter(report.paintings))
        ours = report.summary(name, style.style_id).medians
        theirs = report.summary(name, MAGENTA_LABEL).medians
        then = None
        if earlier is not None:
            then = dict(report.summary(name, style.style_id + BEFORE_SUFFIX).medians)
        rows.append(
            GalleryRow(style, dict(ours), dict(theirs), judge(ours, theirs, bar), before=then)
        )
    return rows, reports


def format_gallery_table(rows: Sequence[GalleryRow], bar: GalleryBar | None = None) -> str:
    """The bar's table; with earlier versions measured, each cell reads "before → after"."""
    bar = bar or GalleryBar()
    compared = any(row.before is not None for row in rows)

    def cell(value: float | None) -> str:
        return "–" if value is None else f"{value:.3f}"

    def pair(row: GalleryRow, metric: str) -> str:
        now = cell(row.ours.get(metric))
        theirs = cell(row.magenta.get(metric))
        if not compared:
            return f"{now} / {theirs}"
        then = "–" if row.before is None else cell(row.before.get(metric))
        return f"{then} → **{now}** ({theirs})"

    metrics = ("style", "magenta", "content", "swd")
    titles = ("style", "independent", "content", "SWD")
    shape = "before → after (Magenta)" if compared else "ours / Magenta"
    lines = [
        "| style | painting | " + " | ".join(f"{title} ({shape})" for title in titles) + " | bar |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        verdict = "pass" if row.passes else "fail: " + "; ".join(row.failures)
        lines.append(
            f"| {row.style.name} | {row.style.painting.stem} | "
            + " | ".join(pair(row, m) for m in metrics)
            + f" | {verdict} |"
        )
    passed = sum(row.passes for row in rows)
    lines.append("")
    lines.append(
        f"{passed} of {len(rows)} styles pass (style and independent style below Magenta's, "
        f"content ≤ {bar.content_ratio:g} × Magenta's)."
    )
    if compared:
        better = [
            sum(
                1
                for row in rows
                if row.before is not None
                and None not in (row.before.get(m), row.ours.get(m))
                and row.ours[m] < row.before[m]  # type: ignore[operator]
            )
            for m in metrics
        ]
        measured = sum(row.before is not None for row in rows)
        lines.append(
            f"Lower than before (of {measured}): "
            + ", ".join(f"{title} {n}" for title, n in zip(titles, better, strict=True))
            + "."
        )
    return "\n".join(lines) + "\n"
