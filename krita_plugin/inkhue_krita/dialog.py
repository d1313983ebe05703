"""The AI Colorize dialog: layers, engine, options. Plain PyQt5 widgets, no Krita calls."""

from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
)

from .planning import NO_HINT_LAYER_HELP, Settings

WORKING_SIZES = (
    (0, "Model default"),
    (384, "384 (fast)"),
    (512, "512"),
    (768, "768"),
    (1024, "1024 (detailed)"),
)
NO_HINTS = "(none: colour freely)"


class ColorizeDialog(QDialog):
    """Choose the layers and the engine. ``layer_names`` are ordered bottom to top."""

    def __init__(
        self,
        parent,
        layer_names: list[str],
        lineart_index: int,
        hint_index: int | None,
        settings: Settings,
        local_engine: str | None,
        selection_text: str = "",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("inkhue_colorize_dialog")
        self.setWindowTitle("AI Colorize")
        self.setMinimumWidth(440)
        self._settings = settings
        layout = QVBoxLayout(self)

        layers = QGroupBox("Layers")
        form = QFormLayout(layers)
        shown = list(reversed(layer_names))  # top layer first, as in the Layers docker
        self._count = len(layer_names)
        self.lineart_combo = QComboBox(objectName="inkhue_lineart")
        self.lineart_combo.addItems(shown)
        self.lineart_combo.setCurrentIndex(self._count - 1 - lineart_index)
        form.addRow("Line art:", self.lineart_combo)
        self.hints_combo = QComboBox(objectName="inkhue_hints")
        self.hints_combo.addItems(shown + [NO_HINTS])
        self.hints_combo.setCurrentIndex(self._count if hint_index is None else self._count - 1 - hint_index)
        form.addRow("Hints:", self.hints_combo)
        self.hint_help = QLabel(NO_HINT_LAYER_HELP, objectName="inkhue_hint_help")
        self.hint_help.setWordWrap(True)
        self.hint_help.setVisible(hint_index is None)
        form.addRow(self.hint_help)
        self.hints_combo.currentIndexChanged.connect(lambda i: self.hint_help.setVisible(i == self._count))
        if selection_text:
            form.addRow(QLabel(selection_text, objectName="inkhue_selection_note"))
        layout.addWidget(layers)

        engine = QGroupBox("Engine")
        eform = QFormLayout(engine)
        self.local_radio = QRadioButton("On this computer", objectName="inkhue_local")
        self.remote_radio = QRadioButton("On a server", objectName="inkhue_remote")
        group = QButtonGroup(self)
        group.addButton(self.local_radio)
        group.addButton(self.remote_radio)
        local_note = local_engine or "not installed: run the Inkhue installer, or use a server"
        self.local_label = QLabel(local_note, objectName="inkhue_local_note")
        self.local_label.setWordWrap(True)
        eform.addRow(self.local_radio, self.local_label)
        eform.addRow(self.remote_radio)
        self.url_edit = QLineEdit(settings.url, objectName="inkhue_url")
        self.url_edit.setPlaceholderText("http://gpu-box:8000")
        eform.addRow("Server URL:", self.url_edit)
        self.token_edit = QLineEdit(settings.token, objectName="inkhue_token")
        self.token_edit.setEchoMode(QLineEdit.Password)
        eform.addRow("Access token:", self.token_edit)
        (self.remote_radio if settings.mode == "remote" else self.local_radio).setChecked(True)
        self.remote_radio.toggled.connect(self._sync_engine)
        self._sync_engine()
        layout.addWidget(engine)

        options = QGroupBox("Options")
        oform = QFormLayout(options)
        self.compose_check = QCheckBox("Draw the lines into the result", objectName="inkhue_compose")
        self.compose_check.setChecked(settings.compose_lines)
        oform.addRow(self.compose_check)
        self.size_combo = QComboBox(objectName="inkhue_working_size")
        for value, text in WORKING_SIZES:
            self.size_combo.addItem(text, value)
        index = self.size_combo.findData(settings.working_size)
        self.size_combo.setCurrentIndex(max(0, index))
        oform.addRow("Draft resolution:", self.size_combo)
        self.limit_spin = QDoubleSpinBox(objectName="inkhue_max_megapixels")
        self.limit_spin.setRange(0.01, 1000.0)
        self.limit_spin.setDecimals(2)
        self.limit_spin.setSuffix(" MP")
        self.limit_spin.setValue(settings.max_megapixels)
        oform.addRow("Size limit:", self.limit_spin)
        layout.addWidget(options)

        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Colorize")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _sync_engine(self) -> None:
        remote = self.remote_radio.isChecked()
        self.url_edit.setEnabled(remote)
        self.token_edit.setEnabled(remote)

    def accept(self) -> None:
        if self.remote_radio.isChecked() and not self.url_edit.text().strip():
            self.url_edit.setFocus(Qt.OtherFocusReason)
            self.url_edit.setPlaceholderText("enter the server's address, e.g. http://gpu-box:8000")
            return
        super().accept()

    # -- the choices, after exec() returned Accepted

    def lineart_index(self) -> int:
        return self._count - 1 - self.lineart_combo.currentIndex()

    def hint_index(self) -> int | None:
        i = self.hints_combo.currentIndex()
        return None if i == self._count else self._count - 1 - i

    def settings(self) -> Settings:
        hint = self.hint_index()
        return Settings(
            mode="remote" if self.remote_radio.isChecked() else "local",
            url=self.url_edit.text().strip(),
            token=self.token_edit.text().strip(),
            compose_lines=self.compose_check.isChecked(),
            working_size=int(self.size_combo.currentData() or 0),
            max_megapixels=float(self.limit_spin.value()),
            hint_layer=self.hints_combo.currentText() if hint is not None else self._settings.hint_layer,
        )
