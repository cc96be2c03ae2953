"""Turning a ``QualityReport`` into a console table, Markdown and JSON."""

from __future__ import annotations

import json
from dataclasses import asdict

from stylestudio.core.quality.benchmark import METRICS, QualityReport, Summary

#: Column titles; every metric is a distance (lower = closer).
TITLES = {
    "style": "style (Gram)",
    "content": "content",
    "magenta": "style (Magenta)",
    "swd": "patches (SWD)",
}

METRIC_HELP = (
    "- **style (Gram)**: mean over relu1_1…relu5_1 of ‖G(x)−G(s)‖²/‖G(s)‖² "
    "(VGG19 Gram matrices vs the painting's; 0 = the painting's statistics).\n"
    "- **content**: ‖F(x)−F(c)‖²/‖F(c)‖² at relu4_1 (0 = the photo).\n"
    "- **style (Magenta)**: ‖v(x)−v(s)‖/‖v(c)−v(s)‖ with Magenta's 100-d style vector, a network "
    "the trainer never sees (photo = 1, painting = 0; the Magenta method is conditioned on v(s)).\n"
    "- **patches (SWD)**: sliced Wasserstein distance of relu3_1 / relu4_1 feature distributions "
    "vs the painting's, divided by the photo's own (photo = 1, painting = 0).\n"
    "- **objective**: content weight × content + style weight × style, with the Gatys weights "
    "(what Gatys minimises; median over photos). **÷ Gatys**: that over Gatys's own, the "
    "amortisation gap of a feed-forward method (1 = as good as the optimisation).\n"
    "- **s/img**: median seconds per photo (cached Gatys results show the time they took); "
    "**train s**: training time. Values are medians over the photos."
)


def _num(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}" if value < 10 else f"{value:.0f}"


def _cells(report: QualityReport, item: Summary) -> list[str]:
    time_cell = _seconds(item.seconds)
    if item.cached:
        time_cell += "*"
    gap = report.gap(item.painting, item.method)
    return [
        item.method,
        *(_num(item.medians[m]) for m in METRICS),
        _num(item.objective),
        "–" if gap is None else f"{gap:.2f}×",
        time_cell,
        _seconds(item.train_seconds),
    ]


def _header() -> list[str]:
    return ["method", *(TITLES[m] for m in METRICS), "objective", "÷ Gatys", "s/img", "train s"]


def _painting_caption(report: QualityReport, painting: str) -> str:
    image = report.paintings.get(painting)
    size = f", {image.shape[1]}×{image.shape[0]} px" if image is not None else ""
    return f"{painting}{size}: medians over {len(report.photos)} photos"


def format_table(report: QualityReport) -> str:
    """Plain-text table per painting (methods × metrics)."""
    header = _header()
    lines: list[str] = []
    for painting in report.paintings:
        rows = [_cells(report, s) for s in report.summaries if s.painting == painting]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        lines.append(_painting_caption(report, painting))

        def line(cells: list[str], widths: list[int] = widths) -> str:
            first = cells[0].ljust(widths[0])
            rest = (c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
            return "  ".join([first, *rest])

        lines.append(line(header))
        lines.extend(line(r) for r in rows)
        lines.append("")
    if any(s.cached for s in report.summaries):
        lines.append("* some outputs came from the Gatys cache; their time is the original run's")
    lines.extend(f"note: {n}" for n in report.notes)
    return "\n".join(lines).rstrip() + "\n"


def format_markdown(report: QualityReport, sheets: dict[str, str] | None = None) -> str:
    """The report as Markdown: environment, one table per painting, metric definitions."""
    env = report.environment
    out = ["# StyleStudio quality benchmark", ""]
    out.append(" · ".join(f"{k}: {v}" for k, v in env.items()))
    out.append("")
    out.append(f"Photos: {', '.join(report.photos)}. Total time {report.seconds:.0f} s.")
    out.append("")
    for painting in report.paintings:
        out.append(f"## {_painting_caption(report, painting)}")
        out.append("")
        header = _header()
        out.append("| " + " | ".join(header) + " |")
        out.append("| --- |" + " ---: |" * (len(header) - 1))
        for item in report.summaries:
            if item.painting == painting:
                out.append("| " + " | ".join(_cells(report, item)) + " |")
        out.append("")
        if sheets and painting in sheets:
            out.append(f"![contact sheet: {painting}]({sheets[painting]})")
            out.append("")
    out.append("## Metrics")
    out.append("")
    out.append(METRIC_HELP)
    if report.notes:
        out.append("")
        out.extend(f"- note: {n}" for n in report.notes)
    return "\n".join(out) + "\n"


def to_json(report: QualityReport) -> str:
    """Every per-photo row and the summaries (no images)."""
    data = {
        "environment": report.environment,
        "photos": report.photos,
        "paintings": list(report.paintings),
        "methods": report.methods,
        "seconds": round(report.seconds, 3),
        "notes": report.notes,
        "summaries": [{**asdict(s), "kind": s.kind.value} for s in report.summaries],
        "rows": [asdict(r) for r in report.rows],
    }
    return json.dumps(data, indent=1, allow_nan=True)
