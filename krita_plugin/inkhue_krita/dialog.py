"""The AI Colorize dialog: layers, engine, options. Qt widgets (PyQt5 or 6, see ``qt``), no Krita calls.

The layer rules (``vendor/layer_rules.py``, shared with the GIMP plug-in) are passed in, so the
dialog refuses what the run would refuse while the artist can still change the choice: the same
layer twice, a group, flat colours without any dab. The hints combo offers "(none: AI chooses
colours)" first; with it, or with a hint layer holding no dab in the area to colour, the run goes
ahead and the dialog shows the shared note that the AI chooses the colours.
"""

from __future__ import annotations

from collections.abc import Callable

from .finetune import DEFAULT_ENTRY, chosen_model, fill_models
from .planning import MAX_GAP, WORKING_SIZES, Settings
from .qt import Qt, enum
from .qt import QtWidgets as W

QButtonGroup, QCheckBox, QComboBox = W.QButtonGroup, W.QCheckBox, W.QComboBox
QDialog, QDialogButtonBox, QDoubleSpinBox = W.QDialog, W.QDialogButtonBox, W.QDoubleSpinBox
QFormLayout, QGroupBox, QLabel, QLineEdit = W.QFormLayout, W.QGroupBox, W.QLabel, W.QLineEdit
QRadioButton, QSpinBox, QVBoxLayout = W.QRadioButton, W.QSpinBox, W.QVBoxLayout
OK = enum(QDialogButtonBox, "StandardButton", "Ok")
CANCEL = enum(QDialogButtonBox, "StandardButton", "Cancel")
OTHER_FOCUS = enum(Qt, "FocusReason", "OtherFocusReason")

PROBLEM_STYLE = "color: #c0392b;"  # readable on Krita's light and dark themes


METHOD_TEXTS = {  # the engine's methods as the dialog offers them
    "ai": "AI (shading, guesses)",
    "flats": "Flat colours (exact dab colours, no AI)",
}


INPUT_MODE_TEXTS = {  # the engine's modes (schema.MODES) as the dialog offers them
    "lineart": "Line art",
    "auto": "Automatic",
    "grayscale": "Shaded grayscale (keeps its light and shade)",
}


def working_size_text(value: int) -> str:
    return "Automatic (recommended)" if value == 0 else f"{value} pixels"


class _Millions(QDoubleSpinBox):
    """A number of million pixels, shown without trailing zeros ("50", "0.5")."""

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt's name)
        return f"{value:g}"


def _check(form: QFormLayout, text: str, name: str, tip: str, checked: bool) -> QCheckBox:
    """A check box with its tooltip and state, added as a row of ``form``."""
    box = QCheckBox(text, objectName=name)
    box.setToolTip(tip)
    box.setChecked(checked)
    form.addRow(box)
    return box


