"""Style mixing: blend 2 to 4 styles of one lineage by interpolating their networks.

What a blend is. The weights are normalised to sum to 1 and **every parameter** of the parents'
generators (the convolutions and the instance-norm scales and shifts) is interpolated linearly:
``θ = Σ wᵢ θᵢ``. The result is one ordinary generator, run like any style, so a blend paints one
picture in a mixed style instead of cross-fading two finished pictures.

Why only within a lineage. Interpolating weights works when the parents are close in weight space:
styles fine-tuned from one base model (StyleStudio's gallery rows of ``stylestudio-base-1`` share
its convolutions exactly and differ in their norm parameters; styles trained from the base start
from one of those rows and stay near it). Two networks trained apart (the old built-ins Ink Wash
and Pencil Sketch, imported community models, a style trained from scratch) have unrelated
features: their average is not a mix of their looks but noise. Such styles are refused with a
one-line message naming the style that does not fit; there is never a silent cross-fade.

A style's lineage (:func:`lineage_of`) is its architecture and parameters plus the id of the base
model it descends from, read from its manifest's ``training``:

* ``base_model`` (``{"id": ...}``): a member of the base family (the gallery);
* ``mix.lineage.base_model``: a saved blend (so a blend can be mixed again);
* ``started_from``: ``"<base id>:<painting>"`` for a style warm-started from a row of the shipped
  base model (style ids never contain ``:``), or the id of a library style it was fine-tuned
  from, whose lineage it inherits.

Saving a blend as a style is ``core.mix_save``. Torch is imported only by the functions that
need it, so parsing a spec stays cheap.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stylestudio.core.errors import StyleStudioError

if TYPE_CHECKING:
    import torch

    from stylestudio.core.library import StyleLibrary, StyleRecord
    from stylestudio.core.stylepack import StyleManifest

MIN_STYLES = 2
MAX_STYLES = 4
#: The ``training`` key of a saved blend's manifest.
MIX_KEY = "mix"
_MAX_DEPTH = 16  # of ``started_from`` chains
_NUMBER = re.compile(r":\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")
_EXAMPLE = '"starry-night:0.6,great-wave:0.4"'


class MixError(StyleStudioError):
    """A blend was refused: a bad spec, or styles that do not share a lineage."""


# --------------------------------------------------------------------------------------------
# the spec "a:0.6,b:0.4"


@dataclass(frozen=True)
class MixPart:
    """One entry of a blend spec: a style id or name and its (not yet normalised) weight."""

    style: str
    weight: float


def looks_like_blend(text: str) -> bool:
    """Whether ``text`` is meant as a blend spec rather than one style's name."""
    return "," in text or bool(_NUMBER.search(text))


def parse_blend_spec(text: str) -> tuple[MixPart, ...]:
    """``"a:0.6,b:0.4"`` → parts; MixError (one sentence) for anything malformed.

    Names may contain spaces and colons (the weight is after the last colon), not commas.
    """
    entries = [entry.strip() for entry in text.split(",")]
    if any(not entry for entry in entries):
        raise MixError(f"The blend {text!r} has an empty entry; write it like {_EXAMPLE}.")
    parts: list[MixPart] = []
    for entry in entries:
        name, colon, number = entry.rpartition(":")
        name = name.strip()
        if not colon:
            raise MixError(
                f"{entry!r} has no weight; write each style of a blend as NAME:WEIGHT, "
                f"like {_EXAMPLE}."
            )
        if not name:
            raise MixError(f"A style name is missing before {':' + number!r} in the blend.")
        try:
            weight = float(number)
        except ValueError:
            shown = number.strip()
            raise MixError(f"The weight of {name!r} is not a number ({shown!r}).") from None
        if not math.isfinite(weight) or weight <= 0:
            raise MixError(f"The weight of {name!r} must be more than 0, not {number.strip()}.")
        parts.append(MixPart(name, weight))
    _check_count(len(parts))
    seen: set[str] = set()
    for part in parts:
        key = part.style.casefold()
        if key in seen:
            raise MixError(f"{part.style!r} appears twice in the blend.")
        seen.add(key)
    return tuple(parts)


def _check_count(count: int) -> None:
    if count < MIN_STYLES:
        raise MixError(
            f"A blend needs at least {MIN_STYLES} styles, like {_EXAMPLE}; "
            "for one style give just its id or name."
        )
    if count > MAX_STYLES:
        raise MixError(f"A blend mixes at most {MAX_STYLES} styles, not {count}.")


