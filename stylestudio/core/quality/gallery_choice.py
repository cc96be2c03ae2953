"""Choosing, per gallery style, among versions trained with different recipes.

No one training recipe suits every painting: Gram targets taken from the painting seen at
256 px carry Udnie's broad facets to a photo, while the Kiss's fine gold ornament needs the
384-px view. So the gallery can be trained twice and each style keeps the version that comes
closest to the gallery's bar (``gallery_check``). The choice is measured on *training* photos,
so the val photos that report the bar never take part in it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from stylestudio.core.quality.benchmark import QualityBench
from stylestudio.core.quality.gallery_check import (
    MAGENTA_LABEL,
    GalleryBar,
    GalleryStyle,
    judge,
)
from stylestudio.core.quality.images import ImageLike, QualityBenchError

Medians = dict[str, float | None]
Log = Callable[[str], None]


@dataclass(frozen=True)
class VersionChoice:
    style: GalleryStyle  # the chosen version's
    chosen: str  # its label
    scores: dict[str, Medians]  # every version's medians, by label
    magenta: Medians


def closeness(ours: Medians, magenta: Medians, bar: GalleryBar) -> tuple[int, float]:
    """How near a version comes to the bar, larger is nearer: the number of the bar's three
    conditions it meets, then (to break ties) its independent style distance relative to
    Magenta's, the condition the gallery misses most often."""
    met = 3 - len(judge(ours, magenta, bar))
    a, b = ours.get("magenta"), magenta.get("magenta")
    ratio = a / b if a is not None and b is not None and b > 0 else math.inf
    return met, -ratio


def choose_versions(
    bench: QualityBench,
    versions: Mapping[str, Sequence[GalleryStyle]],
    photos: Sequence[ImageLike],
    bar: GalleryBar | None = None,
    log: Log | None = None,
) -> list[VersionChoice]:
    """For each style that every version holds, one benchmark run of all its versions and
    Magenta on ``photos``; the nearest to the bar is chosen (a tie keeps the earlier label)."""
    bar = bar or GalleryBar()
    if len(versions) < 2:
        raise QualityBenchError("Choosing needs at least two versions of the gallery.")
    by_label = {label: {s.style_id: s for s in styles} for label, styles in versions.items()}
    common = [i for i in next(iter(by_label.values())) if all(i in v for v in by_label.values())]
    if not common:
        raise QualityBenchError("The versions share no style (compare folders of the same ids).")
    magenta = bench.magenta()
    choices = []
    for index, style_id in enumerate(common):
        if log is not None:
            log(f"{index + 1}/{len(common)}: {style_id}")
        candidates = {label: styles[style_id] for label, styles in by_label.items()}
        painting = next(iter(candidates.values())).painting
        methods = [bench.style(s.location, label=label) for label, s in candidates.items()]
        report = bench.run([painting], photos, [*methods, magenta])
        name = next(iter(report.paintings))
        scores = {label: dict(report.summary(name, label).medians) for label in candidates}
        theirs = dict(report.summary(name, MAGENTA_LABEL).medians)
        chosen = max(candidates, key=lambda label: closeness(scores[label], theirs, bar))
        choices.append(VersionChoice(candidates[chosen], chosen, scores, theirs))
    return choices


def format_choice_table(choices: Sequence[VersionChoice]) -> str:
    """One row per style: each version's style / independent / content medians, Magenta's."""
    if not choices:
        return ""
    labels = list(choices[0].scores)

    def cell(scores: Medians) -> str:
        return " / ".join(
            "–" if scores.get(m) is None else f"{scores[m]:.3f}"
            for m in ("style", "magenta", "content")
        )

    lines = [
        "| style | " + " | ".join(labels) + " | Magenta | chosen |",
        "|---|" + "---|" * (len(labels) + 2),
    ]
    for choice in choices:
        cells = [
            f"**{cell(choice.scores[label])}**"
            if label == choice.chosen
            else cell(choice.scores[label])
            for label in labels
        ]
        lines.append(
            f"| {choice.style.name} | "
            + " | ".join(cells)
            + f" | {cell(choice.magenta)} | {choice.chosen} |"
        )
    lines.append("")
    lines.append("Each cell: style / independent style / content distance (medians).")
    return "\n".join(lines) + "\n"
