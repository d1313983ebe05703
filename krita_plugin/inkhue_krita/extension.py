"""The Krita extension: registers Filter > AI Colorize… (one session at a time), Filter > AI
Colorize: Learn from This Document (``learn.py``), Filter > AI Colorize: Fine-tune on My Style
(``finetune.py``: a background job; its end is announced on the canvas) and Filter > AI Colorize:
Stop Fine-tune (it says what it did on the canvas, also when no job runs)."""

from __future__ import annotations

from krita import Extension, Krita

from .qt import QtWidgets
from .session import TITLE, Session

ACTION_ID = "inkhue_ai_colorize"  # text, shortcut and activation flags: inkhue_krita.action
LEARN_ID = "inkhue_learn_document"
FINETUNE_ID = "inkhue_finetune_style"
STOP_ID = "inkhue_finetune_stop"
MENU = "filter"  # object name of the Filter menu in Krita's menu bar


class InkhueExtension(Extension):
    def __init__(self, parent) -> None:
        super().__init__(parent)
        self.session: Session | None = None
        self.last_message = ""  # the last thing Learn or Fine-tune said on the canvas (tests read it)
        self.watch = None  # finetune.Watch of the job this window started, until it ends

    def setup(self) -> None:
        pass

    def createActions(self, window) -> None:
        action = window.createAction(ACTION_ID, "AI Colorize…", MENU)
        action.triggered.connect(self.colorize)
        learn = window.createAction(LEARN_ID, "AI Colorize: Learn from This Document", MENU)
        learn.triggered.connect(self.learn)
        tune = window.createAction(FINETUNE_ID, "AI Colorize: Fine-tune on My Style", MENU)
        tune.triggered.connect(self.finetune)
        stop = window.createAction(STOP_ID, "AI Colorize: Stop Fine-tune", MENU)
        stop.triggered.connect(self.stop_finetune)

    def _job(self, act) -> bool:
        """Say on the canvas what ``act()`` (start or stop the fine-tune) answers, or why it could not
        run (no vendored engine files, a job error); True when it ran."""
        import os

        window = Krita.instance().activeWindow()
        try:
            from .vendor import client, finetune_job
        except ImportError as e:
            from .vendorcheck import vendor_problem

            self._say(window, vendor_problem(os.path.dirname(__file__), e))
            return False
        try:
            self._say(window, act())
        except (finetune_job.JobError, client.EngineError, OSError) as e:
            self._say(window, str(e))
            return False
        return True

    def finetune(self) -> None:
        """Start the fine-tune in the background (never waits for it); say so, and later how it ended."""
        from . import finetune

        if not self._job(finetune.start):
            return

        def changed(status, text: str) -> None:
            if status is not None and not status["running"]:  # the end: done, failed or stopped
                self._say(Krita.instance().activeWindow(), text)

        self.watch = finetune.Watch(changed, stop_when_done=True)

    def stop_finetune(self) -> None:
        """Stop the running fine-tune; say so on the canvas (or that none runs)."""
        from . import finetune

        self._job(finetune.stop)

    def learn(self) -> None:
        """Save the active document's line art and colour as a training pair; say where."""
        import os

        from .learn import learn

        app = Krita.instance()
        window = app.activeWindow()
        doc = app.activeDocument()
        qwindow = window.qwindow() if window is not None else None
        if doc is None:
            QtWidgets.QMessageBox.information(qwindow, TITLE, "Open a document to learn from first.")
            return
        try:
            from .vendor import layer_rules, style_pairs
        except ImportError as e:
            from .vendorcheck import vendor_problem

            QtWidgets.QMessageBox.warning(qwindow, TITLE, vendor_problem(os.path.dirname(__file__), e))
            return
        try:
            lines_path, _ = learn(app, doc, layer_rules, style_pairs)
        except (layer_rules.LayerRuleError, OSError) as e:
            self._say(window, str(e))
            return
        folder = os.path.dirname(lines_path)
        self._say(window, style_pairs.saved_message(folder, style_pairs.count_pairs(folder)))

    def _say(self, window, text: str) -> None:
        """A floating message on the canvas (not modal: the artist keeps working)."""
        self.last_message = text
        view = window.activeView() if window is not None else None
        if view is not None:
            from .qt import QIcon

            view.showFloatingMessage(text, QIcon(), 8000, 1)

    def colorize(self) -> None:
        app = Krita.instance()
        window = app.activeWindow()
        qwindow = window.qwindow() if window is not None else None
        if self.session is not None:
            QtWidgets.QMessageBox.information(qwindow, TITLE, "AI Colorize is already working on an image.")
            return
        self.session = Session(app, qwindow, on_end=self._ended)
        self.session.start()

    def _ended(self, session: Session) -> None:
        if self.session is session:
            self.session = None
