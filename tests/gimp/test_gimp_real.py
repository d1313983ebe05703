"""The GIMP plug-in in real GIMP 3, headless, against a running ``inkhue serve``.

One GIMP start runs every scenario (drive_colorize.py records, scenes.py reads, this file
asserts). Needs root (chroot) and, the first time, Debian's mirror for the chroot (~50 s).
Skipped only with INKHUE_SKIP_GIMP=1.

The model is the shipped ``engine/models/inkhue-default`` when it exists, else the test-only
flood-fill model (tests/fixtures_models.py), whose answer is known exactly.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from engine.wire import layer_rules as rules
from tests.gimp.scenes import (
    BOXES,
    HINTS,
    TOKEN,
    H,
    W,
    assert_follows_hints,
    assert_originals_unchanged,
    closed_port_url,
    hints,
    layer,
    lineart,
    new_layer,
    pixels,
    remote_settings,
    run_in_gimp,
    scenario,
    standard_layers,
    white,
    window,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytestmark = pytest.mark.skipif(
    os.environ.get("INKHUE_SKIP_GIMP") == "1", reason="INKHUE_SKIP_GIMP=1: real-GIMP tests skipped"
)


def scenarios(url: str, dead_url: str) -> list[dict]:
    ok = remote_settings(url)
    std = standard_layers()

    def sc(name, layers, selected=("Hints",), settings=ok, **extra):
        return {"name": name, "layers": layers, "selected": list(selected), "settings": settings, **extra}

    offset_layers = [
        ("dabs", window(hints(), (20, -10), (80, 50)), (20, -10)),  # smaller, partly off-canvas
        ("Layer 1", window(lineart(on_white=False), (-16, -12), (160, 120)), (-16, -12)),  # larger
    ]
    transparent = [("Hints", hints()), ("Line art", lineart(on_white=False)), ("Paper", white())]
    blank = np.zeros((H, W, 4), np.uint8)
    from PIL import Image

    example = [  # the README's example as a new user opens it: one opaque layer, hints added
        ("Hints", np.asarray(Image.open(EXAMPLES / "hints.png").convert("RGBA"))),
        ("lineart.png", np.asarray(Image.open(EXAMPLES / "lineart.png").convert("RGBA"))),
    ]
    return [
        sc("basic", std, export=True),
        sc("readme-example", example, canvas=[512, 384], export=True),
        sc("flat-on-opaque", std, args={"compose-lines": False}, export=True),
        sc("transparent-lines", transparent),
        sc("transparent-flat", transparent, args={"compose-lines": False}),
        sc("offsets", offset_layers, selected=(), args={"lineart-layer": "Layer 1", "hint-layer": "dabs"}),
        sc("selection", std, selection=[0, 0, 60, 60], args={"transparent": False}),  # opaque inside
        sc(
            "group",
            [
                {"name": "Drawing", "group": True},
                ("Hints", hints(), None, "Drawing"),
                ("Line art", lineart(), None, "Drawing"),
                ("Paper", white()),
            ],
            selected=("Line art",),
        ),  # fmt: skip
        sc("u16-linear", std, convert="u16-linear"),
        sc("float-linear", std, convert="float-linear"),
        sc("grayscale", std, convert="grayscale"),
        sc("indexed", std, convert="indexed"),
        sc("no-lines", [("Hints", hints()), ("Line art", np.zeros((H, W, 4), np.uint8))]),
        sc("no-hint-layer", [("Line art", lineart()), ("Paper", white())], selected=("Line art",)),
        sc("empty-hints", [("Hints", blank), ("Line art", lineart()), ("Paper", white())]),
        sc("no-dabs-in-selection", std, selection=[0, 60, W, H - 60]),  # box C: not hinted
        sc("no-hints-argument", std, args={"no-hints": True}),  # the Hints layer is left out
        sc(
            "flats-empty-hints",
            [("Hints", blank), ("Line art", lineart()), ("Paper", white())],
            args={"method": "flats"},
        ),
        sc("bad-token", std, settings={**ok, "token": "wrong"}),
        sc("unreachable", std, settings={**ok, "url": dead_url}),
        sc("not-installed", std, settings={"mode": "local", "inkhue": "/nonexistent/bin/inkhue"}),
        sc("too-large", [("Hints", hints()), ("Line art", lineart())], canvas=[12000, 9000]),
        sc("bad-option", std, args={"working-size": 10}),
    ]


ERRORS = {
    "no-lines": rules.no_ink_message("Line art", blank=True),
    "flats-empty-hints": rules.flats_need_dabs_message("Hints", "on the canvas"),
    "bad-token": "token",
    "unreachable": "cannot reach",
    "not-installed": "not installed",
    "too-large": "over the engine's limit",
    "bad-option": "working_size",
}
SUCCESSES = [
    "basic",
    "readme-example",
    "flat-on-opaque",
    "transparent-lines",
    "transparent-flat",
    "offsets",
    "selection",
    "group",
    "u16-linear",
    "float-linear",
    "grayscale",
    "indexed",
]


@pytest.fixture(scope="module")
def run(gimp_root: Path, server: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("gimp-out")
    record = run_in_gimp(gimp_root, scenarios(server["url"], closed_port_url()), out)
    return {**record, "kind": server["kind"]}


# ---------------------------------------------------------------------------------------------
# tests


def test_plugin_registered_in_gimp_without_numpy(run):
    assert run["result"]["proc_found"], run["log"][-3000:]
    assert run["result"]["gimp_version"].startswith("3.")
    assert not run["result"]["numpy_in_gimp_python"]  # the plug-in ran where numpy cannot be had


@pytest.mark.parametrize("name", SUCCESSES)
def test_success_adds_one_layer_and_changes_nothing_else(run, name):
    rec = scenario(run, name)
    assert rec["status"] == "success", rec["message"]
    new = new_layer(rec)
    assert new["size"] == ([512, 384] if name == "readme-example" else [W, H]) and new["offsets"] == [0, 0]
    assert len(rec["after"]) == len(rec["before"]) + 1
    assert_originals_unchanged(rec, hidden="dabs" if name == "offsets" else "Hints")


def test_basic_defaults_find_layers_by_name_and_follow_hints(run):
    rec = scenario(run, "basic")  # the hint layer is selected: the line art is found by its name
    new, line = new_layer(rec), layer(rec, "Line art")
    # lines on white would hide a layer below them: the result goes above, lines drawn in
    assert (new["parent"], new["position"]) == (line["parent"], line["position"] - 1)
    assert [i["name"] for i in rec["after"]] == ["Hints", "AI Colorize", "Line art", "Paper"]
    assert "NORMAL" in new["mode"]
    out = assert_follows_hints(run, rec)
    if run["kind"] == "fill":
        x0, y0, x1, y1 = BOXES["C"]
        assert (out[y0 + 4 : y1 - 4, x0 + 4 : x1 - 4, :3] == 255).all()  # unhinted: white
        assert (out[BOXES["A"][1], 20:40, :3] == 0).all()  # lines composed onto the colours
    from PIL import Image

    exported = np.asarray(Image.open(run["dir"] / rec["new_png"]).convert("RGBA"))
    assert exported.shape == (H, W, 4)
    layer_px = pixels(run, new_layer(rec))  # transparent where nothing is painted (the default)
    assert (exported[..., 3] == layer_px[..., 3]).all()
    seen = layer_px[..., 3] > 0  # the PNG exporter does not keep the colour of invisible pixels
    assert (exported[seen] == layer_px[seen]).all()
    assert Image.open(run["dir"] / rec["image_png"]).size == (W, H)


# (scenario, names after the run top to bottom, result in Multiply mode)
PLACEMENTS = [
    ("basic", ["Hints", "AI Colorize", "Line art", "Paper"], False),
    ("flat-on-opaque", ["Hints", "AI Colorize", "Line art", "Paper"], True),  # lines show through
    ("transparent-lines", ["Hints", "Line art", "AI Colorize", "Paper"], False),  # under the lines
    ("transparent-flat", ["Hints", "Line art", "AI Colorize", "Paper"], False),
    ("offsets", ["dabs", "AI Colorize", "Layer 1"], False),  # the line art is the lowest layer
    ("group", ["Drawing", "Hints", "AI Colorize", "Line art", "Paper"], False),  # lowest in its group
]


@pytest.mark.parametrize(("name", "order", "multiply"), PLACEMENTS)
def test_result_is_placed_where_it_can_be_seen(run, name, order, multiply):
    rec = scenario(run, name)
    assert [i["name"] for i in rec["after"]] == order
    assert ("MULTIPLY" in new_layer(rec)["mode"]) == multiply, new_layer(rec)["mode"]
    assert (new_layer(rec)["opacity"], new_layer(rec)["visible"]) == (100.0, True)


@pytest.mark.parametrize("name", ["basic", "flat-on-opaque"])
def test_the_canvas_shows_colours_and_lines(run, name):
    """The exported image (what GIMP shows): coloured regions and dark lines, not the bare line art."""
    from PIL import Image

    rec = scenario(run, name)
    shown = np.asarray(Image.open(run["dir"] / rec["image_png"]).convert("RGB")).astype(int)
    line = pixels(run, layer(rec, "Line art"))
    assert shown[line[..., 0] == 0].max() <= 40  # every line pixel stays dark
    for box in ("A", "B"):
        x0, y0, x1, y1 = BOXES[box]
        mean = shown[y0 + 4 : y1 - 4, x0 + 4 : x1 - 4].reshape(-1, 3).mean(0)
        hint = np.array(HINTS[box])
        assert np.linalg.norm(mean - hint) < 60, (box, mean, hint)  # white paper would be ~300 away


def test_readme_example_result_is_seen_on_the_canvas(run):
    """The new user's case (evidence 05): one opaque line-art layer; the canvas must change."""
    from PIL import Image

    rec = scenario(run, "readme-example")
    assert [i["name"] for i in rec["after"]] == ["Hints", "AI Colorize", "lineart.png"]
    shown = np.asarray(Image.open(run["dir"] / rec["image_png"]).convert("RGB")).astype(int)
    line = pixels(run, layer(rec, "lineart.png"))[..., :3].astype(int)
    changed = (np.abs(shown - line).max(axis=2) > 40).mean()
    assert changed > 0.5, changed  # most of the white paper is now coloured
    assert shown[line.max(axis=2) < 60].mean() < 80  # and the lines are still dark


