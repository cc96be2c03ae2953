"""The main window: canvas, filmstrip, style gallery, adjustments, menus and status bar.

It only coordinates: heavy work goes to ``EngineClient`` (network, photo decoding, library) and
``Adjuster`` (instant re-blending); both answer with signals on the GUI thread.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QIcon,
    QImage,
    QKeySequence,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from stylestudio import __version__
from stylestudio.core.export import DEFAULT_PATTERN, FORMATS, ExportSettings, StyleRef
from stylestudio.core.imageio import SUPPORTED_EXTENSIONS
from stylestudio.gui.adjuster import Adjuster, AdjustResult
from stylestudio.gui.adjustments import Adjustments, AdjustmentsPanel
from stylestudio.gui.banner import Banner, BannerKind
from stylestudio.gui.canvas import Canvas
from stylestudio.gui.drops import collect_image_paths
from stylestudio.gui.export_dialog import ExportDialog
from stylestudio.gui.filmstrip import Filmstrip
from stylestudio.gui.gallery import StyleCard, StyleGallery
from stylestudio.gui.messages import (
    ExportJob,
    ExportSummary,
    LibraryOp,
    LibraryOpKind,
    PhotoLoaded,
    PreviewResult,
)
from stylestudio.gui.plain_text import literal_rich_text, menu_text, plain_label, window_title
from stylestudio.gui.settings import AppSettings
from stylestudio.gui.undo import AdjustCommand
from stylestudio.gui.worker import WIZARD_MODULE, EngineClient, WorkerConfig

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT_MS = 4000
MAX_SKIPPED_LISTED = 200
STYLEPACK_SUFFIX = ".stylepack"


class MainWindow(QMainWindow):
    """StyleStudio's single main window."""

    #: A stylised image was painted: (PreviewResult or AdjustResult).
    previewShown = Signal(object)
    #: The original of a photo was painted.
    photoShown = Signal(Path)
    #: An export job finished: ExportSummary.
    exportFinished = Signal(object)
    #: The styles in the gallery changed (list of StyleCard).
    stylesChanged = Signal(list)
    engineReady = Signal(str)

    def __init__(
        self,
        config: WorkerConfig | None = None,
        settings: AppSettings | None = None,
        *,
        start_engine: bool = True,
        icon: QIcon | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("StyleStudio")
        if icon is not None:
            self.setWindowIcon(icon)
        self.settings = settings or AppSettings()
        self.client = EngineClient(config or WorkerConfig(), self)
        self.adjuster = Adjuster(self)
        self.undo_stack = QUndoStack(self)
        self._current_photo: Path | None = None
        self._canvas_epoch = 0
        self._style_id: str | None = None
        self._latest_view_id = 0
        self._shown_view_id = 0
        self._last_result: PreviewResult | None = None
        self._engine_state = "stopped"
        self._export_job: int | None = None
        self._export_errors: list[str] = []
        self._closing = False
        self._library = None  # created lazily for the training wizard
        self._can_learn = False  # the worker reports whether the wizard module imports
        self._wizard = None  # the training wizard while it exists (it may train hidden)

        # QSettings writes its file on the next event-loop pass (~15 ms): save slider values
        # once the user pauses rather than on every step of a drag.
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(1500)
        self._save_timer.timeout.connect(
            lambda: self.settings.save_adjustments(self.panel.adjustments())
        )
        self._build_widgets()
        self._build_menus()
        self._connect_worker()
        self._restore()
        app = QCoreApplication.instance()
        if app is not None:  # never leave running threads behind at exit
            app.aboutToQuit.connect(self.shutdown)
        if start_engine:
            QTimer.singleShot(0, self.start_engine)

    # Construction -------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.banner = Banner()
        self.canvas = Canvas()
        self.filmstrip = Filmstrip()
        self.filmstrip.hide()
        self.gallery = StyleGallery(can_learn=False)
        self.panel = AdjustmentsPanel()

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(0)
        left_layout.addWidget(self.banner)
        left_layout.addWidget(self.canvas, 1)
        left_layout.addWidget(self.filmstrip)

        adjust_box = QGroupBox(self.tr("Adjustments"))
        adjust_layout = QVBoxLayout(adjust_box)
        adjust_layout.addWidget(self.panel)
        right = QWidget()
        right.setMinimumWidth(240)
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.gallery, 1)
        right_layout.addWidget(adjust_box)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setSizes([900, 300])
        self.setCentralWidget(self.splitter)

        status = self.statusBar()
        self.run_label = QLabel()
        self.run_label.setObjectName("runLabel")
        self.zoom_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel_export)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(80)
        self.busy.setMaximumHeight(14)
        self.busy.hide()
        self.training_button = QPushButton(self.tr("Training… Show"))
        self.training_button.setFlat(True)
        self.training_button.setToolTip(self.tr("A style is being learned in the background"))
        self.training_button.hide()
        self.training_button.clicked.connect(self.open_training_wizard)
        self.device_label = plain_label(QLabel())
        self.device_label.setObjectName("deviceLabel")
        status.addPermanentWidget(self.progress)
        status.addPermanentWidget(self.cancel_button)
        status.addPermanentWidget(self.run_label)
        status.addPermanentWidget(self.zoom_label)
        status.addPermanentWidget(self.training_button)
        status.addPermanentWidget(self.busy)
        status.addPermanentWidget(self.device_label)
        self.resize(QSize(1200, 800))

        self.canvas.pathsDropped.connect(self.open_paths)
        # A bigger window deserves a sharper screen-size preview: re-run once resizing pauses.
        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.setInterval(400)
        self._resize_timer.timeout.connect(self._refresh_for_size)
        self.canvas.resized.connect(self._resize_timer.start)
        self.canvas.zoomChanged.connect(
            lambda z: self.zoom_label.setText(self.tr("{0} %").format(round(z * 100)))
        )
        self.filmstrip.photoSelected.connect(self.show_photo)
        self.gallery.styleSelected.connect(self.select_style)
        self.gallery.renameRequested.connect(
            lambda sid, name: self.client.library(LibraryOp(LibraryOpKind.RENAME, sid, name))
        )
        self.gallery.exportRequested.connect(
            lambda sid, path: self.client.library(LibraryOp(LibraryOpKind.EXPORT, sid, path=path))
        )
        self.gallery.deleteRequested.connect(self._delete_style)
        self.gallery.importRequested.connect(self.import_style_pack)
        self.gallery.learnRequested.connect(self.open_training_wizard)
        self.panel.adjustmentsChanged.connect(self._adjustments_edited)
        # Worker signals go to methods of this window only: PySide runs lambdas and plain
        # functions connected to another thread's signal in that thread.
        self.adjuster.adjusted.connect(self._adjusted)
        self.adjuster.failed.connect(self._adjust_failed)

    def _action(
        self,
        text: str,
        slot,
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
        menu: QMenu | None = None,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        if menu is not None:
            menu.addAction(action)
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        keys = QKeySequence.StandardKey
        bar = self.menuBar()
        file_menu = bar.addMenu(self.tr("&File"))
        self.open_action = self._action(self.tr("&Open…"), self.open_dialog, keys.Open, file_menu)
        self.open_folder_action = self._action(
            self.tr("Open &Folder…"), self.open_folder_dialog, "Ctrl+Shift+O", file_menu
        )
        self.recent_menu = file_menu.addMenu(self.tr("Open &Recent"))
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        self.export_action = self._action(
            self.tr("&Export…"), self.export_current, "Ctrl+E", file_menu
        )
        self.export_all_action = self._action(
            self.tr("Export &All…"), self.export_all, "Ctrl+Shift+E", file_menu
        )
        file_menu.addSeparator()
        self.close_photo_action = self._action(
            self.tr("&Remove Photo from Queue"), self.remove_current_photo, None, file_menu
        )
        file_menu.addSeparator()
        self.quit_action = self._action(self.tr("&Quit"), self.close, keys.Quit, file_menu)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)

        edit_menu = bar.addMenu(self.tr("&Edit"))
        self.undo_action = self.undo_stack.createUndoAction(self, self.tr("&Undo"))
        self.undo_action.setShortcut(QKeySequence(keys.Undo))
        self.redo_action = self.undo_stack.createRedoAction(self, self.tr("&Redo"))
        self.redo_action.setShortcut(QKeySequence(keys.Redo))
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        edit_menu.addSeparator()
        self._action(self.tr("Reset &Adjustments"), self.reset_adjustments, None, edit_menu)

        view_menu = bar.addMenu(self.tr("&View"))
        zoom_in = self._action(self.tr("Zoom &In"), self.canvas.zoom_in, keys.ZoomIn, view_menu)
        zoom_in.setShortcuts([QKeySequence(keys.ZoomIn), QKeySequence("Ctrl+=")])
        self._action(self.tr("Zoom &Out"), self.canvas.zoom_out, keys.ZoomOut, view_menu)
        self._action(self.tr("&Fit to Window"), self.canvas.fit, "Ctrl+0", view_menu)
        self._action(self.tr("&Actual Size (100 %)"), self.canvas.zoom_actual, "Ctrl+1", view_menu)
        view_menu.addSeparator()
        self.split_action = self._action(
            self.tr("&Compare Before/After"), self._toggle_split, "Ctrl+B", view_menu
        )
        self.split_action.setCheckable(True)
        hint = view_menu.addAction(self.tr("Hold Space to show the original"))
        hint.setEnabled(False)

        style_menu = bar.addMenu(self.tr("&Styles"))
        self._action(self.tr("&Import Style Pack…"), self.import_style_pack, None, style_menu)
        self.learn_action = self._action(
            self.tr("&Learn a New Style…"), self.open_training_wizard, None, style_menu
        )
        self.learn_action.setVisible(False)

        help_menu = bar.addMenu(self.tr("&Help"))
        about = self._action(self.tr("&About StyleStudio"), self.show_about, None, help_menu)
        about.setMenuRole(QAction.MenuRole.AboutRole)
        self._update_actions()

    def _connect_worker(self) -> None:
        worker = self.client.worker
        worker.engineLoading.connect(self._engine_loading)
        worker.engineReady.connect(self._engine_ready)
        worker.wizardChecked.connect(self._wizard_checked)
        worker.engineFailed.connect(self._engine_failed)
        worker.stylesListed.connect(self._styles_listed)
        worker.libraryDone.connect(self._library_done)
        worker.libraryFailed.connect(self._library_failed)
        worker.photoLoaded.connect(self._photo_loaded)
        worker.previewReady.connect(self._preview_ready)
        worker.requestFailed.connect(self._request_failed)
        worker.busyChanged.connect(self._busy_changed)
        worker.progress.connect(self._view_progress)
        worker.exportProgress.connect(self._export_progress)
        worker.exportFileFailed.connect(self._export_file_failed)
        worker.exportFinished.connect(self._export_finished)

    def _restore(self) -> None:
        geometry = self.settings.geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.settings.window_state()
        if state is not None:
            self.restoreState(state)
        splitter = self.settings.splitter_state()
        if splitter is not None:
            self.splitter.restoreState(splitter)
        self.panel.set_adjustments(self.settings.adjustments())
        split = self.settings.split_view()
        self.split_action.setChecked(split)
        self.canvas.set_split_enabled(split)
        self.device_label.setText(self.tr("Engine not started"))

    # Engine lifecycle ---------------------------------------------------------------------
    def start_engine(self) -> None:
        """Start the worker thread (torch is imported there, never on this thread)."""
        if self.client.started or self._closing:
            return
        self._engine_state = "loading"
        self.device_label.setText(self.tr("Loading engine…"))
        self.busy.show()
        self.client.start()

    def _engine_loading(self, _message: str) -> None:
        self.device_label.setText(self.tr("Loading engine…"))

    def _engine_ready(self, description: str) -> None:
        self._engine_state = "ready"
        self.device_label.setText(description)
        self.device_label.setToolTip(self.tr("Device used for stylising"))
        self.busy.hide()
        self.engineReady.emit(description)

    def _wizard_checked(self, available: bool) -> None:
        self._can_learn = available
        self.learn_action.setVisible(available)
        self.gallery.learn_button.setVisible(available)

    def can_learn(self) -> bool:
        return self._can_learn

    def _engine_failed(self, message: str) -> None:
        self._engine_state = "failed"
        self.device_label.setText(self.tr("Engine unavailable"))
        self.busy.hide()
        self.gallery.set_status(self.tr("The engine could not start."))
        self.show_error(self.tr("The engine could not start: {0}").format(message))

    def engine_state(self) -> str:
        return self._engine_state

    # Opening photos -----------------------------------------------------------------------
    def _image_filter(self) -> str:
        patterns = " ".join(f"*{ext}" for ext in sorted(SUPPORTED_EXTENSIONS))
        return self.tr("Images ({0})").format(patterns) + ";;" + self.tr("All files (*)")

    def open_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, self.tr("Open photos"), self.settings.last_dir("open"), self._image_filter()
        )
        if files:
            self.settings.set_last_dir("open", Path(files[0]).parent)
            self.open_paths([Path(f) for f in files])

    def open_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, self.tr("Open folder"), self.settings.last_dir("open")
        )
        if folder:
            self.settings.set_last_dir("open", Path(folder))
            self.open_paths([Path(folder)])

    def open_paths(self, paths: list[Path]) -> list[Path]:
        """Queue the images among ``paths`` (folders recursively); report what was skipped.

        ``.stylepack`` files (dropped, or passed by the OS file association) are imported into
        the style library instead.
        """
        paths = [Path(p) for p in paths]
        packs = [p for p in paths if p.suffix.lower() == STYLEPACK_SUFFIX and p.is_file()]
        for pack in packs:
            self.client.library(LibraryOp(LibraryOpKind.IMPORT, path=pack))
        paths = [p for p in paths if p not in packs]
        if packs and not paths:
            return []
        collected = collect_image_paths(paths)
        if collected.skipped or collected.truncated:
            lines = [str(p) for p in collected.skipped[:MAX_SKIPPED_LISTED]]
            more = len(collected.skipped) - len(lines)
            if more > 0:
                lines.append(self.tr("… and {0} more").format(more))
            text = self.tr("Skipped {0} item(s) that are not supported images.").format(
                len(collected.skipped)
            )
            if collected.truncated:
                text += " " + self.tr("Only the first photos were opened.")
            self.banner.show_message(text, BannerKind.WARNING, lines)
        if not collected.images:
            if not collected.skipped:
                self.statusBar().showMessage(self.tr("No photos found."), 5000)
            return []
        added = self.filmstrip.add_paths(collected.images)
        self.settings.add_recent(collected.images[:10])
        target = added[0] if added else collected.images[0]
        self.filmstrip.select_path(target)
        if self._current_photo != target:
            self.show_photo(target)
        self._update_actions()
        self.canvas.setFocus()
        return collected.images

    def show_photo(self, path: Path) -> None:
        if path == self._current_photo:
            return
        self._current_photo = path
        self._canvas_epoch += 1
        self._last_result = None
        self.setWindowTitle(window_title(f"{path.name} — StyleStudio"))
        self.statusBar().showMessage(self.tr("Loading {0}…").format(path.name))
        self._request_view()
        self._update_actions()

    def remove_current_photo(self) -> None:
        self.filmstrip.remove_current()
        path = self.filmstrip.current_path()
        if path is None:
            self._current_photo = None
            self._canvas_epoch += 1
            self._last_result = None
            self.client.cancel_views()
            self.canvas.clear()
            self.setWindowTitle("StyleStudio")
        else:
            self.show_photo(path)
        self._update_actions()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = [p for p in self.settings.recent_files() if p.exists()]
        for path in recent:
            action = self.recent_menu.addAction(menu_text(path.name))
            action.setToolTip(literal_rich_text(str(path)))
            action.triggered.connect(lambda _checked=False, p=path: self.open_paths([p]))
        if not recent:
            empty = self.recent_menu.addAction(self.tr("No recent photos"))
            empty.setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction(self.tr("Clear Menu"), self.settings.clear_recent)

    # Styles -------------------------------------------------------------------------------
    def _styles_listed(self, cards: list[StyleCard]) -> None:
        want = self._style_id or self.settings.last_style() or None
        if self._style_id is None and cards and all(card.id != want for card in cards):
            want = cards[0].id  # first start: show a style at once (built-ins come first)
        self.gallery.set_styles(cards, select_id=want)
        if self._style_id and self.gallery.card(self._style_id) is None:
            self._style_id = None  # deleted
            self._last_result = None
            self.canvas.set_styled(None)
        elif self._style_id is None and want and self.gallery.card(want) is not None:
            self.select_style(want)
        self.stylesChanged.emit(cards)

    def select_style(self, style_id: str) -> None:
        if self.gallery.card(style_id) is None:
            return
        if self.gallery.current_style_id() != style_id:
            self.gallery.select_style(style_id)  # re-enters through styleSelected
            return
        if style_id == self._style_id:
            return
        self._style_id = style_id
        self.settings.set_last_style(style_id)
        self._request_view()
        self._update_actions()

    def current_style(self) -> StyleCard | None:
        return self.gallery.card(self._style_id) if self._style_id else None

    def _delete_style(self, style_id: str) -> None:
        self.client.library(LibraryOp(LibraryOpKind.DELETE, style_id))

    def import_style_pack(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Import style pack"),
            self.settings.last_dir("styles"),
            self.tr("Style packs (*.stylepack)"),
        )
        if path:
            self.settings.set_last_dir("styles", Path(path).parent)
            self.client.library(LibraryOp(LibraryOpKind.IMPORT, path=Path(path)))

    def _library_done(self, kind: LibraryOpKind, message: str) -> None:
        texts = {
            LibraryOpKind.RENAME: self.tr("Style renamed to “{0}”."),
            LibraryOpKind.DELETE: self.tr("Style deleted."),
            LibraryOpKind.IMPORT: self.tr("Style imported."),
            LibraryOpKind.EXPORT: self.tr("Style pack saved to {0}."),
        }
        if kind in texts:
            self.statusBar().showMessage(texts[kind].format(message), 6000)
        if kind is LibraryOpKind.IMPORT and message:
            QTimer.singleShot(0, lambda: self.select_style(message))

    def _library_failed(self, _kind: LibraryOpKind, message: str) -> None:
        self.show_error(message)

    def open_training_wizard(self) -> None:
        if not self._can_learn:
            return
        if self._wizard is not None:  # one wizard at a time; it may be training in the background
            self._wizard.reopen()
            return
        try:
            module = importlib.import_module(WIZARD_MODULE)
            if self._library is None:
                from stylestudio.core.library import StyleLibrary

                config = self.client.config
                self._library = StyleLibrary(config.user_dir, config.builtin_dir)
            wizard = module.TrainingWizard(self, self._library, self.filmstrip.paths())
        except Exception as exc:
            log.exception("could not open the training wizard")
            self.show_error(self.tr("The training wizard could not open: {0}").format(exc))
            return
        self._wizard = wizard
        wizard.styleCreated.connect(self._style_created)
        wizard.movedToBackground.connect(self._training_in_background)
        wizard.controller.stateChanged.connect(self._training_state_changed)
        wizard.destroyed.connect(self._wizard_destroyed)
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        wizard.show()

    def training_wizard(self):
        """The open (possibly hidden, training) wizard, or None."""
        return self._wizard

    def _wizard_destroyed(self, *_args: object) -> None:
        self._wizard = None
        self.training_button.hide()

    def _training_in_background(self, _controller: object) -> None:
        self.training_button.show()
        self.statusBar().showMessage(self.tr("Training continues in the background."), 6000)

    def _training_state_changed(self, _state: str) -> None:
        wizard = self._wizard
        if wizard is None or not wizard.controller.is_active:
            self.training_button.hide()

    def _style_created(self, style_id: str) -> None:
        self.settings.set_last_style(style_id)
        self._style_id = None
        self.client.library(LibraryOp(LibraryOpKind.LIST))

    # Adjustments --------------------------------------------------------------------------
    def adjustments(self) -> Adjustments:
        return self.panel.adjustments()

    def _adjustments_edited(self, new: Adjustments, old: Adjustments, field: str) -> None:
        self.undo_stack.push(AdjustCommand(old, new, field, self._apply_from_undo))
        self._adjustments_changed(new, old)

    def _apply_from_undo(self, adj: Adjustments) -> None:
        old = self.panel.adjustments()
        self.panel.set_adjustments(adj)
        self._adjustments_changed(self.panel.adjustments(), old)

    def reset_adjustments(self) -> None:
        old = self.panel.adjustments()
        new = Adjustments()
        if new != old:
            self.panel.set_adjustments(new)
            self.undo_stack.push(AdjustCommand(old, new, "reset", self._apply_from_undo))
            self._adjustments_changed(new, old)

    def _adjustments_changed(self, new: Adjustments, old: Adjustments) -> None:
        self._save_timer.start()
        if new.needs_network(old) or self._last_result is None:
            self._request_view()
        else:
            self._readjust()

    def _readjust(self) -> None:
        result = self._last_result
        if result is None:
            return
        adj = self.panel.adjustments()
        self.adjuster.request(
            (result.request_id, result.stage),
            result.original,
            result.raw,
            adj.strength,
            adj.preserve_colors,
        )

    def _adjust_failed(self, message: str) -> None:
        self.show_error(self.tr("Could not adjust the image: {0}").format(message))

    def _adjusted(self, result: AdjustResult) -> None:
        last = self._last_result
        if last is None or result.base_key != (last.request_id, last.stage):
            return
        if result.request_id != self.adjuster.latest_id:
            return
        self.canvas.set_styled(result.mips)
        self.previewShown.emit(result)

    # Views --------------------------------------------------------------------------------
    def display_side(self) -> int:
        viewport = self.canvas.viewport().size()
        side = max(viewport.width(), viewport.height()) * self.canvas.devicePixelRatioF()
        return int(min(4096, max(1024, side)))

    def _refresh_for_size(self) -> None:
        result = self._last_result
        if result is None or not result.final or result.adjustments.output_size != "preview":
            return
        shown = max(result.size)
        full = self.canvas.item.original_image()
        full_side = max(full.width(), full.height()) if full is not None else shown
        if shown < full_side and self.display_side() > shown * 1.25:
            self._request_view()

    def _request_view(self) -> None:
        if self._current_photo is None:
            return
        style = self.current_style()
        request = self.client.make_view(
            photo=self._current_photo,
            style_id=style.id if style else None,
            style_location=style.location if style else None,
            adjustments=self.panel.adjustments(),
            display_side=self.display_side(),
            canvas_epoch=self._canvas_epoch,
        )
        self._latest_view_id = request.request_id
        self.client.request_view(request)
        if style and self._engine_state == "loading":
            self.statusBar().showMessage(self.tr("Waiting for the engine to load…"))

    def _photo_loaded(self, loaded: PhotoLoaded) -> None:
        if loaded.photo != self._current_photo or loaded.canvas_epoch != self._canvas_epoch:
            return
        self.canvas.set_original(loaded.mips)
        self.statusBar().showMessage(
            self.tr("{0} · {1} × {2} px").format(loaded.photo.name, loaded.width, loaded.height),
            5000,
        )
        self.photoShown.emit(loaded.photo)

    def _preview_ready(self, result: PreviewResult) -> None:
        if result.photo != self._current_photo or result.style_id != self._style_id:
            return
        if result.canvas_epoch != self._canvas_epoch:
            return
        if result.request_id < self._shown_view_id:
            return
        self._shown_view_id = result.request_id
        self._last_result = result
        width, height = result.size
        kind = self.tr("preview") if not result.final else self.tr("final")
        self.run_label.setText(
            self.tr("Last run {0:.2f} s · {1} × {2} ({3})").format(
                result.elapsed_s, width, height, kind
            )
        )
        if result.notes:
            self.statusBar().showMessage(" ".join(result.notes), 10000)
        elif result.final:
            self.statusBar().clearMessage()
        current = self.panel.adjustments()
        same = (
            result.adjustments.strength == current.strength
            and result.adjustments.preserve_colors == current.preserve_colors
        )
        self.canvas.set_styled(result.mips)
        if same:
            self.previewShown.emit(result)
        else:
            self._readjust()

    def _busy_changed(self, busy: bool) -> None:
        self.busy.setRange(0, 0)  # indeterminate until the engine reports progress
        self.busy.setVisible(busy)

    def _view_progress(self, request_id: int, fraction: float) -> None:
        if request_id == self._latest_view_id and self.busy.isVisible():
            self.busy.setRange(0, 100)
            self.busy.setValue(round(fraction * 100))

    def _request_failed(self, request_id: int, message: str) -> None:
        if request_id != self._latest_view_id:
            return
        self.show_error(message)

    def show_error(self, message: str) -> None:
        self.statusBar().showMessage(message, 10000)
        self.banner.show_message(message, BannerKind.ERROR)

    # View options -------------------------------------------------------------------------
    def _toggle_split(self) -> None:
        on = self.split_action.isChecked()
        self.canvas.set_split_enabled(on)
        self.settings.set_split_view(on)

    # Export -------------------------------------------------------------------------------
    def _initial_export_settings(self) -> ExportSettings:
        s = self.settings
        folder = str(s.export_value("folder", "") or "")
        if not folder and self._current_photo is not None:
            folder = str(self._current_photo.parent)
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

    def make_export_dialog(self, photos: list[Path]) -> ExportDialog:
        style = self.current_style()
        return ExportDialog(
            self,
            self._initial_export_settings(),
            count=len(photos),
            sample_photo=photos[0] if photos else None,
            style_name=style.name if style else "",
            style_id=style.id if style else "",
        )

    def _ask_and_export(self, photos: list[Path]) -> None:
        if not photos:
            return
        if self.current_style() is None:
            self.show_error(self.tr("Choose a style before exporting."))
            return
        dialog = self.make_export_dialog(photos)
        if dialog.exec() != ExportDialog.DialogCode.Accepted:
            return
        self.export_photos(photos, dialog.settings())

    def export_current(self) -> None:
        if self._current_photo is not None:
            self._ask_and_export([self._current_photo])

    def export_all(self) -> None:
        self._ask_and_export(self.filmstrip.paths())

    def export_photos(self, photos: list[Path], settings: ExportSettings) -> int | None:
        """Start exporting ``photos`` with the current style and adjustments; the job id."""
        style = self.current_style()
        if style is None or not photos:
            return None
        if self._export_job is not None:
            self.show_error(self.tr("An export is already running."))
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
            style=StyleRef(style.location, style.id, style.name),
            adjustments=self.panel.adjustments(),
            settings=settings,
        )
        self._export_job = job.job_id
        self._export_errors = []
        self.progress.setRange(0, len(photos))
        self.progress.setValue(0)
        self.progress.setFormat(self.tr("Exporting %v / %m"))
        self.progress.show()
        self.cancel_button.show()
        self._update_actions()
        self.client.export(job)
        return job.job_id

    def cancel_export(self) -> None:
        if self._export_job is not None:
            self.client.cancel_export(self._export_job)
            self.statusBar().showMessage(self.tr("Cancelling export…"))

    def _export_progress(self, job_id: int, done: int, total: int, name: str) -> None:
        if job_id != self._export_job:
            return
        self.progress.setValue(done)
        if done < total:
            self.statusBar().showMessage(self.tr("Exporting {0}…").format(name))

    def _export_file_failed(self, job_id: int, path: str, message: str) -> None:
        if job_id == self._export_job:
            self._export_errors.append(f"{Path(path).name}: {message}")

    def _export_finished(self, summary: ExportSummary) -> None:
        if summary.job_id != self._export_job:
            return
        self._export_job = None
        self.progress.hide()
        self.cancel_button.hide()
        self._update_actions()
        written = len(summary.written)
        if summary.cancelled:
            text = self.tr("Export cancelled after {0} of {1} photo(s).").format(
                written, summary.total
            )
        else:
            text = self.tr("Exported {0} of {1} photo(s).").format(written, summary.total)
        if summary.failed:
            text += " " + self.tr("{0} failed.").format(len(summary.failed))
            self.banner.show_message(text, BannerKind.ERROR, self._export_errors)
        else:
            details = [str(p) for p in summary.written]
            self.banner.show_message(text, BannerKind.INFO, details, timeout_ms=8000)
        self.statusBar().showMessage(text, 8000)
        self.exportFinished.emit(summary)

    def export_running(self) -> bool:
        return self._export_job is not None

    # Misc ---------------------------------------------------------------------------------
    def _update_actions(self) -> None:
        has_photo = self._current_photo is not None
        exporting = self._export_job is not None
        self.export_action.setEnabled(has_photo and not exporting)
        self.export_all_action.setEnabled(self.filmstrip.count() > 0 and not exporting)
        self.close_photo_action.setEnabled(has_photo)

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            self.tr("About StyleStudio"),
            self.tr(
                "<b>StyleStudio {0}</b><p>Learn an artistic style and apply it to your photos.</p>"
            ).format(__version__),
        )

    def last_result(self) -> PreviewResult | None:
        """The newest network result shown for the current photo and style."""
        return self._last_result

    def current_photo(self) -> Path | None:
        return self._current_photo

    def styled_image(self) -> QImage | None:
        """The stylised image currently painted (for tests and screenshots)."""
        return self.canvas.item.styled_image()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> bool:
        """Save settings, cancel work and stop the threads; True when they stopped in time."""
        if self._closing:
            return not self.client.thread.isRunning()
        self._closing = True
        self._save_timer.stop()
        self.settings.save_window(self.saveGeometry(), self.saveState(), self.splitter.saveState())
        self.settings.save_adjustments(self.panel.adjustments())
        self.settings.sync()
        if self._export_job is not None:
            self.client.cancel_export(self._export_job)
        self.filmstrip.shutdown()
        wizard_ok = True
        if self._wizard is not None:  # cancel a background training run (checkpoint kept)
            try:
                wizard_ok = bool(self._wizard.shutdown(SHUTDOWN_TIMEOUT_MS))
            except Exception:
                log.exception("the training wizard did not shut down cleanly")
        adjuster_ok = self.adjuster.shutdown(SHUTDOWN_TIMEOUT_MS)
        engine_ok = self.client.shutdown(SHUTDOWN_TIMEOUT_MS)
        if not engine_ok:
            log.warning("the engine thread did not stop within %d ms", SHUTDOWN_TIMEOUT_MS)
        return adjuster_ok and engine_ok and wizard_ok
