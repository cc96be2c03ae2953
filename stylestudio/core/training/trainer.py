"""The Trainer: learns a style from a few images and saves it to the style library.

Typical use from a GUI (``run`` blocks, so it goes on a worker thread)::

    run = TrainingRun(TrainingConfig.preset("quick"), [painting], photos_folder, name="My style")
    trainer = Trainer(run, library, on_event=queue_to_gui_thread)
    record = trainer.run()            # on a worker thread
    trainer.pause(); trainer.resume(); trainer.cancel()   # from any thread

``run`` returns the new ``StyleRecord`` (None without a library). It raises ``CancelledError``
after a cancel (having reported ``Cancelled``) and ``StyleStudioError`` for problems the user can
fix (having reported ``Failed`` with the same one-sentence message).

Before the first step every input is checked (name, description, images, run folder, library
folder, VGG weights), so a run does not fail at its end; should the library still refuse the name
then, the style is saved under a safe name and a ``Status`` says so.

Files: checkpoints go to ``run_dir`` (default ``user_cache_dir()/training/<name-slug>``), a run
folder marked as such (see ``run_folder``): a folder that holds other files is refused up front,
and the trainer only ever deletes what it wrote there. On success the style is added to the library
in one atomic step, then the run's files are deleted. On cancel no style is written; by default a
checkpoint of the current step is kept so the run can be resumed later
(``cancel(keep_checkpoint=False)`` deletes it instead). After a failure or a killed process the last
checkpoint remains; ``TrainingRun(resume=True)`` continues from it. If the style could not be saved,
the finished training is kept as a checkpoint and resuming saves it without training again. A run
killed after saving its style but before cleaning up is recognised on resume (the style carries the
run's id): the saved style is reported, not saved twice.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from stylestudio import __version__
from stylestudio.core.errors import (
    CancelledError,
    StyleFormatError,
    StyleStudioError,
    TrainingError,
)
from stylestudio.core.training import checkpoint as ckpt
from stylestudio.core.training import data, distributed, preflight, run_folder
from stylestudio.core.training.eta import EtaMeter, Extra
from stylestudio.core.training.events import (
    Cancelled,
    Checkpointed,
    Failed,
    Finished,
    Paused,
    Preview,
    Progress,
    Resumed,
    Started,
    Status,
    TrainingEvent,
)
from stylestudio.core.training.run import TrainingRun
from stylestudio.core.training.schedule import RunSchedule
from stylestudio.core.training.step import TrainingStep
from stylestudio.core.training.threads import training_threads

if TYPE_CHECKING:
    from stylestudio.core.library import StyleLibrary, StyleRecord

log = logging.getLogger(__name__)

#: Streams of the per-step random generators (see ``_stream_seed``).
_CONTENT, _REAL, _AUGMENT = 0, 1, 2
THUMBNAIL_SIZE = 256


def run_slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:48]
    return slug or "style"


def default_run_dir(name: str) -> Path:
    """Where a run named ``name`` keeps its checkpoints unless told otherwise."""
    from stylestudio.core.paths import user_cache_dir

    return user_cache_dir() / "training" / run_slug(name)


def _stream_seed(seed: int, rank: int, step: int, stream: int) -> int:
    """Seed of one random stream at one step: sampling is a pure function of
    (seed, rank, step), so a resumed run draws exactly the crops an uninterrupted one would."""
    value = (seed & 0xFFFFFFFF) * 1_000_003 + rank * 7_919 + step * 4 + stream
    return value % (2**63 - 1)


def _resolve_device(preference: str | torch.device | None) -> torch.device:
    if isinstance(preference, torch.device):
        return preference
    from stylestudio.core.engine.device import select_device

    return select_device(preference)


def _describe_device(device: torch.device) -> str:
    from stylestudio.core.engine.device import describe_device

    return describe_device(device)


class Trainer:
    """Learns one style. Construct cheaply; all heavy work happens in ``run``."""

    def __init__(
        self,
        run: TrainingRun,
        library: StyleLibrary | None = None,
        *,
        on_event: Callable[[TrainingEvent], None] | None = None,
        feature_extractor: nn.Module | None = None,
    ) -> None:
        """
        ``run``: the inputs and settings (see ``TrainingRun``); style and content images are
        paths or (H, W, 3) float arrays, content may be a folder or None (see ``data``).
        ``library``: a ``StyleLibrary`` (None: nothing is saved; see ``generator_state``).
        ``feature_extractor``: replaces VGG19 (any module returning ``{layer: tensor}``).
        """
        self.run_settings = run
        self.config = run.config.validated()
        style_images = run.style_images
        if isinstance(style_images, (str, Path, np.ndarray)):
            style_images = [style_images]
        if not style_images:
            raise TrainingError("Add at least one style image to learn from.")
        self.style_images = list(style_images)
        self.content_images = run.content
        self.library = library
        self.name = preflight.style_name(run.name)
        self.start_from = run.start_from
        self.vgg_weights = run.vgg_weights
        self.on_event = on_event
        self.device_preference = run.device
        run_dir = run.run_dir
        self.run_dir = Path(run_dir) if run_dir is not None else default_run_dir(self.name)
        self._default_run_dir = run_dir is None
        self._folder: run_folder.RunFolder | None = None  # claimed by rank 0 before step 1
        self.resume_checkpoint = run.resume
        self.feature_extractor = feature_extractor
        self.allow_download = run.allow_download
        self.description = preflight.style_description(run.description)
        self._running = threading.Event()
        self._running.set()
        self._cancel = threading.Event()
        self._keep_checkpoint = True
        self._rank = 0
        self._started = False
        self.step_count = 0
        #: The models and optimisers during a run (dropped afterwards on GPUs to free memory).
        self.training_step: TrainingStep | None = None
        self.generator_state: dict[str, torch.Tensor] | None = None  # set after success

    # ---------------------------------------------------------------------------------------
    # control (any thread)

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def cancel(self, keep_checkpoint: bool = True) -> None:
        """Stop at the next step boundary; no style is written."""
        self._keep_checkpoint = keep_checkpoint
        self._cancel.set()
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    # ---------------------------------------------------------------------------------------

    def _emit(self, event: TrainingEvent) -> None:
        if self.on_event is not None and self._rank == 0:
            self.on_event(event)

    def _emit_failure(self, message: str) -> None:
        """Report ``Failed``; a callback error here must not hide the original error."""
        try:
            self._emit(Failed(message))
        except Exception:
            log.exception("on_event failed while reporting a training failure")

    def run(self) -> StyleRecord | None:
        """Train to ``config.steps``; returns the new StyleRecord (None without a library)."""
        if self._started:
            raise RuntimeError("a Trainer runs once; create a new one for another run")
        self._started = True
        self._rank = distributed.world()[1]
        previous = (
            torch.are_deterministic_algorithms_enabled(),
            torch.is_deterministic_algorithms_warn_only_enabled(),
        )
        device = torch.device("cpu")
        try:
            device = _resolve_device(self.device_preference)
            if self.config.deterministic and device.type == "cpu":
                torch.use_deterministic_algorithms(True, warn_only=True)
            with training_threads(device):
                return self._run(device)
        except CancelledError:
            raise
        except StyleStudioError as exc:
            self._drop_folder_without_checkpoints()
            self._emit_failure(str(exc))
            raise
        except Exception as exc:
            from stylestudio.core.engine.device import free_device_memory, is_out_of_memory

            self._drop_folder_without_checkpoints()

            if is_out_of_memory(exc):
                free_device_memory(device)
                message = (
                    "The device ran out of memory; choose a smaller preset, crop size or batch, "
                    "or train on the CPU."
                )
                self._emit_failure(message)
                raise TrainingError(message) from exc
            self._emit_failure(f"Training failed unexpectedly: {exc}")
            raise
        finally:
            torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
            if device.type != "cpu" and self.training_step is not None:
                # Give the GPU memory back: a GUI may keep this Trainer around for a while.
                from stylestudio.core.engine.device import free_device_memory

                self.training_step = None
                free_device_memory(device)

    def _stop_if_cancelled(self) -> None:
        """Cancel before the first step: nothing was written, nothing is kept."""
        if self._cancel.is_set():
            self._emit(Cancelled(0, None))
            raise CancelledError("Training was cancelled.")

    def _preflight(self) -> None:
        """The checks that need the disk, before anything is read or written (the name and
        description were checked on construction)."""
        run_folder.inspect(self.run_dir)
        if self.library is not None:
            preflight.check_library_writable(self.library)
        if self.feature_extractor is None:
            preflight.check_vgg_weights_file(self.vgg_weights)

    def _style_saved_by(self, run_id: str) -> StyleRecord | None:
        if self.library is None:
            return None
        for record in self.library.list():
            if not record.builtin and record.manifest.training.get("run_id") == run_id:
                return record
        return None

    def _finished_earlier(self) -> StyleRecord | None:
        """On resume: the style this run saved before it was killed (then cleans up), or None."""
        marker = run_folder.read_marker(self.run_dir)
        record = self._style_saved_by(marker.run_id) if marker is not None else None
        if marker is None or record is None:
            return None
        from stylestudio.core import stylepack

        try:
            _, self.generator_state = stylepack.read_style(record.location)
        except StyleStudioError as exc:  # damaged since: the run is resumed and saved afresh
            log.warning("The style %s saved by this run is damaged: %s", record.location, exc)
            return None
        self._emit(
            Status(
                f"This run had already saved the style {record.name!r} (id {record.id}) before "
                "it was interrupted; it is not saved again."
            )
        )
        training = dict(record.manifest.training)
        self.step_count = int(training.get("steps", 0))
        if self._rank == 0:
            self._folder = run_folder.RunFolder(self.run_dir, marker)
            self._release_folder()
        distributed.barrier()
        elapsed = float(training.get("time_s", 0.0))
        self._emit(Finished(record, self.step_count, elapsed, training, already_saved=True))
        return record

    def _release_folder(self) -> None:
        """Delete the run's own files; a failure here must not fail a run whose style is saved."""
        if self._folder is None:
            return
        try:
            self._folder.release()
        except OSError as exc:
            log.warning("Could not remove the training files in %s: %s", self.run_dir, exc)

    def _drop_folder_without_checkpoints(self) -> None:
        """After a failure: a run folder with nothing to resume from is not left behind."""
        try:
            if self._folder is not None and not self._folder.has_checkpoints():
                self._release_folder()
        except OSError:
            log.exception("could not check the run folder %s", self.run_dir)

    def _load_inputs(self) -> tuple[list[data.SourceImage], list[data.SourceImage], list[str]]:
        cfg = self.config
        styles = data.load_style_images(self.style_images, cfg.style_size)
        contents, note = data.load_content_images(self.content_images, cfg.content_size, cfg.seed)
        notes = [note] if note else []
        return styles, contents, notes

    def _starting_generator(
        self,
        extractor: nn.Module,
        styles: Sequence[data.SourceImage],
        contents: Sequence[data.SourceImage],
    ) -> tuple[Any, dict[str, torch.Tensor] | None, str | None]:
        """(GeneratorConfig, initial weights, style id) for ``start_from``.

        Without ``start_from`` and with ``config.warm_start``, the closest built-in base style
        (see ``warm_start``); without such styles, a fresh generator.
        """
        from stylestudio.core.models.generator import ARCHITECTURE_NAME, GeneratorConfig

        cfg = self.config
        if self.start_from is None:
            if cfg.warm_start:
                from stylestudio.core.training import warm_start

                candidates = warm_start.base_candidates(self.library)
                if candidates:
                    self._emit(Status("Choosing the closest built-in style to start from…"))
                    choice = warm_start.choose_start(
                        candidates,
                        extractor,
                        [s.tensor for s in styles],
                        data.preview_samples(contents, cfg.crop_size, count=2),
                        cfg.style_layers,
                        cfg.style_size // 2,
                    )
                    best = choice.candidate
                    return GeneratorConfig.from_dict(best.params), best.state, best.style_id
            return GeneratorConfig(cfg.generator_channels, cfg.generator_blocks), None, None
        from stylestudio.core import stylepack

        source = self.start_from
        location: Path
        if hasattr(source, "location") and hasattr(source, "manifest"):
            location = Path(source.location)
        elif isinstance(source, Path) or (isinstance(source, str) and Path(source).exists()):
            location = Path(source)
        else:
            from stylestudio.core.library import StyleLibrary

            library = self.library if self.library is not None else StyleLibrary()
            location = library.get(str(source)).location
        manifest, tensors = stylepack.read_style(location)
        if manifest.architecture != ARCHITECTURE_NAME:
            raise TrainingError(
                f"The style {manifest.name!r} uses a different network and cannot be a starting "
                "point for training."
            )
        return GeneratorConfig.from_dict(dict(manifest.params)), tensors, manifest.id

    def _build_extractor(self) -> nn.Module:
        if self.feature_extractor is not None:
            return self.feature_extractor
        from stylestudio.core.training.features import build_feature_extractor

        self._emit(Status("Loading the VGG19 feature network…"))
        return build_feature_extractor(
            self.config.feature_layers,
            self.vgg_weights,
            allow_download=self.allow_download,
            progress=lambda _fraction, message: self._emit(Status(message)),
        )

    def _run(self, device: torch.device) -> StyleRecord | None:
        cfg = self.config
        started_at = time.monotonic()
        world_size, rank = distributed.world()
        self._preflight()
        if self.resume_checkpoint:
            earlier = self._finished_earlier()
            if earlier is not None:
                return earlier
        self._emit(Status("Reading the images…"))
        styles, contents, notes = self._load_inputs()
        self._stop_if_cancelled()
        extractor = self._build_extractor()
        self._stop_if_cancelled()
        gen_config, gen_state, start_id = self._starting_generator(extractor, styles, contents)
        self._stop_if_cancelled()
        step_obj = TrainingStep(
            cfg, extractor, device, generator_config=gen_config, generator_state=gen_state
        )
        self.training_step = step_obj
        self._emit(Status("Measuring the style…"))
        step_obj.set_style_targets([s.tensor for s in styles])
        self._stop_if_cancelled()
        fingerprint = {
            "style_images": [s.sha256 for s in styles],
            "content_images": [c.sha256 for c in contents],
            "start_from": start_id,
            "generator": gen_config.to_dict(),
        }
        content_sampler = data.CropSampler(
            [c.tensor for c in data.shard(contents, rank, world_size)],
            cfg.crop_size,
            cfg.min_crop_scale,
        )
        real_sampler = data.CropSampler(
            [s.tensor for s in styles],
            cfg.crop_size,
            min(cfg.style_scales),
            max(cfg.style_scales),
        )
        samples = data.preview_samples(contents, cfg.preview_size)

        start_step, elapsed_before = self._prepare_run_dir(step_obj, fingerprint, rank)
        self.step_count = start_step
        self._emit(
            Started(
                cfg.steps,
                start_step,
                _describe_device(device),
                self.run_dir,
                world_size,
                tuple(notes),
            )
        )
        gen = torch.Generator()
        active_since = time.monotonic()
        schedule = RunSchedule.of(cfg)
        meter = EtaMeter(schedule)
        active_before = elapsed_before
        last_saved = start_step
        meta = {"config": cfg.to_dict(), "config_key": cfg.resume_key(), "inputs": fingerprint}

        step = start_step
        while step < cfg.steps:
            if not self._running.is_set() and not self._cancel.is_set():
                active_before += time.monotonic() - active_since
                self._emit(Paused(step))
                while not self._running.wait(0.1):
                    pass
                if not self._cancel.is_set():
                    self._emit(Resumed(step))
                active_since = time.monotonic()
            if distributed.any_rank(self._cancel.is_set(), device):
                self._cancel.set()
                break
            step_began = time.monotonic()
            gen.manual_seed(_stream_seed(cfg.seed, rank, step, _CONTENT))
            content = content_sampler.sample(cfg.batch_size, gen)
            gen.manual_seed(_stream_seed(cfg.seed, rank, step, _REAL))
            real = real_sampler.sample(cfg.batch_size, gen)
            gen.manual_seed(_stream_seed(cfg.seed, rank, step, _AUGMENT))
            step_obj.set_phase(step)
            values = step_obj.step(content, real, gen)
            step += 1
            self.step_count = step
            meter.stepped(time.monotonic() - step_began)
            self._emit(Progress(step, cfg.steps, values, meter.it_per_s, meter.eta_s(step)))
            if self._rank == 0 and schedule.previews_at(step):
                began = time.monotonic()
                self._emit(Preview(step, self._preview_pairs(step_obj, samples)))
                meter.extra(Extra.PREVIEW, time.monotonic() - began)
            if schedule.checkpoints_at(step):
                began = time.monotonic()
                elapsed = active_before + began - active_since
                self._save(step_obj, step, {**meta, "elapsed_s": elapsed})
                meter.extra(Extra.CHECKPOINT, time.monotonic() - began)
                last_saved = step

        elapsed = active_before + time.monotonic() - active_since
        if self._cancel.is_set():
            keep = self._keep_checkpoint
            if keep and step > last_saved:
                self._save(step_obj, step, {**meta, "elapsed_s": elapsed})
            distributed.barrier()
            kept = False
            if rank == 0 and self._folder is not None:
                kept = keep and self._folder.has_checkpoints()
                if not kept:
                    self._release_folder()
            self._emit(Cancelled(step, self.run_dir if kept else None))
            raise CancelledError("Training was cancelled.")

        self.generator_state = step_obj.generator_state_dict()
        training = self._training_metadata(
            styles, contents, start_id, elapsed, device, world_size, step_obj.feature_precision
        )
        training["wall_time_s"] = round(time.monotonic() - started_at, 3)
        record = None
        if rank == 0:
            if self.library is not None:
                try:
                    record = self._save_style(step_obj, contents, training)
                except StyleStudioError as exc:
                    final = {**meta, "elapsed_s": elapsed}
                    raise self._kept_for_later(step_obj, step, last_saved, final, exc) from exc
            self._release_folder()
        distributed.barrier()
        self._emit(Finished(record, step, elapsed, training))
        return record

    def _prepare_run_dir(
        self, step_obj: TrainingStep, fingerprint: dict[str, Any], rank: int
    ) -> tuple[int, float]:
        """Claim the run folder and load the checkpoint to resume from; (start step, elapsed)."""
        if rank == 0:
            self._folder = run_folder.RunFolder.claim(
                self.run_dir,
                self.name,
                fresh=not self.resume_checkpoint,
                ours_by_default=self._default_run_dir,
            )
        distributed.barrier()
        latest = ckpt.latest_checkpoint(self.run_dir) if self.resume_checkpoint else None
        if latest is None:
            return 0, 0.0
        meta = latest.meta
        if meta.get("config_key") != self.config.resume_key():
            raise TrainingError(
                "The interrupted run used different settings; start a new run instead of resuming."
            )
        if meta.get("inputs") != fingerprint:
            raise TrainingError(
                "The interrupted run used different images or a different starting style; start "
                "a new run instead of resuming."
            )
        if latest.step > self.config.steps:
            raise TrainingError(
                f"The interrupted run is already at step {latest.step}, beyond the "
                f"{self.config.steps} steps asked for."
            )
        ckpt.load_checkpoint(latest, step_obj)
        return latest.step, float(meta.get("elapsed_s", 0.0))

    def _save(self, step_obj: TrainingStep, step: int, meta: dict[str, Any]) -> None:
        if self._rank == 0:
            path = ckpt.save_checkpoint(self.run_dir, step, step_obj, meta)
            self._emit(Checkpointed(step, path))

    def _kept_for_later(
        self,
        step_obj: TrainingStep,
        step: int,
        last_saved: int,
        meta: dict[str, Any],
        error: StyleStudioError,
    ) -> TrainingError:
        """The style could not be saved: keep the finished training as a checkpoint (resuming
        then saves it without training again) and say where it is."""
        if step > last_saved:
            try:
                self._save(step_obj, step, meta)
            except StyleStudioError:
                log.exception("could not keep the finished training in %s", self.run_dir)
        latest = ckpt.list_checkpoints(self.run_dir)
        reason = str(error).rstrip(".")
        where = self.run_dir
        if latest and latest[-1].step >= step:
            keep = f"the finished training is kept in {where}: resume the run to save it"
        elif latest:
            keep = f"the run can be resumed from step {latest[-1].step}, kept in {where}"
        else:
            keep = "no checkpoint could be kept"
        return TrainingError(f"The trained style could not be saved ({reason}); {keep}.")

    @staticmethod
    def _preview_pairs(
        step_obj: TrainingStep, samples: torch.Tensor
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        after = step_obj.stylize(samples)
        return [(data.to_array(b), data.to_array(a)) for b, a in zip(samples, after, strict=True)]

    def _training_metadata(
        self,
        styles: list[data.SourceImage],
        contents: list[data.SourceImage],
        start_id: str | None,
        elapsed: float,
        device: torch.device,
        world_size: int,
        feature_precision: str,
    ) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "trainer": f"StyleStudio {__version__}",
            "settings": self.config.to_dict(),
            "steps": self.step_count,
            "time_s": round(elapsed, 3),
            "device": _describe_device(device),
            "feature_precision": feature_precision,
            "processes": world_size,
            "started_from": start_id,
            "style_images": [
                {"name": s.name, "sha256": s.sha256, "size": list(s.original_size)} for s in styles
            ],
            "content_images": {"count": len(contents), "sha256": [c.sha256 for c in contents]},
        }
        if self._folder is not None:
            meta["run_id"] = self._folder.run_id  # lets a resumed run find the style it saved
        return meta

    def _save_style(
        self,
        step_obj: TrainingStep,
        contents: list[data.SourceImage],
        training: dict[str, Any],
    ) -> StyleRecord:
        from PIL import Image

        from stylestudio.core.imageio import to_uint8
        from stylestudio.core.models.generator import ARCHITECTURE_NAME

        thumb = step_obj.stylize(data.preview_samples(contents, THUMBNAIL_SIZE, count=1))
        thumbnail = Image.fromarray(to_uint8(data.to_array(thumb[0])), "RGB")
        names = list(dict.fromkeys([self.name, preflight.fallback_name(self.name)]))
        names += [] if preflight.DEFAULT_NAME in names else [preflight.DEFAULT_NAME]
        refused: StyleFormatError | None = None
        for name in names:
            try:
                record = self.library.add(
                    name,
                    self.generator_state,
                    architecture=ARCHITECTURE_NAME,
                    params=step_obj.G.config.to_dict(),
                    thumbnail=thumbnail,
                    training=training,
                    description=self.description,
                )
            except StyleFormatError as exc:  # the name: never a reason to lose the training
                refused = refused or exc
                continue
            if refused is not None:
                self._emit(
                    Status(
                        f"The library refused the name {self.name!r} "
                        f"({str(refused).rstrip('.')}); the style was saved as {record.name!r}."
                    )
                )
            return record
        assert refused is not None
        raise refused
