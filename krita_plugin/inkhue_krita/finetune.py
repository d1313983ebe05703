"""Filter > AI Colorize: Fine-tune on My Style, and the model picker of the dialog and the docker.

The job itself is the vendored ``finetune_job`` (shared with the GIMP plug-in): it trains in a
process of its own, detached from Krita, on the pairs "Learn from This Document" saved. Nothing
here waits for it: starting returns at once, and a ``Watch`` (a QTimer reading the job's small
status file once a second) reports its progress and its end: in the docker's fine-tune line, and
as a floating message on the canvas when it ends. A model the job kept appears in the pickers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .qt import QTimer, QtWidgets

log = logging.getLogger(__name__)

POLL_MS = 1000
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


class Watch:
    """Reads the job's status every ``POLL_MS``; calls ``on_change(status, text)`` when what it
    says changes (status None: no job ever ran). ``stop_when_done``: stop at the job's end."""

    def __init__(self, on_change: Callable[[dict | None, str], None], stop_when_done: bool = False) -> None:
        self.on_change, self.stop_when_done = on_change, stop_when_done
        self.text = ""
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
        if text != self.text:
            self.text = text
            self.on_change(status, text)
        if self.stop_when_done and status is not None and not status["running"]:
            self.timer.stop()


class ModelPanel:
    """The docker's rows: the model picker, and the fine-tune's line (shown once a job ran)."""

    def __init__(self, form, parent, read: Callable[[str], str], write: Callable[[str, str], None]) -> None:
        self.read, self.write = read, write
        self.combo = QtWidgets.QComboBox(parent)
        self.combo.setObjectName("inkhue_docker_model")
        self.line = QtWidgets.QLabel("", parent)
        self.line.setObjectName("inkhue_finetune_status")
        self.line.setWordWrap(True)
        self.line.setVisible(False)
        form.addRow("Model", self.combo)
        form.addRow(self.line)
        self.refresh()
        self.combo.activated.connect(lambda *_: self.write("model", self.model()))
        self.watch = Watch(self._changed)

    def model(self) -> str:
        return chosen_model(self.combo)

    def refresh(self) -> None:
        fill_models(self.combo, model_entries(), self.read("model"))

    def _changed(self, status: dict | None, text: str) -> None:
        self.line.setText(text if status is not None else "")
        self.line.setVisible(status is not None)
        if status is not None and status.get("phase") == "done" and status.get("kept"):
            self.refresh()  # the new model is selectable now
