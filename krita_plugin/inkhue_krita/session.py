"""One Filter > AI Colorize run: dialog, layer reading, background request, new layer or message.

Everything touching Krita runs on the GUI thread; the request runs in a ``job.Job`` polled by a
QTimer, so Krita keeps painting and answering while the engine works. The document is changed only
at the very end, by one ``addChildNode``; errors and Cancel leave it exactly as it was. Which
layers to pre-select, what to refuse and where the result goes follow ``vendor/layer_rules.py``,
the rules the GIMP plug-in follows too.
"""

from __future__ import annotations

import logging
import os
import time

from . import finetune, kritaio, request
from .dialog import ColorizeDialog
from .job import Job
from .pixels import FormatError, is_blank_raw
from .planning import PlanError, Rect, Settings, check_area, work_area
from .qt import QIcon, Qt, QTimer, QtWidgets, accepted, enum, exec_dialog

QMessageBox, QProgressDialog = QtWidgets.QMessageBox, QtWidgets.QProgressDialog

log = logging.getLogger(__name__)

TITLE = "AI Colorize"
SETTINGS_GROUP = "inkhue_krita"
POLL_MS = 50
NOTE_MS = 8000  # how long the note about the result's placement stays on the canvas
# What the last run ended with, for tests and bug reports: state is "done", "error", "cancelled"
LAST_OUTCOME: dict = {}


def _vendored():
    """The vendored engine client and layer rules, imported late so vendored files from another
    version are reported with the fix (``vendorcheck``); a missing ``vendor/`` already stops the
    plug-in loading with that message (``__init__.py``)."""
    try:
        from .vendor import client, layer_rules
    except ImportError as e:
        from .vendorcheck import vendor_problem

        raise PlanError(vendor_problem(os.path.dirname(os.path.abspath(__file__)), e)) from None
    return client, layer_rules


def colour_space_note(model: str) -> str:
    """What to tell the artist when the result cannot be in the document's own colours."""
    name = {"CMYKA": "CMYK", "LABA": "L*a*b*", "GRAYA": "grayscale"}.get(model, "")
    what = f"This image is {name}" if name else "This image uses an RGB profile other than sRGB"
    return f"{what}: the new layer is made in RGB (sRGB); Krita converts it for display and export."


