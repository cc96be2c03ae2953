"""Training never loses the user's files or a finished training (issue 12, items 1, 8 and 11).

* the run folder: a folder of someone's files is refused up front; the trainer deletes only what
  it wrote there (its checkpoints and marker, the folder only if it made it);
* bad inputs (a name with a line break, too long, a missing weights file, an unwritable library…)
  are refused before the first step; a name the library refuses at the very end falls back to a
  safe one, and a style that cannot be saved keeps its finished training for a resume;
* a run killed between saving its style and cleaning up is not saved a second time on resume.

The real CLI (in process, and in a subprocess killed with SIGKILL) and the Trainer run with the
tiny test feature network on the CPU, so each test takes seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from stylestudio.core.errors import StyleFormatError, StyleLibraryError, TrainingError
from stylestudio.core.library import StyleLibrary
from stylestudio.core.training import checkpoint as ckpt
from stylestudio.core.training import events, preflight, run_folder
from stylestudio.core.training.features import ENV_TEST_FEATURES
from stylestudio.core.training.trainer import default_run_dir
from tests.test_training import cli_args, make_trainer, save_png, stripes, tiny_config

REPO = str(Path(__file__).resolve().parents[1])


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch):
    """One torch thread (the cores are shared) and the tiny feature network for the CLI."""
    monkeypatch.setenv(ENV_TEST_FEATURES, "tiny")  # test-only hook: no VGG weights needed
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def user_library(tmp_path: Path) -> StyleLibrary:
    return StyleLibrary(user_dir=tmp_path / "styles", builtin_dir=tmp_path / "no-builtin")


def user_styles() -> list:
    return [r for r in StyleLibrary().list() if not r.builtin]


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every entry below ``folder`` with its bytes (None for folders)."""
    return {
        str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes()
        for p in sorted(folder.rglob("*"))
    }


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines  # refused up front: nothing else was printed
    assert lines[0].startswith("stylestudio: error: ") and lines[0].endswith(".")
    return lines[0]


# ------------------------------------------------------------------------------------------
# item 1: the run folder


def test_cli_refuses_a_run_dir_holding_the_users_files(tmp_path, capsys):
    from stylestudio.cli.main import main

    folder = tmp_path / "Documents"
    (folder / "photos").mkdir(parents=True)
    (folder / "thesis.docx").write_bytes(b"four years of work")
    save_png(folder / "photos" / "wedding.png", stripes())
    before = snapshot(folder)

    assert main(cli_args(tmp_path, "CLI style", "--run-dir", str(folder))) == 1
    line = one_error_line(capsys.readouterr().err)
    assert f"The run folder {folder} already holds other files" in line
    assert snapshot(folder) == before
    assert user_styles() == []


@pytest.mark.parametrize("kind", ["new", "empty"])
def test_cli_removes_a_run_folder_only_if_it_made_it(tmp_path, capsys, kind):
    from stylestudio.cli.main import main

    folder = tmp_path / "deep" / "run"
    if kind == "empty":
        folder.mkdir(parents=True)
    assert main(cli_args(tmp_path, "CLI style", "--run-dir", str(folder))) == 0
    assert "Saved style 'CLI style'" in capsys.readouterr().out
    if kind == "new":
        assert not folder.exists()
    else:
        assert folder.is_dir() and list(folder.iterdir()) == []  # the user's folder stays
    assert [r.name for r in user_styles()] == ["CLI style"]


def test_a_file_put_into_the_run_folder_during_training_survives(tmp_path):
    folder = tmp_path / "run"
    cfg = tiny_config(steps=4, checkpoint_every=2)

    def drop_a_file(event):
        if isinstance(event, events.Checkpointed):
            (folder / "notes.txt").write_text("mine")

    trainer = make_trainer(
        tmp_path, cfg, library=user_library(tmp_path), run_dir=folder, on_event=drop_a_file
    )
    assert trainer.run() is not None
    assert snapshot(folder) == {"notes.txt": b"mine"}  # checkpoints and marker gone, file kept


