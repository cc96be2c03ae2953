"""Distributed training: two CPU processes with Gloo, as ``torchrun`` would start them.

Each rank practises on its own share of the photos with its own random crops, so without the
gradient averaging of DistributedDataParallel their generators would drift apart.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file

from stylestudio.core.training import distributed
from stylestudio.core.training.config import TrainingConfig
from stylestudio.core.training.features import TinyFeatures
from stylestudio.core.training.run import TrainingRun
from stylestudio.core.training.trainer import Trainer

WORLD = 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _images(count: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.random((64, 64, 3)).astype(np.float32) for _ in range(count)]


def _worker(rank: int, port: int, out: str) -> None:
    # What torchrun sets; setup_from_env is what `stylestudio train` calls.
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    os.environ.update(WORLD_SIZE=str(WORLD), RANK=str(rank), LOCAL_RANK=str(rank))
    os.environ["STYLESTUDIO_CACHE_DIR"] = os.path.join(out, "cache")
    os.environ["STYLESTUDIO_DATA_DIR"] = os.path.join(out, "data")
    torch.set_num_threads(1)
    context = distributed.setup_from_env(torch.device("cpu"))
    assert context is not None and context.rank == rank and context.world_size == WORLD
    assert dist.get_backend() == "gloo"
    try:
        cfg = TrainingConfig(
            steps=3,
            crop_size=32,
            batch_size=1,
            style_size=64,
            content_size=64,
            preview_size=32,
            preview_every=2,
            checkpoint_every=2,
            generator_channels=8,
            generator_blocks=1,
            discriminator_channels=8,
            seed=3,
        )
        seen: list[object] = []
        run = TrainingRun(
            cfg, _images(1, 0), _images(4, 1), run_dir=Path(out) / "run", device="cpu"
        )
        trainer = Trainer(
            run, None, feature_extractor=TinyFeatures(cfg.feature_layers), on_event=seen.append
        )
        trainer.run()
        save_file(trainer.generator_state, os.path.join(out, f"rank{rank}.safetensors"))
        d_state = {k: v.contiguous() for k, v in trainer.training_step.D.state_dict().items()}
        save_file(d_state, os.path.join(out, f"d{rank}.safetensors"))
        names = ",".join(type(e).__name__ for e in seen)
        Path(out, f"events{rank}.txt").write_text(names)
    finally:
        distributed.teardown(context)


@pytest.mark.slow
def test_two_gloo_processes_end_with_identical_weights(tmp_path):
    mp.spawn(_worker, args=(_free_port(), str(tmp_path)), nprocs=WORLD, join=True)
    g0, g1 = (load_file(str(tmp_path / f"rank{r}.safetensors")) for r in range(WORLD))
    assert g0.keys() == g1.keys()
    for name in g0:
        torch.testing.assert_close(g0[name], g1[name], rtol=0, atol=0)
    d0, d1 = (load_file(str(tmp_path / f"d{r}.safetensors")) for r in range(WORLD))
    for name in d0:
        torch.testing.assert_close(d0[name], d1[name], rtol=0, atol=1e-6)
    # Only rank 0 reports events (and writes checkpoints); the run folder is gone after success.
    assert (tmp_path / "events1.txt").read_text() == ""
    events0 = [e for e in (tmp_path / "events0.txt").read_text().split(",") if e != "Status"]
    assert events0[0] == "Started" and events0[-1] == "Finished"
    assert "Checkpointed" in events0
    assert not (tmp_path / "run").exists()
