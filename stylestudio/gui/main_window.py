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
    QCloseEvent,
    QIcon,
    QImage,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from stylestudio import __version__
from stylestudio.core.export import ExportSettings, StyleRef
from stylestudio.core.imageio import SUPPORTED_EXTENSIONS
from stylestudio.core.mask import RegionMask
from stylestudio.core.video import VIDEO_EXTENSIONS, is_video_path
from stylestudio.core.video.reader import VideoInfo
from stylestudio.gui.adjuster import Adjuster, AdjustResult
from stylestudio.gui.adjustments import Adjustments, AdjustmentsPanel
from stylestudio.gui.banner import Banner, BannerKind
from stylestudio.gui.blend_control import effective_style
from stylestudio.gui.blend_save import BlendSaveFlow
from stylestudio.gui.canvas import Canvas
from stylestudio.gui.drops import collect_image_paths
from stylestudio.gui.export_dialog import ExportDialog
from stylestudio.gui.export_flow import ExportFlow
from stylestudio.gui.filmstrip import Filmstrip
from stylestudio.gui.gallery import StyleCard, StyleGallery
from stylestudio.gui.mask_editor import MaskEditor
from stylestudio.gui.menus import build_menus
from stylestudio.gui.messages import (
    LibraryOp,
    LibraryOpKind,
    PhotoLoaded,
    PreviewResult,
)
from stylestudio.gui.plain_text import literal_rich_text, menu_text, plain_label, window_title
from stylestudio.gui.settings import AppSettings
from stylestudio.gui.undo import AdjustCommand
from stylestudio.gui.video_controls import FrameScrubber, VideoExportFlow, VideoProbe
from stylestudio.gui.view_session import EngineState, ViewSession
from stylestudio.gui.worker import WIZARD_MODULE, EngineClient, WorkerConfig

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT_MS = 4000
#: The style a first start opens the sample photo in (the gallery's most vivid), if present.
FIRST_RUN_STYLE_ID = "composition-vii"
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
        self.session = ViewSession()
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
        self.masks = MaskEditor(self.canvas, self.undo_stack, self.settings, self)
        self.filmstrip = Filmstrip()
        self.filmstrip.hide()
        self.scrubber = FrameScrubber()  # the frames of a video; hidden for photos
        self.gallery = StyleGallery(can_learn=False)
        self.panel = AdjustmentsPanel()

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(0)
        left_layout.addWidget(self.banner)
        left_layout.addWidget(self.masks.toolbar)
        left_layout.addWidget(self.canvas, 1)
        left_layout.addWidget(self.scrubber)
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
        self.export_flow = ExportFlow(self, self.client, self.settings, self)
        self.export_flow.finished.connect(self.exportFinished)
        self.export_flow.runningChanged.connect(self._update_actions)
        self.progress = self.export_flow.progress
        self.cancel_button = self.export_flow.cancel_button
        self.video_export = VideoExportFlow(self, self.settings, self.client.config.device, self)
        self.video_export.runningChanged.connect(self._update_actions)
        self.video_probe = VideoProbe(self)
        self.video_probe.probed.connect(self._video_probed)
        self.scrubber.frameChosen.connect(self._show_frame)
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
        status.addPermanentWidget(self.video_export.progress)
        status.addPermanentWidget(self.video_export.cancel_button)
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
        self.blend_save = BlendSaveFlow(self, self)
        self.panel.blend.saveRequested.connect(self.blend_save.start)
        # Worker signals go to methods of this window only: PySide runs lambdas and plain
        # functions connected to another thread's signal in that thread.
        self.adjuster.adjusted.connect(self._adjusted)
        self.adjuster.failed.connect(self._adjust_failed)
        self.photoShown.connect(self.masks.attach)
        self.masks.changed.connect(self._readjust)  # recomposite; the network does not re-run
        self.masks.problem.connect(self.show_error)
        self.masks.photoRequested.connect(self.filmstrip.select_path)

    def _build_menus(self) -> None:
        build_menus(self, self.undo_stack)
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
        self.session.engine = EngineState.LOADING
        self.device_label.setText(self.tr("Loading engine…"))
        self.busy.show()
        self.client.start()

    def _engine_loading(self, _message: str) -> None:
        self.device_label.setText(self.tr("Loading engine…"))

    def _engine_ready(self, description: str) -> None:
        self.session.engine = EngineState.READY
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
        self.session.engine = EngineState.FAILED
        self.device_label.setText(self.tr("Engine unavailable"))
        self.busy.hide()
        self.gallery.set_status(self.tr("The engine could not start."))
        self.show_error(self.tr("The engine could not start: {0}").format(message))

    def engine_state(self) -> EngineState:
        return self.session.engine

    # Opening photos -----------------------------------------------------------------------
    def _image_filter(self) -> str:
        patterns = " ".join(f"*{ext}" for ext in sorted(SUPPORTED_EXTENSIONS | VIDEO_EXTENSIONS))
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
        if self.session.photo != target:
            self.show_photo(target)
        self._update_actions()
        self.canvas.setFocus()
        return collected.images

    def show_photo(self, path: Path) -> None:
        if not self.session.open_photo(path):
            return
        self.scrubber.set_video(None)
        self.video_probe.request(path)  # a video gets its scrubber once it has been read
        self.setWindowTitle(window_title(f"{path.name} — StyleStudio"))
        self.statusBar().showMessage(self.tr("Loading {0}…").format(path.name))
        self._request_view()
        self._update_actions()

    def _video_probed(self, path: Path, info: object) -> None:
        if path == self.session.photo:
            self.scrubber.set_video(info if isinstance(info, VideoInfo) else None)

    def _show_frame(self, _index: int) -> None:
        """Show the scrubber's frame of the current video (the canvas starts afresh)."""
        if self.session.photo is None or not is_video_path(self.session.photo):
            return
        self.session.canvas_epoch += 1
        self.session.last_result = None
        self._request_view()

    def remove_current_photo(self) -> None:
        self.filmstrip.remove_current()
        path = self.filmstrip.current_path()
        if path is None:
            self.session.open_photo(None)
            self.scrubber.set_video(None)
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
        want = self.session.style_id or self.settings.last_style() or None
        if self.session.style_id is None and cards and all(card.id != want for card in cards):
            # First start: show a style at once, the featured one if it is there.
            featured = [card.id for card in cards if card.id == FIRST_RUN_STYLE_ID]
            want = (featured or [cards[0].id])[0]
        self.gallery.set_styles(cards, select_id=want)
        self.panel.set_styles(cards)
        if self.session.style_id and self.gallery.card(self.session.style_id) is None:
            self.session.forget_style()  # deleted
            self.canvas.set_styled(None)
        elif self.session.style_id is None and want and self.gallery.card(want) is not None:
            self.select_style(want)
        self.stylesChanged.emit(cards)

    def select_style(self, style_id: str) -> None:
        if self.gallery.card(style_id) is None:
            return
        if self.gallery.current_style_id() != style_id:
            self.gallery.select_style(style_id)  # re-enters through styleSelected
            return
        if not self.session.choose_style(style_id):
            return
        self.panel.set_current_style(style_id)
        self.settings.set_last_style(style_id)
        self._request_view()
        self._update_actions()

    def current_style(self) -> StyleCard | None:
        return self.gallery.card(self.session.style_id) if self.session.style_id else None

    def style_ref(self) -> StyleRef | None:
        """What previews and exports apply: the current style, or its blend with a second one."""
        style = self.current_style()
        if style is None:
            return None
        adj = self.panel.adjustments()
        return effective_style(style, self.gallery.card, adj.blend_with, adj.blend_amount)

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
        self.session.style_id = None
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
        if new.needs_network(old) or self.session.last_result is None:
            self._request_view()
        else:
            self._readjust()

    def _readjust(self) -> None:
        result = self.session.last_result
        if result is None:
            return
        adj = self.panel.adjustments()
        self.adjuster.request(
            (result.request_id, result.stage),
            result.original,
            result.raw,
            adj.strength,
            adj.preserve_colors,
            self.masks.region_mask(self.session.photo),
        )

    def _adjust_failed(self, message: str) -> None:
        self.show_error(self.tr("Could not adjust the image: {0}").format(message))

    def _adjusted(self, result: AdjustResult) -> None:
        last = self.session.last_result
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
        result = self.session.last_result
        if result is None or not result.final or result.adjustments.output_size != "preview":
            return
        shown = max(result.size)
        full = self.canvas.item.original_image()
        full_side = max(full.width(), full.height()) if full is not None else shown
        if shown < full_side and self.display_side() > shown * 1.25:
            self._request_view()

    def _request_view(self) -> None:
        if self.session.photo is None:
            return
        style = self.current_style()
        source = self.style_ref()
        request = self.client.make_view(
            photo=self.session.photo,
            style_id=style.id if style else None,
            style_location=source.location if source else None,
            adjustments=self.panel.adjustments(),
            display_side=self.display_side(),
            canvas_epoch=self.session.canvas_epoch,
            frame=self.scrubber.frame(),
        )
        self.session.latest_view_id = request.request_id
        self.client.request_view(request)
        if style and self.session.engine is EngineState.LOADING:
            self.statusBar().showMessage(self.tr("Waiting for the engine to load…"))

    def _photo_loaded(self, loaded: PhotoLoaded) -> None:
        if not self.session.photo_is_current(loaded):
            return
        self.canvas.set_original(loaded.mips)
        self.statusBar().showMessage(
            self.tr("{0} · {1} × {2} px").format(loaded.photo.name, loaded.width, loaded.height),
            5000,
        )
        self.photoShown.emit(loaded.photo)

    def _preview_ready(self, result: PreviewResult) -> None:
        if not self.session.accept_preview(result):
            return
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
        masked = self.masks.mask(result.photo) is not None
        if not masked:  # a masked result is painted once composited, never unmasked first
            self.canvas.set_styled(result.mips)
        if same and not masked:
            self.previewShown.emit(result)
        else:
            self._readjust()

    def _busy_changed(self, busy: bool) -> None:
        self.busy.setRange(0, 0)  # indeterminate until the engine reports progress
        self.busy.setVisible(busy)

    def _view_progress(self, request_id: int, fraction: float) -> None:
        if self.session.is_latest(request_id) and self.busy.isVisible():
            self.busy.setRange(0, 100)
            self.busy.setValue(round(fraction * 100))

    def _request_failed(self, request_id: int, message: str) -> None:
        if not self.session.is_latest(request_id):
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
    def make_export_dialog(self, photos: list[Path]) -> ExportDialog:
        return self.export_flow.make_dialog(photos)

    def export_current(self) -> None:
        if self.session.photo is not None and is_video_path(self.session.photo):
            self.video_export.ask_and_export(self.session.photo)
        elif self.session.photo is not None:
            self.export_flow.ask_and_export([self.session.photo])

    def export_all(self) -> None:
        """Every photo of the filmstrip (videos are exported one at a time, with Export…)."""
        self.export_flow.ask_and_export([p for p in self.filmstrip.paths() if not is_video_path(p)])

    def export_photos(self, photos: list[Path], settings: ExportSettings) -> int | None:
        """Start exporting ``photos`` with the current style and adjustments; the job id."""
        return self.export_flow.export(photos, settings)

    def cancel_export(self) -> None:
        self.export_flow.cancel()

    def export_running(self) -> bool:
        return self.export_flow.running()

    # Misc ---------------------------------------------------------------------------------
    def _update_actions(self) -> None:
        has_photo = self.session.photo is not None
        exporting = self.export_flow.running() or self.video_export.running()
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
        return self.session.last_result

    def current_photo(self) -> Path | None:
        return self.session.photo

    def region_masks(self, photos: list[Path]) -> dict[Path, RegionMask]:
        """The region mask of each of ``photos`` that has one (Export and Export All)."""
        return self.masks.masks_for(photos)

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
        self.masks.shutdown()
        self.settings.save_window(self.saveGeometry(), self.saveState(), self.splitter.saveState())
        self.settings.save_adjustments(self.panel.adjustments())
        self.settings.sync()
        self.export_flow.cancel()
        self.video_export.shutdown(SHUTDOWN_TIMEOUT_MS)  # its temporary file is removed
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
