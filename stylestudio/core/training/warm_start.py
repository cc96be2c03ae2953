"""Where a new style starts: the built-in base style whose look is closest to the paintings.

Every gallery style shares the base model's convolutions (see ``multistyle``); they differ only
in their instance-norm parameters. A user's new style starts from the gallery style that already
comes closest to the user's paintings (lowest style loss on a few practice crops), so training
begins with a network that paints and has only the difference to learn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from stylestudio.core import paths
from stylestudio.core.training import losses
from stylestudio.core.training.base_model import load_base_model
from stylestudio.core.training.data import resize_long_side
from stylestudio.core.training.step import gram_targets

if TYPE_CHECKING:
    from stylestudio.core.library import StyleLibrary

#: The ``training`` field of a manifest that marks a style as a member of the base family.
BASE_MODEL_KEY = "base_model"


@dataclass(frozen=True)
class Candidate:
    style_id: str
    params: dict[str, int]
    state: dict[str, torch.Tensor]


@dataclass(frozen=True)
class Choice:
    candidate: Candidate
    scores: dict[str, float]  # style id → style loss on the practice crops (lower is closer)


def _is_base_member(manifest: object) -> bool:
    from stylestudio.core.models.generator import ARCHITECTURE_NAME

    training = getattr(manifest, "training", None)
    return (
        getattr(manifest, "architecture", None) == ARCHITECTURE_NAME
        and isinstance(training, dict)
        and BASE_MODEL_KEY in training
    )


def base_generator_params(
    library: StyleLibrary | None, base_dir: Path | None = None
) -> dict[str, int] | None:
    """The generator parameters a warm-started style will have (None: nothing to start from)."""
    if library is not None:
        for record in library.list():
            if _is_base_member(record.manifest):
                return dict(record.manifest.params)
    model = load_base_model(base_dir if base_dir is not None else paths.base_model_dir())
    return dict(model.params) if model is not None else None


def base_candidates(library: StyleLibrary | None, base_dir: Path | None = None) -> list[Candidate]:
    """Starting points: the library's base-family styles and the shipped base model's rows."""
    from stylestudio.core import stylepack

    found = []
    model = load_base_model(base_dir if base_dir is not None else paths.base_model_dir())
    if model is not None:
        for key in model.rows:
            found.append(Candidate(f"{model.model_id}:{key}", model.params, model.state_for(key)))
    for record in library.list() if library is not None else []:
        manifest = record.manifest
        if not _is_base_member(manifest):
            continue
        _, tensors = stylepack.read_style(record.location)
        found.append(Candidate(manifest.id, dict(manifest.params), dict(tensors)))
    return found


@torch.no_grad()
def painting_targets(
    extractor: nn.Module,
    style_images: Sequence[torch.Tensor],
    layers: Sequence[str],
    style_size: int,
    device: torch.device,
) -> list[dict[str, torch.Tensor]]:
    """Each painting's Gram matrices at ``style_size``: what candidates are compared with."""
    return [
        gram_targets(extractor, resize_long_side(image, style_size), (1.0,), layers, device)[1.0]
        for image in style_images
    ]


@torch.no_grad()
def score(
    candidate: Candidate,
    extractor: nn.Module,
    samples: torch.Tensor,
    targets: Sequence[dict[str, torch.Tensor]],
) -> float:
    """Style loss of the candidate's output on ``samples`` to the closest painting."""
    from stylestudio.core.models.generator import Generator, GeneratorConfig

    net = Generator(GeneratorConfig.from_dict(candidate.params))
    net.load_state_dict(candidate.state)
    net.eval()
    feats = extractor(net(samples))
    # Closest to any one of the paintings (several paintings: do not average them away).
    return min(float(losses.style_loss(feats, t)) for t in targets)


def choose_start(
    candidates: Sequence[Candidate],
    extractor: nn.Module,
    style_images: Sequence[torch.Tensor],
    samples: torch.Tensor,
    layers: Sequence[str],
    style_size: int,
) -> Choice:
    """The candidate whose output on ``samples`` has the lowest style loss to the paintings."""
    if not candidates:
        raise ValueError("no candidates")
    targets = painting_targets(extractor, style_images, layers, style_size, samples.device)
    scores = {c.style_id: score(c, extractor, samples, targets) for c in candidates}
    best = min(candidates, key=lambda c: (scores[c.style_id], c.style_id))
    return Choice(best, scores)
