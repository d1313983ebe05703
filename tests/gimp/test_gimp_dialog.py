"""The AI Colorize dialog in real GIMP 3, on a virtual display (Xvfb), answered with xdotool.

The procedure runs INTERACTIVE several times in one GIMP start: Escape cancels, Return colorizes
with the layers the dialog was preset with; without a hint layer ("Hints: none" preset) or with
one holding no dab, the dialog shows the plain note that the AI chooses the colours and Return
colorizes all the same. The dialog
writes what it shows to a trace file (INKHUE_DIALOG_TRACE, see inkhue_dialog.py). Needs Xvfb
and xdotool on the host (apt-get install xvfb xdotool); skipped only with INKHUE_SKIP_GIMP=1.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from engine.wire import layer_rules as rules
from tests.gimp.scenes import (
    TRACE,
    assert_follows_hints,
    assert_originals_unchanged,
    hints,
    layer,
    lineart,
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
# per scenario, in order: the keys pressed, each on a fresh showing of the dialog; a key that is
# not the last one leaves the dialog open (Colorize with a problem: the dialog says what is wrong)
STEPS = (
    ("dialog-cancel", ("Escape",)),
    ("dialog-ok", ("Return",)),
    ("dialog-no-hints", ("Return",)),
    ("dialog-empty-hints", ("Return",)),
    ("remember-dabs", ()),  # not interactive: a run with the hint layer "dabs"
    ("dialog-remembered", ("Escape",)),
)


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


def _trace_lines(folder: Path) -> int:
    path = folder / TRACE
    return len(path.read_text().splitlines()) if path.is_file() else 0


def answer_dialogs(display: str, steps=STEPS):
    """For each key: wait until the dialog is ready (its trace line), focus it, press the key.

    The last key of a scenario closes the dialog: wait for that too.
    """

    def during(folder: Path) -> None:
        def shown() -> list[str]:
            return _xdotool(display, "search", "--onlyvisible", "--name", TITLE).split()

        showings = 0
        for _name, keys in steps:
            for i, key in enumerate(keys):
                showings += 1
                _wait(lambda n=showings: _trace_lines(folder) >= n, f"showing {showings} of the dialog")
                window = _wait(shown, "the dialog")[0]
                _xdotool(display, "windowfocus", "--sync", window)
                _xdotool(display, "key", "--clearmodifiers", key)
                if i == len(keys) - 1:
                    _wait(lambda w=window: w not in shown(), f"the dialog to close after {key}", timeout=30)

    return during


@pytest.fixture(scope="module")
def run(gimp_root: Path, server: dict, display: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    ok = remote_settings(server["url"])
    dialog = {"selected": ["Hints"], "settings": ok, "run_mode": "interactive"}
    blank = np.zeros_like(hints())
    layers = {
        "dialog-cancel": standard_layers(),
        "dialog-ok": standard_layers(),
        "dialog-no-hints": [("Line art", lineart()), ("Paper", white())],
        "dialog-empty-hints": [("Hints", blank), ("Line art", lineart()), ("Paper", white())],
        "remember-dabs": [("dabs", hints()), ("Line art", lineart()), ("Paper", white())],
        "dialog-remembered": [
            ("Hints", hints()),
            ("dabs", hints()),
            ("Line art", lineart()),
            ("Paper", white()),
        ],
    }
    scenario_list = [{"name": name, "layers": layers[name], **dialog} for name, _keys in STEPS]
    scenario_list[2]["selected"] = ["Line art"]
    scenario_list[4].update(run_mode="noninteractive", args={"hint-layer": "dabs"}, selected=["Line art"])
    out = tmp_path_factory.mktemp("gimp-dialog")
    record = run_in_gimp(
        gimp_root, scenario_list, out, env={"DISPLAY": display}, during=answer_dialogs(display)
    )
    lines = [json.loads(line) for line in (out / TRACE).read_text().splitlines()]
    traces, i = {}, 0
    for name, keys in STEPS:  # the trace's lines in the order the dialog was shown
        traces[name], i = lines[i : i + len(keys)], i + len(keys)
    assert i == len(lines), lines
    return {**record, "kind": server["kind"], "traces": traces}


def _unchanged(rec: dict) -> bool:
    return rec["after"] == [{**item, "u8": after["u8"]} for item, after in zip(rec["before"], rec["after"])]


def test_escape_cancels_and_changes_nothing(run):
    rec = scenario(run, "dialog-cancel")
    assert rec["status"] == "cancel", rec["message"]
    assert _unchanged(rec)


def test_pickers_show_the_guessed_layers(run):
    # the hint layer is selected; the line art is guessed by its name
    for name in ("dialog-cancel", "dialog-ok"):
        first = run["traces"][name][0]
        assert first["config"] == {"lineart-layer": "Line art", "hint-layer": "Hints"}
        assert first["pickers"] == {"lineart-layer": "Line art", "hint-layer": "Hints"}
        assert first["problem"] == ""


def test_return_colorizes_with_the_preset_layers(run):
    rec = scenario(run, "dialog-ok")
    assert rec["status"] == "success", rec["message"]
    assert [i["name"] for i in rec["after"]] == ["Hints", "AI Colorize", "Line art", "Paper"]
    assert_originals_unchanged(rec)
    assert not layer(rec, "Hints")["visible"]
    assert_follows_hints(run, rec)


def test_with_a_hint_layer_none_is_not_preset_and_no_note_is_shown(run):
    first = run["traces"]["dialog-ok"][0]
    assert (first["no-hints"], first["hint-layer-sensitive"], first["note"]) == (False, True, "")
    labels = [text.replace("_", "") for text in first["labels"]]
    assert "Hints: none (AI suggests tones)" in labels, labels


def test_without_a_hint_layer_none_is_preset_the_note_shown_and_colorize_runs(run):
    rec = scenario(run, "dialog-no-hints")
    (first,) = run["traces"]["dialog-no-hints"]
    assert first["config"] == {"lineart-layer": "Line art", "hint-layer": None}
    assert (first["no-hints"], first["hint-layer-sensitive"]) == (True, False)
    assert first["note"] == rules.no_hints_note(None) and first["problem"] == ""
    assert rec["status"] == "success", rec["message"]  # Return: coloured by the AI alone
    assert [i["name"] for i in rec["after"]] == ["AI Colorize", "Line art", "Paper"]
    assert_originals_unchanged(rec, hidden=None)


def test_empty_hint_layer_shows_the_note_and_colorize_runs(run):
    rec = scenario(run, "dialog-empty-hints")
    (first,) = run["traces"]["dialog-empty-hints"]
    assert first["pickers"] == {"lineart-layer": "Line art", "hint-layer": "Hints"}
    assert first["note"] == rules.no_hints_note("Hints", "on the canvas") and first["problem"] == ""
    assert first["no-hints"] is False
    assert rec["status"] == "success", rec["message"]
    assert [i["name"] for i in rec["after"]] == ["Hints", "AI Colorize", "Line art", "Paper"]
    assert_originals_unchanged(rec)  # the empty hint layer is hidden in the same undo step


def test_the_hint_layer_used_last_is_preselected_by_name(run):
    assert scenario(run, "remember-dabs")["status"] == "success"
    (shown,) = run["traces"]["dialog-remembered"]  # "Hints" exists, but "dabs" was used last
    assert shown["pickers"] == {"lineart-layer": "Line art", "hint-layer": "dabs"}
    assert scenario(run, "dialog-remembered")["status"] == "cancel"


def test_advanced_options_are_explained_in_words(run):
    labels = [text.replace("_", "") for text in run["traces"]["dialog-ok"][0]["labels"]]
    assert "First-pass detail (pixels, 0 = automatic)" in labels, labels
    assert "Refinement piece size (pixels, 0 = automatic)" in labels, labels
    assert not {"Working size", "Tile"} & set(labels)
    arguments = run["result"]["arguments"]
    for name in ("working-size", "tile"):  # script names kept; label and explanation in words
        label, blurb = arguments[name]
        assert "0 = automatic" in label and len(blurb) > 60, (label, blurb)


def test_colour_method_transparency_layers_and_gap_are_offered_in_words(run):
    labels = [text.replace("_", "") for text in run["traces"]["dialog-ok"][0]["labels"]]
    for text in (
        "Colours",
        "AI colours (shading, guesses)",
        "Flat colours (exact dab colours, no AI)",
        "Transparent where nothing is painted",
        "One layer per colour",
        "Close gaps in the lines up to (pixels, 0 = automatic)",  # in the Advanced section
        "Model",  # the installed models (a fine-tuned one after Fine-tune on My Style)
        "inkhue-default (default)",
    ):
        assert text in labels, (text, labels)
    arguments = run["result"]["arguments"]
    for name in ("method", "transparent", "flats-layers", "gap", "model"):  # script names, explained
        label, blurb = arguments[name]
        assert len(blurb) > 60, (name, label, blurb)
