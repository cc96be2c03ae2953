""" "Save blend as style…": the active blend becomes a new style of the library.

The name is asked for, then ``core.mix_save.save_blend`` (parents re-read and verified, lineage
re-checked, one atomic publication through the library) runs on a runner :class:`Job`; the
gallery then re-lists and shows the new style. A refusal is shown as the core's one sentence.
Texts are translated in the ``BlendSaveFlow`` context.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMainWindow, QStatusBar

from stylestudio.core.export import StyleRef
from stylestudio.core.jobs import LibraryOp, LibraryOpKind
from stylestudio.core.mixing import Blend
from stylestudio.gui.runner import Job, JobKind, start_job
from stylestudio.gui.worker import EngineClient


class BlendSaveHost(Protocol):
    """What the flow needs from the main window."""

    client: EngineClient

    def style_ref(self) -> StyleRef | None: ...
    def show_error(self, message: str) -> None: ...
    def statusBar(self) -> QStatusBar: ...


class BlendSaveFlow(QObject):
    """One save at a time, for one main window (its child)."""

    def __init__(self, host: BlendSaveHost, window: QMainWindow) -> None:
        super().__init__(window)
        self.setObjectName("blendSaveFlow")
        self._host = host
        self._window = window
        self._job: Job | None = None

    @property
    def running(self) -> bool:
        return self._job is not None

    def current_blend(self) -> Blend | None:
        ref = self._host.style_ref()
        return ref.location if ref is not None and isinstance(ref.location, Blend) else None

    def start(self) -> None:
        """Ask for a name, then save the active blend in the background."""
        blend = self.current_blend()
        if blend is None or self.running:
            return
        name, ok = QInputDialog.getText(
            self._window,
            self.tr("Save blend as style"),
            self.tr("Name of the new style:"),
            QLineEdit.EchoMode.Normal,
            blend.suggested_name(),
        )
        if ok and name.strip():
            self.run(blend, name.strip())

    def run(self, blend: Blend, name: str) -> Job:
        """Save ``blend`` as the style ``name`` on a background job."""
        from stylestudio.core.library import StyleLibrary
        from stylestudio.core.mix_save import save_blend

        config = self._host.client.config
        library = StyleLibrary(config.user_dir, config.builtin_dir)
        self._host.statusBar().showMessage(self.tr("Saving the blend…"))
        self._job = start_job(
            lambda: save_blend(library, blend, name),
            JobKind.LIBRARY,
            on_returned=self._returned,
            on_errored=self._errored,
        )
        return self._job

    def _returned(self, record: object) -> None:
        self._job = None
        name = str(getattr(record, "name", ""))
        self._host.statusBar().showMessage(
            self.tr("Saved the blend as the style “{0}”.").format(name), 10000
        )
        self._host.client.library(LibraryOp(LibraryOpKind.LIST))

    def _errored(self, message: str) -> None:
        self._job = None
        self._host.statusBar().clearMessage()
        self._host.show_error(message)
