"""Architectures a style file may declare, and the tensors each one must contain.

A style manifest names an architecture and its hyper-parameters. Before any weight is loaded the
declared tensors are checked against ``expected_tensors`` (built on the meta device: no memory,
no computation), so a file with unknown, missing or mis-shaped tensors is refused up front.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
from torch import nn

from stylestudio.core.errors import StyleFormatError
from stylestudio.core.models import fast_neural_style, generator


@dataclass(frozen=True)
class Architecture:
    name: str
    build: Callable[[Mapping[str, object]], nn.Module]
    default_params: Mapping[str, object]


def _build_generator(params: Mapping[str, object]) -> nn.Module:
    return generator.Generator(generator.GeneratorConfig.from_dict(dict(params)))


ARCHITECTURES: dict[str, Architecture] = {
    generator.ARCHITECTURE_NAME: Architecture(
        generator.ARCHITECTURE_NAME, _build_generator, generator.GeneratorConfig().to_dict()
    ),
    # Imported community models (core/model_import.py); no hyper-parameters.
    fast_neural_style.ARCHITECTURE_NAME: Architecture(
        fast_neural_style.ARCHITECTURE_NAME, fast_neural_style.build, {}
    ),
}


def get_architecture(name: str) -> Architecture:
    try:
        return ARCHITECTURES[name]
    except KeyError:
        known = ", ".join(sorted(ARCHITECTURES))
        raise StyleFormatError(
            f"Unknown model architecture {name!r}; this version of StyleStudio supports: {known}."
        ) from None


def build_model(name: str, params: Mapping[str, object]) -> nn.Module:
    """A randomly initialised model of the declared architecture (raises StyleFormatError)."""
    arch = get_architecture(name)
    try:
        return arch.build(params)
    except (TypeError, ValueError) as exc:
        raise StyleFormatError(f"Invalid parameters for {name}: {exc}") from None


def expected_tensors(
    name: str, params: Mapping[str, object]
) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
    """Tensor name → (shape, dtype) that a weights file for this architecture must hold."""
    arch = get_architecture(name)
    with torch.device("meta"):
        try:
            model = arch.build(params)
        except (TypeError, ValueError) as exc:
            raise StyleFormatError(f"Invalid parameters for {name}: {exc}") from None
    return {k: (tuple(v.shape), v.dtype) for k, v in model.state_dict().items()}
