"""Resumable training checkpoints: safetensors for tensors, JSON for everything else.

A checkpoint is a folder ``checkpoint-<step>`` inside the run folder holding ``state.safetensors``
(generator, discriminator, both optimisers' state flattened to ``opt_g.<param>.<key>``, RNG
states as uint8 tensors) and ``state.json`` (step, settings, inputs fingerprint, optimiser
hyper-parameters, AMP scaler state). It is written into a ``.tmp-*`` folder and renamed into place,
so a run killed at any moment leaves complete checkpoints only; older ones are then removed.
Nothing here is ever unpickled.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from stylestudio.core import atomic
from stylestudio.core.errors import TrainingError
from stylestudio.core.training.step import TrainingStep

FORMAT = "stylestudio.training-checkpoint"
FORMAT_VERSION = 1
TENSORS_FILE = "state.safetensors"
JSON_FILE = "state.json"
_NAME = re.compile(r"checkpoint-(\d{7,})")


@dataclass(frozen=True)
class CheckpointInfo:
    path: Path
    step: int
    meta: dict[str, Any]


def _flatten_optimizer(prefix: str, optimizer: torch.optim.Optimizer) -> tuple[dict, dict]:
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, entry in state["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}.{index}.{key}"] = value.detach().cpu().contiguous().clone()
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _unflatten_optimizer(
    prefix: str, tensors: dict[str, torch.Tensor], meta: dict[str, Any]
) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith(prefix + "."):
            _, index, key = name.split(".", 2)
            state.setdefault(int(index), {})[key] = value
    for index, entry in meta["scalars"].items():
        state.setdefault(int(index), {}).update(entry)
    groups = []
    for group in meta["param_groups"]:
        group = dict(group)
        if "betas" in group:
            group["betas"] = tuple(group["betas"])
        groups.append(group)
    return {"state": state, "param_groups": groups}


def state_tensors(
    modules: dict[str, nn.Module], optimizers: dict[str, torch.optim.Optimizer]
) -> tuple[dict[str, torch.Tensor], dict[str, dict[str, Any]]]:
    """Modules and optimisers flattened for safetensors, keyed by their prefixes.

    Returns the tensors (detached CPU copies: ``<module prefix>.<name>`` for each state dict,
    ``<optimiser prefix>.<param index>.<key>`` for optimiser state) and, per optimiser prefix, the
    JSON part (param groups and non-tensor state) that :func:`restore_state` needs back.
    """
    tensors: dict[str, torch.Tensor] = {}
    for prefix, module in modules.items():
        for name, value in module.state_dict().items():
            tensors[f"{prefix}.{name}"] = value.detach().cpu().contiguous().clone()
    optimizer_meta: dict[str, dict[str, Any]] = {}
    for prefix, optimizer in optimizers.items():
        flat, optimizer_meta[prefix] = _flatten_optimizer(prefix, optimizer)
        tensors.update(flat)
    return tensors, optimizer_meta


def restore_state(
    tensors: dict[str, torch.Tensor],
    optimizer_meta: dict[str, Any],
    modules: dict[str, nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
) -> None:
    """Load what :func:`state_tensors` flattened (``optimizer_meta`` holds its JSON part under
    each optimiser prefix). Raises KeyError, RuntimeError or ValueError when it does not fit."""
    for prefix, module in modules.items():
        head = prefix + "."
        state = {k[len(head) :]: v for k, v in tensors.items() if k.startswith(head)}
        module.load_state_dict(state, strict=True)
    for prefix, optimizer in optimizers.items():
        optimizer.load_state_dict(_unflatten_optimizer(prefix, tensors, optimizer_meta[prefix]))


def rng_tensors() -> dict[str, torch.Tensor]:
    """The global RNG states as uint8 tensors (CPU, and every CUDA device when present)."""
    states = {"rng.cpu": torch.get_rng_state().clone()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, state in enumerate(torch.cuda.get_rng_state_all()):
            states[f"rng.cuda.{i}"] = state.clone()
    return states


def restore_rng(tensors: dict[str, torch.Tensor]) -> None:
    if "rng.cpu" in tensors:
        torch.set_rng_state(tensors["rng.cpu"].to(torch.uint8))
    cuda = sorted(k for k in tensors if k.startswith("rng.cuda."))
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([tensors[k].to(torch.uint8) for k in cuda])


def _saved_parts(
    trainer_step: TrainingStep,
) -> tuple[dict[str, nn.Module], dict[str, torch.optim.Optimizer]]:
    """The modules and optimisers a checkpoint holds, under their prefixes (the on-disk names)."""
    return (
        {"G": trainer_step.G, "D": trainer_step.D},
        {"opt_g": trainer_step.opt_g, "opt_d": trainer_step.opt_d},
    )


def save_checkpoint(
    run_dir: Path, step: int, trainer_step: TrainingStep, meta: dict[str, Any]
) -> Path:
    """Write ``run_dir/checkpoint-<step>`` atomically and delete older checkpoints."""
    tensors, optimizer_meta = state_tensors(*_saved_parts(trainer_step))
    tensors.update(rng_tensors())
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "step": step,
        **meta,
        **optimizer_meta,
        "scaler": trainer_step.scaler.state_dict(),
    }
    target = run_dir / f"checkpoint-{step:07d}"
    try:
        tmp = atomic.make_temp_dir(run_dir)
        try:
            save_file(tensors, str(tmp / TENSORS_FILE))
            (tmp / JSON_FILE).write_text(json.dumps(document, indent=1), encoding="utf-8")
            if target.exists():
                atomic.remove_dir_atomically(target)
            atomic.publish_dir(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        for older in list_checkpoints(run_dir):
            if older.step < step:
                atomic.remove_dir_atomically(older.path)
    except OSError as exc:
        raise TrainingError(atomic.describe_os_error(exc, target)) from exc
    return target


def is_checkpoint_name(name: str) -> bool:
    """Whether ``name`` is what ``save_checkpoint`` calls a checkpoint folder."""
    return _NAME.fullmatch(name) is not None


def list_checkpoints(run_dir: Path) -> list[CheckpointInfo]:
    """Complete checkpoints in ``run_dir``, oldest first (meta not read: empty)."""
    if not run_dir.is_dir():
        return []
    found = []
    for child in run_dir.iterdir():
        match = _NAME.fullmatch(child.name)
        if match and (child / JSON_FILE).is_file() and (child / TENSORS_FILE).is_file():
            found.append(CheckpointInfo(child, int(match.group(1)), {}))
    return sorted(found, key=lambda c: c.step)


def latest_checkpoint(run_dir: Path) -> CheckpointInfo | None:
    """The newest complete checkpoint with its JSON metadata, or None."""
    found = list_checkpoints(run_dir)
    if not found:
        return None
    latest = found[-1]
    return CheckpointInfo(latest.path, latest.step, read_meta(latest.path))


def read_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads((path / JSON_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TrainingError(f"The training checkpoint in {path} is damaged.") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise TrainingError(f"{path} is not a StyleStudio training checkpoint.")
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise TrainingError("The training checkpoint was made by a newer StyleStudio.")
    return meta


def load_checkpoint(info: CheckpointInfo, trainer_step: TrainingStep) -> None:
    """Restore models, optimisers, AMP scaler and RNG states from ``info``."""
    try:
        tensors = load_file(str(info.path / TENSORS_FILE))
    except Exception as exc:  # safetensors raises its own error types
        raise TrainingError(f"The training checkpoint in {info.path} is damaged.") from exc
    meta = info.meta
    try:
        restore_state(tensors, meta, *_saved_parts(trainer_step))
        if meta.get("scaler"):
            trainer_step.scaler.load_state_dict(meta["scaler"])
    except (KeyError, RuntimeError, ValueError) as exc:
        raise TrainingError(
            f"The training checkpoint in {info.path} does not fit these settings."
        ) from exc
    restore_rng(tensors)
