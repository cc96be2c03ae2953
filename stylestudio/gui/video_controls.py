"""Videos in the main window: the frame scrubber under the canvas, and the video export.

A dropped video joins the filmstrip like a photo; the canvas shows one of its frames (the first,
then whichever the scrubber picks), stylised by the engine worker like a photo (a single frame:
the export's temporal stabiliser needs the frames before it). **Export…** on a video renders the
whole clip with ``core.video.export.export_video`` on a runner job (``gui/runner.py``) with its
own engine, with progress, an ETA and Cancel; cancelling leaves no file behind.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QStatusBar,
    QWidget,
)

from stylestudio.core.export import Look, StyleRef, safe_name_part
from stylestudio.core.output_names import IfExists
from stylestudio.core.video import VIDEO_EXTENSIONS, is_video_path
from stylestudio.core.video.export import FrameDone, VideoRequest, VideoStarted, VideoSummary
from stylestudio.core.video.reader import VideoInfo
from stylestudio.gui.adjustments import Adjustments
from stylestudio.gui.banner import Banner, BannerKind
from stylestudio.gui.runner import Job, JobKind, start_job
from stylestudio.gui.settings import AppSettings

# While the slider is dragged, previews are asked for at most this often.
SCRUB_INTERVAL_MS = 120


def _clock(seconds: float) -> str:
    minutes, secs = divmod(max(0.0, seconds), 60)
    return f"{int(minutes)}:{secs:05.2f}"


def _eta(seconds: float) -> str:
    minutes, secs = divmod(round(max(0.0, seconds)), 60)
    return f"{minutes}:{secs:02d}"


class FrameScrubber(QWidget):
    """A slider over the frames of the current video (hidden for photos).

    ``frameChosen(index)`` when the user settles on a frame (throttled while dragging).
    """

    frameChosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("frameScrubber")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("frameSlider")
        self.slider.setMinimum(0)
        self.label = QLabel()
        self.label.setObjectName("frameLabel")
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 2, 8, 2)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        self._info: VideoInfo | None = None
        self._sent = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SCRUB_INTERVAL_MS)
        self._timer.timeout.connect(self._send)
        self.slider.valueChanged.connect(self._moved)
        self.hide()

    def video(self) -> VideoInfo | None:
        return self._info

    def frame(self) -> int:
        """The frame shown (0 for a photo)."""
        return self.slider.value() if self._info is not None else 0

    def set_video(self, info: VideoInfo | None) -> None:
        """Scrub ``info``'s frames from the first; None hides the scrubber."""
        self._info = info
        self._timer.stop()
        self.slider.blockSignals(True)
        self.slider.setMaximum(max(0, info.frame_count - 1) if info is not None else 0)
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self._sent = 0
        self._update_label()
        self.setVisible(info is not None)

    def _update_label(self) -> None:
        info = self._info
        if info is None:
            self.label.clear()
            return
        index = self.slider.value()
        self.label.setText(
            self.tr("Frame {0} / {1} · {2}").format(
                index + 1, info.frame_count, _clock(index / float(info.frame_rate))
            )
        )

    def _moved(self, _value: int) -> None:
        self._update_label()
        if not self._timer.isActive():
            self._timer.start()

    def _send(self) -> None:
        if self._info is not None and self.slider.value() != self._sent:
            self._sent = self.slider.value()
            self.frameChosen.emit(self._sent)


