"""One Filter > AI Colorize run: dialog, layer reading, background request, new layer or message.

Everything touching Krita runs on the GUI thread; the request runs in a ``job.Job`` polled by a
QTimer, so Krita keeps painting and answering while the engine works. The document is changed only
at the very end, by one ``addChildNode``; errors and Cancel leave it exactly as it was.
"""

from __future__ import annotations

import logging
import time

from PyQt5.QtCore import Qt, QTimer
from PyQt5.QtWidgets import QDialog, QMessageBox, QProgressDialog

from . import kritaio, request
from .dialog import ColorizeDialog
from .job import Job
from .pixels import FormatError
from .planning import PlanError, Rect, Settings, check_area, find_hint_layer, placement, work_area

log = logging.getLogger(__name__)

TITLE = "AI Colorize"
SETTINGS_GROUP = "inkhue_krita"
POLL_MS = 50
# What the last run ended with, for tests and bug reports: state is "done", "error", "cancelled"
LAST_OUTCOME: dict = {}


def _client():
    """The vendored engine client, imported late so a broken install still loads the plug-in."""
    try:
        from .vendor import client
    except ImportError as e:
        raise PlanError(
            "The Inkhue plug-in is installed without its engine client (the vendor folder is "
            f"missing: {e}). Reinstall Inkhue with its installer."
        ) from None
    return client


class Session:
    def __init__(self, app, qwindow, on_end=None) -> None:
        self.app = app
        self.qwindow = qwindow
        self.on_end = on_end
        self.client = None  # the vendored engine client module, once imported
        self.job: Job | None = None
        self._pending: tuple | None = None  # (doc, line-art id, native format?, request)
        self.timer: QTimer | None = None
        self.progress: QProgressDialog | None = None
        self._t0 = time.monotonic()

    # -- outcome

    def _end(self, state: str, message: str = "", layer: str = "") -> None:
        LAST_OUTCOME.clear()
        LAST_OUTCOME.update(state=state, message=message, layer=layer, seconds=time.monotonic() - self._t0)
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
        self.client = client = _client()
        doc = self.app.activeDocument()
        if doc is None:
            raise PlanError("Open an image first: AI Colorize works on the active document.")
        layers = kritaio.all_layers(doc)
        if not layers:
            raise PlanError("The image has no layers to colour. Draw or open your line art first.")
        names = [n.name() for n in layers]
        try:
            config = client.load_plugin_config()
        except client.EngineError as e:
            raise PlanError(str(e)) from None

        def read(key: str, default: str) -> str:
            return self.app.readSetting(SETTINGS_GROUP, key, default)

        settings = Settings.load(read, config.mode, config.url or "", config.token or "")

        hint_index = names.index(settings.hint_layer) if settings.hint_layer in names else None
        if hint_index is None:
            hint_index = find_hint_layer(names)
        active = doc.activeNode()
        line_index = next((i for i, n in enumerate(layers) if kritaio.same_node(n, active)), len(layers) - 1)
        if line_index == hint_index:  # the hints are active: the line art is most likely just below
            line_index = max(0, line_index - 1)

        canvas = Rect(0, 0, doc.width(), doc.height())
        selection = kritaio.selection_rect(doc)
        area = work_area(canvas, selection)
        note = f"Only the selection ({area.width}x{area.height} pixels) is coloured." if selection else ""

        dialog = ColorizeDialog(self.qwindow, names, line_index, hint_index, settings, config.inkhue, note)
        try:
            if dialog.exec_() != QDialog.Accepted:
                return self._end("cancelled", "dialog closed")
            settings = dialog.settings()
            line_i, hint_i = dialog.lineart_index(), dialog.hint_index()
        finally:
            dialog.deleteLater()  # parented to Krita's window: would pile up there otherwise
        settings.save(lambda key, value: self.app.writeSetting(SETTINGS_GROUP, key, value))
        lineart = layers[line_i]
        hints = None if hint_i is None else layers[hint_i]
        if hints is not None and kritaio.same_node(hints, lineart):
            raise PlanError("The line art and the hints must be two different layers.")
        check_area(area, settings.max_megapixels, selection is not None)

        line_raw, line_fmt = kritaio.read_raw(lineart, area)
        hints_layer = None
        if hints is not None:
            raw, fmt = kritaio.read_raw(hints, area)
            hints_layer = request.Layer(hints.name(), raw, fmt)
        out_fmt, native = kritaio.result_format(doc)
        req = request.Request(
            lineart=request.Layer(lineart.name(), line_raw, line_fmt),
            hints=hints_layer,
            area=area,
            selected=selection is not None,
            selection_alpha=kritaio.selection_alpha(doc, area) if selection else None,
            out_fmt=out_fmt,
            options=settings.engine_options(),
        )
        self._pending = (doc, lineart.uniqueId(), native, req)
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

        self.job = Job(lambda report: request.run(req, endpoint, client.colorize, report)).start()
        self.progress = QProgressDialog("Colorizing…", "Cancel", 0, 0, self.qwindow)
        self.progress.setObjectName("inkhue_progress")
        self.progress.setWindowTitle(TITLE)
        self.progress.setWindowModality(Qt.WindowModal)
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
        doc, lineart_id, native, req = self._pending
        if doc.rootNode() is None:  # the document wrapper outlives a closed image
            raise PlanError("The image was closed while the engine worked; nothing was added.")
        lineart = kritaio.find_node(doc, lineart_id)
        if lineart is None:
            raise PlanError("The line-art layer was deleted while the engine worked; nothing was added.")
        siblings = lineart.parentNode().childNodes()
        index = next(i for i, n in enumerate(siblings) if kritaio.same_node(n, lineart))
        where = placement(index, result.lineart_opaque)
        node = kritaio.add_result_layer(self.app, doc, lineart, result.data, native, req.area, where)
        self._end("done", f"added {where} {lineart.name()!r}", node.name())
