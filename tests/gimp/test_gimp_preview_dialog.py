"""The Preview toggle in the real AI Colorize dialog (GIMP 3 on Xvfb, keys sent with xdotool).

Alt+V turns Preview on (its mnemonic); the dialog writes each change of the preview to
``<INKHUE_DIALOG_TRACE>-preview``. Escape with the preview shown leaves the image as it was;
Return leaves one result layer and no preview layer. Preview is remembered between runs only
after Colorize, so the last scenario turns it off again for the other dialog tests.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from engine.wire import layer_rules as rules
from tests.gimp.scenes import (
    TRACE,
    assert_originals_unchanged,
    remote_settings,
    run_in_gimp,
    scenario,
    standard_layers,
)
from tests.gimp.test_gimp_dialog import _trace_lines, _wait, _xdotool, display  # noqa: F401

pytestmark = pytest.mark.skipif(
    os.environ.get("INKHUE_SKIP_GIMP") == "1", reason="INKHUE_SKIP_GIMP=1: real-GIMP tests skipped"
)

PREVIEW = rules.PREVIEW_LAYER_NAME
# per scenario: Preview wanted on (wait for the draft) or off, then the key that closes the dialog
STEPS = (
    ("preview-escape", True, "Escape"),
    ("preview-return", True, "Return"),
    ("preview-off", False, "Return"),
)


def _preview_trace(folder: Path) -> list[dict]:
    path = folder / (TRACE + "-preview")
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []


def answer(display_name: str):
    def during(folder: Path) -> None:
        def shown() -> list[str]:
            return _xdotool(display_name, "search", "--onlyvisible", "--name", "^AI Colorize$").split()

        seen: set = set()
        for n, (_name, want_on, key) in enumerate(STEPS, 1):
            _wait(lambda n=n: _trace_lines(folder) >= n, f"showing {n} of the dialog")
            window = _wait(shown, "the dialog")[0]
            _wait(
                lambda: _preview_trace(folder)[-1:] and _preview_trace(folder)[-1]["dialog"] not in seen,
                "the preview's first state",
            )
            seen.add(_preview_trace(folder)[-1]["dialog"])
            if _preview_trace(folder)[-1]["on"] != want_on:
                _xdotool(display_name, "windowfocus", "--sync", window)
                _xdotool(display_name, "key", "--clearmodifiers", "alt+v")
            if want_on:
                _wait(lambda: _preview_trace(folder)[-1]["layer"] == PREVIEW, "the preview layer", 120)
            else:
                _wait(lambda: not _preview_trace(folder)[-1]["on"], "Preview off")
            _xdotool(display_name, "windowfocus", "--sync", window)
            _xdotool(display_name, "key", "--clearmodifiers", key)
            _wait(lambda w=window: w not in shown(), f"the dialog to close after {key}", timeout=120)

    return during


@pytest.fixture(scope="module")
def run(gimp_root: Path, server: dict, display: str, tmp_path_factory: pytest.TempPathFactory) -> dict:  # noqa: F811
    base = {"selected": ["Hints"], "settings": remote_settings(server["url"]), "run_mode": "interactive"}
    scenario_list = [{"name": name, "layers": standard_layers(), **base} for name, _on, _key in STEPS]
    out = tmp_path_factory.mktemp("gimp-preview-dialog")
    record = run_in_gimp(gimp_root, scenario_list, out, env={"DISPLAY": display}, during=answer(display))
    return {**record, "preview_trace": _preview_trace(out)}


def test_escape_with_the_preview_shown_changes_nothing(run):
    rec = scenario(run, "preview-escape")
    assert rec["status"] == "cancel", rec["message"]
    ignore = {"u8"}
    assert [{k: v for k, v in i.items() if k not in ignore} for i in rec["after"]] == rec["before"]


def test_the_dialog_showed_the_draft_in_the_preview_layer(run):
    shown = [t for t in run["preview_trace"] if t["layer"] == PREVIEW]
    assert len(shown) >= 2 and all(t["updates"] >= 1 for t in shown)
    assert all(t["message"].startswith("Preview: draft shown") for t in shown)


def test_return_with_the_preview_shown_leaves_one_result_layer(run):
    for name in ("preview-return", "preview-off"):
        rec = scenario(run, name)
        assert rec["status"] == "success", rec["message"]
        assert [i["name"] for i in rec["after"]] == ["Hints", "AI Colorize", "Line art", "Paper"]
        assert_originals_unchanged(rec)
    assert np.isfinite(run["seconds"])