def test_placement_reason_is_told_once(run):
    told = rules.place_result(True, False, True).reason
    assert run["log"].count(told) == 1, run["log"][-3000:]  # several runs above, one message
    assert run["log"].count(rules.place_result(True, False, False).reason) == 1
    assert "Multiply" not in rules.place_result(False, False, False).reason  # below: nothing to say


@pytest.mark.parametrize("name", SUCCESSES)
def test_hint_layer_is_hidden_and_its_pixels_unchanged(run, name):
    rec = scenario(run, name)
    hint = "dabs" if name == "offsets" else "Hints"
    before, after = layer(rec, hint, "before"), layer(rec, hint)
    assert before["visible"] and not after["visible"]
    assert (before["sha_native"], before["sha_u8"]) == (after["sha_native"], after["sha_u8"])


def test_layers_with_offsets_and_sizes_unlike_the_canvas(run):
    rec = scenario(run, "offsets")
    assert [i["name"] for i in rec["after"]] == ["dabs", "AI Colorize", "Layer 1"]
    assert layer(rec, "Layer 1")["offsets"] == [-16, -12] and layer(rec, "dabs")["size"] == [80, 50]
    assert_follows_hints(run, rec, hint_name="dabs")


def test_selection_limits_the_result(run):
    rec = scenario(run, "selection")
    out = assert_follows_hints(run, rec, boxes=("A",))
    assert (out[:60, :60, 3] == 255).all()
    assert (out[60:, :, 3] == 0).all() and (out[:, 60:, 3] == 0).all()