class VideoProbe(QObject):
    """Reads what a video is on a runner job; ``probed(path, VideoInfo | None)``."""

    probed = Signal(Path, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._path: Path | None = None
        self._job: Job | None = None

    def request(self, path: Path | None) -> None:
        self._path = path
        if path is None or not is_video_path(path):
            self.probed.emit(path or Path(), None)
            return
        from stylestudio.core.video.reader import probe

        self._job = start_job(
            lambda: (path, probe(path)),
            JobKind.VIDEO,
            on_returned=self._returned,
            on_errored=self._errored,
        )

    def _returned(self, value: object) -> None:
        path, info = value  # type: ignore[misc]
        if path == self._path:
            self.probed.emit(path, info)

    def _errored(self, _message: str) -> None:
        if self._path is not None:  # the view request reports why the video cannot be shown
            self.probed.emit(self._path, None)


class VideoHost(Protocol):
    """What the video export needs from the main window."""

    banner: Banner

    def style_ref(self) -> StyleRef | None: ...
    def adjustments(self) -> Adjustments: ...
    def show_error(self, message: str) -> None: ...
    def statusBar(self) -> QStatusBar: ...


class VideoExportFlow(QObject):
    """One video export at a time; ``finished(VideoSummary | None)`` when it ends (None: it
    failed, and the error was shown)."""

    finished = Signal(object)
    runningChanged = Signal(bool)

    def __init__(
        self, host: VideoHost, settings: AppSettings, device: str | None, parent: QWidget
    ) -> None:
        super().__init__(parent)
        self._host = host
        self._window = parent
        self._settings = settings
        self._device = device
        self._job: Job | None = None
        self._cancel = threading.Event()
        self._summary: VideoSummary | None = None
        self._failed = False
        self._source: Path | None = None
        self.progress = QProgressBar()
        self.progress.setObjectName("videoProgress")
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setObjectName("videoCancel")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel)

    def running(self) -> bool:
        return self._job is not None

    def default_target(self, source: Path) -> Path:
        style = self._host.style_ref()
        folder = str(self._settings.export_value("folder", "") or "") or str(source.parent)
        name = f"{source.stem}-{safe_name_part(style.name if style else 'styled')}"
        return Path(folder) / f"{name}{source.suffix.lower()}"

    def ask_and_export(self, source: Path) -> None:
        """Ask where the stylised ``source`` goes, then render it."""
        if self._host.style_ref() is None:
            self._host.show_error(self.tr("Choose a style before exporting."))
            return
        patterns = " ".join(f"*{ext}" for ext in sorted(VIDEO_EXTENSIONS))
        chosen, _ = QFileDialog.getSaveFileName(
            self._window,
            self.tr("Export video"),
            str(self.default_target(source)),
            self.tr("Videos ({0})").format(patterns),
        )
        if not chosen:
            return
        target = Path(chosen)
        if not target.suffix:
            target = target.with_suffix(source.suffix.lower())
        # The dialog has asked before replacing an existing file.
        self.export(source, target, replace=target.exists())

    def export(self, source: Path, target: Path, *, replace: bool = False) -> Job | None:
        """Render ``source`` into ``target`` with the current style and adjustments."""
        style = self._host.style_ref()
        if style is None:
            self._host.show_error(self.tr("Choose a style before exporting."))
            return None
        if self._job is not None:
            self._host.show_error(self.tr("A video is already being exported."))
            return None
        self._settings.set_export_value("folder", str(target.parent))
        adj = self._host.adjustments()
        request = VideoRequest(
            source=source,
            style=style,
            destination=target,
            look=Look(
                strength=adj.strength,
                preserve_colors=adj.preserve_colors,
                style_scale=adj.style_scale,
            ),
            if_exists=IfExists.REPLACE if replace else IfExists.NEW_NAME,
        )
        self._cancel = threading.Event()
        cancel = self._cancel
        device = self._device
        self._summary, self._failed, self._source = None, False, source

        def work():
            from stylestudio.core.engine import Engine
            from stylestudio.core.video.export import export_video

            return export_video(request, Engine(device=device), cancel=cancel.is_set)

        job = Job(work, JobKind.VIDEO)
        job.progress.connect(self._progress)
        job.returned.connect(self._returned)
        job.errored.connect(self._errored)
        job.finished.connect(self._job_finished)
        self._job = job
        self.progress.setRange(0, 0)
        self.progress.setFormat(self.tr("Rendering %v / %m"))
        self.progress.show()
        self.cancel_button.show()
        self._host.statusBar().showMessage(self.tr("Rendering {0}…").format(source.name))
        self.runningChanged.emit(True)
        job.start()
        return job

    def cancel(self) -> None:
        if self._job is not None:
            self._cancel.set()
            self._job.cancel()
            self._host.statusBar().showMessage(self.tr("Cancelling the video export…"))

    def _progress(self, event: object) -> None:
        if isinstance(event, VideoStarted):
            self.progress.setRange(0, max(1, event.info.frame_count))
            self.progress.setValue(0)
        elif isinstance(event, FrameDone):
            self.progress.setMaximum(event.total)
            self.progress.setValue(event.done)
            if not self._cancel.is_set() and self._source is not None:
                self._host.statusBar().showMessage(
                    self.tr("Rendering {0}: frame {1} of {2}, {3} left").format(
                        self._source.name, event.done, event.total, _eta(event.eta_s)
                    )
                )

    def _returned(self, summary: object) -> None:
        if isinstance(summary, VideoSummary):
            self._summary = summary

    def _errored(self, message: str) -> None:
        self._failed = True
        self._host.show_error(message)

    def _job_finished(self) -> None:
        self._job = None
        self.progress.hide()
        self.cancel_button.hide()
        self.runningChanged.emit(False)
        summary = self._summary
        if self._failed:
            self.finished.emit(None)
            return
        if summary is None or summary.written is None:
            text = self.tr("Video export cancelled; nothing was written.")
            self._host.statusBar().showMessage(text, 8000)
            self.finished.emit(summary or VideoSummary(self._source or Path(), cancelled=True))
            return
        text = self.tr("Exported {0} ({1} frames).").format(summary.written.name, summary.frames)
        self._host.banner.show_message(
            text, BannerKind.INFO, [str(summary.written), *summary.notes], timeout_ms=8000
        )
        self._host.statusBar().showMessage(text, 8000)
        self.finished.emit(summary)

    def shutdown(self, timeout_ms: int) -> bool:
        """Cancel a running export (its temporary file is removed) and wait for it."""
        job = self._job
        if job is None:
            return True
        self.cancel()
        return bool(job.wait(timeout_ms))
