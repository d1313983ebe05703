"""Helpers for scripts that run inside Krita under the test harness (no pytest here).

``ModalDriver`` answers modal windows the way a user would: it fills in and accepts the AI Colorize
dialog from a plan, reads and closes message boxes, and presses Cancel on the progress dialog when
told to. It runs on a repeating timer, which Qt also fires inside a modal dialog's event loop.
"""

import json
import os
import time

from inkhue_krita.qt import QTimer, QtWidgets, enum  # the installed plug-in's PyQt5/PyQt6 layer
from krita import Krita

QApplication, QDialogButtonBox = QtWidgets.QApplication, QtWidgets.QDialogButtonBox
QGroupBox, QLabel, QMessageBox = QtWidgets.QGroupBox, QtWidgets.QLabel, QtWidgets.QMessageBox
OK_BUTTON = enum(QDialogButtonBox, "StandardButton", "Ok")

OUT = os.environ.get("INKHUE_KRITA_OUT", ".")
INPUT = os.environ.get("INKHUE_KRITA_INPUT", ".")
ACTION_ID = "inkhue_ai_colorize"


def save_result(res):
    with open(os.path.join(OUT, "result.json"), "w", encoding="utf-8") as f:
        json.dump(res, f, indent=1, default=str)


def save_bytes(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(bytes(data))
    return name


def load_input(name):
    with open(os.path.join(INPUT, name), "rb") as f:
        return f.read()


def scenario():
    with open(os.path.join(INPUT, "scenario.json"), encoding="utf-8") as f:
        return json.load(f)


def rgba_to_bgra(rgba):
    out = bytearray(rgba)
    out[0::4], out[2::4] = rgba[2::4], rgba[0::4]
    return bytes(out)


def filter_menu_action(action_id=ACTION_ID):
    """One of the plug-in's QActions (AI Colorize… unless told) as it sits in the Filter menu."""
    menubar = Krita.instance().activeWindow().qwindow().menuBar()
    menus = [a.menu() for a in menubar.actions() if a.objectName().lower() == "filter" and a.menu()]
    if not menus:
        raise AssertionError("no Filter menu in the menu bar")
    for action in menus[0].actions():
        if action.objectName() == action_id:
            return action
    names = [a.objectName() for a in menus[0].actions()]
    raise AssertionError(f"{action_id} is not in the Filter menu: {names!r}")


def add_layer(doc, name, rgba, x=0, y=0, width=None, height=None, above=None):
    """A paint layer holding 8-bit RGBA ``rgba`` (RGBA U8 documents) at (x, y)."""
    node = doc.createNode(name, "paintlayer")
    node.setPixelData(rgba_to_bgra(rgba), x, y, width or doc.width(), height or doc.height())
    doc.rootNode().addChildNode(node, above)
    doc.waitForDone()
    return node


def style_picture(prefix, w, h):
    """A document from the test's raw layers ``PREFIX_NAME.rgba``, as the fine-tune tests learn
    from: Background, Flats, a hidden Sketch, Lines, Hints (krita_finetune.prepare writes them)."""
    app = Krita.instance()
    doc = app.createDocument(w, h, f"picture {prefix}", "RGBA", "U8", "", 72.0)
    doc.setBatchmode(True)
    app.activeWindow().addView(doc)
    doc.nodeByName("Background").setPixelData(
        rgba_to_bgra(load_input(f"{prefix}_Background.rgba")), 0, 0, w, h
    )
    for name in ("Flats", "Sketch", "Lines", "Hints"):
        node = add_layer(doc, name, load_input(f"{prefix}_{name}.rgba"))
        if name == "Sketch":
            node.setVisible(False)
    return doc


def layer_state(node, margin=16):
    """Everything about a layer that must survive AI Colorize untouched."""
    b = node.bounds()
    x, y, w, h = b.x() - margin, b.y() - margin, b.width() + 2 * margin, b.height() + 2 * margin
    return {
        "name": node.name(),
        "type": node.type(),
        "rect": [x, y, w, h],
        "pixels": bytes(node.pixelData(x, y, w, h)).hex() if node.type() == "paintlayer" else "",
        "opacity": node.opacity(),
        "visible": node.visible(),
        "blending": node.blendingMode(),
        "locked": node.locked(),
        "position": [node.position().x(), node.position().y()],
        "format": [node.colorModel(), node.colorDepth(), node.colorProfile()],
    }


def doc_state(doc):
    return [layer_state(n) for n in doc.rootNode().childNodes()]


def layer_names(doc):
    """Top-level layers, bottom to top (the global selection's mask is not a layer)."""
    return [n.name() for n in doc.rootNode().childNodes() if n.type() != "selectionmask"]


def outcome():
    import inkhue_krita.session as session  # the installed plug-in's own module

    return dict(session.LAST_OUTCOME)


def reset_outcome():
    import inkhue_krita.session as session

    session.LAST_OUTCOME.clear()


_OPTION_WIDGETS = ("per_colour_check", "compose_check", "transparent_check", "gap_spin")


def _choice_state(dlg):
    return {
        "lineart": dlg.lineart_combo.currentText(),
        "hints": dlg.hints_combo.currentText(),
        "note": dlg.hints_note.text() if dlg.hints_note.isVisibleTo(dlg) else "",
        "problem": dlg.problem.text() if dlg.problem.isVisibleTo(dlg) else "",
        "ok_enabled": dlg.buttons.button(OK_BUTTON).isEnabled(),
    }


class ModalDriver:
    """Answers modal windows from a plan; records what it saw."""

    def __init__(self):
        self.plan = None  # dict for the next AI Colorize dialog, or "reject"
        self.cancel_progress = False
        self.seen = []  # (kind, details) in order
        self.ticks = 0
        self.progress_seen = []  # label texts while a request was running
        self.timer = QTimer()
        self.timer.timeout.connect(self._tick)
        self.timer.start(40)

    def _tick(self):
        self.ticks += 1
        w = QApplication.activeModalWidget()
        if w is None:
            return
        name = w.objectName()
        if name == "inkhue_colorize_dialog":
            self._answer_dialog(w)
        elif isinstance(w, QMessageBox):
            self.seen.append(("message", w.text()))
            w.accept()
        elif name == "inkhue_progress":
            self.progress_seen.append(w.labelText())
            if self.cancel_progress:
                self.cancel_progress = False
                w.cancel()

    def _answer_dialog(self, dlg):
        defaults = {
            "lineart": dlg.lineart_combo.currentText(),
            "hints": dlg.hints_combo.currentText(),
            "problem": dlg.problem.text() if dlg.problem.isVisibleTo(dlg) else "",
            "note": dlg.hints_note.text() if dlg.hints_note.isVisibleTo(dlg) else "",
            "hint_choices": [dlg.hints_combo.itemText(i) for i in range(dlg.hints_combo.count())],
            "ok_enabled": dlg.buttons.button(OK_BUTTON).isEnabled(),
            "notes": [w.text() for w in dlg.findChildren(QLabel, "inkhue_note")],
            "mode": "remote" if dlg.remote_radio.isChecked() else "local",
            "url": dlg.url_edit.text(),
            "compose": dlg.compose_check.isChecked(),
            "limit": dlg.limit_spin.value(),
            "limit_text": dlg.limit_spin.text(),
            "working_size": dlg.size_combo.currentText(),
            "working_sizes": [dlg.size_combo.itemText(i) for i in range(dlg.size_combo.count())],
            "method": dlg.method_combo.currentText(),
            "methods": [dlg.method_combo.itemText(i) for i in range(dlg.method_combo.count())],
            "per_colour": dlg.per_colour_check.isChecked(),
            "per_colour_enabled": dlg.per_colour_check.isEnabled(),
            "transparent": dlg.transparent_check.isChecked(),
            "transparent_text": dlg.transparent_check.text(),
            "gap_text": dlg.gap_spin.text(),
            "labels": [w.text() for w in dlg.findChildren(QLabel)],
            "groups": [w.title() for w in dlg.findChildren(QGroupBox)],
            "models": [dlg.model_combo.itemText(i) for i in range(dlg.model_combo.count())],
            "model": dlg.model_combo.currentData(),
        }
        self.seen.append(("dialog", defaults))
        plan, self.plan = self.plan, None
        if plan is None or plan == "reject":
            dlg.reject()
            return
        if "lineart" in plan:
            dlg.lineart_combo.setCurrentIndex(dlg.lineart_combo.findText(plan["lineart"]))
        if "hints" in plan:
            dlg.hints_combo.setCurrentIndex(dlg.hints_combo.findText(plan["hints"]))
        if plan.get("mode") == "remote":
            dlg.remote_radio.setChecked(True)
            dlg.url_edit.setText(plan["url"])
            dlg.token_edit.setText(plan.get("token", ""))
        elif plan.get("mode") == "local":
            dlg.local_radio.setChecked(True)
        if "limit" in plan:
            dlg.limit_spin.setValue(plan["limit"])
        if "compose" in plan:
            dlg.compose_check.setChecked(plan["compose"])
        if "method" in plan:  # "ai" or "flats"
            dlg.method_combo.setCurrentIndex(dlg.method_combo.findData(plan["method"]))
        if "per_colour" in plan:
            dlg.per_colour_check.setChecked(plan["per_colour"])
        if "transparent" in plan:
            dlg.transparent_check.setChecked(plan["transparent"])
        if "gap" in plan:
            dlg.gap_spin.setValue(plan["gap"])
        if "model" in plan:  # an installed model's name, "" for the default
            dlg.model_combo.setCurrentIndex(dlg.model_combo.findData(plan["model"]))
        self.seen.append(("filled", _choice_state(dlg)))  # what the dialog says about the choice
        self.seen.append(("enabled", {k: getattr(dlg, k).isEnabled() for k in _OPTION_WIDGETS}))
        checked = {"compose": dlg.compose_check.isChecked(), "transparent": dlg.transparent_check.isChecked()}
        self.seen.append(("checked", checked))
        dlg.accept()
        if dlg.isVisible():  # the dialog refused the choice: record why, then close it like a user
            self.seen.append(("refused", dlg.problem.text()))
            dlg.reject()

    def messages(self):
        return [d for kind, d in self.seen if kind == "message"]

    def dialogs(self):
        return [d for kind, d in self.seen if kind == "dialog"]

    def enabled(self):
        """Which option widgets were enabled once each accepted plan was filled in."""
        return [d for kind, d in self.seen if kind == "enabled"]

    def checked(self):
        """What the two check boxes showed once each accepted plan was filled in."""
        return [d for kind, d in self.seen if kind == "checked"]

    def filled(self):
        """The hint choice and what the dialog said about it, once each plan was filled in."""
        return [d for kind, d in self.seen if kind == "filled"]

    def refusals(self):
        return [d for kind, d in self.seen if kind == "refused"]


def colorize(driver, plan, timeout=90.0):
    """Pick Filter > AI Colorize… with the dialog answered by ``plan``; a generator for steps():
    yields to the event loop until the run ended, then the outcome is in ``outcome()``."""
    reset_outcome()
    driver.plan = plan
    filter_menu_action().trigger()  # returns once the dialog is answered; the request runs on
    yield from wait_outcome(timeout)


def wait_outcome(timeout=90.0):
    """Yield to the event loop until the run has ended and its message box (if any) was answered:
    the outcome is recorded just before the box opens, and this script's own timer also fires
    inside the box's event loop."""
    deadline = time.monotonic() + timeout
    while (not outcome() or QApplication.activeModalWidget() is not None) and time.monotonic() < deadline:
        yield 50
    if not outcome():
        raise AssertionError(f"AI Colorize did not finish within {timeout:g} s")
