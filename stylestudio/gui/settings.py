"""Persistent user settings (QSettings, organisation "StyleStudio"): recents, geometry, values."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from stylestudio.gui.adjustments import Adjustments
from stylestudio.gui.mask_brush import BrushSettings, Tool

ORGANIZATION = "StyleStudio"
APPLICATION = "StyleStudio"
MAX_RECENT = 10


def open_settings() -> QSettings:
    """The user's settings store (the default format; tests point it into a temp folder)."""
    return QSettings(
        QSettings.defaultFormat(), QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
    )


def _as_bool(value: object, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


def _as_float(value: object, default: float) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


class AppSettings:
    """Typed accessors over a QSettings store."""

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store if store is not None else open_settings()

    # Recent files -------------------------------------------------------------------------
    def recent_files(self) -> list[Path]:
        value = self.store.value("recent/files", [])
        if isinstance(value, str):
            value = [value]
        return [Path(v) for v in (value or []) if v]

    def add_recent(self, paths: list[Path]) -> list[Path]:
        recent = [p for p in self.recent_files() if p not in paths]
        recent = [*paths[:MAX_RECENT], *recent][:MAX_RECENT]
        self.store.setValue("recent/files", [str(p) for p in recent])
        return recent

    def clear_recent(self) -> None:
        self.store.setValue("recent/files", [])

    # Window -------------------------------------------------------------------------------
    def geometry(self) -> QByteArray | None:
        value = self.store.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def window_state(self) -> QByteArray | None:
        value = self.store.value("window/state")
        return value if isinstance(value, QByteArray) else None

    def splitter_state(self) -> QByteArray | None:
        value = self.store.value("window/splitter")
        return value if isinstance(value, QByteArray) else None

    def save_window(self, geometry: QByteArray, state: QByteArray, splitter: QByteArray) -> None:
        self.store.setValue("window/geometry", geometry)
        self.store.setValue("window/state", state)
        self.store.setValue("window/splitter", splitter)

    # Last values --------------------------------------------------------------------------
    def adjustments(self) -> Adjustments:
        default = Adjustments()
        output = str(self.store.value("adjust/output_size", default.output_size))
        return Adjustments(
            strength=_as_float(self.store.value("adjust/strength"), default.strength),
            preserve_colors=_as_bool(
                self.store.value("adjust/preserve_colors"), default.preserve_colors
            ),
            style_scale=_as_float(self.store.value("adjust/style_scale"), default.style_scale),
            output_size=output if output in ("preview", "full") else default.output_size,
            blend_with=str(self.store.value("adjust/blend_with", "") or ""),
            blend_amount=_as_float(self.store.value("adjust/blend_amount"), default.blend_amount),
        ).clamped()

    def save_adjustments(self, adj: Adjustments) -> None:
        self.store.setValue("adjust/strength", adj.strength)
        self.store.setValue("adjust/preserve_colors", adj.preserve_colors)
        self.store.setValue("adjust/style_scale", adj.style_scale)
        self.store.setValue("adjust/output_size", adj.output_size)
        self.store.setValue("adjust/blend_with", adj.blend_with)
        self.store.setValue("adjust/blend_amount", adj.blend_amount)

    def last_style(self) -> str:
        return str(self.store.value("style/last", "") or "")

    def set_last_style(self, style_id: str) -> None:
        self.store.setValue("style/last", style_id)

    def last_dir(self, key: str) -> str:
        return str(self.store.value(f"dirs/{key}", "") or "")

    def set_last_dir(self, key: str, folder: Path) -> None:
        self.store.setValue(f"dirs/{key}", str(folder))

    def export_value(self, key: str, default: object) -> object:
        value = self.store.value(f"export/{key}")
        return default if value is None else value

    def set_export_value(self, key: str, value: object) -> None:
        self.store.setValue(f"export/{key}", value)

    def split_view(self) -> bool:
        return _as_bool(self.store.value("view/split"), True)

    def set_split_view(self, on: bool) -> None:
        self.store.setValue("view/split", on)

    # Region masks (the masks themselves are PNG files: gui/mask_store.py) --------------------
    def mask_brush(self) -> BrushSettings:
        default = BrushSettings()
        tool = str(self.store.value("mask/tool", default.tool.value))
        return BrushSettings(
            tool=Tool.ERASER if tool == Tool.ERASER.value else Tool.BRUSH,
            size=_as_float(self.store.value("mask/size"), default.size),
            softness=_as_float(self.store.value("mask/softness"), default.softness),
        ).clamped()

    def save_mask_brush(self, brush: BrushSettings) -> None:
        self.store.setValue("mask/tool", brush.tool.value)
        self.store.setValue("mask/size", brush.size)
        self.store.setValue("mask/softness", brush.softness)

    def mask_overlay(self) -> bool:
        return _as_bool(self.store.value("mask/overlay"), True)

    def set_mask_overlay(self, on: bool) -> None:
        self.store.setValue("mask/overlay", on)

    def sync(self) -> None:
        self.store.sync()
