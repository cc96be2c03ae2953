"""Train a generator to reproduce a procedural filter: how the built-in styles are made.

    python -m stylestudio.tools.distill_style --filter ink-wash --photos DIR \
        --name "Ink Wash" --out resources/styles

Random crops (with flips and rescaling) of the practice photos go through the filter to make
targets; the generator learns them with an L1 loss on pixels and on image gradients. The result is
written as a normal style folder with the command, data, steps and time in its manifest.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import random
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.nn import functional as F

from stylestudio.core.imageio import is_supported_image_path, load_image
from stylestudio.core.models.generator import ARCHITECTURE_NAME, Generator, GeneratorConfig
from stylestudio.core.stylepack import StyleManifest, new_style_id, utc_now_iso, write_style_folder
from stylestudio.tools.procedural_styles import FILTERS


def _load_photos(folder: Path, max_side: int) -> list[torch.Tensor]:
    photos = []
    for path in sorted(folder.iterdir()):
        if not is_supported_image_path(path):
            continue
        rgb = load_image(path).rgb
        t = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None]
        scale = max_side / max(t.shape[-2:])
        if scale < 1:
            t = F.interpolate(t, scale_factor=scale, mode="bilinear", antialias=True)
        photos.append(t)
    if not photos:
        raise SystemExit(f"no images in {folder}")
    return photos


def _random_batch(photos: list[torch.Tensor], crop: int, batch: int, rng: random.Random):
    crops = []
    for _ in range(batch):
        img = photos[rng.randrange(len(photos))]
        s = rng.uniform(0.5, 1.0)
        h, w = img.shape[-2:]
        if min(h, w) * s < crop:
            s = crop / min(h, w)
        scaled = F.interpolate(img, scale_factor=s, mode="bilinear", antialias=True)
        h, w = scaled.shape[-2:]
        y, x = rng.randrange(h - crop + 1), rng.randrange(w - crop + 1)
        c = scaled[..., y : y + crop, x : x + crop]
        if rng.random() < 0.5:
            c = c.flip(-1)
        crops.append(c)
    return torch.cat(crops).clamp(0, 1)


def _gradients(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return x[..., 1:, :] - x[..., :-1, :], x[..., :, 1:] - x[..., :, :-1]


def distill(args: argparse.Namespace) -> tuple[Generator, dict]:
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    target_fn = FILTERS[args.filter]
    photos = _load_photos(args.photos, args.max_side)
    config = GeneratorConfig(args.base_channels, args.residual_blocks)
    model = Generator(config)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps)
    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        x = _random_batch(photos, args.crop, args.batch, rng)
        with torch.no_grad():
            target = target_fn(x)
        y = model(x)
        gy, gx = _gradients(y)
        ty, tx = _gradients(target)
        loss = F.l1_loss(y, target) + F.l1_loss(gy, ty) + F.l1_loss(gx, tx)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % 50 == 0 or step == args.steps:
            rate = step / (time.perf_counter() - start)
            print(f"step {step}/{args.steps} loss {loss.item():.4f} {rate:.2f} it/s", flush=True)
    elapsed = time.perf_counter() - start
    training = {
        "method": "distillation of a procedural filter (stylestudio.tools.distill_style)",
        "filter": args.filter,
        "command": shlex.join(["python", "-m", "stylestudio.tools.distill_style", *sys.argv[1:]]),
        "photos": {
            p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(args.photos.iterdir())
            if is_supported_image_path(p)
        },
        "steps": args.steps,
        "crop": args.crop,
        "batch": args.batch,
        "seed": args.seed,
        "final_loss": round(float(loss.item()), 5),
        "time_s": round(elapsed, 1),
        "device": f"CPU ({platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} threads)",
        "torch": torch.__version__,
    }
    return model.eval(), training


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--filter", choices=sorted(FILTERS), required=True)
    parser.add_argument("--photos", type=Path, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--description", default="")
    parser.add_argument("--id", default=None, help="style id (default: from the name)")
    parser.add_argument("--out", type=Path, required=True, help="folder that receives <id>/")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--crop", type=int, default=128)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-side", type=int, default=640)
    parser.add_argument("--base-channels", type=int, default=16)
    parser.add_argument("--residual-blocks", type=int, default=3)
    args = parser.parse_args(argv)
    model, training = distill(args)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    sample = _load_photos(args.photos, 256)[0]
    with torch.inference_mode():
        thumb = model(sample)[0].permute(1, 2, 0).numpy()
    thumbnail = Image.fromarray((thumb * 255).round().astype(np.uint8))
    path = _write(args, state, training, thumbnail)
    print(json.dumps({"written": str(path), **training}, indent=2))
    return 0


def _write(
    args: argparse.Namespace,
    state: dict[str, torch.Tensor],
    training: dict,
    thumbnail: Image.Image,
) -> Path:
    manifest = StyleManifest(
        id=args.id or new_style_id(args.name),
        name=args.name,
        version=1,
        architecture=ARCHITECTURE_NAME,
        params=GeneratorConfig(args.base_channels, args.residual_blocks).to_dict(),
        created=utc_now_iso(),
        weights_sha256="",
        license="MIT (weights trained by StyleStudio's own code)",
        attribution="Practice photos: scikit-image sample data (public domain / CC0).",
        description=args.description,
        training=training,
    )
    return write_style_folder(args.out, manifest, state, thumbnail)


if __name__ == "__main__":
    raise SystemExit(main())