class Session:
    def __init__(self, app, qwindow, on_end=None) -> None:
        self.app = app
        self.qwindow = qwindow
        self.on_end = on_end
        self.client = None  # the vendored engine client module, once imported
        self.rules = None  # the vendored layer_rules module
        self.job: Job | None = None
        self._pending: tuple | None = None  # (doc, line-art id, native format?, request, lines drawn in?)
        self.timer: QTimer | None = None
        self.progress: QProgressDialog | None = None
        self._t0 = time.monotonic()

    # -- outcome

    def _end(self, state: str, message: str = "", layer: str = "", **facts) -> None:
        LAST_OUTCOME.clear()
        LAST_OUTCOME.update(state=state, message=message, layer=layer, seconds=time.monotonic() - self._t0)
        LAST_OUTCOME.update(facts)
        log.info("AI Colorize %s %s", state, message)
        if state == "error":
            QMessageBox.warning(self.qwindow, TITLE, message)
        if self.on_end:
            self.on_end(self)

    # -- step 1: choices (GUI thread)

    def start(self) -> None:
        try:
            self._start()
        except (PlanError, FormatError) as e:
            self._end("error", str(e))
        except Exception as e:  # Krita must never see an exception from a menu action
            log.exception("AI Colorize failed")
            self._end("error", f"AI Colorize failed unexpectedly: {e}")

    def _start(self) -> None:
        client, rules = self.client, self.rules = _vendored()
        doc = self.app.activeDocument()
        if doc is None:
            raise PlanError("Open an image first: AI Colorize works on the active document.")
        layers = kritaio.all_layers(doc)
        if not layers:
            raise PlanError("The image has no layers to colour. Draw or open your line art first.")
        try:
            config = client.load_plugin_config()
        except client.EngineError as e:
            raise PlanError(str(e)) from None

        def read(key: str, default: str) -> str:
            return self.app.readSetting(SETTINGS_GROUP, key, default)

        settings = Settings.load(read, config.mode, config.url or "", config.token or "")
        infos = kritaio.layer_infos(rules, layers)
        nodes = dict(zip((i.key for i in infos), layers, strict=True))
        active = doc.activeNode()
        line_guess, hint_guess = rules.guess_layers(
            infos, active and kritaio.layer_key(active), settings.hint_layer
        )

        canvas = Rect(0, 0, doc.width(), doc.height())
        selection = kritaio.selection_rect(doc)
        area = work_area(canvas, selection)
        where = request.where(selection is not None)
        notes = [f"Only the selection ({area.width}x{area.height} pixels) is coloured."] if selection else []
        out_fmt, native = kritaio.result_format(doc)
        if not native:
            notes.append(colour_space_note(doc.colorModel()))

        coverage = kritaio.selection_alpha(doc, area) if selection else None

        def hints_blank(info) -> bool:
            return is_blank_raw(*kritaio.read_raw(nodes[info.key], area), coverage)

        dialog = ColorizeDialog(
            self.qwindow,
            rules,
            infos,
            line_guess,
            hint_guess,
            settings,
            config.inkhue,
            hints_blank,
            where,
            tuple(notes),
            tuple(finetune.model_entries()),
        )
        try:
            if exec_dialog(dialog) != accepted():
                return self._end("cancelled", "dialog closed")
            settings = dialog.settings()
            chosen = dialog.hints()  # None: "(none: AI suggests tones)"
            lineart, hints = nodes[dialog.lineart().key], chosen and nodes[chosen.key]
        finally:
            dialog.deleteLater()  # parented to Krita's window: would pile up there otherwise
        settings.save(lambda key, value: self.app.writeSetting(SETTINGS_GROUP, key, value))
        check_area(area, settings.max_megapixels, selection is not None)

        line_raw, line_fmt = kritaio.read_layer(self.app, lineart, area)
        hint_layer = None  # no hint layer: the request sends fully transparent hints
        if hints is not None:
            hint_layer = request.Layer(hints.name(), *kritaio.read_layer(self.app, hints, area))
        req = request.Request(
            lineart=request.Layer(lineart.name(), line_raw, line_fmt),
            hints=hint_layer,
            area=area,
            selected=selection is not None,
            selection_alpha=coverage,
            out_fmt=out_fmt,
            options=settings.engine_options(),
            split=settings.split,
            model=settings.model,
        )
        self._pending = (doc, lineart.uniqueId(), native, req, settings.compose_lines)
        self._launch(config, settings, req)

    # -- step 2: the request (worker thread), polled

    def _launch(self, config, settings: Settings, req: request.Request) -> None:
        client = self.client

        def endpoint(report):
            if settings.mode == "remote":
                report(f"Connecting to {settings.url}…")
                return settings.url.rstrip("/"), settings.token or None
            report("Starting the Inkhue engine on this computer…")
            return client.endpoint_for(client.PluginConfig(inkhue=config.inkhue, mode="local"))

        rules = self.rules
        self.job = Job(lambda report: request.run(req, endpoint, client.colorize, report, rules)).start()
        self.progress = QProgressDialog("Colorizing…", "Cancel", 0, 0, self.qwindow)
        self.progress.setObjectName("inkhue_progress")
        self.progress.setWindowTitle(TITLE)
        self.progress.setWindowModality(enum(Qt, "WindowModality", "WindowModal"))
        self.progress.setMinimumDuration(0)
        self.progress.setAutoClose(False)
        self.progress.setAutoReset(False)
        self.progress.show()
        self.timer = QTimer()
        self.timer.timeout.connect(self._poll)
        self.timer.start(POLL_MS)

    def _poll(self) -> None:
        job = self.job
        if self.progress.wasCanceled():
            job.cancel()
        else:
            self.progress.setLabelText(f"{job.status} ({job.elapsed:.0f} s)")
        if not job.done():
            return
        self.timer.stop()
        self.progress.close()
        self.progress.deleteLater()
        state, value = job.outcome()
        if state == "cancelled":
            return self._end("cancelled", "cancelled while the engine worked; nothing was changed")
        try:
            if state == "error":
                raise value
            self._finish(value)
        except (PlanError, FormatError) as e:
            self._end("error", str(e))
        except self.client.EngineError as e:
            self._end("error", f"{e}\n\nNothing was changed.")
        except Exception as e:
            log.exception("AI Colorize failed")
            self._end("error", f"AI Colorize failed unexpectedly: {e}\n\nNothing was changed.")

    # -- step 3: the new layer (GUI thread)

    def _finish(self, result: request.Result) -> None:
        doc, lineart_id, native, req, drawn_in = self._pending
        if doc.rootNode() is None:  # the document wrapper outlives a closed image
            raise PlanError("The image was closed while the engine worked; nothing was added.")
        lineart = kritaio.find_node(doc, lineart_id)
        if lineart is None:
            raise PlanError("The line-art layer was deleted while the engine worked; nothing was added.")
        drawn_in = drawn_in and not req.split  # a group of flat colours never has the lines
        place = self.rules.place_result(result.lineart_opaque, kritaio.is_lowest(lineart), drawn_in)
        t0 = time.monotonic()
        if req.split:
            if not result.pieces:
                raise PlanError("The engine painted no flat colour, so there is no layer to add.")
            node = kritaio.add_result_group(
                self.app, doc, lineart, result.pieces, req.out_fmt, place.above, place.multiply
            )
        else:
            node = kritaio.add_result_layer(
                self.app, doc, lineart, result.data, native, req.area, place.above, place.multiply
            )
        add_seconds = time.monotonic() - t0  # the GUI thread's share: Krita is busy meanwhile
        # The hint layer stays visible: Krita's setVisible is no undo step, so hiding it would
        # outlive an undo of the result (see README).
        if place.reason:
            self._note(place.reason)
        where = "above" if place.above else "below"
        self._end(
            "done",
            f"added {where} {lineart.name()!r}",
            node.name(),
            above=place.above,
            blending=node.blendingMode(),
            reason=place.reason,
            layers=[p.name for p in result.pieces],
            split_seconds=result.split_seconds,
            add_seconds=add_seconds,
        )

    def _note(self, text: str) -> None:
        """A message that fades from the canvas by itself (no box to close)."""
        window = self.app.activeWindow()
        view = window.activeView() if window is not None else None
        if view is not None:
            view.showFloatingMessage(text, QIcon(), NOTE_MS, 1)
