"""The export dialog: format, quality, folder, name pattern, what to do with existing files."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from stylestudio.core.export import (
    DEFAULT_PATTERN,
    FORMATS,
    LOSSY,
    ExportSettings,
    PatternError,
    StyleRef,
    validate_pattern,
)
from stylestudio.gui.plain_text import plain_label


def _format_labels() -> dict[str, str]:
    return {
        "png": QCoreApplication.translate("ExportDialog", "PNG (lossless)"),
        "jpeg": QCoreApplication.translate("ExportDialog", "JPEG"),
        "webp": QCoreApplication.translate("ExportDialog", "WebP"),
        "tiff": QCoreApplication.translate("ExportDialog", "TIFF (lossless)"),
    }


class ExportDialog(QDialog):
    """Asks how to export ``count`` photos; ``settings()`` after ``accept``."""

    def __init__(
        self,
        parent: QWidget | None,
        initial: ExportSettings,
        *,
        count: int,
        sample_photo: Path | None = None,
        style_name: str = "",
        style_id: str = "",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle(
            self.tr("Export photo") if count == 1 else self.tr("Export {0} photos").format(count)
        )
        self._sample = sample_photo
        self._style = StyleRef(Path(), style_id or "style", style_name or "style")

        self.format = QComboBox()
        for key, label in _format_labels().items():
            self.format.addItem(label, key)
        self.quality = QSpinBox()
        self.quality.setRange(1, 100)
        self.quality.setSuffix(" %")
        self.folder = QLineEdit()
        self.browse = QPushButton(self.tr("Choose…"))
        self.pattern = QLineEdit()
        self.pattern.setPlaceholderText(DEFAULT_PATTERN)
        self.pattern.setToolTip(
            self.tr(
                "Placeholders: {stem} photo name, {style} style name, {style_id} style id, "
                "{ext} extension, {index} number from 1, {n} number as 001, "
                "{strength} strength in percent"
            )
        )
        self.replace = QCheckBox(self.tr("Replace existing files (originals are never replaced)"))
        # Both quote user strings (style and file names, the pattern): shown literally.
        self.preview = plain_label(QLabel())
        self.preview.setObjectName("exportPreview")
        self.preview.setWordWrap(True)
        self.error = plain_label(QLabel())
        self.error.setObjectName("exportError")
        self.error.setWordWrap(True)

        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.browse)
        form = QFormLayout()
        form.addRow(self.tr("Format"), self.format)
        form.addRow(self.tr("Quality"), self.quality)
        form.addRow(self.tr("Folder"), folder_row)
        form.addRow(self.tr("File name"), self.pattern)
        form.addRow("", self.replace)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Export"))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.preview)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.browse.clicked.connect(self._choose_folder)
        for signal in (self.format.currentIndexChanged, self.quality.valueChanged):
            signal.connect(self._refresh)
        for edit in (self.folder, self.pattern):
            edit.textChanged.connect(self._refresh)
        self.set_settings(initial)

    def set_settings(self, settings: ExportSettings) -> None:
        index = self.format.findData(settings.format)
        self.format.setCurrentIndex(max(0, index))
        self.quality.setValue(settings.quality)
        self.folder.setText(str(settings.folder))
        self.pattern.setText(settings.pattern)
        self.replace.setChecked(settings.replace_existing)
        self._refresh()

    def settings(self) -> ExportSettings:
        fmt = self.format.currentData() or "png"
        return ExportSettings(
            folder=Path(self.folder.text().strip()).expanduser(),
            format=fmt if fmt in FORMATS else "png",
            quality=self.quality.value(),
            pattern=self.pattern.text().strip() or DEFAULT_PATTERN,
            replace_existing=self.replace.isChecked(),
        )

    def accept(self) -> None:
        """Close with "Export" only when the settings are valid (also for Enter or a script)."""
        if self._problem():
            self._refresh()
            return
        super().accept()

    def _problem(self) -> str:
        if not self.folder.text().strip():
            return self.tr("Choose a folder to export to.")
        try:
            validate_pattern(self.pattern.text().strip() or DEFAULT_PATTERN)
        except PatternError as exc:
            # The translated summary, then the exact reason from the naming rules.
            summary = self.tr("The file name pattern is not valid; use {stem}, {style}, {n}.")
            return f"{summary}\n{exc}"
        return ""

    def _refresh(self) -> None:
        settings = self.settings()
        self.quality.setEnabled(settings.format in LOSSY)
        problem = self._problem()
        self.error.setText(problem)
        self.error.setVisible(bool(problem))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)
        if problem or self._sample is None:
            self.preview.clear()
            return
        example = settings.path_for(self._sample, self._style, 1, 1.0)
        self.preview.setText(self.tr("Example: {0}").format(example.name))

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, self.tr("Export to folder"), self.folder.text()
        )
        if folder:
            self.folder.setText(folder)
