"""Settings > Dockers > AI Colorize: layer pickers, options, Live preview, Apply and Discard.

With **Live** on, a timer reads the chosen line-art and hint layers a few times a second
(``live.Live`` decides): a finished stroke or a new choice asks the engine for the draft
(``preview: true``), a pause for the full result; one request at a time, stale answers dropped.
Answers go into one preview layer ("AI Colorize (preview)", placed like a result), which is never
offered as an input. Its insertion is the only undo step Live makes (pixel updates are not undo
steps in Krita); **Apply** renames it "AI Colorize" once it shows the full result for the current
layers, so one undo removes it; **Discard** deletes it. Progress and errors are shown in the
docker, never in a box. The layer choice is remembered per document (an annotation). The Model
picker and the line about a running fine-tune are ``finetune.ModelPanel``.

The hints combo offers "(none: AI suggests tones)" first (fully transparent hints); with it, or
with a hint layer holding no dab, the preview runs and the status line adds the shared note that
the AI chooses the colours (flat colours without a dab are refused there instead).
"""

from __future__ import annotations

import json
import logging
import time

from krita import DockWidget, Krita

from . import kritaio, request
from .finetune import ModelPanel
from .job import Job
from .live import DRAFT, Live
from .pixels import is_blank_raw
from .planning import METHODS, RESULT_LAYER_NAME, PlanError, Rect, Settings
from .qt import QTimer, QtWidgets
from .session import SETTINGS_GROUP, _vendored

log = logging.getLogger(__name__)

DOCKER_ID = "inkhue_ai_colorize_docker"
TITLE = "AI Colorize"
PREVIEW_NAME = "AI Colorize (preview)"
POLL_MS = 250
DOCKERS: list = []  # the open dockers (one per window); tests drive them from here
W = QtWidgets


