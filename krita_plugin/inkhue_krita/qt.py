"""PyQt5 (Krita 5) or PyQt6 (Krita 6): the one place the plug-in imports Qt from.

Krita's own Python module is built against one of them and has imported it before any plug-in
runs, so the binding already loaded wins; a process with neither loaded (unit tests) tries PyQt5,
then PyQt6. Qt 6 only accepts scoped enums (``Qt.AlignmentFlag.AlignTop``) and has dropped
``exec_``: ``enum`` and ``exec_dialog`` work on both.
"""

from __future__ import annotations

import importlib
import sys


def _binding() -> str:
    for name in ("PyQt6", "PyQt5"):
        if f"{name}.QtCore" in sys.modules:
            return name
    for name in ("PyQt5", "PyQt6"):
        try:
            importlib.import_module(f"{name}.QtCore")
            return name
        except ImportError:
            continue
    raise ImportError("neither PyQt5 nor PyQt6 can be imported: Inkhue runs inside Krita only")


BINDING = _binding()
QT6 = BINDING == "PyQt6"
QtCore = importlib.import_module(f"{BINDING}.QtCore")
QtGui = importlib.import_module(f"{BINDING}.QtGui")
QtWidgets = importlib.import_module(f"{BINDING}.QtWidgets")

Qt = QtCore.Qt
QTimer = QtCore.QTimer
QByteArray = QtCore.QByteArray
QIcon = QtGui.QIcon


def enum(owner, scope: str, member: str):
    """``owner.scope.member`` (Qt 6, and PyQt5 where it allows it), else ``owner.member``."""
    holder = getattr(owner, scope, None)
    if holder is not None and hasattr(holder, member):
        return getattr(holder, member)
    return getattr(owner, member)


def exec_dialog(dialog) -> int:
    """Run a modal dialog; returns its result code as an int."""
    run = getattr(dialog, "exec", None) or dialog.exec_
    return _code(run())


def _code(result) -> int:
    return int(getattr(result, "value", result))


def accepted() -> int:
    return _code(enum(QtWidgets.QDialog, "DialogCode", "Accepted"))
