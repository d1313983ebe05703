"""The Krita extension: registers Filter > AI Colorize… and runs one session at a time."""

from __future__ import annotations

from krita import Extension, Krita

from .qt import QtWidgets
from .session import TITLE, Session

ACTION_ID = "inkhue_ai_colorize"  # text, shortcut and activation flags: inkhue_krita.action
MENU = "filter"  # object name of the Filter menu in Krita's menu bar


class InkhueExtension(Extension):
    def __init__(self, parent) -> None:
        super().__init__(parent)
        self.session: Session | None = None

    def setup(self) -> None:
        pass

    def createActions(self, window) -> None:
        action = window.createAction(ACTION_ID, "AI Colorize…", MENU)
        action.triggered.connect(self.colorize)

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
