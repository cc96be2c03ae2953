"""Train (or continue training) StyleStudio's base model on public-domain paintings.

    python -m stylestudio.tools.train_base --data $STYLESTUDIO_SHARED_DATA \
        --state build/base-model --steps 20000 --time-limit 3600

Each run continues from ``--state`` when it holds a compatible state (same paintings, photos and
settings), so the base can be trained across several sittings or machines. The state folder
records the paintings and photos with their SHA-256, the settings, the steps done and the time
spent; ``stylestudio.tools.export_gallery`` turns it into built-in styles.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

#: The gallery's paintings (file stems in ``styles/`` of the shared data). The other paintings
#: there are held out: they stand for a painter's unseen work when fast fine-tuning is measured.
GALLERY_PAINTINGS = (
    "van-gogh-starry-night",
    "hokusai-great-wave-off-kanagawa",
    "monet-water-lilies-1919",
    "klimt-the-kiss",
    "munch-the-scream",
    "huang-gongwang-dwelling-in-the-fuchun-mountains",
    "roman-mosaic-plato-academy-pompeii",
    "tiffany-hibiscus-and-parrots-stained-glass",
    "kandinsky-composition-vii",
    "picabia-udnie",
    "seurat-the-seine-at-la-grande-jatte",
    "bruegel-the-harvesters",
    "giotto-lamentation",
    "william-morris-trellis-wallpaper-design",
    "turner-shipwreck-of-the-minotaur",
    "van-gogh-starry-night-over-the-rhone",
)

#: Settings of the base model (see ``base_settings``); changing any starts a new state.
BASE_GENERATOR = {
    "base_channels": 16,
    "residual_blocks": 3,
    "mid_channels": 32,
    "deep_channels": 48,
    "out_channels": 8,
}


def base_settings(crop: int, batch: int) -> dict[str, object]:
    return {
        "crop_size": crop,
        "batch_size": batch,
        "style_size": 384,
        "content_size": 384,
        "style_scales": [1.0, 0.5],
        "content_weight": 1.0,
        "style_weight": 5.0,
        "tv_weight": 10.0,
        "adversarial_weight": 0.05,
        "lr_g": 2e-3,
        "lr_d": 2e-4,
        "discriminator_channels": 32,
        "seed": 0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=os.environ.get("STYLESTUDIO_SHARED_DATA"))
    parser.add_argument("--state", type=Path, required=True, help="folder of the training state")
    parser.add_argument("--steps", type=int, default=20000, help="total steps (not more)")
    parser.add_argument("--time-limit", type=float, default=None, help="stop after N seconds")
    parser.add_argument("--crop", type=int, default=128)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    if args.data is None or not Path(args.data).is_dir():
        parser.error("--data (or $STYLESTUDIO_SHARED_DATA) must name the shared data folder")

    import torch

    from stylestudio.core.models.generator import GeneratorConfig
    from stylestudio.core.training import data
    from stylestudio.core.training import multistyle as ms
    from stylestudio.core.training.config import TrainingConfig
    from stylestudio.core.training.features import build_feature_extractor

    if args.threads:
        torch.set_num_threads(args.threads)
    root = Path(args.data)
    settings = base_settings(args.crop, args.batch)
    config = TrainingConfig.preset(
        "quick", **{k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()}
    )
    gen_config = GeneratorConfig(**BASE_GENERATOR)
    paths = [root / "styles" / f"{key}.jpg" for key in GALLERY_PAINTINGS]
    loaded = data.load_style_images(paths, config.style_size)
    styles = [
        ms.BaseStyle(key, s.sha256, s.tensor)
        for key, s in zip(GALLERY_PAINTINGS, loaded, strict=True)
    ]
    contents, _ = data.load_content_images(root / "content" / "train", config.content_size, 0)
    fingerprint = {
        "paintings": {s.key: s.sha256 for s in styles},
        "photos": {c.name: c.sha256 for c in contents},
        "settings": settings,
        "generator": gen_config.to_dict(),
    }
    extractor = build_feature_extractor(
        config.feature_layers, root / "vgg" / "vgg19_features.safetensors", allow_download=False
    )
    device = torch.device(args.device)
    step_obj = ms.MultiStyleStep(config, gen_config, styles, extractor, device)
    start, meta = 0, {"inputs": fingerprint, "runs": []}
    if (args.state / ms.META_FILE).is_file():
        saved = step_obj.load(args.state)
        if saved.get("inputs") != fingerprint:
            print(f"{args.state} holds a state with other inputs or settings; refusing to mix.")
            return 2
        start = int(saved["step"])
        meta = {k: saved[k] for k in ("inputs", "runs", "elapsed_s") if k in saved}
        print(f"continuing from step {start}")
    run = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "from_step": start,
        "device": args.device
        if args.device != "cpu"
        else f"CPU ({platform.machine()}, {torch.get_num_threads()} threads)",
        "torch": torch.__version__,
        "feature_precision": step_obj.feature_precision,
        "command": " ".join(["python -m stylestudio.tools.train_base", *(argv or sys.argv[1:])]),
    }
    meta["runs"] = [*meta.get("runs", []), run]
    log_every = 20

    def on_step(step: int, style: int, values: dict[str, float], elapsed: float) -> None:
        if step % log_every == 0:
            text = " ".join(f"{k}={v:.3f}" for k, v in values.items())
            rate = (step - start) / max(elapsed, 1e-9)
            print(f"step {step} style {style:2d} {text} ({rate:.2f} it/s)", flush=True)

    def finish_run(step: int) -> None:
        run["to_step"] = step

    meta["runs"][-1] = run
    last = start
    try:
        last = ms.train_base(
            step_obj,
            [c.tensor for c in contents],
            args.steps,
            args.state,
            start_step=start,
            meta=meta,
            checkpoint_every=args.checkpoint_every,
            time_limit_s=args.time_limit,
            on_step=on_step,
        )
    finally:
        finish_run(last)
        saved = json.loads((args.state / ms.META_FILE).read_text(encoding="utf-8"))
        saved["runs"][-1]["to_step"] = saved["step"]
        from stylestudio.core.atomic import atomic_write_text

        atomic_write_text(args.state / ms.META_FILE, json.dumps(saved, indent=1))
    print(f"stopped at step {last}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