def test_line_art_inside_a_group(run):
    rec = scenario(run, "group")
    new = new_layer(rec)
    assert new["parent"] == "Drawing" and new["position"] == layer(rec, "Line art")["position"] - 1
    assert_follows_hints(run, rec)


@pytest.mark.parametrize("name", ["u16-linear", "float-linear", "grayscale", "indexed"])
def test_other_precisions_and_modes(run, name):
    rec = scenario(run, name)
    if run["kind"] == "fill" or name not in ("grayscale", "indexed"):
        # a trained model's colours are re-quantised in these modes: only the exact model is checked
        assert_follows_hints(run, rec)
    if name == "grayscale":
        out = pixels(run, new_layer(rec))
        assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()
        assert "AI Colorize-Warning: the image is in grayscale mode" in run["log"]
    if name == "indexed":
        assert "AI Colorize-Warning: the image is in indexed mode" in run["log"]


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_are_reported_and_leave_the_image_untouched(run, name):
    rec = scenario(run, name)
    assert rec["status"] == "execution-error"
    assert ERRORS[name] in rec["message"], rec["message"]
    assert rec["message"].startswith("AI Colorize: ")
    assert rec["after"] == [
        {**item, "u8": a["u8"]} for item, a in zip(rec["before"], rec["after"], strict=True)
    ]


