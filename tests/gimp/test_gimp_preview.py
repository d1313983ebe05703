"""The dialog's Preview in real GIMP 3: the temporary layer, its updates, Cancel and Colorize.

GIMP's dialogs cannot be clicked headless, so drive_preview.py drives the object the dialog's
timer steps (``inkhue_gimp.start_preview``) inside GIMP, through the PDB and the real layers:
the draft appears in "AI Colorize (preview)" placed like the result, follows option changes and
newly painted dabs in the same layer, and Cancel (or turning Preview off) leaves the image as it
was: same layers, ids, pixels, selection and clean state. "ok" removes the preview, then the
procedure makes the result: exactly one new layer. Skipped only with INKHUE_SKIP_GIMP=1.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from engine.wire import layer_rules as rules
from tests.gimp import harness
from tests.gimp.scenes import (
    BOXES,
    HINTS,
    assert_originals_unchanged,
    dab_at,
    hints,
    lineart,
    pixels,
    remote_settings,
    run_in_gimp,
    scenario,
    standard_layers,
    white,
)

pytestmark = pytest.mark.skipif(
    os.environ.get("INKHUE_SKIP_GIMP") == "1", reason="INKHUE_SKIP_GIMP=1: real-GIMP tests skipped"
)

PREVIEW = rules.PREVIEW_LAYER_NAME
C_DAB = (60, 170, 60)


def hints_with_c() -> np.ndarray:
    img = hints()
    cx, cy = dab_at("C")
    img[cy - 3 : cy + 3, cx - 3 : cx + 3] = (*C_DAB, 255)
    return img


@pytest.fixture(scope="module")
def run(gimp_root: Path, server: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    ok = remote_settings(server["url"])
    settle, cancel = {"do": "settle"}, {"do": "cancel"}
    on_transparency = [("Hints", hints()), ("Line art", lineart(on_white=False)), ("Paper", white())]

    def sc(name, layers, steps, args=None):
        return {
            "name": name,
            "layers": layers,
            "selected": ["Hints"],
            "settings": ok,
            "args": args or {},
            "steps": steps,
        }

    scenario_list = [
        sc(
            "preview-cancel",
            standard_layers(),
            [
                settle,
                {"do": "set", "prop": "method", "value": "flats"},
                {"do": "paint", "layer": "Hints", "pixels": hints_with_c()},
                cancel,
            ],
        ),
        sc("preview-ok", standard_layers(), [settle, {"do": "ok"}]),
        sc("preview-off", on_transparency, [settle, {"do": "off"}]),
        sc(
            "preview-no-dabs",
            [("Hints", np.zeros_like(hints())), *standard_layers()[1:]],
            [settle, {"do": "set", "prop": "method", "value": "flats"}, cancel],
        ),
        sc("preview-no-hints", standard_layers(), [settle, {"do": "ok"}], args={"no-hints": True}),
    ]
    text = (harness.HERE / "drive_colorize.py").read_text().split("# --- main")[0]
    driver = tmp_path_factory.mktemp("driver") / "drive_preview.py"
    driver.write_text(text + (harness.HERE / "drive_preview.py").read_text())
    out = tmp_path_factory.mktemp("gimp-preview")
    return {**run_in_gimp(gimp_root, scenario_list, out, driver=driver), "kind": server["kind"]}


def _names(step: dict) -> list[str]:
    return [item["name"] for item in step["layers"]]


def _layer(step: dict, name: str) -> dict:
    (found,) = [item for item in step["layers"] if item["name"] == name]
    return found


def _inside(run: dict, step: dict, box: str) -> np.ndarray:
    x0, y0, x1, y1 = BOXES[box]
    return pixels(run, _layer(step, PREVIEW)).astype(int)[y0 + 4 : y1 - 4, x0 + 4 : x1 - 4]


def _exactly_as_before(rec: dict, step: dict) -> None:
    """The user's layers as they were: after the test's own painting, else before the preview."""
    after = [{k: v for k, v in i.items() if k != "u8"} for i in step["layers"]]
    if "painted" in rec:  # recorded while the preview layer was there: all but it and positions
        painted = [{k: v for k, v in i.items() if k != "position"} for i in rec["painted"]]
        assert [{k: v for k, v in i.items() if k != "position"} for i in after] == [
            i for i in painted if i["name"] != PREVIEW
        ]
        assert [i["position"] for i in after] == [i["position"] for i in rec["before"]]
    else:
        assert after == rec["before"]
    assert step["preview_id"] is None and step["selected"] == ["Hints"]
    assert step["dirty"] is False and rec["dirty_before"] is False


def test_the_draft_appears_in_a_preview_layer_placed_like_the_result(run):
    rec = scenario(run, "preview-cancel")
    shown = rec["steps"][0]
    assert shown["current"], shown["message"]
    assert _names(shown) == ["Hints", PREVIEW, "Line art", "Paper"]  # lines on white: above them
    assert shown["updates"] == 1 and shown["message"].startswith("Preview: draft shown")
    assert shown["selected"] == ["Hints"]  # the artist's selection is kept
    for box, colour in HINTS.items():
        inside = _inside(run, shown, box)
        assert (inside[..., 3] == 255).all()
        mean = inside[..., :3].reshape(-1, 3).mean(0)
        tolerance = 2 if run["kind"] == "fill" else 60
        assert np.linalg.norm(mean - np.array(colour)) < tolerance, (box, mean)
    before = {i["name"]: i for i in rec["before"]}
    for item in shown["layers"]:
        if item["name"] != PREVIEW:  # the user's layers are untouched
            assert item["sha_native"] == before[item["name"]]["sha_native"]
            assert item["visible"] == before[item["name"]]["visible"]


def test_option_changes_and_new_dabs_update_the_same_layer(run):
    rec = scenario(run, "preview-cancel")
    first, flats, painted = rec["steps"][:3]
    assert flats["current"] and painted["current"], (flats["message"], painted["message"])
    assert first["preview_id"] == flats["preview_id"] == painted["preview_id"]  # refilled in place
    assert (flats["updates"], painted["updates"]) == (2, 3)
    assert _names(painted) == ["Hints", PREVIEW, "Line art", "Paper"]
    for box, colour in HINTS.items():  # flat colours are exact
        assert (_inside(run, flats, box)[..., :3] == colour).all(), box
    assert (_inside(run, flats, "C")[..., 3] == 0).all()  # no dab yet: transparent
    assert (_inside(run, painted, "C")[..., :3] == C_DAB).all()  # the new dab, while open


def test_cancel_leaves_the_image_exactly_as_it_was(run):
    rec = scenario(run, "preview-cancel")
    _exactly_as_before(rec, rec["steps"][-1])


def test_turning_preview_off_removes_the_layer(run):
    rec = scenario(run, "preview-off")
    shown, off = rec["steps"]
    assert _names(shown) == ["Hints", "Line art", PREVIEW, "Paper"]  # lines on transparency: under
    _exactly_as_before(rec, off)


def test_colorize_replaces_the_preview_with_one_result_layer(run):
    rec = scenario(run, "preview-ok")
    shown, done = rec["steps"]
    assert shown["current"] and done["status"] == "success", done["message"]
    assert _names(done) == ["Hints", "AI Colorize", "Line art", "Paper"]
    assert_originals_unchanged({"before": rec["before"], "after": done["layers"]})
    assert done["preview_id"] is None


def test_without_dabs_the_ai_draft_is_shown_and_flat_colours_say_why_not(run):
    rec = scenario(run, "preview-no-dabs")
    shown, flats, cancelled = rec["steps"]
    # no dab: the AI's own colours are previewed, the boxes painted
    assert shown["current"] and shown["updates"] == 1, shown["message"]
    assert _names(shown) == ["Hints", PREVIEW, "Line art", "Paper"]
    for box in BOXES:
        assert (_inside(run, shown, box)[..., 3] == 255).all(), box
    # flat colours cannot follow dabs that are not there: said, and the preview taken away
    assert not flats["current"] and flats["preview_id"] is None
    assert flats["message"] == "Preview: " + rules.flats_need_dabs_message("Hints", "on the canvas")
    _exactly_as_before(rec, cancelled)


def test_hints_none_previews_and_colorizes_without_the_hint_layer(run):
    rec = scenario(run, "preview-no-hints")
    shown, done = rec["steps"]
    assert shown["current"] and shown["updates"] == 1, shown["message"]
    assert done["status"] == "success", done["message"]
    assert _names(done) == ["Hints", "AI Colorize", "Line art", "Paper"] and done["preview_id"] is None
    assert_originals_unchanged({"before": rec["before"], "after": done["layers"]}, hidden=None)
