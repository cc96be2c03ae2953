"""Translations: every user-visible string is in the zh_CN catalogue, translated and compiled."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QLocale

from stylestudio.gui import i18n

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
TS = ROOT / "resources" / "translations" / "stylestudio_zh_CN.ts"
QM = TS.with_suffix(".qm")


def _messages(ts: Path) -> dict[tuple[str, str], ET.Element]:
    found = {}
    for context in ET.parse(ts).getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            found[(name, message.findtext("source") or "")] = message.find("translation")
    return found


def test_catalogue_is_complete() -> None:
    messages = _messages(TS)
    assert len(messages) > 100
    unfinished = [key for key, tr in messages.items() if tr.get("type") or not (tr.text or "")]
    assert unfinished == []
    assert QM.is_file()


def test_compiled_catalogue_matches_source(tmp_path: Path) -> None:
    lrelease = Path(shutil.which("pyside6-lrelease") or ROOT / ".venv" / "bin" / "pyside6-lrelease")
    if not lrelease.exists():
        pytest.skip("pyside6-lrelease is not installed")
    fresh = tmp_path / "fresh.qm"
    subprocess.run([str(lrelease), str(TS), "-qm", str(fresh)], check=True, capture_output=True)
    assert fresh.read_bytes() == QM.read_bytes(), "run pyside6-lrelease (see README)"


def _missing_from_catalogue(tmp_path: Path, sources: list[Path]) -> set[tuple[str, str]]:
    lupdate = Path(shutil.which("pyside6-lupdate") or ROOT / ".venv" / "bin" / "pyside6-lupdate")
    if not lupdate.exists():
        pytest.skip("pyside6-lupdate is not installed")
    fresh = tmp_path / "fresh.ts"
    subprocess.run(
        [str(lupdate), *map(str, sources), "-ts", str(fresh), "-locations", "none"],
        check=True,
        capture_output=True,
    )
    return set(_messages(fresh)) - set(_messages(TS))


def test_every_main_window_string_is_in_the_catalogue(tmp_path: Path) -> None:
    sources = sorted((ROOT / "stylestudio" / "gui").glob("*.py"))
    missing = _missing_from_catalogue(tmp_path, sources)
    assert missing == set(), f"run lupdate and translate (see README): {sorted(missing)[:5]}"


def test_every_wizard_string_is_in_the_catalogue(tmp_path: Path) -> None:
    sources = sorted((ROOT / "stylestudio" / "gui" / "wizard").glob("*.py"))
    if not sources:
        pytest.skip("the training wizard is not part of this build")
    missing = _missing_from_catalogue(tmp_path, sources)
    assert missing == set(), f"run lupdate and translate (see README): {sorted(missing)[:5]}"


def test_translator_loads_for_zh_cn(qapp, monkeypatch) -> None:
    monkeypatch.setenv(i18n.ENV_LANG, "zh_CN")
    assert i18n.wanted_locale().name() == "zh_CN"
    assert "zh_CN" in i18n.available_languages()
    translators = i18n.install_translators(qapp)
    try:
        assert translators, "the zh_CN catalogue did not load"
        assert QCoreApplication.translate("AdjustmentsPanel", "Strength") == "强度"
        from stylestudio.gui.adjustments import AdjustmentsPanel

        panel = AdjustmentsPanel()
        assert panel.preserve.text() == "保留颜色"
        panel.deleteLater()
    finally:
        for translator in translators:
            qapp.removeTranslator(translator)
    assert QCoreApplication.translate("AdjustmentsPanel", "Strength") == "Strength"


def test_english_needs_no_catalogue(qapp) -> None:
    assert i18n.install_translators(qapp, QLocale("en_US")) == []
