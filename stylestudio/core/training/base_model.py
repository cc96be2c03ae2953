"""The shipped base model: shared generator weights plus one row of norm parameters per painting.

Written by ``stylestudio.tools.export_gallery --base-out`` from a ``train_base`` state, and read
by ``warm_start`` so that a new style starts from the closest painting of the base rather than
from random weights. Two files in one folder (``resources/base`` in the app)::

    base.json             what it is: generator parameters, paintings (title, artist, sha256),
                          how it was trained (commands, steps, time, device)
    base.safetensors      ``shared.<name>`` generator tensors and ``row.<key>.<name>`` norm rows

Loading checks every tensor's name, shape and finiteness against the architecture, and nothing is
ever unpickled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from stylestudio.core import atomic
from stylestudio.core.errors import TrainingError
from stylestudio.core.models.generator import Generator, GeneratorConfig
from stylestudio.core.models.norm import norm_parameter_names

FORMAT = "stylestudio.base-model"
MANIFEST = "base.json"
WEIGHTS = "base.safetensors"


@dataclass(frozen=True)
class BaseModel:
    """A generator architecture, its shared weights, and named rows of norm parameters."""

    model_id: str
    params: dict[str, int]
    shared: dict[str, torch.Tensor]  # every generator tensor (norm ones: the mean row)
    rows: dict[str, dict[str, torch.Tensor]]  # painting key → norm parameter name → tensor
    info: dict[str, Any]

    def state_for(self, key: str | None) -> dict[str, torch.Tensor]:
        """A full generator state dict: the shared weights with row ``key`` (None: as stored)."""
        state = {k: v.clone() for k, v in self.shared.items()}
        if key is not None:
            state.update({k: v.clone() for k, v in self.rows[key].items()})
        return state

    def save(self, folder: Path) -> None:
        tensors = {f"shared.{k}": v.contiguous() for k, v in self.shared.items()}
        for key, row in self.rows.items():
            tensors.update({f"row.{key}.{k}": v.contiguous() for k, v in row.items()})
        folder.mkdir(parents=True, exist_ok=True)
        atomic.atomic_write_bytes(folder / WEIGHTS, save(tensors))
        document = {"format": FORMAT, "id": self.model_id, "params": self.params, **self.info}
        atomic.atomic_write_text(folder / MANIFEST, json.dumps(document, indent=1) + "\n")


def load_base_model(folder: Path) -> BaseModel | None:
    """The base model in ``folder``; None when there is none; TrainingError when it is damaged."""
    if not (folder / MANIFEST).is_file():
        return None
    try:
        document = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if document.get("format") != FORMAT:
            raise ValueError("not a base model")
        config = GeneratorConfig.from_dict(dict(document["params"]))
        tensors = load_file(str(folder / WEIGHTS))
    except (OSError, ValueError, KeyError, TypeError, SafetensorError) as exc:
        raise TrainingError(f"The base model in {folder} is damaged ({exc}).") from exc
    expected = {k: v.shape for k, v in Generator(config).state_dict().items()}
    norm_names = set(norm_parameter_names(Generator(config)))
    shared = {k[7:]: v.float() for k, v in tensors.items() if k.startswith("shared.")}
    rows: dict[str, dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        if name.startswith("row."):
            key, _, param = name[4:].partition(".")
            rows.setdefault(key, {})[param] = value.float()
    problems = []
    if set(shared) != set(expected):
        problems.append("its shared tensors do not match the architecture")
    for key, row in rows.items():
        if set(row) != norm_names:
            problems.append(f"row {key!r} does not hold exactly the norm parameters")
    for name, value in [*shared.items(), *((n, v) for r in rows.values() for n, v in r.items())]:
        if name in expected and tuple(value.shape) != tuple(expected[name]):
            problems.append(f"tensor {name!r} has the wrong shape")
        if not torch.isfinite(value).all():
            problems.append(f"tensor {name!r} holds NaN or infinite values")
    if problems:
        raise TrainingError(f"The base model in {folder} is damaged: {problems[0]}.")
    info = {k: v for k, v in document.items() if k not in {"format", "id", "params"}}
    return BaseModel(str(document.get("id", "")), config.to_dict(), shared, rows, info)
