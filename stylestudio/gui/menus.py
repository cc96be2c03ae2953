"""The main window's menus as a declared table: what each action says, does and is bound to.

``build_menus(window)`` creates a ``QAction`` per :class:`ActionSpec`, connects it to the window's
method of that name (or calls the spec's ``flow`` function with the window, for flows that live in
their own module), and stores it as ``window.<attribute>`` when the spec names one (tests and
``_update_actions`` use those). Texts are translated in the ``MainWindow`` context, as before.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtGui import QAction, QKeySequence

from stylestudio.gui.model_import_dialog import start_model_import

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow, QMenu

Keys = QKeySequence.StandardKey
Shortcut = QKeySequence.StandardKey | str


class Menu(enum.Enum):
    FILE = QT_TRANSLATE_NOOP("MainWindow", "&File")
    EDIT = QT_TRANSLATE_NOOP("MainWindow", "&Edit")
    VIEW = QT_TRANSLATE_NOOP("MainWindow", "&View")
    STYLES = QT_TRANSLATE_NOOP("MainWindow", "&Styles")
    HELP = QT_TRANSLATE_NOOP("MainWindow", "&Help")


class Item(enum.Enum):
    """Entries that are not plain actions."""

    SEPARATOR = "separator"
    RECENT = "recent"  # the "Open Recent" submenu, filled by ``slot`` when shown
    UNDO = "undo"  # the undo stack's own actions
    REDO = "redo"
    HINT = "hint"  # a disabled line of help text


@dataclass(frozen=True)
class ActionSpec:
    menu: Menu
    text: str = ""  # untranslated (marked with QT_TRANSLATE_NOOP)
    slot: str = ""  # a method of the window, or "canvas.<method>"
    shortcuts: tuple[Shortcut, ...] = ()
    attribute: str = ""  # stored as window.<attribute>
    item: Item | None = None
    checkable: bool = False
    visible: bool = True
    role: QAction.MenuRole | None = None
    #: Instead of ``slot``: called with the window (a flow in its own module).
    flow: Callable[[QMainWindow], None] | None = None


def _tr(text: str) -> str:
    return QCoreApplication.translate("MainWindow", text)


_SEP = Item.SEPARATOR
F, E, V, S, H = Menu.FILE, Menu.EDIT, Menu.VIEW, Menu.STYLES, Menu.HELP

ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        F, QT_TRANSLATE_NOOP("MainWindow", "&Open…"), "open_dialog", (Keys.Open,), "open_action"
    ),
    ActionSpec(
        F,
        QT_TRANSLATE_NOOP("MainWindow", "Open &Folder…"),
        "open_folder_dialog",
        ("Ctrl+Shift+O",),
        "open_folder_action",
    ),
    ActionSpec(
        F,
        QT_TRANSLATE_NOOP("MainWindow", "Open &Recent"),
        "_fill_recent_menu",
        item=Item.RECENT,
        attribute="recent_menu",
    ),
    ActionSpec(F, item=_SEP),
    ActionSpec(
        F,
        QT_TRANSLATE_NOOP("MainWindow", "&Export…"),
        "export_current",
        ("Ctrl+E",),
        "export_action",
    ),
    ActionSpec(
        F,
        QT_TRANSLATE_NOOP("MainWindow", "Export &All…"),
        "export_all",
        ("Ctrl+Shift+E",),
        "export_all_action",
    ),
    ActionSpec(F, item=_SEP),
    ActionSpec(
        F,
        QT_TRANSLATE_NOOP("MainWindow", "&Remove Photo from Queue"),
        "remove_current_photo",
        attribute="close_photo_action",
    ),
    ActionSpec(F, item=_SEP),
    ActionSpec(
        F,
        QT_TRANSLATE_NOOP("MainWindow", "&Quit"),
        "close",
        (Keys.Quit,),
        "quit_action",
        role=QAction.MenuRole.QuitRole,
    ),
    ActionSpec(
        E,
        QT_TRANSLATE_NOOP("MainWindow", "&Undo"),
        shortcuts=(Keys.Undo,),
        attribute="undo_action",
        item=Item.UNDO,
    ),
    ActionSpec(
        E,
        QT_TRANSLATE_NOOP("MainWindow", "&Redo"),
        shortcuts=(Keys.Redo,),
        attribute="redo_action",
        item=Item.REDO,
    ),
    ActionSpec(E, item=_SEP),
    ActionSpec(E, QT_TRANSLATE_NOOP("MainWindow", "Reset &Adjustments"), "reset_adjustments"),
    ActionSpec(
        V, QT_TRANSLATE_NOOP("MainWindow", "Zoom &In"), "canvas.zoom_in", (Keys.ZoomIn, "Ctrl+=")
    ),
    ActionSpec(V, QT_TRANSLATE_NOOP("MainWindow", "Zoom &Out"), "canvas.zoom_out", (Keys.ZoomOut,)),
    ActionSpec(V, QT_TRANSLATE_NOOP("MainWindow", "&Fit to Window"), "canvas.fit", ("Ctrl+0",)),
    ActionSpec(
        V,
        QT_TRANSLATE_NOOP("MainWindow", "&Actual Size (100 %)"),
        "canvas.zoom_actual",
        ("Ctrl+1",),
    ),
    ActionSpec(V, item=_SEP),
    ActionSpec(
        V,
        QT_TRANSLATE_NOOP("MainWindow", "&Compare Before/After"),
        "_toggle_split",
        ("Ctrl+B",),
        "split_action",
        checkable=True,
    ),
    ActionSpec(
        V, QT_TRANSLATE_NOOP("MainWindow", "Hold Space to show the original"), item=Item.HINT
    ),
    ActionSpec(S, QT_TRANSLATE_NOOP("MainWindow", "&Import Style Pack…"), "import_style_pack"),
    ActionSpec(
        S,
        QT_TRANSLATE_NOOP("MainWindow", "Import &Community Model…"),
        attribute="import_model_action",
        flow=start_model_import,
    ),
    ActionSpec(
        S,
        QT_TRANSLATE_NOOP("MainWindow", "&Learn a New Style…"),
        "open_training_wizard",
        attribute="learn_action",
        visible=False,
    ),
    ActionSpec(
        H,
        QT_TRANSLATE_NOOP("MainWindow", "&About StyleStudio"),
        "show_about",
        role=QAction.MenuRole.AboutRole,
    ),
)


def _slot(window: QMainWindow, name: str) -> object:
    target: object = window
    for part in name.split("."):
        target = getattr(target, part)
    return target


def _call_with(window: QMainWindow, flow: Callable[[QMainWindow], None]) -> Callable[..., None]:
    def trigger(*_checked: object) -> None:
        flow(window)

    return trigger


def build_menus(
    window: QMainWindow, undo_stack: object, specs: tuple[ActionSpec, ...] = ACTIONS
) -> None:
    """Create the menu bar of ``window`` from ``specs`` (window shortcuts work without it)."""
    menus: dict[Menu, QMenu] = {}
    for spec in specs:
        menu = menus.get(spec.menu)
        if menu is None:
            menu = menus[spec.menu] = window.menuBar().addMenu(_tr(spec.menu.value))
        if spec.item is Item.SEPARATOR:
            menu.addSeparator()
            continue
        if spec.item is Item.RECENT:
            submenu = menu.addMenu(_tr(spec.text))
            submenu.aboutToShow.connect(_slot(window, spec.slot))
            setattr(window, spec.attribute, submenu)
            continue
        if spec.item is Item.HINT:
            menu.addAction(_tr(spec.text)).setEnabled(False)
            continue
        if spec.item is Item.UNDO:
            action = undo_stack.createUndoAction(window, _tr(spec.text))  # type: ignore[attr-defined]
        elif spec.item is Item.REDO:
            action = undo_stack.createRedoAction(window, _tr(spec.text))  # type: ignore[attr-defined]
        else:
            action = QAction(_tr(spec.text), window)
            if spec.flow is not None:
                action.triggered.connect(_call_with(window, spec.flow))
            else:
                action.triggered.connect(_slot(window, spec.slot))
            window.addAction(action)
        if spec.shortcuts:
            action.setShortcuts([QKeySequence(key) for key in spec.shortcuts])
        action.setCheckable(spec.checkable)
        action.setVisible(spec.visible)
        if spec.role is not None:
            action.setMenuRole(spec.role)
        menu.addAction(action)
        if spec.attribute:
            setattr(window, spec.attribute, action)