def normalised(weights: Sequence[float]) -> tuple[float, ...]:
    """``weights`` scaled to sum to 1 (each finite and ≥ 0, at least one > 0)."""
    if any(not math.isfinite(w) or w < 0 for w in weights):
        raise MixError("Blend weights must be finite and not negative.")
    total = math.fsum(weights)
    if total <= 0:
        raise MixError("At least one blend weight must be more than 0.")
    return tuple(w / total for w in weights)


# --------------------------------------------------------------------------------------------
# lineage


@dataclass(frozen=True)
class Lineage:
    """What styles must share to be blended: the network and the base model they come from."""

    architecture: str
    params: tuple[tuple[str, Any], ...]
    base_model: str


@dataclass(frozen=True)
class NoLineage:
    """Why a style cannot be blended (completes "… cannot be blended: <reason>")."""

    reason: str


LineageInfo = Lineage | NoLineage
ManifestLookup = Callable[[str], "StyleManifest | None"]


def _params_key(params: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((str(k), v) for k, v in params.items()))


def _base_model_id(training: Mapping[str, Any]) -> str | None:
    """The base model id a manifest's ``training`` names directly (member or saved blend)."""
    from stylestudio.core.training.warm_start import BASE_MODEL_KEY

    entry = training.get(BASE_MODEL_KEY)
    if isinstance(entry, Mapping) and isinstance(entry.get("id"), str) and entry["id"]:
        return str(entry["id"])
    if isinstance(entry, str) and entry:
        return entry
    mix = training.get(MIX_KEY)
    lineage = mix.get("lineage") if isinstance(mix, Mapping) else None
    if isinstance(lineage, Mapping):
        base = lineage.get(BASE_MODEL_KEY)
        if isinstance(base, str) and base:
            return base
    return None


def lineage_of(manifest: StyleManifest, lookup: ManifestLookup | None = None) -> LineageInfo:
    """The manifest's lineage; ``lookup(style_id)`` finds the styles ``started_from`` names."""
    seen: set[str] = set()
    current = manifest
    for _ in range(_MAX_DEPTH):
        seen.add(current.id)
        training = current.training if isinstance(current.training, Mapping) else {}
        base = _base_model_id(training)
        started = training.get("started_from")
        if base is None and isinstance(started, str) and ":" in started:
            base = started.split(":", 1)[0].strip() or None  # "<base id>:<painting>"
        if base is not None:
            if current is not manifest and (
                current.architecture != manifest.architecture
                or _params_key(current.params) != _params_key(manifest.params)
            ):
                return NoLineage(f"its network differs from that of {current.name!r}")
            return Lineage(manifest.architecture, _params_key(manifest.params), base)
        if not isinstance(started, str) or not started:
            if current is manifest:
                return NoLineage("it was not trained from a base model")
            return NoLineage(
                f"it descends from {current.name!r}, which was not trained from a base model"
            )
        parent = lookup(started) if lookup is not None and started not in seen else None
        if parent is None:
            return NoLineage(
                f"it was trained from the style {started!r}, which is not in the library"
            )
        current = parent
    return NoLineage("its training history is too long to follow")


def library_lineages(records: Sequence[StyleRecord]) -> dict[str, LineageInfo]:
    """Style id → lineage for every listed style (``started_from`` resolved among them)."""
    manifests = {record.id: record.manifest for record in records}
    return {record.id: lineage_of(record.manifest, manifests.get) for record in records}


@dataclass(frozen=True)
class MixMember:
    """A style offered for a blend: who it is, where its files are, its lineage and weight."""

    style_id: str
    name: str
    location: Path
    lineage: LineageInfo | None
    weight: float


def blend_problem(first: MixMember, other: MixMember) -> str | None:
    """Why ``other`` cannot be blended with ``first`` (one sentence naming it), or None."""
    for member in (first, other):
        info = member.lineage
        if not isinstance(info, Lineage):
            reason = info.reason if isinstance(info, NoLineage) else "its lineage is unknown"
            return (
                f"{member.name!r} cannot be blended: {reason}; only styles that share a base "
                "model can be mixed."
            )
    assert isinstance(first.lineage, Lineage) and isinstance(other.lineage, Lineage)
    a, b = first.lineage, other.lineage
    if a.base_model != b.base_model:
        return (
            f"{other.name!r} cannot be blended with {first.name!r}: it comes from the base model "
            f"{b.base_model!r}, not {a.base_model!r}."
        )
    if (a.architecture, a.params) != (b.architecture, b.params):
        return (
            f"{other.name!r} cannot be blended with {first.name!r}: their networks differ in "
            "layout or size."
        )
    return None


# --------------------------------------------------------------------------------------------
# the blend


@dataclass(frozen=True)
class BlendPart:
    style_id: str
    name: str
    location: Path
    weight: float  # normalised


