"""The "Learn a New Style" wizard: name → style images → practice photos → settings → training
→ done.

Closing the window while training only hides it: the run goes on in the background, the
``controller`` keeps reporting (for a status indicator in the main window) and ``styleCreated``
is still emitted when the style is ready.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QWidget, QWizard

from stylestudio.core.training.run import TrainingRun
from stylestudio.gui.wizard.controller import TrainingController
from stylestudio.gui.wizard.done_page import DonePage
from stylestudio.gui.wizard.name_page import NamePage
from stylestudio.gui.wizard.notify import show_tray_message
from stylestudio.gui.wizard.options import WizardOptions
from stylestudio.gui.wizard.photos_page import PhotosPage
from stylestudio.gui.wizard.settings_page import SettingsPage
from stylestudio.gui.wizard.state import WizardState
from stylestudio.gui.wizard.style_images_page import StyleImagesPage
from stylestudio.gui.wizard.training_page import TrainingPage

if TYPE_CHECKING:
    from stylestudio.core.library import StyleLibrary


class TrainingWizard(QWizard):
    """``TrainingWizard(parent, library, open_photos)``; ``styleCreated(style_id)`` on success."""

    styleCreated = Signal(str)
    #: The window was closed while training goes on; carries the ``TrainingController``.
    movedToBackground = Signal(object)

    def __init__(
        self,
        parent: QWidget | None,
        library: StyleLibrary | None,
        open_photos: Sequence[Path] = (),
        *,
        options: WizardOptions | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("trainingWizard")
        self.setWindowTitle(self.tr("Learn a New Style"))
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.options = options or WizardOptions()
        self.state = WizardState(library, [Path(p) for p in open_photos], self.options)
        self.controller = TrainingController(library, self)
        self.name_page = NamePage(self.state)
        self.style_page = StyleImagesPage(self.state)
        self.photos_page = PhotosPage(self.state)
        self.settings_page = SettingsPage(self.state)
        self.training_page = TrainingPage(self.state, self.controller)
        self.done_page = DonePage(self.state, self.controller)
        for page in (
            self.name_page,
            self.style_page,
            self.photos_page,
            self.settings_page,
            self.training_page,
            self.done_page,
        ):
            self.addPage(page)
        self.currentIdChanged.connect(self._page_changed)
        self.controller.stateChanged.connect(self._state_changed)
        self.controller.finished.connect(self._finished)
        self.controller.notification.connect(self._notify)
        self.resize(760, 600)

    # -- the run ---------------------------------------------------------------------------
    def build_request(self) -> TrainingRun | None:
        state = self.state
        if state.config is None:
            return None
        return TrainingRun(
            config=state.config,
            name=state.name,
            style_images=tuple(state.usable_style_paths()),
            content=state.content(),
            description=state.description,
            resume=state.resume,
            device=self.options.device,
            vgg_weights=self.options.vgg_weights,
            allow_download=self.options.allow_download,
            run_dir=self.options.run_dir,
        )

    def _page_changed(self, _page_id: int) -> None:
        if self.currentPage() is self.settings_page:
            self.settings_page.look_for_checkpoint()

    def _state_changed(self, state: str) -> None:
        background = self.tr("Continue in &Background")
        cancel = self.tr("&Cancel")
        active = self.controller.is_active
        self.setButtonText(QWizard.WizardButton.CancelButton, background if active else cancel)

    def _finished(self, style_id: str) -> None:
        if style_id:
            self.styleCreated.emit(style_id)
        if self.currentPage() is self.training_page:
            self.next()
        if not self.isVisible():
            # Finished in the background: the style is in the gallery and the user was notified;
            # close for good (deleted when WA_DeleteOnClose is set) so the next "Learn a New
            # Style…" starts a fresh wizard. A failed run stays, so its message can be reopened.
            self.close()

    def _notify(self, title: str, text: str) -> None:
        if not self.isVisible() and self.options.use_tray:
            show_tray_message(title, text, self.parent())

    # -- closing ---------------------------------------------------------------------------
    def reopen(self) -> None:
        """Show the wizard again (e.g. from the main window's training indicator)."""
        self.show()
        self.raise_()
        self.activateWindow()

    def _to_background(self) -> None:
        self.hide()
        self.movedToBackground.emit(self.controller)

    def reject(self) -> None:
        if self.controller.is_active:
            self._to_background()
        else:
            super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.controller.is_active:
            event.ignore()  # not accepted: WA_DeleteOnClose must not delete a running wizard
            self._to_background()
        else:
            super().closeEvent(event)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel a run (checkpoint kept) and wait for its thread; True when it stopped."""
        return self.controller.shutdown(timeout_ms)