def _explain(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


class ColorizeDialog(QDialog):
    """Choose the layers and the engine. ``layers`` are ``LayerInfo`` records, top to bottom.

    ``hints_blank(info)`` tells whether a layer has no visible pixel in the area to colour (asked
    once per layer); ``where`` names that area for messages ("on the canvas", "inside the
    selection"). The hints combo's first entry is ``rules.NO_HINTS_CHOICE`` (no hint layer).
    """

    def __init__(
        self,
        parent,
        rules,
        layers: list,
        lineart,
        hints,
        settings: Settings,
        local_engine: str | None,
        hints_blank: Callable[[object], bool],
        where: str = "on the canvas",
        notes: tuple[str, ...] = (),
        models: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(parent)
        self.setObjectName("inkhue_colorize_dialog")
        self.setWindowTitle("AI Colorize")
        self.setMinimumWidth(460)
        self._rules = rules
        self._layers = list(layers)
        self._settings = settings
        self._hints_blank = hints_blank
        self._blank: dict = {}  # layer key -> no dab in the area (pixels are read once per layer)
        self._where = where
        layout = QVBoxLayout(self)

        group = QGroupBox("Layers")
        form = QFormLayout(group)
        names = [i.name for i in self._layers]
        self.lineart_combo = QComboBox(objectName="inkhue_lineart")
        self.lineart_combo.addItems(names)
        self.lineart_combo.setCurrentIndex(self._index(lineart))
        form.addRow("Line art:", self.lineart_combo)
        self.hints_combo = QComboBox(objectName="inkhue_hints")
        self.hints_combo.addItem(rules.NO_HINTS_CHOICE)
        self.hints_combo.addItems(names)
        self.hints_combo.setCurrentIndex(self._index(hints) + 1)  # (none) when no layer fits
        form.addRow("Hints:", self.hints_combo)
        self.hints_note = QLabel("", objectName="inkhue_hints_note")
        self.hints_note.setWordWrap(True)
        form.addRow(self.hints_note)
        for note in notes:
            label = QLabel(note, objectName="inkhue_note")
            label.setWordWrap(True)
            form.addRow(label)
        self.problem = QLabel("", objectName="inkhue_problem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(PROBLEM_STYLE)
        form.addRow(self.problem)
        layout.addWidget(group)

        engine = QGroupBox("Engine")
        eform = QFormLayout(engine)
        self.local_radio = QRadioButton("On this computer", objectName="inkhue_local")
        self.remote_radio = QRadioButton("On a server", objectName="inkhue_remote")
        radios = QButtonGroup(self)
        radios.addButton(self.local_radio)
        radios.addButton(self.remote_radio)
        local_note = local_engine or "not installed: run the Inkhue installer, or use a server"
        self.local_label = QLabel(local_note, objectName="inkhue_local_note")
        self.local_label.setWordWrap(True)
        eform.addRow(self.local_radio, self.local_label)
        eform.addRow(self.remote_radio)
        self.url_edit = QLineEdit(settings.url, objectName="inkhue_url")
        self.url_edit.setPlaceholderText("http://gpu-box:8000")
        eform.addRow("Server URL:", self.url_edit)
        self.token_edit = QLineEdit(settings.token, objectName="inkhue_token")
        self.token_edit.setEchoMode(enum(QLineEdit, "EchoMode", "Password"))
        eform.addRow("Access token:", self.token_edit)
        (self.remote_radio if settings.mode == "remote" else self.local_radio).setChecked(True)
        self.remote_radio.toggled.connect(self._sync_engine)
        self._sync_engine()
        layout.addWidget(engine)

        options = QGroupBox("Options")
        oform = QFormLayout(options)
        self.method_combo = QComboBox(objectName="inkhue_method")
        for value, text in METHOD_TEXTS.items():
            self.method_combo.addItem(text, value)
        self.method_combo.setCurrentIndex(max(0, self.method_combo.findData(settings.method)))
        oform.addRow("Colours:", self.method_combo)
        oform.addRow(
            _explain(
                "AI shades the picture and guesses colours near your dabs. Flat colours fills each "
                "area with the exact colour of the dab inside it, quickly and without AI."
            )
        )
        self.input_combo = QComboBox(objectName="inkhue_input_mode")
        for value, text in INPUT_MODE_TEXTS.items():
            self.input_combo.addItem(text, value)
        self.input_combo.setCurrentIndex(max(0, self.input_combo.findData(settings.input_mode)))
        oform.addRow("Layer holds:", self.input_combo)
        self.model_combo = QComboBox(objectName="inkhue_model")
        fill_models(self.model_combo, list(models) or [DEFAULT_ENTRY], settings.model)
        oform.addRow("Model:", self.model_combo)  # a fine-tuned one: Fine-tune on My Style
        self.per_colour_check = _check(
            oform,
            "One layer per colour (flat colours only)",
            "inkhue_per_colour",
            "The result is a layer group with one layer for each dab colour, without the lines.",
            settings.per_colour,
        )
        self.compose_check = _check(
            oform,
            "Draw the lines into the result",
            "inkhue_compose",
            "Unchecked, the new layer holds flat colours only, for shading on top.",
            settings.compose_lines,
        )
        self.transparent_check = _check(
            oform,
            "Transparent where nothing is painted",
            "inkhue_transparent",
            "The paper around the drawing, and areas no colour reaches, stay see-through.",
            settings.transparent,
        )
        # what the artist chose for the two boxes one layer per colour overrides while it is on
        self._held: tuple[bool, bool] | None = None
        self.method_combo.currentIndexChanged.connect(self._sync_options)
        self.per_colour_check.toggled.connect(self._sync_options)
        self._sync_options()
        layout.addWidget(options)

        advanced = QGroupBox("Advanced", objectName="inkhue_advanced")
        aform = QFormLayout(advanced)
        self.size_combo = QComboBox(objectName="inkhue_working_size")
        for value in WORKING_SIZES:
            self.size_combo.addItem(working_size_text(value), value)
        self.size_combo.setCurrentIndex(max(0, self.size_combo.findData(settings.working_size)))
        aform.addRow("Detail of the first pass:", self.size_combo)
        aform.addRow(
            _explain(
                "AI Colorize first colours a small copy of the picture, then refines it at full size. "
                "Automatic suits most pictures; more pixels can help very detailed line art."
            )
        )
        self.limit_spin = _Millions(objectName="inkhue_max_megapixels")
        self.limit_spin.setRange(0.01, 1000.0)
        self.limit_spin.setDecimals(2)
        self.limit_spin.setSuffix(" million pixels")
        self.limit_spin.setValue(settings.max_megapixels)
        aform.addRow("Largest image to colour:", self.limit_spin)
        aform.addRow(
            _explain(
                "Larger images are refused, so Krita does not run out of memory. To colour part of a "
                "larger image, select that part first."
            )
        )
        self.gap_spin = QSpinBox(objectName="inkhue_gap")
        self.gap_spin.setRange(0, MAX_GAP)
        self.gap_spin.setSuffix(" px")
        self.gap_spin.setSpecialValueText("Automatic")  # shown for 0
        self.gap_spin.setValue(settings.gap)
        aform.addRow("Close gaps in the lines up to:", self.gap_spin)
        aform.addRow(
            _explain(
                "A break in a line up to this size still closes the area, so colour does not leak "
                "out. Automatic: 1/64 of the picture's longest side (8 pixels at 512). Raise it if "
                "colour leaks; lower it if small areas merge."
            )
        )
        layout.addWidget(advanced)

        self.buttons = QDialogButtonBox(OK | CANCEL)
        self.buttons.button(OK).setText("Colorize")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        self.lineart_combo.currentIndexChanged.connect(self._choice_changed)
        self.hints_combo.currentIndexChanged.connect(self._choice_changed)
        self.method_combo.currentIndexChanged.connect(self._choice_changed)
        self._choice_changed()

    def _index(self, info) -> int:
        return next((i for i, x in enumerate(self._layers) if info is not None and x.key == info.key), -1)

    def _sync_engine(self) -> None:
        remote = self.remote_radio.isChecked()
        self.url_edit.setEnabled(remote)
        self.token_edit.setEnabled(remote)

    def method(self) -> str:
        return str(self.method_combo.currentData() or "ai")

    def split(self) -> bool:
        return self.method() == "flats" and self.per_colour_check.isChecked()

    def _sync_options(self, *_) -> None:
        """One layer per colour exists only for flat colours, and takes them transparent and
        without the lines (each layer holds one colour): while it is on, the two boxes show that
        and are disabled; the artist's own choices come back when it is off."""
        self.per_colour_check.setEnabled(self.method() == "flats")
        self.input_combo.setEnabled(self.method() == "ai")  # flat colours read line art only
        split = self.split()
        if split and self._held is None:
            self._held = (self.compose_check.isChecked(), self.transparent_check.isChecked())
            self.compose_check.setChecked(False)
            self.transparent_check.setChecked(True)
        elif not split and self._held is not None:
            compose, transparent = self._held
            self._held = None
            self.compose_check.setChecked(compose)
            self.transparent_check.setChecked(transparent)
        self.compose_check.setEnabled(not split)
        self.transparent_check.setEnabled(not split)

    def _has_dabs(self, hints) -> bool:
        if hints is None:
            return False
        if hints.key not in self._blank:
            self._blank[hints.key] = bool(self._hints_blank(hints))
        return not self._blank[hints.key]

    def _check_hints(self) -> str:
        """The shared rule on the chosen hints: the note to show ("" with dabs); raises
        ``LayerRuleError`` for flat colours without dabs."""
        hints = self.hints()
        name = hints.name if hints is not None else None
        return self._rules.check_hints(name, self._has_dabs(hints), self.method(), self._where)

    def _choice_changed(self, *_) -> None:
        """Say what the chosen hints mean: a plain note when the AI will choose the colours, the
        refusal (in red) when flat colours have no dab to follow."""
        hints = self.hints()
        note, problem = "", ""
        if hints is None or (hints.is_paint and not hints.is_group):  # a group: refused on Colorize
            try:
                note = self._check_hints()
            except self._rules.LayerRuleError as e:
                problem = str(e)
        self.hints_note.setText(note)
        self.hints_note.setVisible(bool(note))
        self.problem.setText(problem)
        self.problem.setVisible(bool(problem))
        self._fit()

    def _refuse(self, message: str) -> None:
        self.problem.setText(message)
        self.problem.setVisible(True)
        self._fit()

    def _fit(self) -> None:
        """Grow to show every line of the wrapped texts (Qt does not for a shown dialog)."""
        self.layout().activate()
        self.resize(
            self.width(), max(self.height(), self.heightForWidth(self.width()), self.sizeHint().height())
        )

    def accept(self) -> None:
        if self.remote_radio.isChecked() and not self.url_edit.text().strip():
            self.url_edit.setFocus(OTHER_FOCUS)
            self.url_edit.setPlaceholderText("enter the server's address, e.g. http://gpu-box:8000")
            return
        lineart, hints = self.lineart(), self.hints()
        try:
            self._rules.check_choice(lineart, hints)
        except self._rules.LayerRuleError as e:
            return self._refuse(str(e))
        try:
            self._check_hints()
        except self._rules.LayerRuleError as e:  # flat colours without a dab
            self.hints_combo.setFocus(OTHER_FOCUS)
            return self._refuse(str(e))
        super().accept()

    # -- the choices

    def lineart(self):
        i = self.lineart_combo.currentIndex()
        return self._layers[i] if i >= 0 else None

    def hints(self):
        """The chosen hint layer, or None for "(none: AI suggests tones)"."""
        i = self.hints_combo.currentIndex() - 1
        return self._layers[i] if i >= 0 else None

    def settings(self) -> Settings:
        """The choices to remember (the artist's own boxes, not what one layer per colour shows)."""
        hints = self.hints()
        compose, transparent = self._held or (
            self.compose_check.isChecked(),
            self.transparent_check.isChecked(),
        )
        return Settings(
            mode="remote" if self.remote_radio.isChecked() else "local",
            url=self.url_edit.text().strip(),
            token=self.token_edit.text().strip(),
            compose_lines=compose,
            working_size=int(self.size_combo.currentData() or 0),
            max_megapixels=float(self.limit_spin.value()),
            hint_layer=hints.name if hints is not None else self._settings.hint_layer,
            transparent=transparent,
            method=self.method(),
            per_colour=self.per_colour_check.isChecked(),
            gap=int(self.gap_spin.value()),
            input_mode=str(self.input_combo.currentData() or "lineart"),
            model=chosen_model(self.model_combo),
        )
