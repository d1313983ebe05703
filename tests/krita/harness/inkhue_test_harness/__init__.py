"""Test-only Krita plug-in: run one script inside the real Krita window, then quit Krita.

The script is ``$INKHUE_KRITA_SCRIPT``. If it defines a generator function ``steps()``, each
``yield <ms>`` hands control back to Krita's event loop for that long (layer models, dialogs and
timers only update there). The outcome goes to ``$INKHUE_KRITA_OUT/harness.txt``: ``HARNESS-RC n``
or the traceback; a watchdog kills Krita if the script hangs (e.g. on an unexpected modal dialog).
"""

import os
import runpy
import sys
import traceback

from krita import Extension, Krita

# Krita 6 runs on PyQt6 (and refuses a PyQt5 import); Krita 5 on PyQt5. Krita has loaded its own.
if "PyQt6.QtCore" in sys.modules:
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication
else:
    from PyQt5.QtCore import QTimer
    from PyQt5.QtWidgets import QApplication

SCRIPT = os.environ.get("INKHUE_KRITA_SCRIPT")
OUT = os.environ.get("INKHUE_KRITA_OUT", ".")
TIMEOUT_S = int(os.environ.get("INKHUE_KRITA_TIMEOUT_S", "150"))
_state = {"started": False}


def _record(text):
    with open(os.path.join(OUT, "harness.txt"), "a", encoding="utf-8") as f:
        f.write(text + "\n")


def _finish(rc):
    sys.stdout.flush()
    sys.stderr.flush()
    app = Krita.instance()
    for doc in app.documents():  # no "save changes?" question on quit
        doc.setBatchmode(True)
        doc.setModified(False)
        doc.close()
    _record(f"HARNESS-RC {rc}")
    app.action("file_quit").trigger()


def _fail():
    _record("HARNESS-EXCEPTION\n" + traceback.format_exc())
    _finish(1)


def _drive(gen):
    try:
        delay = next(gen)
    except StopIteration:
        return _finish(0)
    except SystemExit as e:
        return _finish(int(e.code or 0))
    except BaseException:
        return _fail()
    QTimer.singleShot(int(delay or 0), lambda: _drive(gen))


def _watchdog():
    # a timer still fires inside a modal dialog's nested event loop: report what is open, bail out
    shown = [
        (w.metaObject().className(), w.windowTitle()) for w in QApplication.topLevelWidgets() if w.isVisible()
    ]
    _record(f"HARNESS-WATCHDOG after {TIMEOUT_S} s; visible windows: {shown!r}")
    os._exit(3)


def _run():
    if _state["started"]:
        return
    _state["started"] = True
    QTimer.singleShot(TIMEOUT_S * 1000, _watchdog)
    sys.path.insert(0, os.path.dirname(os.path.abspath(SCRIPT)))  # scripts share helper modules
    try:
        namespace = runpy.run_path(SCRIPT, run_name="__krita_test__")
    except SystemExit as e:
        return _finish(int(e.code or 0))
    except BaseException:
        return _fail()
    if "steps" in namespace:
        _drive(namespace["steps"]())
    else:
        _finish(0)


class Harness(Extension):
    def setup(self):
        Krita.instance().notifier().windowCreated.connect(lambda: QTimer.singleShot(0, _run))

    def createActions(self, window):
        pass


if SCRIPT:
    Krita.instance().addExtension(Harness(Krita.instance()))