# ---------------------------------------------------------------------------------------------
# no dabs: the AI chooses the colours (scenario: the hint layer the run used, hidden by it)

NO_DABS = {
    "no-hint-layer": None,
    "empty-hints": "Hints",
    "no-dabs-in-selection": "Hints",
    "no-hints-argument": None,  # "Hints: none": the dabs on "Hints" are left out
}


@pytest.mark.parametrize("name", sorted(NO_DABS))
def test_without_dabs_the_ai_chooses_colours_and_nothing_else_changes(run, name):
    rec = scenario(run, name)
    assert rec["status"] == "success", rec["message"]
    new = new_layer(rec)
    assert new["size"] == [W, H] and new["offsets"] == [0, 0]
    assert len(rec["after"]) == len(rec["before"]) + 1
    assert_originals_unchanged(rec, hidden=NO_DABS[name])
    if name == "no-hints-argument":
        assert layer(rec, "Hints")["visible"]  # not used, so not hidden either


def test_without_dabs_the_engine_got_fully_transparent_hints(run, server):
    """Every run without dabs is the engine's own answer for this line art and no hints at all."""
    from engine.wire import client

    rgba = client.colorize(
        server["url"], lineart().tobytes(), None, W, H,
        options={"compose_lines": True, "transparent": True}, token=TOKEN,
    )  # fmt: skip
    want = np.frombuffer(rgba, np.uint8).reshape(H, W, 4)
    for name in ("no-hint-layer", "empty-hints", "no-hints-argument"):
        got = pixels(run, new_layer(scenario(run, name)))
        assert (got[..., 3] == want[..., 3]).all(), name
        seen = want[..., 3] > 0
        assert np.abs(got[..., :3].astype(int) - want[..., :3])[seen].max() <= 1, name
    # a picture, not a blank layer: every box painted (opaque), the lines drawn in dark
    for box in BOXES:
        x0, y0, x1, y1 = BOXES[box]
        assert (want[y0 + 4 : y1 - 4, x0 + 4 : x1 - 4, 3] == 255).all(), box
    assert (want[lineart()[..., 0] == 0][:, :3] <= 60).all()
    # inside a selection without dabs: only the selection is painted
    sel = pixels(run, new_layer(scenario(run, "no-dabs-in-selection")))
    x0, y0, x1, y1 = BOXES["C"]  # the only box in the selection
    assert (sel[:60, :, 3] == 0).all() and (sel[y0 + 4 : y1 - 4, x0 + 4 : x1 - 4, 3] == 255).all()
