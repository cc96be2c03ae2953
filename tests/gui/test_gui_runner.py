"""The one background-job runner: uniform signals, generators, cancel, triage, the live set."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QObject, QThread

from stylestudio.core.errors import StyleLibraryError
from stylestudio.gui import runner
from stylestudio.gui.runner import Job, JobKind, running_jobs, start_job, wait_for_jobs

pytestmark = pytest.mark.gui
TIMEOUT = 10_000


class Receiver(QObject):
    """Bound-method slots, so that signals are delivered on the GUI thread."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, object, bool]] = []

    def _note(self, name: str, value: object) -> None:
        on_gui = QThread.currentThread() is self.thread()
        self.seen.append((name, value, on_gui))

    def started(self) -> None:
        self._note("started", None)

    def progress(self, value: object) -> None:
        self._note("progress", value)

    def returned(self, value: object) -> None:
        self._note("returned", value)

    def errored(self, message: str) -> None:
        self._note("errored", message)

    def finished(self) -> None:
        self._note("finished", None)


def _connect(job: Job, receiver: Receiver) -> None:
    job.started.connect(receiver.started)
    job.progress.connect(receiver.progress)
    job.returned.connect(receiver.returned)
    job.errored.connect(receiver.errored)
    job.finished.connect(receiver.finished)


def _run(qtbot, job: Job) -> Receiver:
    receiver = Receiver()
    _connect(job, receiver)
    with qtbot.waitSignal(job.finished, timeout=TIMEOUT):
        job.start()
    qtbot.waitUntil(lambda: bool(receiver.seen) and receiver.seen[-1][0] == "finished")
    return receiver


def test_a_generator_reports_each_value_then_returns(qtbot) -> None:
    def counting():
        yield from range(3)
        return "done"

    receiver = _run(qtbot, Job(counting, JobKind.CHECK))
    assert [(n, v) for n, v, _ in receiver.seen] == [
        ("started", None),
        ("progress", 0),
        ("progress", 1),
        ("progress", 2),
        ("returned", "done"),
        ("finished", None),
    ]
    assert all(on_gui for _n, _v, on_gui in receiver.seen)


def test_errors_become_one_sentence(qtbot) -> None:
    def refuse() -> None:
        raise StyleLibraryError("Built-in styles are read-only.")

    def bug() -> None:
        raise KeyError("x")

    def out_of_memory() -> None:
        raise MemoryError

    messages = []
    for function in (refuse, bug, out_of_memory):
        job = Job(function, JobKind.CHECK)
        receiver = _run(qtbot, job)
        assert [n for n, _v, _g in receiver.seen] == ["started", "errored", "finished"]
        messages.append(receiver.seen[1][1])
        assert job.error is not None
    assert messages == [
        "Built-in styles are read-only.",
        "KeyError: 'x'",
        "Not enough memory to process this photo.",
    ]


def test_cancel_closes_a_generator_at_its_next_yield(qtbot) -> None:
    gate = threading.Event()
    closed = threading.Event()

    def endless():
        try:
            while True:
                gate.wait(TIMEOUT / 1000)
                yield "tick"
        finally:
            closed.set()

    job = Job(endless, JobKind.CHECK)
    receiver = Receiver()
    _connect(job, receiver)
    job.start()
    job.cancel()
    gate.set()
    assert job.wait(TIMEOUT) and closed.is_set()
    qtbot.waitUntil(lambda: bool(receiver.seen) and receiver.seen[-1][0] == "finished")
    assert "returned" not in [n for n, _v, _g in receiver.seen]


def test_report_sends_progress_from_a_plain_function(qtbot) -> None:
    holder: dict[str, Job] = {}

    def work() -> int:
        holder["job"].report("half")
        return 2

    job = Job(work, JobKind.ESTIMATE)
    holder["job"] = job
    receiver = _run(qtbot, job)
    assert [(n, v) for n, v, _ in receiver.seen][1:3] == [("progress", "half"), ("returned", 2)]


def test_the_live_set_counts_running_jobs_by_kind(qtbot) -> None:
    release = threading.Event()
    receiver = Receiver()
    job = start_job(
        lambda: release.wait(TIMEOUT / 1000), JobKind.TRAINING, on_returned=receiver.returned
    )
    assert running_jobs(JobKind.TRAINING) == 1 and running_jobs(JobKind.ADJUST) == 0
    assert job in runner._LIVE
    release.set()
    assert wait_for_jobs(TIMEOUT)
    assert running_jobs(JobKind.TRAINING) == 0
    qtbot.waitUntil(lambda: job not in runner._LIVE, timeout=TIMEOUT)
    assert [(n, v) for n, v, _ in receiver.seen] == [("returned", True)]


def test_one_qthread_runner_in_the_gui_besides_the_engine_worker() -> None:
    import pathlib

    gui = pathlib.Path(runner.__file__).parent
    users = sorted(
        p.relative_to(gui).as_posix()
        for p in gui.rglob("*.py")
        if "QThread(" in p.read_text(encoding="utf-8")
        or "(QThread)" in p.read_text(encoding="utf-8")
    )
    assert users == ["runner.py", "worker.py"]