def test_cancel_without_keeping_leaves_the_users_empty_folder(tmp_path):
    folder = tmp_path / "chosen"
    folder.mkdir()
    trainer = make_trainer(tmp_path, tiny_config(steps=50, checkpoint_every=1), run_dir=folder)

    def cancel(event):
        if isinstance(event, events.Progress) and event.step == 2:
            trainer.cancel(keep_checkpoint=False)

    trainer.on_event = cancel
    with pytest.raises(Exception, match="cancelled"):
        trainer.run()
    assert folder.is_dir() and list(folder.iterdir()) == []


@pytest.mark.parametrize("problem", ["file", "foreign"])
def test_an_unusable_run_dir_is_refused_before_anything_is_read(tmp_path, problem):
    folder = tmp_path / "target"
    if problem == "file":
        folder.write_bytes(b"a file, not a folder")
        expected = "is a file, not a folder"
    else:
        folder.mkdir()
        (folder / "checkpoint-0000001").mkdir()  # looks like ours, but next to someone's file
        (folder / "budget.xlsx").write_bytes(b"numbers")
        expected = "already holds other files"
    before = folder.read_bytes() if problem == "file" else snapshot(folder)
    seen: list[events.TrainingEvent] = []
    trainer = make_trainer(tmp_path, tiny_config(), run_dir=folder, on_event=seen.append)
    with pytest.raises(TrainingError, match=expected):
        trainer.run()
    assert [type(e) for e in seen] == [events.Failed]  # not even "Reading the images…"
    assert (folder.read_bytes() if problem == "file" else snapshot(folder)) == before


class _Stop(Exception):
    """Stands in for a run that ended after its first checkpoint."""


def test_an_unmarked_run_of_an_older_version_is_still_resumed(tmp_path):
    cfg = tiny_config(steps=6, checkpoint_every=3)
    folder = tmp_path / "old-run"

    def stop(event):
        if isinstance(event, events.Checkpointed):
            raise _Stop

    with pytest.raises(_Stop):
        make_trainer(tmp_path, cfg, run_dir=folder, on_event=stop).run()
    (folder / run_folder.MARKER_FILE).unlink()  # older versions wrote no marker
    assert run_folder.inspect(folder) is run_folder.FolderKind.LEGACY_RUN

    started: list[events.Started] = []
    resumed = make_trainer(
        tmp_path,
        cfg,
        run_dir=folder,
        resume_checkpoint=True,
        on_event=lambda e: started.append(e) if isinstance(e, events.Started) else None,
    )
    resumed.run()
    assert started[0].start_step == 3 and resumed.step_count == 6
    assert ckpt.list_checkpoints(folder) == []


# ------------------------------------------------------------------------------------------
# item 8: everything is checked before the first step; the end never loses the training


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("newline", "must not contain line breaks"),
        ("control", "must not contain line breaks or control characters"),
        ("long", "longer than 80 characters"),
        ("description", "description is longer than"),
        ("steps", "steps must be a whole number"),
        ("vgg", "does not exist"),
        ("library", "New styles cannot be saved in"),
    ],
)
def test_cli_refuses_bad_inputs_before_training(tmp_path, capsys, monkeypatch, case, expected):
    from stylestudio.cli.main import main

    name, extra = "Fine name", []
    if case == "newline":
        name = "Ink\nsketch"
    elif case == "control":
        name = "Ink\x07sketch"
    elif case == "long":
        name = "x" * 81
    elif case == "description":
        extra = ["--description", "d" * 20_001]
    elif case == "steps":
        extra = ["--steps", "0"]
    elif case == "vgg":
        extra = ["--vgg-weights", str(tmp_path / "vgg19-missing.safetensors")]
    else:  # a file where the style library's folder should be
        data = tmp_path / "data"
        monkeypatch.setenv("STYLESTUDIO_DATA_DIR", str(data))
        data.mkdir()
        (data / "styles").write_bytes(b"not a folder")
    assert main(cli_args(tmp_path, name) + extra) == 1
    line = one_error_line(capsys.readouterr().err)
    assert expected in line
    if case != "library":
        assert user_styles() == []
    assert not default_run_dir(name).exists()


