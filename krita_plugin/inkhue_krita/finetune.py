"""Filter > AI Colorize: Fine-tune on My Style and Stop Fine-tune, and the model picker of the
dialog and the docker.

The job itself is the vendored ``finetune_job`` (shared with the GIMP plug-in): it trains in a
process of its own, detached from Krita, on the pairs "Learn from This Document" saved. Nothing
here waits for it: starting returns at once, and a ``Watch`` (a QTimer reading the job's small
status file once a second) reports its progress and its end: in the docker's fine-tune line, and
as a floating message on the canvas when it ends. A model the job kept appears in the pickers.
Stopping (the menu action, or the docker's Stop button beside the fine-tune line, enabled while a
job runs) ends the job's process; nothing is written, and the line says it was stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .qt import QTimer, QtWidgets

log = logging.getLogger(__name__)

POLL_MS = 1000
STOP_WAIT_S = 5.0  # how long a stop waits for the job to end before killing it
DEFAULT_ENTRY = ("", "Default model")  # the server's own model, when the vendored files are missing


def _vendored():
    """(client, finetune_job): imported late so a broken install still loads the plug-in."""
    from .vendor import client, finetune_job

    return client, finetune_job


def model_entries() -> list[tuple[str, str]]:
    """(value, label) of the models to offer, the default first ("": the server's own)."""
    try:
        client, job = _vendored()
        return job.list_models(client.load_plugin_config().inkhue)
    except Exception as e:  # a picker never stops the dialog: the default model still works
        log.warning("cannot list the installed models: %s", e)
        return [DEFAULT_ENTRY]


def fill_models(combo, entries: list[tuple[str, str]], chosen: str) -> None:
    """Put ``entries`` in ``combo``, selecting ``chosen`` (the default when it is gone)."""
    combo.blockSignals(True)
    combo.clear()
    for value, label in entries:
        combo.addItem(label, value)
    combo.setCurrentIndex(max(0, combo.findData(chosen)))
    combo.blockSignals(False)


def chosen_model(combo) -> str:
    return str(combo.currentData() or "")


def start() -> str:
    """Start the fine-tune; returns what to tell the artist. Raises ``finetune_job.JobError`` (a
    job already runs, too few pairs, no engine) or ``client.EngineError`` (unreadable settings)."""
    client, job = _vendored()
    config = client.load_plugin_config()
    status = job.start(config.inkhue, job.FinetuneSettings.from_mapping(config.finetune))
    return (
        f"Fine-tuning on the {status['pairs']} pictures in {status['style']}, in the background "
        "(you can keep working). Progress: Settings > Dockers > AI Colorize."
    )


def stop() -> str:
    """Stop the running fine-tune; returns what to tell the artist (also when none runs). Raises
    ``finetune_job.JobError`` when its process cannot be stopped."""
    _, job = _vendored()
    return job.stop(wait_s=STOP_WAIT_S)[1]


class Watch:
    """Reads the job's status every ``POLL_MS``; calls ``on_change(status, text)`` when what it
    says changes (status None: no job ever ran). ``stop_when_done``: stop at the job's end."""

    def __init__(self, on_change: Callable[[dict | None, str], None], stop_when_done: bool = False) -> None:
        self.on_change, self.stop_when_done = on_change, stop_when_done
        self.text, self.status = "", None  # what it said last, and the status it read last
        self.timer = QTimer()
        self.timer.timeout.connect(self.tick)
        self.timer.start(POLL_MS)

    def tick(self) -> None:
        try:
            _, job = _vendored()
            status = job.read()
            text = job.describe(status)
        except Exception as e:  # never an exception into Krita's event loop
            log.warning("cannot read the fine-tune's status: %s", e)
            return
        self.status = status
        if text != self.text:
            self.text = text
            self.on_change(status, text)
        if self.stop_when_done and status is not None and not status["running"]:
            self.timer.stop()


class ModelPanel:
    """The docker's rows: the model picker, and the fine-tune's line with its Stop button (shown
    once a job ran; Stop enabled while it runs)."""

    def __init__(self, form, parent, read: Callable[[str], str], write: Callable[[str, str], None]) -> None:
        self.read, self.write = read, write
        self.combo = QtWidgets.QComboBox(parent)
        self.combo.setObjectName("inkhue_docker_model")
        self.line = QtWidgets.QLabel("", parent)
        self.line.setObjectName("inkhue_finetune_status")
        self.line.setWordWrap(True)
        self.stop_button = QtWidgets.QPushButton("Stop", parent)
        self.stop_button.setObjectName("inkhue_finetune_stop_button")
        self.stop_button.setToolTip("Stop the fine-tune (no model is written)")
        self.stop_button.setEnabled(False)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.line, 1)
        row.addWidget(self.stop_button)
        for w in (self.line, self.stop_button):
            w.setVisible(False)
        form.addRow("Model", self.combo)
        form.addRow(row)
        self.refresh()
        self.combo.activated.connect(lambda *_: self.write("model", self.model()))
        self.stop_button.clicked.connect(self._stop_clicked)
        self.watch = Watch(self._changed)

    def model(self) -> str:
        return chosen_model(self.combo)

    def refresh(self) -> None:
        fill_models(self.combo, model_entries(), self.read("model"))

    def _stop_clicked(self) -> None:
        """The Stop button: stop the job; the line says how that went (never a message box)."""
        self.stop_button.setEnabled(False)  # one click, one stop
        try:
            text = stop()
        except Exception as e:  # never an exception into Krita's event loop
            log.warning("cannot stop the fine-tune: %s", e)
            text = f"Cannot stop the fine-tune: {e}"
        self.watch.tick()  # the status file's word first, then what the stop said
        self.line.setText(text)
        status = self.watch.status
        self.stop_button.setEnabled(status is not None and bool(status.get("running")))

    def _changed(self, status: dict | None, text: str) -> None:
        self.line.setText(text if status is not None else "")
        for w in (self.line, self.stop_button):
            w.setVisible(status is not None)
        self.stop_button.setEnabled(status is not None and bool(status.get("running")))
        if status is not None and status.get("phase") == "done" and status.get("kept"):
            self.refresh()  # the new model is selectable now
