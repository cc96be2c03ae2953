"""The Qt-free job layer: one export path for the CLI and the GUI, the error triage, library
operations and training control."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylestudio.cli.main import main
from stylestudio.core import export, jobs
from stylestudio.core.errors import CancelledError, ImageLoadError, StyleLibraryError
from stylestudio.core.export import (
    ExportRequest,
    ExportSettings,
    FileFailed,
    FileStarted,
    FileWritten,
    Look,
    StyleRef,
    fit_alpha,
    parse_output,
)
from stylestudio.core.library import StyleLibrary
from tests.conftest import make_tiny_style


def _photo(path: Path, size=(48, 40), seed=0, alpha: bool = False) -> Path:
    rng = np.random.default_rng(seed)
    channels = 4 if alpha else 3
    pixels = rng.integers(0, 255, (size[1], size[0], channels), dtype=np.uint8)
    if alpha:
        pixels[..., 3] = np.linspace(0, 255, size[0], dtype=np.uint8)[None, :]
    Image.fromarray(pixels).save(path)
    return path


class _Result:
    def __init__(self, image: np.ndarray) -> None:
        self.image = image
        self.notes: list[str] = []


class FakeEngine:
    """Returns the photo (optionally halved); counts runs; can cancel or fail on a photo."""

    def __init__(self, halve: bool = False, fail_on: int | None = None) -> None:
        self.runs = 0
        self.halve = halve
        self.fail_on = fail_on

    def stylize(self, image, location, options, progress=None, cancel=None):
        self.runs += 1
        if cancel is not None and cancel():
            raise CancelledError()
        if self.runs == self.fail_on:
            raise MemoryError()
        if progress is not None:
            progress(1.0, "done")
        return _Result(image[::2, ::2] if self.halve else image)


def _request(photos, destination, **kwargs) -> ExportRequest:
    style = StyleRef(Path("unused"), "ink", "Ink: Wash")
    return ExportRequest(photos=tuple(photos), style=style, destination=destination, **kwargs)


# --------------------------------------------------------------------------------------------
# the export generator


def test_export_yields_per_file_events_and_goes_on_after_a_bad_photo(tmp_path: Path) -> None:
    good = _photo(tmp_path / "a.png")
    bad = tmp_path / "b.png"
    bad.write_text("not a png")
    out = tmp_path / "out"
    request = _request([good, bad], ExportSettings(folder=out, pattern="{n}-{stem}-{style}"))
    engine = FakeEngine()
    events = list(export.export_photos(request, engine.stylize))
    kinds = [type(e) for e in events]
    assert kinds == [FileStarted, FileWritten, FileStarted, FileFailed]
    assert events[1].path == out / "001-a-Ink_ Wash.png"
    assert isinstance(events[3].error, ImageLoadError) and "b.png" in events[3].message
    summary = export.run_export(request, engine.stylize, lambda _e: None)
    assert [p.name for p in summary.written] == ["001-a-Ink_ Wash (2).png"]
    assert summary.failed == [(bad, events[3].message)] and not summary.cancelled


def test_a_bad_pattern_fails_every_photo_before_the_network_runs(tmp_path: Path) -> None:
    photos = [_photo(tmp_path / "a.png"), _photo(tmp_path / "b.png", seed=1)]
    settings = ExportSettings(folder=tmp_path / "out", pattern="{stem}-{bogus}")
    engine = FakeEngine()
    summary = export.run_export(_request(photos, settings), engine.stylize, lambda _e: None)
    assert [p for p, _ in summary.failed] == photos
    assert summary.failed[0][1].startswith("Unknown placeholder {bogus}")
    assert engine.runs == 0 and not (tmp_path / "out").exists()


@pytest.mark.parametrize("replace", [False, True])
def test_an_original_as_target_is_refused_before_the_network_runs(tmp_path, replace) -> None:
    photo = _photo(tmp_path / "a.png")
    before = photo.read_bytes()
    settings = ExportSettings(folder=tmp_path, pattern="{stem}", replace_existing=replace)
    engine = FakeEngine()
    summary = export.run_export(
        _request([photo], settings, if_exists=settings.if_exists), engine.stylize, lambda _e: None
    )
    assert summary.written == [] and "would overwrite an original photo" in summary.failed[0][1]
    assert engine.runs == 0 and photo.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


def test_cancel_stops_the_batch(tmp_path: Path) -> None:
    photos = [_photo(tmp_path / "a.png"), _photo(tmp_path / "b.png", seed=1)]
    asked = []

    def cancel() -> bool:
        asked.append(1)
        return len(asked) > 2  # before photo 1, during its run; then cancelled

    settings = ExportSettings(folder=tmp_path / "out")
    summary = export.run_export(
        _request(photos, settings), FakeEngine().stylize, lambda _e: None, cancel=cancel
    )
    assert summary.cancelled and len(summary.written) == 1


def test_memory_errors_become_one_sentence(tmp_path: Path) -> None:
    photo = _photo(tmp_path / "a.png")
    summary = export.run_export(
        _request([photo], ExportSettings(folder=tmp_path / "out")),
        FakeEngine(fail_on=1).stylize,
        lambda _e: None,
    )
    assert summary.failed == [(photo, jobs.NOT_ENOUGH_MEMORY)]


def test_alpha_is_kept_when_a_size_limit_shrinks_the_result(tmp_path: Path) -> None:
    photo = _photo(tmp_path / "a.png", size=(40, 20), alpha=True)
    summary = export.run_export(
        _request([photo], ExportSettings(folder=tmp_path / "out")),
        FakeEngine(halve=True).stylize,
        lambda _e: None,
    )
    with Image.open(summary.written[0]) as image:
        assert image.mode == "RGBA" and image.size == (20, 10)
        alpha = np.asarray(image)[..., 3].astype(int)
    assert alpha[:, 0].max() < 30 and alpha[:, -1].min() > 225  # the gradient survived


def test_fit_alpha_keeps_dtype_and_range() -> None:
    alpha16 = np.full((4, 6), 65535, dtype=np.uint16)
    resized = fit_alpha(alpha16, (2, 3, 3))
    assert resized is not None and resized.dtype == np.uint16 and resized.shape == (2, 3)
    assert int(resized.min()) == 65535
    same = np.zeros((2, 3), dtype=np.uint8)
    assert fit_alpha(same, (2, 3, 3)) is same and fit_alpha(None, (2, 3, 3)) is None


def test_one_vocabulary_for_cli_and_gui_names(tmp_path: Path) -> None:
    photo = tmp_path / "IMG_1.jpg"
    style = StyleRef(Path(), "ink", "Ink: Wash")
    pattern = "{stem}_{style}_{style_id}_{index}_{n}_{strength}"
    gui = ExportSettings(folder=tmp_path, format="jpeg", pattern=pattern)
    cli = parse_output(str(tmp_path / pattern), "jpg")
    expected = "IMG_1_Ink_ Wash_ink_3_003_50.jpg"
    assert gui.path_for(photo, style, 3, 0.5).name == expected
    assert cli.path_for(photo, style, 3, 0.5).name == expected
    assert parse_output(None).path_for(photo, style, 1, 1.0).name == "IMG_1-ink.jpg"


# --------------------------------------------------------------------------------------------
# both front ends run the one export function


class _Spy:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.requests: list[ExportRequest] = []
        real = export.export_photos

        def spy(request, stylize, **kwargs):
            self.requests.append(request)
            return real(request, stylize, **kwargs)

        monkeypatch.setattr(export, "export_photos", spy)


@pytest.mark.usefixtures("builtin_dir")
def test_the_cli_exports_through_the_core_function(tmp_path, monkeypatch) -> None:
    spy = _Spy(monkeypatch)
    photo = _photo(tmp_path / "a.png")
    out = tmp_path / "out"
    assert main(["stylize", str(photo), "-o", str(out) + "/", "--tile", "0"]) == 0
    assert [r.photos for r in spy.requests] == [(photo,)]
    assert len(list(out.iterdir())) == 1


@pytest.mark.gui
def test_the_gui_exports_through_the_core_function(qtbot, tmp_path, monkeypatch) -> None:
    from stylestudio.gui.adjustments import Adjustments
    from stylestudio.gui.messages import ExportJob
    from stylestudio.gui.worker import EngineClient, WorkerConfig

    spy = _Spy(monkeypatch)
    style = make_tiny_style(tmp_path / "builtin", "Tiny Ink")
    client = EngineClient(
        WorkerConfig(builtin_dir=style.parent, user_dir=tmp_path / "user", device="cpu")
    )
    with qtbot.waitSignal(client.worker.engineReady, timeout=60_000):
        client.start()
    try:
        photos = (_photo(tmp_path / "a.png"), _photo(tmp_path / "b.png", seed=1))
        job = ExportJob(
            job_id=client.next_id(),
            photos=photos,
            style=StyleRef(style, "tiny", "Ink"),
            adjustments=Adjustments(),
            settings=ExportSettings(folder=photos[0].parent, pattern="{stem}"),
        )
        with qtbot.waitSignal(client.worker.exportFinished, timeout=60_000) as finished:
            client.export(job)
    finally:
        assert client.shutdown()
    summary = finished.args[0]
    assert [r.photos for r in spy.requests] == [photos]
    # The shared rule, seen from the GUI: an original as target is refused, not renamed.
    assert summary.written == [] and len(summary.failed) == 2
    assert all("would overwrite an original photo" in why for _p, why in summary.failed)
    assert summary.job_id == job.job_id


@pytest.mark.usefixtures("builtin_dir")
def test_cli_alpha_is_kept_with_max_side(tmp_path) -> None:
    photo = _photo(tmp_path / "a.png", size=(64, 32), alpha=True)
    out = tmp_path / "o.png"
    assert main(["stylize", str(photo), "-o", str(out), "--max-side", "32", "--tile", "0"]) == 0
    with Image.open(out) as image:
        assert image.mode == "RGBA" and image.size == (32, 16)
        alpha = np.asarray(image)[..., 3].astype(int)
    assert alpha[:, 0].max() < 30 and alpha[:, -1].min() > 225


def test_look_maps_to_engine_options() -> None:
    options = Look(strength=0.5, preserve_colors=True, style_scale=2.0, max_side=8).options()
    assert (options.strength, options.preserve_colors, options.style_scale) == (0.5, True, 2.0)
    assert options.max_side == 8 and options.tile_size is None


# --------------------------------------------------------------------------------------------
# triage, library, training control


def test_user_message_triage(caplog: pytest.LogCaptureFixture) -> None:
    assert jobs.user_message(StyleLibraryError("Built-in styles are read-only.")) == (
        "Built-in styles are read-only."
    )
    assert jobs.user_message(MemoryError()) == jobs.NOT_ENOUGH_MEMORY
    with caplog.at_level("ERROR"):
        assert jobs.user_message(KeyError("x")) == "KeyError: 'x'"
    assert "unexpected error" in caplog.text  # a bug is logged with its traceback


def test_library_ops(tmp_path: Path) -> None:
    library = StyleLibrary(user_dir=tmp_path / "user", builtin_dir=tmp_path / "none")
    source = make_tiny_style(tmp_path / "src", "Tiny")
    op = jobs.LibraryOp
    kind = jobs.LibraryOpKind
    style_id = jobs.run_library_op(library, op(kind.IMPORT, path=source))
    assert [r.id for r in library.list()] == [style_id]
    assert jobs.run_library_op(library, op(kind.RENAME, style_id, "Renamed")) == "Renamed"
    pack = Path(
        jobs.run_library_op(library, op(kind.EXPORT, style_id, path=tmp_path / "p.stylepack"))
    )
    assert pack.is_file() and not op(kind.EXPORT).changes_list and op(kind.DELETE).changes_list
    assert jobs.run_library_op(library, op(kind.DELETE, style_id)) == ""
    assert library.list() == []


class _FakeTrainer:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def pause(self) -> None:
        self.calls.append(("pause", None))

    def resume(self) -> None:
        self.calls.append(("resume", None))

    def cancel(self, keep_checkpoint: bool = True) -> None:
        self.calls.append(("cancel", keep_checkpoint))


def test_training_control_remembers_requests_made_before_the_trainer_exists() -> None:
    control = jobs.TrainingControl()
    control.pause()
    control.cancel(keep_checkpoint=False)
    trainer = _FakeTrainer()
    control.attach(trainer)  # type: ignore[arg-type]
    assert trainer.calls == [("pause", None), ("cancel", False)] and control.paused
    control.resume()
    assert trainer.calls[-1] == ("resume", None) and not control.paused


def test_run_training_reports_bad_input_as_a_failed_outcome(tmp_path: Path) -> None:
    from stylestudio.core.training.config import TrainingConfig
    from stylestudio.core.training.run import TrainingRun

    run = TrainingRun(TrainingConfig.preset("quick"), [], run_dir=tmp_path / "run")
    outcome = jobs.run_training(run, None)
    assert outcome.kind is jobs.OutcomeKind.FAILED
    assert outcome.message == "Add at least one style image to learn from."
