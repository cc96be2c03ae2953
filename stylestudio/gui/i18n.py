"""Loading the user-interface translation (.qm) that matches the system language."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from stylestudio.core.paths import resources_dir

ENV_LANG = "STYLESTUDIO_LANG"
CATALOG = "stylestudio"


def translations_dir() -> Path:
    return resources_dir() / "translations"


def available_languages() -> list[str]:
    """Locale names with a compiled catalogue, e.g. ["zh_CN"] (English is built in)."""
    folder = translations_dir()
    prefix = f"{CATALOG}_"
    return sorted(p.stem[len(prefix) :] for p in folder.glob(f"{prefix}*.qm"))


def wanted_locale() -> QLocale:
    """``$STYLESTUDIO_LANG`` (e.g. "zh_CN", "en") if set, else the system locale."""
    override = os.environ.get(ENV_LANG, "").strip()
    return QLocale(override) if override else QLocale.system()


def install_translators(app: QCoreApplication, locale: QLocale | None = None) -> list[QTranslator]:
    """Install StyleStudio's and Qt's own translations for ``locale``; returns the translators.

    Keep the returned list alive as long as the translations are used.
    """
    locale = locale or wanted_locale()
    installed: list[QTranslator] = []
    if locale.language() in (QLocale.Language.English, QLocale.Language.C):
        return installed
    ours = QTranslator(app)
    if ours.load(locale, CATALOG, "_", str(translations_dir())):
        app.installTranslator(ours)
        installed.append(ours)
    qt_base = QTranslator(app)
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if qt_base.load(locale, "qtbase", "_", qt_dir):  # standard dialog buttons etc.
        app.installTranslator(qt_base)
        installed.append(qt_base)
    return installed
