"""The AI Colorize dialog in real GIMP 3, on a virtual display (Xvfb), answered with xdotool.

The procedure runs INTERACTIVE three times in one GIMP start: Escape cancels, Return colorizes
with the layers the dialog was preset with, and a missing hint layer still opens the dialog and
then fails with the explanation. Needs Xvfb and xdotool on the host (apt-get install xvfb
xdotool); skipped only with INKHUE_SKIP_GIMP=1.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.gimp.scenes import (
    assert_follows_hints,
    assert_originals_unchanged,
    layer,
    lineart,
    new_layer,
    remote_settings,
    run_in_gimp,
    scenario,
    standard_layers,
    white,
)

pytestmark = pytest.mark.skipif(
    os.environ.get("INKHUE_SKIP_GIMP") == "1", reason="INKHUE_SKIP_GIMP=1: real-GIMP tests skipped"
)

TITLE = "^AI Colorize$"
KEYS = ("Escape", "Return", "Return")  # one per scenario below, in order


@pytest.fixture(scope="module")
def display():
    missing = [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"the dialog test needs {' and '.join(missing)}: apt-get install xvfb xdotool "
            "(or set INKHUE_SKIP_GIMP=1)"
        )
    read_end, write_end = os.pipe()
    cmd = ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1024x768x24", "-nolisten", "tcp"]
    proc = subprocess.Popen(cmd, pass_fds=[write_end], stderr=subprocess.DEVNULL)
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], 30)
        number = os.read(read_end, 32).decode().strip() if ready else ""
        assert number.isdigit(), "Xvfb did not report its display"
        yield f":{number}"
    finally:
        os.close(read_end)
        proc.terminate()
        proc.wait(10)


def _xdotool(display: str, *args: str) -> str:
    env = {**os.environ, "DISPLAY": display}
    return subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True, timeout=15).stdout


def _wait(predicate, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def answer_dialogs(display: str, keys: tuple[str, ...]):
    """For each key: wait for the dialog, focus it, press the key, wait until it closes."""

    def during() -> None:
        def shown() -> list[str]:
            return _xdotool(display, "search", "--onlyvisible", "--name", TITLE).split()

        for key in keys:
            window = _wait(shown, "the dialog")[0]
            time.sleep(0.5)  # mapped is not yet ready for input: GTK finishes setting the dialog up
            _xdotool(display, "windowfocus", "--sync", window)
            _xdotool(display, "key", "--clearmodifiers", key)
            _wait(lambda w=window: w not in shown(), f"the dialog to close after {key}", timeout=30)

    return during


@pytest.fixture(scope="module")
def run(gimp_root: Path, server: dict, display: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    ok = remote_settings(server["url"])
    dialog = {"selected": ["Hints"], "settings": ok, "run_mode": "interactive"}
    scenario_list = [
        {"name": "dialog-cancel", "layers": standard_layers(), **dialog},
        {"name": "dialog-ok", "layers": standard_layers(), **dialog},
        {
            "name": "dialog-no-hints",
            "layers": [("Line art", lineart()), ("Paper", white())],
            **dialog,
            "selected": ["Line art"],
        },
    ]
    out = tmp_path_factory.mktemp("gimp-dialog")
    record = run_in_gimp(
        gimp_root, scenario_list, out, env={"DISPLAY": display}, during=answer_dialogs(display, KEYS)
    )
    return {**record, "kind": server["kind"]}


def test_escape_cancels_and_changes_nothing(run):
    rec = scenario(run, "dialog-cancel")
    assert rec["status"] == "cancel", rec["message"]
    assert rec["after"] == [{**item, "u8": after["u8"]} for item, after in zip(rec["before"], rec["after"])]


def test_return_colorizes_with_the_preset_layers(run):
    rec = scenario(run, "dialog-ok")
    assert rec["status"] == "success", rec["message"]
    new, line = new_layer(rec), layer(rec, "Line art")
    assert (new["parent"], new["position"]) == (line["parent"], line["position"] + 1)
    assert_originals_unchanged(rec)
    assert_follows_hints(run, rec)


def test_dialog_without_a_hint_layer_explains_what_to_do(run):
    rec = scenario(run, "dialog-no-hints")
    assert rec["status"] == "execution-error"
    assert "no hint layer found" in rec["message"]
    assert len(rec["after"]) == len(rec["before"])