def test_a_name_the_library_refuses_at_the_end_falls_back_to_a_safe_one(tmp_path):
    class StricterLibrary(StyleLibrary):
        """A library whose names may be at most 12 characters (refused only when saving)."""

        def add(self, name, *args, **kwargs):
            if len(name) > 12:
                raise StyleFormatError("The style name is longer than 12 characters.")
            return super().add(name, *args, **kwargs)

    library = StricterLibrary(user_dir=tmp_path / "styles", builtin_dir=tmp_path / "none")
    seen: list[events.TrainingEvent] = []
    trainer = make_trainer(
        tmp_path, tiny_config(steps=2), library=library, name="Watercolour sketches"
    )
    trainer.on_event = seen.append
    record = trainer.run()
    assert record.name == preflight.DEFAULT_NAME
    notes = [e.message for e in seen if isinstance(e, events.Status)]
    assert (
        "The library refused the name 'Watercolour sketches' (The style name is longer than 12 "
        "characters); the style was saved as 'My style'."
    ) in notes
    from stylestudio.core.stylepack import read_style

    _, tensors = read_style(record.location)
    for key, value in trainer.generator_state.items():
        assert torch.equal(tensors[key], value)


def test_fallback_name_keeps_what_it_can():
    assert preflight.fallback_name("Ink\nsketch\t 2\x07") == "Ink sketch 2"
    assert preflight.fallback_name("y" * 200) == "y" * 80
    assert preflight.fallback_name("\n\x00") == preflight.DEFAULT_NAME


def test_a_style_that_cannot_be_saved_keeps_the_finished_training(tmp_path):
    class FullDisk(StyleLibrary):
        def add(self, *args, **kwargs):
            raise StyleLibraryError("Not enough disk space to write the style.")

    cfg = tiny_config(steps=4, checkpoint_every=3)
    folder = tmp_path / "run"
    failing = make_trainer(tmp_path, cfg, run_dir=folder, library=FullDisk(tmp_path / "styles"))
    with pytest.raises(TrainingError, match="finished training is kept") as info:
        failing.run()
    assert "Not enough disk space" in str(info.value)
    assert ckpt.latest_checkpoint(folder).step == 4

    seen: list[events.TrainingEvent] = []
    library = user_library(tmp_path)
    resumed = make_trainer(
        tmp_path, cfg, run_dir=folder, library=library, resume_checkpoint=True, on_event=seen.append
    )
    record = resumed.run()
    assert [e.start_step for e in seen if isinstance(e, events.Started)] == [4]
    assert not any(isinstance(e, events.Progress) for e in seen)  # no step trained again
    assert [r.id for r in library.list()] == [record.id]
    for key, value in failing.generator_state.items():
        assert torch.equal(resumed.generator_state[key], value)
    assert not folder.exists()


@pytest.mark.gui
def test_the_wizard_refuses_a_bad_name_on_its_first_page(qtbot):
    from stylestudio.gui.wizard.name_page import NamePage
    from stylestudio.gui.wizard.options import WizardOptions
    from stylestudio.gui.wizard.state import WizardState

    page = NamePage(WizardState(library=None, open_photos=[], options=WizardOptions()))
    qtbot.addWidget(page)
    page.name_edit.setText("Ink\tsketch")
    assert not page.isComplete() and not page.validatePage()
    assert "control characters" in page.note.text()
    page.name_edit.setText("Ink sketch")
    assert page.isComplete() and page.note.text() == ""


# ------------------------------------------------------------------------------------------
# item 11: killed between saving the style and cleaning up