class ColorizeDocker(DockWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(TITLE)
        self.live = Live()
        self.job: Job | None = None
        self.ask = None
        self.pending: tuple | None = None  # (doc, line-art node, native, request) of the job
        self.preview_id = None  # uniqueId (QUuid) of the preview layer
        self.preview_doc = None
        self.discards = 0  # counts Discards: one during a layer insertion undoes that insertion
        self.applying = False
        self.note = ""  # the shared note about the hints of the last request ("" with dabs)
        self.facts: dict = {"updates": 0, "dropped": 0, "state": "idle", "message": ""}
        self._layers: list[tuple[str, str]] = []
        self._doc = None
        self._build()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self.timer.start(POLL_MS)
        DOCKERS.append(self)

    # -- widgets

    def _build(self) -> None:
        body = W.QWidget(self)
        form = W.QFormLayout(body)
        self.lineart_combo, self.hints_combo = W.QComboBox(body), W.QComboBox(body)
        self.method_combo = W.QComboBox(body)
        for m, text in zip(METHODS, ("AI", "Flat colours"), strict=True):
            self.method_combo.addItem(text, m)
        self.gap_spin = W.QSpinBox(body)
        self.gap_spin.setRange(0, 256)
        self.gap_spin.setSpecialValueText("Automatic")
        self.gap_spin.setSuffix(" px")
        self.transparent_check = W.QCheckBox("Transparent where nothing is painted", body)
        self.live_check = W.QCheckBox("Live", body)
        self.live_check.setObjectName("inkhue_live")
        self.apply_button, self.discard_button = W.QPushButton("Apply", body), W.QPushButton("Discard", body)
        self.status = W.QLabel("Choose the layers, then turn Live on.", body)
        self.status.setWordWrap(True)
        form.addRow("Line art", self.lineart_combo)
        form.addRow("Hints", self.hints_combo)
        form.addRow("Colours", self.method_combo)
        form.addRow("Close gaps up to", self.gap_spin)
        form.addRow(self.transparent_check)
        buttons = W.QHBoxLayout()
        for w in (self.live_check, self.apply_button, self.discard_button):
            buttons.addWidget(w)
        form.addRow(buttons)
        app = Krita.instance()  # the model picker and the fine-tune's progress (finetune.py)
        self.models = ModelPanel(
            form,
            body,
            lambda k: app.readSetting(SETTINGS_GROUP, k, ""),
            lambda k, v: app.writeSetting(SETTINGS_GROUP, k, v),
        )
        form.addRow(self.status)
        self.setWidget(body)
        s = self._settings()
        self.method_combo.setCurrentIndex(max(0, self.method_combo.findData(s.method)))
        self.gap_spin.setValue(s.gap)
        self.transparent_check.setChecked(s.transparent)
        self.live_check.toggled.connect(self._live_toggled)
        self.apply_button.clicked.connect(self.apply)
        self.discard_button.clicked.connect(self.discard)
        self.lineart_combo.activated.connect(self._remember)
        self.hints_combo.activated.connect(self._remember)

    def canvasChanged(self, canvas) -> None:  # Krita calls this when the active view changes
        self._sync_layers()

    def _say(self, text: str, state: str = "", error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c0392b;" if error else "")
        if state:
            self.facts.update(state=state, message=text)

    # -- settings and layers

    def _settings(self) -> Settings:
        try:
            client, _ = _vendored()
            config = client.load_plugin_config()
            mode, url, token = config.mode, config.url or "", config.token or ""
        except Exception:  # shown when Live starts; the widgets still need defaults
            mode, url, token = "local", "", ""
        app = Krita.instance()
        return Settings.load(lambda k, d: app.readSetting(SETTINGS_GROUP, k, d), mode, url, token)

    def _options(self) -> Settings:
        s = self._settings()
        s.method = self.method_combo.currentData() or "ai"
        s.gap, s.transparent, s.per_colour = self.gap_spin.value(), self.transparent_check.isChecked(), False
        s.model = self.models.model()
        return s

    def _inputs(self, doc) -> list:
        """The document's layers a request may read: never the preview layer."""
        return [
            n
            for n in kritaio.all_layers(doc)
            if n.name() != PREVIEW_NAME
            and not (self.preview_id is not None and n.uniqueId() == self.preview_id)
        ]

    def _sync_layers(self) -> None:
        doc = Krita.instance().activeDocument()
        if doc is None:
            self._layers, self._doc = [], None
            self.lineart_combo.clear()
            self.hints_combo.clear()
            return
        nodes = self._inputs(doc)
        layers = [(kritaio.layer_key(n), n.name()) for n in nodes]
        if layers == self._layers and doc == self._doc:
            return
        new_doc = doc != self._doc
        self._layers, self._doc = layers, doc
        keep = (self.lineart_combo.currentData(), self.hints_combo.currentData())
        for combo in (self.lineart_combo, self.hints_combo):
            combo.blockSignals(True)
            combo.clear()
            if combo is self.hints_combo:
                combo.addItem(_no_hints_choice(), "")  # data "": no hint layer
            for key, name in layers:
                combo.addItem(name, key)
            combo.blockSignals(False)
        if new_doc or keep[0] is None:
            keep = self._remembered_keys(doc, nodes)
        line_key, hint_key = keep
        self.lineart_combo.setCurrentIndex(
            max(0, self.lineart_combo.findData(line_key)) if line_key is not None else -1
        )
        self.hints_combo.setCurrentIndex(max(0, self.hints_combo.findData(hint_key or "")))

    def _remembered_keys(self, doc, nodes) -> tuple:
        """The document's remembered choice (by name), else the shared rules' guess."""
        try:
            _, rules = _vendored()
        except PlanError:
            return None, None
        saved = kritaio.read_annotation(doc)
        by_name = {n.name(): kritaio.layer_key(n) for n in nodes}
        infos = kritaio.layer_infos(rules, nodes)
        active = doc.activeNode()
        line, hint = rules.guess_layers(infos, active and kritaio.layer_key(active), saved.get("hints", ""))
        return (
            by_name.get(saved.get("lineart", "")) or (line and line.key),
            by_name.get(saved.get("hints", "")) or (hint and hint.key),
        )

    def _remember(self, *_args) -> None:
        doc = Krita.instance().activeDocument()
        if doc is not None:
            kritaio.write_annotation(
                doc, {"lineart": self.lineart_combo.currentText(), "hints": self.hints_combo.currentText()}
            )

    # -- live

    def _live_toggled(self, on: bool) -> None:
        self.live.forget()
        if on:
            self._remember()
            self._say("Live: waiting for a stroke…", "live")
        else:
            self._say("Live is off. Apply keeps the preview, Discard removes it.", "off")

    def _chosen(self, doc):
        """(line art, hints) nodes; hints None for "(none: AI suggests tones)"."""
        keys = (self.lineart_combo.currentData(), self.hints_combo.currentData())
        nodes = {kritaio.layer_key(n): n for n in self._inputs(doc)}
        return nodes.get(keys[0]), nodes.get(keys[1])

    def _tick(self) -> None:
        try:
            self._sync_layers()
            if self.job is not None and self.job.done():
                self._collect()
            if self.live_check.isChecked() or self.applying:
                self._maybe_ask()
        except PlanError as e:
            self._say(str(e), "error", error=True)
        except Exception as e:  # never an exception into Krita's event loop
            log.exception("AI Colorize docker")
            self._say(f"AI Colorize failed unexpectedly: {e}", "error", error=True)

    def _maybe_ask(self) -> None:
        doc = Krita.instance().activeDocument()
        if doc is None or (self.preview_doc is not None and doc != self.preview_doc):
            return
        lineart, hints = self._chosen(doc)
        if lineart is None or (hints is not None and lineart.uniqueId() == hints.uniqueId()):
            return self._say("Choose a line-art layer and a different hint layer.", "error", error=True)
        client, rules = _vendored()
        s = self._options()
        area = Rect(0, 0, doc.width(), doc.height())
        line_raw, line_fmt = kritaio.read_layer(Krita.instance(), lineart, area)
        hint = None  # no hint layer: fully transparent hints
        if hints is not None:
            hint = request.Layer(hints.name(), *kritaio.read_layer(Krita.instance(), hints, area))
        try:  # the shared rule: a note when the AI chooses the colours, flat colours refused
            self.note = rules.check_hints(
                hints and hints.name(), hint is not None and not is_blank_raw(hint.raw, hint.fmt), s.method
            )
        except rules.LayerRuleError as e:
            self.live.forget()
            return self._say(str(e), "error", error=True)
        opts = s.engine_options()
        signature = (
            kritaio.layer_key(lineart),
            hints and kritaio.layer_key(hints),
            json.dumps(opts),
            line_raw,
            hint and hint.raw,
        )
        ask = self.live.poll(signature, time.monotonic(), eager=self.applying)
        if self.applying and self.live.complete(signature) and self.job is None:
            return self._finish_apply()
        if self.applying and signature == self.live.failed:  # the full result cannot be made
            self.applying = False
            return self._say(f"Apply stopped: {self.facts['message']}", "error", error=True)
        if ask is None:
            return
        if ask.kind == DRAFT:
            opts = {**opts, "preview": True}
        out_fmt, native = kritaio.result_format(doc)
        req = request.Request(
            lineart=request.Layer(lineart.name(), line_raw, line_fmt),
            hints=hint,
            area=area,
            selected=False,
            selection_alpha=None,
            out_fmt=out_fmt,
            options=opts,
            model=s.model,
        )
        self.ask, self.pending = ask, (doc, lineart, native, req, s.compose_lines)
        endpoint = _endpoint(client, s)
        self.job = Job(lambda report: request.run(req, endpoint, client.colorize, report, rules)).start()
        self._say("Colouring the draft…" if ask.kind == DRAFT else "Refining…", "working")

    def _collect(self) -> None:
        job, ask, (doc, lineart, native, req, drawn_in) = self.job, self.ask, self.pending
        self.job = None
        state, value = job.outcome()
        fresh = self.live.answered(ask, time.monotonic(), ok=state == "ok")
        self.facts["dropped"] = self.live.dropped
        if state == "error":
            self.applying = False
            return self._say(str(value) or type(value).__name__, "error", error=True)
        if not fresh or doc.rootNode() is None:
            return
        if not (self.live_check.isChecked() or self.applying):
            # Live was turned off or the preview discarded while this answer was on its way:
            # showing it would bring a discarded preview layer back
            return
        self._show(doc, lineart, native, req, value, drawn_in)
        self.facts["updates"] += 1
        self.facts["last_kind"] = ask.kind
        what = "Draft" if ask.kind == DRAFT else "Full result"
        self._say(" ".join(filter(None, (f"{what} shown ({job.elapsed:.1f} s).", self.note))), "shown")

    def _show(self, doc, lineart, native, req, result, drawn_in) -> None:
        node = self._preview_node(doc)
        a = req.area
        if node is None:
            _, rules = _vendored()
            discards = self.discards
            place = rules.place_result(result.lineart_opaque, kritaio.is_lowest(lineart), drawn_in)
            node = kritaio.add_result_layer(
                Krita.instance(),
                doc,
                lineart,
                result.data,
                native,
                a,
                place.above,
                place.multiply,
                PREVIEW_NAME,
            )
            if discards != self.discards:
                # Discard ran while Krita inserted the layer (its wait can run the event loop):
                # the preview it meant to remove is this one
                node.remove()
                doc.refreshProjection()
                return
            self.preview_id, self.preview_doc = node.uniqueId(), doc
            self._layers = []  # re-list: the new layer is not an input
        else:
            node.setPixelData(result.data, a.x, a.y, a.width, a.height)
            doc.refreshProjection()

    def _preview_node(self, doc):
        if self.preview_id is None or doc.rootNode() is None:
            return None
        for n in kritaio.all_layers(doc):
            if n.uniqueId() == self.preview_id:
                return n
        self.preview_id = self.preview_doc = None  # deleted by the artist
        return None

    # -- apply / discard

    def apply(self) -> None:
        doc = self.preview_doc
        if doc is None or self._preview_node(doc) is None:
            return self._say("Nothing to apply yet: turn Live on.", "error", error=True)
        self.applying = True
        self._say("Finishing the full result…", "working")

    def _finish_apply(self) -> None:
        doc = self.preview_doc
        node = self._preview_node(doc)
        self.applying = False
        self.live_check.setChecked(False)
        if node is not None:
            node.setName(RESULT_LAYER_NAME)
        self.preview_id = self.preview_doc = None
        self.live.forget()
        self._layers = []
        self._say(f'Applied: the layer "{RESULT_LAYER_NAME}" is yours (one undo removes it).', "applied")

    def discard(self) -> None:
        self.discards += 1
        self.applying = False
        self.live_check.setChecked(False)
        doc = self.preview_doc or Krita.instance().activeDocument()
        found = {}
        if doc is not None and doc.rootNode() is not None:
            # the tracked preview, and any preview layer this docker lost track of (the name is
            # ours; Apply renames the layer it keeps)
            tracked = self._preview_node(doc)
            named = [n for n in kritaio.all_layers(doc) if n.name() == PREVIEW_NAME]
            found = {kritaio.layer_key(n): n for n in named + ([tracked] if tracked else [])}
        for node in found.values():
            node.remove()  # Node.remove is one undoable step and waits for it
        if found:
            doc.refreshProjection()
        self.preview_id = self.preview_doc = None
        self.live.forget()
        self._layers = []
        self._say("Preview discarded.", "discarded")


def _no_hints_choice() -> str:
    try:
        return _vendored()[1].NO_HINTS_CHOICE
    except PlanError:  # shown when Live starts
        return "(none)"


def _endpoint(client, s: Settings):
    def endpoint(report):
        if s.mode == "remote":
            report(f"Connecting to {s.url}…")
            return s.url.rstrip("/"), s.token or None
        report("Starting the Inkhue engine on this computer…")
        config = client.load_plugin_config()
        return client.endpoint_for(client.PluginConfig(inkhue=config.inkhue, mode="local"))

    return endpoint
