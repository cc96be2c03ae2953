"""Learn the built-in gallery: one style per painting, by the same trainer a user runs.

    python -m stylestudio.tools.train_gallery --data $STYLESTUDIO_SHARED_DATA \
        --runs build/gallery-runs --out resources/styles --preset quick --steps 400

Each painting of ``train_base.GALLERY_PAINTINGS`` is learned with ``Trainer`` (the wizard's and
``stylestudio train``'s code path): warm-started from the base model's row for that painting,
then fine-tuned with the GAN (PatchGAN + VGG19 content + Gram style losses) on the shared data's
``content/train`` photos. Every run checkpoints into ``--runs/<id>``, so an interrupted gallery
continues where it stopped (``--time-limit`` stops cleanly between checkpoints). A finished style
is written to ``--out/<id>`` at once, with a manifest recording the painting (title, artist,
year, licence, source, SHA-256) and how it was trained (command, settings, steps, photos with
hashes, time, device, torch version). A style already in ``--out`` with the same settings is
kept (``--force`` retrains it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from stylestudio.tools.export_gallery import GALLERY_NAMES, read_provenance
from stylestudio.tools.train_base import GALLERY_PAINTINGS

#: The key in a gallery manifest's ``training`` that records the gallery settings.
GALLERY_KEY = "gallery"
DEFAULT_THUMBNAIL_PHOTO = Path("resources/samples/chelsea.jpg")


def _settings_key(preset: str, overrides: dict[str, object]) -> dict[str, object]:
    return {"preset": preset, "overrides": dict(sorted(overrides.items()))}


def gallery_training(folder: Path) -> dict[str, object] | None:
    """The ``training`` record of the gallery style in ``folder`` (None: there is none)."""
    try:
        manifest = json.loads((folder / "style.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    training = manifest.get("training")
    return training if isinstance(training, dict) and GALLERY_KEY in training else None


def gallery_settings(training: dict[str, object]) -> dict[str, object] | None:
    """The gallery settings a style was trained with (its last stage's, with what it continues)."""
    gallery = training.get(GALLERY_KEY)
    found = gallery.get("settings") if isinstance(gallery, dict) else None
    return found if isinstance(found, dict) else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=os.environ.get("STYLESTUDIO_SHARED_DATA"))
    parser.add_argument("--runs", type=Path, default=Path("build/gallery-runs"))
    parser.add_argument("--out", type=Path, default=Path("resources/styles"))
    parser.add_argument("--base", type=Path, default=Path("resources/base"))
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument(
        "--set", action="append", default=[], metavar="FIELD=JSON", help="a config override"
    )
    parser.add_argument("--only", default="", help="comma-separated style ids (default: all)")
    parser.add_argument("--time-limit", type=float, default=None, help="stop after N seconds")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="retrain styles already in --out")
    parser.add_argument(
        "--continue",
        dest="continue_",
        action="store_true",
        help="fine-tune each style already in --out further (recorded as a second stage)",
    )
    parser.add_argument("--thumbnail-photo", type=Path, default=DEFAULT_THUMBNAIL_PHOTO)
    args = parser.parse_args(argv)
    if args.data is None:
        parser.error("--data (or $STYLESTUDIO_SHARED_DATA) must name the shared data folder")

    import torch

    from stylestudio.core.errors import CancelledError
    from stylestudio.core.library import StyleLibrary
    from stylestudio.core.training import events
    from stylestudio.core.training.config import TrainingConfig
    from stylestudio.core.training.run import TrainingRun
    from stylestudio.core.training.trainer import Trainer

    if args.threads:
        torch.set_num_threads(args.threads)
    overrides: dict[str, object] = {}
    for item in args.set:
        field, _, value = item.partition("=")
        overrides[field] = json.loads(value)
    if args.steps is not None:
        overrides["steps"] = args.steps
    config = TrainingConfig.preset(args.preset, **overrides)
    settings = _settings_key(args.preset, overrides)
    data = Path(args.data)
    provenance = read_provenance(data / "styles" / "PROVENANCE.md")
    only = {s for s in args.only.split(",") if s}
    deadline = None if args.time_limit is None else time.monotonic() + args.time_limit
    command = " ".join(["python -m stylestudio.tools.train_gallery", *(argv or sys.argv[1:])])
    args.out.mkdir(parents=True, exist_ok=True)

    for key in GALLERY_PAINTINGS:
        style_id, name = GALLERY_NAMES[key]
        if only and style_id not in only:
            continue
        dest = args.out / style_id
        existing = gallery_training(dest)
        existing_settings = None if existing is None else gallery_settings(existing)
        previous = existing if args.continue_ else None
        if args.continue_:
            if existing is None:
                print(f"{style_id}: not in {args.out}; nothing to continue", flush=True)
                continue
            # A second stage records this stage's settings and those of the stage it continues.
            style_settings = {**settings, "continues": existing_settings}
            last_stage = {k: v for k, v in (existing_settings or {}).items() if k != "continues"}
            if last_stage == settings and not args.force:
                print(f"{style_id}: already continued with these settings; kept", flush=True)
                continue
        else:
            style_settings = settings
            if existing_settings == settings and not args.force:
                print(f"{style_id}: already trained with these settings; kept", flush=True)
                continue
        if deadline is not None and time.monotonic() > deadline:
            print("time limit reached", flush=True)
            return 0
        painting = provenance[key]
        run_dir = args.runs / style_id
        library = StyleLibrary(user_dir=args.runs / "library", builtin_dir=args.base.parent / "_")
        done = _finished(library, name, config.to_dict())
        if done is not None:  # trained and saved before the gallery copy was written
            _publish(done, style_id, painting, style_settings, command, args, previous)
            library.delete(done.manifest.id)
            continue
        resume = (run_dir / "run.json").exists()
        run = TrainingRun(
            config,
            [data / "styles" / painting.file],
            data / "content" / "train",
            name=name,
            description=f"Learned from {painting.title} by {painting.artist} ({painting.year}).",
            start_from=None if previous is None else dest,
            vgg_weights=data / "vgg" / "vgg19_features.safetensors",
            device=args.device,
            run_dir=run_dir,
            resume=resume,
            allow_download=False,
        )
        holder: dict[str, Trainer] = {}

        def on_event(
            event: events.TrainingEvent, tag: str = style_id, holder: dict = holder
        ) -> None:
            if isinstance(event, events.Progress):
                if event.step % 50 == 0:
                    print(f"{tag}: step {event.step}", flush=True)
                if deadline is not None and time.monotonic() > deadline:
                    holder["trainer"].cancel(keep_checkpoint=True)

        trainer = Trainer(run, library, on_event=on_event)
        holder["trainer"] = trainer
        started = time.monotonic()
        try:
            record = trainer.run()
        except CancelledError:
            print(f"{style_id}: stopped at the time limit; resume with the same command")
            return 0
        print(f"{style_id}: trained in {time.monotonic() - started:.0f} s", flush=True)
        _publish(record, style_id, painting, style_settings, command, args, previous)
        library.delete(record.manifest.id)
    return 0