class _Killed(BaseException):
    """The process dies here: not an Exception, so no clean-up code of the trainer runs."""


@pytest.mark.parametrize("moment", ["before", "after"])
def test_a_run_killed_around_saving_its_style_saves_it_exactly_once(tmp_path, moment):
    cfg = tiny_config(steps=4, checkpoint_every=2)
    folder = tmp_path / "run"

    class DiesWhileSaving(StyleLibrary):
        def add(self, *args, **kwargs):
            if moment == "before":
                raise _Killed
            super().add(*args, **kwargs)
            raise _Killed

    dying = DiesWhileSaving(user_dir=tmp_path / "styles", builtin_dir=tmp_path / "none")
    with pytest.raises(_Killed):
        make_trainer(tmp_path, cfg, run_dir=folder, library=dying).run()
    assert run_folder.read_marker(folder) is not None
    library = user_library(tmp_path)
    saved_before = [r.id for r in library.list()]
    assert len(saved_before) == (1 if moment == "after" else 0)

    seen: list[events.TrainingEvent] = []
    resumed = make_trainer(
        tmp_path, cfg, run_dir=folder, library=library, resume_checkpoint=True, on_event=seen.append
    )
    record = resumed.run()
    assert [r.id for r in library.list()] == [record.id]
    finished = seen[-1]
    assert isinstance(finished, events.Finished) and finished.record == record
    assert finished.already_saved is (moment == "after")
    if moment == "after":
        assert record.id == saved_before[0]
        assert not any(isinstance(e, events.Started) for e in seen)  # nothing trained again
        assert resumed.step_count == 4
    assert not folder.exists()


_KILLED_AFTER_SAVING = """
import os, signal, sys
from stylestudio.cli.main import main
from stylestudio.core.library import StyleLibrary

original_add = StyleLibrary.add

def add_then_die(self, *args, **kwargs):
    original_add(self, *args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)  # after publishing, before the run folder is removed

StyleLibrary.add = add_then_die
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_cli_resume_after_sigkill_between_saving_and_cleanup_does_not_duplicate(tmp_path, capsys):
    from stylestudio.cli.main import main

    args = cli_args(tmp_path, "Killed style")
    env = {**os.environ, "PYTHONPATH": REPO, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", _KILLED_AFTER_SAVING, *args], env=env, timeout=300)
    assert done.returncode == -signal.SIGKILL
    saved = user_styles()
    assert [r.name for r in saved] == ["Killed style"]
    run_dir = default_run_dir("Killed style")
    assert run_folder.read_marker(run_dir).run_id == saved[0].manifest.training["run_id"]

    assert main([*args, "--resume"]) == 0
    out = capsys.readouterr()
    assert f"The style 'Killed style' (id {saved[0].id}) had already been saved" in out.out
    assert "already saved the style 'Killed style'" in out.err
    assert "Training on" not in out.err
    assert [r.id for r in user_styles()] == [saved[0].id]
    assert not run_dir.exists()


def test_a_saved_style_damaged_since_is_not_taken_for_the_finished_run(tmp_path):
    cfg = tiny_config(steps=4, checkpoint_every=2)
    folder = tmp_path / "run"

    class DiesAfterSaving(StyleLibrary):
        def add(self, *args, **kwargs):
            super().add(*args, **kwargs)
            raise _Killed

    with pytest.raises(_Killed):
        make_trainer(tmp_path, cfg, run_dir=folder, library=DiesAfterSaving(tmp_path / "s")).run()
    library = StyleLibrary(user_dir=tmp_path / "s", builtin_dir=tmp_path / "none")
    (damaged,) = library.list()
    (damaged.location / "weights.safetensors").write_bytes(b"garbage")

    resumed = make_trainer(tmp_path, cfg, run_dir=folder, library=library, resume_checkpoint=True)
    record = resumed.run()
    assert record.id != damaged.id and len(library.list()) == 2
