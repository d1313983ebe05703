"""The docker's Live bookkeeping (no Krita): when to ask, stale answers dropped, never queued."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugin_copies import krita_plugin_root  # noqa: E402

sys.path.insert(0, str(krita_plugin_root()))

from inkhue_krita.live import DRAFT, FULL, Live  # noqa: E402


def test_asks_for_the_draft_once_a_stroke_is_finished():
    live = Live(refine_after=1.0)
    assert live.poll("a", 0.0) is None  # first sight: may still be painting
    ask = live.poll("a", 0.25)
    assert ask.kind == DRAFT and ask.signature == "a"
    assert live.poll("a", 0.5) is None  # one in flight: nothing more
    assert live.answered(ask, 0.6)
    assert live.poll("a", 1.0) is None  # the draft is fresh
    full = live.poll("a", 1.7)  # painting paused: the full result
    assert full.kind == FULL and live.answered(full, 2.0) and live.complete("a")
    assert live.poll("a", 9.0) is None


def test_stale_answers_are_dropped_and_requests_never_queue():
    live = Live()
    live.poll("a", 0.0)
    first = live.poll("a", 0.25)
    for t, sig in ((0.5, "b"), (0.75, "c"), (1.0, "c")):  # two strokes while the first runs
        assert live.poll(sig, t) is None
    assert not live.answered(first, 1.1) and live.dropped == 1
    second = live.poll("c", 1.25)  # the newest inputs, not "b"
    assert second.signature == "c" and live.answered(second, 1.5)


def test_painting_in_progress_waits():
    live = Live()
    for t, sig in enumerate("abcd"):
        assert live.poll(sig, t * 0.25) is None
    assert live.poll("d", 1.0).kind == DRAFT


def test_apply_asks_for_the_full_result_at_once_and_errors_are_not_retried():
    live = Live(refine_after=60)
    live.poll("a", 0)
    live.answered(live.poll("a", 0.25), 0.3)
    assert live.poll("a", 0.5, eager=True).kind == FULL
    live.forget()
    live.poll("x", 0)
    bad = live.poll("x", 0.25)
    assert not live.answered(bad, 0.3, ok=False)
    assert live.poll("x", 0.5) is None and live.poll("x", 5) is None  # same inputs: no loop
    live.poll("y", 6)
    assert live.poll("y", 6.25).kind == DRAFT


QT_PROBE = """
import sys, types
sys.path.insert(0, sys.argv[1])
if sys.argv[2] == "fake6":  # a Krita 6 process: PyQt6 loaded first, scoped enums only
    for sub in ("QtCore", "QtGui", "QtWidgets"):
        m = types.ModuleType("PyQt6." + sub)
        sys.modules["PyQt6." + sub] = m
    pkg = types.ModuleType("PyQt6"); sys.modules["PyQt6"] = pkg
    core = sys.modules["PyQt6.QtCore"]
    core.Qt = type("Qt", (), {"FocusReason": type("FocusReason", (), {"OtherFocusReason": 7})})
    core.QTimer = core.QByteArray = object
    sys.modules["PyQt6.QtGui"].QIcon = object
from inkhue_krita import qt
print(qt.BINDING, int(qt.enum(qt.Qt, "FocusReason", "OtherFocusReason")))
"""


@pytest.mark.parametrize(
    "python, mode, binding", [("/usr/bin/python3", "real", "PyQt5"), (sys.executable, "fake6", "PyQt6")]
)
def test_qt_compat_picks_the_loaded_binding(python, mode, binding):
    if not Path(python).exists():
        pytest.skip(f"{python} missing")
    plugin = krita_plugin_root()
    out = subprocess.run(
        [python, "-c", QT_PROBE, str(plugin), mode], capture_output=True, text=True, timeout=60
    )
    if mode == "real" and "No module named 'PyQt5" in out.stderr:
        pytest.skip("the system Python has no PyQt5 (tests/krita/setup.sh installs it)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [binding, "7"]