def _finished(library, name: str, settings: dict[str, object]):  # type: ignore[no-untyped-def]
    """A style of this name the library already holds, trained with exactly these settings."""
    for record in library.list():
        training = record.manifest.training
        if record.manifest.name == name and training.get("settings") == json.loads(
            json.dumps(settings)
        ):
            return record
    return None


def _publish(record, style_id, painting, settings, command, args, previous=None) -> None:  # type: ignore[no-untyped-def]
    """Copy the trained style into the gallery under its stable id, with its provenance.

    A continued style (``previous``: the training record of the stage it continued) keeps that
    record under ``continued_from`` and its ``started_from`` (the base row the chain began at).
    """
    import dataclasses

    import torch

    from stylestudio.core.models.generator import Generator, GeneratorConfig
    from stylestudio.core.stylepack import read_style, utc_now_iso
    from stylestudio.tools.export_gallery import (
        replace_style_folder,
        style_thumbnail,
        thumbnail_sample,
    )

    manifest, state = read_style(record.location)
    generator = Generator(GeneratorConfig.from_dict(manifest.params))
    generator.load_state_dict(state)
    generator.eval()
    thumbnail = style_thumbnail(generator, thumbnail_sample(args.thumbnail_photo))
    training = dict(manifest.training)
    training["command"] = command
    training[GALLERY_KEY] = {"settings": settings}
    training["torch"] = torch.__version__
    training["machine"] = (
        f"{platform.system()} {platform.machine()}, {torch.get_num_threads()} torch threads"
    )
    training["paintings"] = [painting.record()]
    if previous is not None:
        training["continued_from"] = {
            k: v for k, v in previous.items() if k not in ("paintings", "content_images")
        }
        training["started_from"] = previous.get("started_from")
        training["total_steps"] = int(previous.get("total_steps", previous.get("steps", 0))) + int(
            training.get("steps", 0)
        )
    gallery = dataclasses.replace(
        manifest,
        id=style_id,
        name=GALLERY_NAMES[Path(painting.file).stem][1],
        version=1,
        created=utc_now_iso(),
        weights_sha256="",
        license="Weights: MIT, trained by StyleStudio's own code. Painting: public domain.",
        attribution=f"After {painting.artist}, {painting.title} ({painting.year}).",
        training=training,
    )
    replace_style_folder(args.out, gallery, state, thumbnail)
    print(f"wrote {args.out / style_id}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