@dataclass(frozen=True)
class Blend:
    """2 to 4 styles of one lineage with normalised weights; what the engine runs as a style.

    Build one with :func:`make_blend` (which checks the lineage) or :func:`resolve_blend`.
    """

    parts: tuple[BlendPart, ...]
    lineage: Lineage

    def __post_init__(self) -> None:
        _check_count(len(self.parts))
        if len({p.style_id for p in self.parts}) != len(self.parts):
            raise MixError("A blend cannot hold the same style twice.")
        weights = normalised([p.weight for p in self.parts])
        if any(w <= 0 for w in weights):
            raise MixError("Every style in a blend needs a weight of more than 0.")
        parts = tuple(
            BlendPart(p.style_id, p.name, Path(p.location), w)
            for p, w in zip(self.parts, weights, strict=True)
        )
        object.__setattr__(self, "parts", parts)

    @property
    def weights(self) -> tuple[float, ...]:
        return tuple(p.weight for p in self.parts)

    @property
    def name(self) -> str:
        """``Starry Night 60% + Great Wave 40%`` (the ``{style}`` of file names)."""
        return " + ".join(f"{p.name} {percent(p.weight)}%" for p in self.parts)

    @property
    def style_id(self) -> str:
        """``starry-night-60+great-wave-40`` (the ``{style_id}`` of file names)."""
        return "+".join(f"{p.style_id}-{percent(p.weight)}" for p in self.parts)

    def suggested_name(self) -> str:
        """A name for the blend saved as a style: ``Starry Night + Great Wave``."""
        return " + ".join(p.name for p in self.parts)

    def describe(self) -> str:
        """``Starry Night (60 %) and Great Wave (40 %)``."""
        items = [f"{p.name} ({percent(p.weight)} %)" for p in self.parts]
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


StyleSource = Path | Blend
"""What the engine stylises with: a style's folder (or pack), or a blend."""


def percent(weight: float) -> int:
    return round(weight * 100)


def make_blend(members: Sequence[MixMember]) -> Blend:
    """The blend of ``members``; MixError naming the first style that does not fit."""
    _check_count(len(members))
    first = members[0]
    for other in members[1:]:
        problem = blend_problem(first, other)
        if problem is not None:
            raise MixError(problem)
    assert isinstance(first.lineage, Lineage)
    parts = tuple(BlendPart(m.style_id, m.name, m.location, m.weight) for m in members)
    return Blend(parts, first.lineage)


def resolve_blend(parts: Sequence[MixPart], library: StyleLibrary) -> Blend:
    """The blend of ``parts`` (ids or names) from ``library``; errors are one sentence."""
    _check_count(len(parts))
    records = library.list()
    lineages = library_lineages(records)
    members: list[MixMember] = []
    for part in parts:
        record = library.get(part.style)
        if any(m.style_id == record.id for m in members):
            raise MixError(f"{record.name!r} appears twice in the blend.")
        members.append(
            MixMember(record.id, record.name, record.location, lineages.get(record.id), part.weight)
        )
    return make_blend(members)


# --------------------------------------------------------------------------------------------
# the maths


def mix_states(
    states: Sequence[Mapping[str, torch.Tensor]], weights: Sequence[float]
) -> dict[str, torch.Tensor]:
    """``Σ wᵢ θᵢ`` for every tensor (``weights`` normalised; accumulated in float64).

    A weight of 1 (the others 0) gives that parent's tensors exactly. Tensors that are not
    floating point (none in the generator) must be equal in every parent.
    """
    import torch

    if len(states) != len(weights) or not states:
        raise MixError("A blend needs one weight per style.")
    w = normalised(weights)
    names = list(states[0])
    for state in states[1:]:
        if set(state) != set(names):
            raise MixError("The styles of a blend must have the same network (different tensors).")
    mixed: dict[str, torch.Tensor] = {}
    for name in names:
        ref = states[0][name]
        tensors = [state[name] for state in states]
        if any(t.shape != ref.shape or t.dtype != ref.dtype for t in tensors):
            raise MixError(f"The styles of a blend differ in the tensor {name!r}.")
        if not ref.is_floating_point():
            if any(not torch.equal(t, ref) for t in tensors):
                raise MixError(f"The styles of a blend differ in the tensor {name!r}.")
            mixed[name] = ref.detach().clone()
            continue
        acc = torch.zeros(ref.shape, dtype=torch.float64, device=ref.device)
        for weight, tensor in zip(w, tensors, strict=True):
            if weight:
                acc += weight * tensor.detach().to(device=ref.device, dtype=torch.float64)
        mixed[name] = acc.to(ref.dtype)
    return mixed
