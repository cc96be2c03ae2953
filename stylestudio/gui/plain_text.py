"""Show user-supplied strings (style names, file names, manifest fields, error text) literally.

Qt guesses rich text for QLabel and QMessageBox texts and for every tooltip
(``Qt.mightBeRichText``: a known tag, or ``&lt;``, before the first line break), so a style pack
named ``<img src=…>`` or ``<b>…`` would inject markup. Labels get ``Qt.PlainText``; tooltips and
the texts of ``QMessageBox.question`` & co. cannot be set to plain text, so they become explicit
rich text with the string escaped. Menu texts take ``&`` as a mnemonic and window titles ``[*]``
as the modified marker: both are escaped too.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel


def plain_label(label: QLabel) -> QLabel:
    """``label`` set to show its text literally (never as rich text); returns it."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def literal_rich_text(text: str) -> str:
    """Rich text that shows ``text`` literally, line breaks and runs of spaces included.

    For tooltips (Qt always guesses their format) and for texts handed to ``QMessageBox``'s
    static helpers, which cannot be told to use plain text.
    """
    if not text:
        return ""
    return f'<p style="white-space:pre-wrap">{html.escape(text, quote=False)}</p>'


def menu_text(text: str) -> str:
    """``text`` for a QAction/QMenu/button label: ``&`` shown, not taken as a shortcut key."""
    return text.replace("&", "&&")


def window_title(text: str) -> str:
    """``text`` for ``setWindowTitle``: a literal ``[*]`` is not taken as the modified marker."""
    return text.replace("[*]", "[*][*]")
