"""Tiny styles of one lineage (and some that are not) for the style-mixing tests.

Every "base" style shares one set of convolutions and has its own instance-norm scales and shifts,
like the gallery rows of a base model; a fine-tune also nudges the convolutions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from stylestudio.core.models.generator import ARCHITECTURE_NAME, Generator, GeneratorConfig
from stylestudio.core.models.norm import norm_parameter_names
from stylestudio.core.stylepack import StyleManifest, new_style_id, utc_now_iso, write_style_folder

CONFIG = GeneratorConfig(base_channels=4, residual_blocks=1)
BASE_ID = "test-base-1"


def shared_state(seed: int = 0, config: GeneratorConfig = CONFIG) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    return {k: v.clone() for k, v in Generator(config).state_dict().items()}


def row_state(
    shared: dict[str, torch.Tensor], seed: int, config: GeneratorConfig = CONFIG
) -> dict[str, torch.Tensor]:
    """``shared`` with its own norm scales and shifts (a gallery row)."""
    generator = torch.Generator().manual_seed(1000 + seed)
    state = {k: v.clone() for k, v in shared.items()}
    for name in norm_parameter_names(Generator(config)):
        noise = torch.randn(state[name].shape, generator=generator)
        state[name] = (1.0 + 0.5 * noise) if name.endswith("weight") else 0.5 * noise
    return state


def fine_tuned(state: dict[str, torch.Tensor], seed: int) -> dict[str, torch.Tensor]:
    """Every tensor nudged a little (a style trained on from a row)."""
    generator = torch.Generator().manual_seed(2000 + seed)
    return {k: v + 0.02 * torch.randn(v.shape, generator=generator) for k, v in state.items()}


def write_style(
    folder: Path,
    name: str,
    state: dict[str, torch.Tensor],
    training: dict[str, Any] | None = None,
    *,
    config: GeneratorConfig = CONFIG,
    style_id: str | None = None,
    license: str = "",
    attribution: str = "",
) -> str:
    manifest = StyleManifest(
        id=style_id or new_style_id(name),
        name=name,
        version=1,
        architecture=ARCHITECTURE_NAME,
        params=config.to_dict(),
        created=utc_now_iso(),
        weights_sha256="",
        license=license,
        attribution=attribution,
        training=dict(training or {}),
    )
    write_style_folder(folder, manifest, state)
    return manifest.id


def member(base: str = BASE_ID) -> dict[str, Any]:
    return {"base_model": {"id": base, "note": "test"}}


def write_lineage_styles(folder: Path) -> dict[str, str]:
    """Name → id of: "Starry Night" and "Great Wave" (base rows), "Kanagawa Fine" (warm-started
    from a base row and fine-tuned), "Ink Wash" (no lineage), "Alien" (another base model)."""
    shared = shared_state(0)
    starry = row_state(shared, 1)
    return {
        "Starry Night": write_style(
            folder, "Starry Night", starry, member(), license="MIT", attribution="After van Gogh"
        ),
        "Great Wave": write_style(
            folder,
            "Great Wave",
            row_state(shared, 2),
            member(),
            license="MIT",
            attribution="After Hokusai",
        ),
        "Kanagawa Fine": write_style(
            folder,
            "Kanagawa Fine",
            fine_tuned(row_state(shared, 3), 3),
            {"started_from": f"{BASE_ID}:hokusai", "steps": 10},
        ),
        "Ink Wash": write_style(folder, "Ink Wash", shared_state(7)),
        "Alien": write_style(
            folder, "Alien", row_state(shared_state(9), 4), member("another-base-2")
        ),
    }
