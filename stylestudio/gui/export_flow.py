"""The main window's export flow: the dialog, the worker's export job, progress and the summary.

The export itself is ``core.export.export_photos``, run by the engine worker one photo per turn.
Texts are translated in the ``MainWindow`` context.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QCoreApplication, QObject, Signal
from PySide6.QtWidgets import QProgressBar, QPushButton, QStatusBar, QWidget

from stylestudio.core.export import DEFAULT_PATTERN, FORMATS, ExportSettings, StyleRef
from stylestudio.core.mask import RegionMask
from stylestudio.gui.adjustments import Adjustments
from stylestudio.gui.banner import Banner, BannerKind
from stylestudio.gui.export_dialog import ExportDialog
from stylestudio.gui.gallery import StyleCard
from stylestudio.gui.messages import ExportJob, ExportSummary
from stylestudio.gui.settings import AppSettings
from stylestudio.gui.worker import EngineClient


class ExportHost(Protocol):
    """What the flow needs from the main window."""

    banner: Banner

    def current_photo(self) -> Path | None: ...
    def current_style(self) -> StyleCard | None: ...
    def style_ref(self) -> StyleRef | None: ...  # the current style, or its active blend
    def adjustments(self) -> Adjustments: ...
    def region_masks(self, photos: list[Path]) -> dict[Path, RegionMask]: ...
    def show_error(self, message: str) -> None: ...
    def statusBar(self) -> QStatusBar: ...


class ExportFlow(QObject):
    """One export at a time; ``finished(ExportSummary)`` when it ends."""

    finished = Signal(object)
    runningChanged = Signal(bool)

    def __init__(
        self, host: ExportHost, client: EngineClient, settings: AppSettings, parent: QWidget
    ) -> None:
        super().__init__(parent)
        self._host = host
        self._window = parent
        self.client = client
        self.settings = settings
        self._job: int | None = None
        self._errors: list[str] = []
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.cancel_button = QPushButton(QCoreApplication.translate("MainWindow", "Cancel"))
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel)
        worker = client.worker
        worker.exportProgress.connect(self._progress)
        worker.exportFileFailed.connect(self._file_failed)
        worker.exportFinished.connect(self._finished)

    def _initial_settings(self) -> ExportSettings:
        s = self.settings
        folder = str(s.export_value("folder", "") or "")
        photo = self._host.current_photo()
        if not folder and photo is not None:
            folder = str(photo.parent)
        fmt = str(s.export_value("format", "png"))
        try:
            quality = int(s.export_value("quality", 92))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            quality = 92
        return ExportSettings(
            folder=Path(folder or Path.home()),
            format=fmt if fmt in FORMATS else "png",
            quality=max(1, min(100, quality)),
            pattern=str(s.export_value("pattern", DEFAULT_PATTERN) or DEFAULT_PATTERN),
            replace_existing=str(s.export_value("replace", "false")).lower() == "true",
        )

    def make_dialog(self, photos: list[Path]) -> ExportDialog:
        style = self._host.style_ref()
        return ExportDialog(
            self._window,
            self._initial_settings(),
            count=len(photos),
            sample_photo=photos[0] if photos else None,
            style_name=style.name if style else "",
            style_id=style.style_id if style else "",
        )

    def ask_and_export(self, photos: list[Path]) -> None:
        """Show the dialog for ``photos``; export when it is accepted."""
        if not photos:
            return
        if self._host.current_style() is None:
            self._host.show_error(
                QCoreApplication.translate("MainWindow", "Choose a style before exporting.")
            )
            return
        dialog = self.make_dialog(photos)
        if dialog.exec() != ExportDialog.DialogCode.Accepted:
            return
        self.export(photos, dialog.settings())

    def export(self, photos: list[Path], settings: ExportSettings) -> int | None:
        """Start exporting ``photos`` with the current style (or blend) and adjustments; the
        job id."""
        style = self._host.style_ref()
        if style is None or not photos:
            return None
        if self._job is not None:
            self._host.show_error(
                QCoreApplication.translate("MainWindow", "An export is already running.")
            )
            return None
        s = self.settings
        s.set_export_value("folder", str(settings.folder))
        s.set_export_value("format", settings.format)
        s.set_export_value("quality", settings.quality)
        s.set_export_value("pattern", settings.pattern)
        s.set_export_value("replace", "true" if settings.replace_existing else "false")
        job = ExportJob(
            job_id=self.client.next_id(),
            photos=tuple(photos),
            style=style,
            adjustments=self._host.adjustments(),
            settings=settings,
            masks=self._host.region_masks(list(photos)),
        )
        self._job = job.job_id
        self._errors = []
        self.progress.setRange(0, len(photos))
        self.progress.setValue(0)
        self.progress.setFormat(QCoreApplication.translate("MainWindow", "Exporting %v / %m"))
        self.progress.show()
        self.cancel_button.show()
        self.runningChanged.emit(True)
        self.client.export(job)
        return job.job_id

    def cancel(self) -> None:
        if self._job is not None:
            self.client.cancel_export(self._job)
            self._host.statusBar().showMessage(
                QCoreApplication.translate("MainWindow", "Cancelling export…")
            )

    def _progress(self, job_id: int, done: int, total: int, name: str) -> None:
        if job_id != self._job:
            return
        self.progress.setValue(done)
        if done < total:
            self._host.statusBar().showMessage(
                QCoreApplication.translate("MainWindow", "Exporting {0}…").format(name)
            )

    def _file_failed(self, job_id: int, path: str, message: str) -> None:
        if job_id == self._job:
            self._errors.append(f"{Path(path).name}: {message}")

    def _finished(self, summary: ExportSummary) -> None:
        if summary.job_id != self._job:
            return
        self._job = None
        self.progress.hide()
        self.cancel_button.hide()
        self.runningChanged.emit(False)
        written = len(summary.written)
        if summary.cancelled:
            text = QCoreApplication.translate(
                "MainWindow", "Export cancelled after {0} of {1} photo(s)."
            ).format(written, summary.total)
        else:
            text = QCoreApplication.translate("MainWindow", "Exported {0} of {1} photo(s).").format(
                written, summary.total
            )
        if summary.failed:
            text += " " + QCoreApplication.translate("MainWindow", "{0} failed.").format(
                len(summary.failed)
            )
            self._host.banner.show_message(text, BannerKind.ERROR, self._errors)
        else:
            details = [str(p) for p in summary.written]
            self._host.banner.show_message(text, BannerKind.INFO, details, timeout_ms=8000)
        self._host.statusBar().showMessage(text, 8000)
        self.finished.emit(summary)

    def running(self) -> bool:
        return self._job is not None
