"""The time a run takes, before and during it: the schedule of previews and checkpoints, the
live ETA of ``Progress`` events, and the up-front estimate's parts (tiny networks, CPU)."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest
import torch

from stylestudio.core.library import StyleLibrary
from stylestudio.core.training import events
from stylestudio.core.training.config import TrainingConfig
from stylestudio.core.training.eta import EtaMeter, Extra
from stylestudio.core.training.schedule import RunSchedule
from stylestudio.core.training.trainer import Trainer
from tests.test_training import make_trainer, photos, save_png, stripes, tiny_config, tiny_features


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_schedule_counts_what_the_steps_do():
    for steps in range(1, 40):
        for every in range(1, 9):
            schedule = RunSchedule(steps, every, every + 1)
            for done in range(steps + 1):
                later = range(done + 1, steps + 1)
                assert schedule.previews_after(done) == sum(map(schedule.previews_at, later))
                assert schedule.checkpoints_after(done) == sum(map(schedule.checkpoints_at, later))
    for steps in (20, 25, 26, 99, 100, 250):  # runs that preview rarely get an early one
        for every in (24, 25, 26, 50, 100):
            schedule = RunSchedule(steps, every, 200)
            for done in range(steps + 1):
                later = range(done + 1, steps + 1)
                assert schedule.previews_after(done) == sum(map(schedule.previews_at, later))
    schedule = RunSchedule(10, 4, 3)
    assert [s for s in range(1, 11) if schedule.previews_at(s)] == [4, 8, 10]
    best = RunSchedule.of(TrainingConfig.preset("best", steps=300))
    assert [s for s in range(1, 301) if best.previews_at(s)] == [25, 100, 200, 300]
    assert [s for s in range(1, 11) if schedule.checkpoints_at(s)] == [3, 6, 9]


def test_eta_counts_the_previews_and_checkpoints_still_to_come():
    meter = EtaMeter(RunSchedule(10, 4, 3), window=3)
    assert math.isnan(meter.eta_s(0))
    meter.stepped(5.0)  # leaves the window below
    for _ in range(3):
        meter.stepped(1.0)
    meter.extra(Extra.PREVIEW, 5.0)
    meter.extra(Extra.CHECKPOINT, 2.0)
    assert meter.seconds_per_step == 1.0 and meter.it_per_s == 1.0
    # After step 2: 8 steps, previews after 4, 8 and 10, checkpoints after 3, 6 and 9.
    assert meter.eta_s(2) == pytest.approx(8 + 3 * 5 + 3 * 2)
    # Step 4's own preview still follows its Progress event.
    assert meter.eta_s(4) == pytest.approx(6 + 3 * 5 + 2 * 2)
    assert meter.eta_s(10) == pytest.approx(5)  # the last preview


def test_progress_eta_includes_the_slow_previews_still_to_come(tmp_path, monkeypatch):
    """Previews cost far more than the tiny steps here: the ETA told halfway must count them."""
    pause = 0.25
    real_preview = Trainer._preview_pairs

    def slow_preview(step_obj, samples):
        time.sleep(pause)
        return real_preview(step_obj, samples)

    monkeypatch.setattr(Trainer, "_preview_pairs", staticmethod(slow_preview))
    cfg = tiny_config(steps=12, preview_every=3, checkpoint_every=100)
    told: list[tuple[int, float, float]] = []  # (step, when, ETA)

    def on_event(event: events.TrainingEvent) -> None:
        if isinstance(event, events.Progress):
            told.append((event.step, time.perf_counter(), event.eta_s))

    make_trainer(tmp_path, cfg, on_event=on_event).run()
    finished = time.perf_counter()
    step, when, eta = told[5]  # after step 6: previews after 6, 9 and 12 are still to come
    assert step == 6
    remaining = finished - when
    assert remaining > 3 * pause
    assert 0.7 <= eta / remaining <= 1.3, (eta, remaining)


def test_estimate_adds_setup_previews_checkpoints_and_saving(tmp_path):
    from stylestudio.core.training.estimate import estimate_duration

    painting = save_png(tmp_path / "painting.png", stripes(64, 96))
    folder = tmp_path / "photos"
    folder.mkdir()
    for index, photo in enumerate(photos(4)):
        save_png(folder / f"p{index}.png", photo)
    library = StyleLibrary(user_dir=tmp_path / "styles", builtin_dir=tmp_path / "none")
    cfg = tiny_config(steps=1000, norm_only_steps=100, preview_every=100, checkpoint_every=300)
    estimate = estimate_duration(
        cfg,
        "cpu",
        bench_steps=1,
        feature_extractor=tiny_features(cfg),
        style_images=[painting],
        content=folder,
        library=library,
    )
    assert estimate.steps == 1000 and estimate.device == "CPU"
    assert estimate.describe().startswith("about")
    assert estimate.setup.images_s > 0 and estimate.setup_s > estimate.setup.images_s
    assert estimate.preview_s > 0 and estimate.checkpoint_s > 0 and estimate.finish_s > 0
    assert estimate.norm_step_s > 0 and estimate.full_step_s > 0
    assert estimate.seconds_per_step == pytest.approx(
        (100 * estimate.norm_step_s + 900 * estimate.full_step_s) / 1000
    )
    steps_s = 1000 * estimate.seconds_per_step
    # 10 regular previews and the early one at step 25 (see schedule.EARLY_PREVIEW_STEP).
    extras = 11 * estimate.preview_s + 3 * estimate.checkpoint_s + estimate.finish_s
    assert estimate.total_s == pytest.approx(estimate.setup_s + steps_s + extras)
    # Another step count with the same costs (what the wizard's steps field changes).
    longer = cfg.replace(steps=2000)
    assert estimate.total_for(longer) == pytest.approx(
        estimate.total_s
        + 1000 * estimate.full_step_s
        + 10 * estimate.preview_s
        + 3 * estimate.checkpoint_s
    )
    assert estimate.until_first_preview(cfg) == pytest.approx(
        estimate.setup_s + 25 * estimate.norm_step_s
    )
    assert not list(Path(tmp_path / "styles").glob("*")), "the estimate saved nothing"


def test_estimate_times_the_warm_start_choice_per_candidate(tmp_path):
    """With the shipped base model, every candidate the Trainer would score is counted."""
    from stylestudio.core import paths
    from stylestudio.core.training.base_model import load_base_model
    from stylestudio.core.training.estimate import estimate_duration

    base = load_base_model(paths.base_model_dir())
    if base is None:
        pytest.skip("no base model in resources/base")
    library = StyleLibrary(user_dir=tmp_path / "styles", builtin_dir=tmp_path / "none")
    cfg = tiny_config(steps=10, warm_start=True)
    estimate = estimate_duration(
        cfg, "cpu", bench_steps=1, feature_extractor=tiny_features(cfg), library=library
    )
    assert estimate.setup.candidates == len(base.rows)
    assert estimate.setup.warm_start_s > 0
