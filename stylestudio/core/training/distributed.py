"""Multi-GPU training under ``torchrun`` (DistributedDataParallel).

``stylestudio train`` runs unchanged under ``torchrun --nproc-per-node N``: torchrun sets
``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK`` (and the rendezvous address), ``setup_from_env`` joins the
process group (NCCL on CUDA, Gloo otherwise) and picks ``cuda:LOCAL_RANK``. Every rank trains on
its own share of the practice photos with its own random crops; gradients are averaged by DDP, so
all ranks hold identical weights. Only rank 0 reports events and writes checkpoints and the style.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistContext:
    world_size: int
    rank: int
    local_rank: int
    device: torch.device
    initialized_here: bool  # this module started the process group (and should end it)

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def env_world_size() -> int:
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


def setup_from_env(device: torch.device) -> DistContext | None:
    """Join the torchrun process group when ``WORLD_SIZE`` > 1; None for a single process."""
    if env_world_size() <= 1 or not dist.is_available():
        return None
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    started = False
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
        started = True
    return DistContext(dist.get_world_size(), dist.get_rank(), local_rank, device, started)


def teardown(context: DistContext | None) -> None:
    if context is not None and context.initialized_here and dist.is_initialized():
        dist.destroy_process_group()


def world() -> tuple[int, int]:
    """(world_size, rank) of the current process group, (1, 0) without one."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size(), dist.get_rank()
    return 1, 0


def any_rank(flag: bool, device: torch.device) -> bool:
    """True on every rank if ``flag`` is True on any rank (keeps cancel/stop decisions in step)."""
    size, _ = world()
    if size <= 1:
        return flag
    backend = dist.get_backend()
    where = device if backend == "nccl" else torch.device("cpu")
    value = torch.tensor([1.0 if flag else 0.0], device=where)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item() > 0)


def barrier() -> None:
    if world()[0] > 1:
        dist.barrier()
