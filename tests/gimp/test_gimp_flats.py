"""Transparent results, flat colours, one layer per colour and the gap option in real GIMP 3.

One GIMP start runs every scenario against the session's ``inkhue serve`` (tests/gimp/conftest.py).
Flat colours need no network, so their answer is exact whatever model the server holds.
Skipped only with INKHUE_SKIP_GIMP=1.
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
    H,
    W,
    hints,
    lineart,
    new_layer,
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

GAP_SIDE = 512  # automatic gap: 512 / 64 = 8 px
SHAPE = (128, 128, 384, 384)  # x0, y0, x1, y1 of a square outline 4 px wide, on open paper
DAB = (200, 60, 90)
FLATS = {"method": "flats"}
GROUP = {"method": "flats", "flats-layers": True}


def gapped_shape() -> tuple[np.ndarray, np.ndarray]:
    """Lines on white: a square with a 6 px gap in its top edge, and a dab on the paper around it
    (a gap size that closes the gap keeps the square a figure, which the colour around never
    fills; a smaller one joins it to the background and the colour runs in)."""
    line = np.full((GAP_SIDE, GAP_SIDE, 4), 255, np.uint8)
    x0, y0, x1, y1 = SHAPE
    line[y0 : y0 + 4, x0:x1, :3] = line[y1 - 4 : y1, x0:x1, :3] = 0
    line[y0:y1, x0 : x0 + 4, :3] = line[y0:y1, x1 - 4 : x1, :3] = 0
    line[SHAPE[1] : SHAPE[1] + 4, 253:259, :3] = 255  # the gap
    dabs = np.zeros_like(line)
    dabs[50:62, 50:62] = (*DAB, 255)
    return line, dabs


def scenarios(url: str) -> list[dict]:
    ok = remote_settings(url)
    std = standard_layers()
    on_transparency = [("Hints", hints()), ("Line art", lineart(on_white=False)), ("Paper", white())]
    line, dabs = gapped_shape()
    gap = [("Hints", dabs), ("Line art", line)]

    def sc(name, layers, args=None, **extra):
        return {
            "name": name,
            "layers": layers,
            "selected": ["Hints"],
            "settings": ok,
            "args": args or {},
            **extra,
        }

    return [
        sc("ai-transparent", std),  # the defaults: AI colours, transparent
        sc("ai-opaque", std, {"transparent": False}),
        sc("flats-transparent", std, FLATS),
        sc("flats-opaque", std, {**FLATS, "transparent": False}),
        sc("flats-selection", std, FLATS, selection=[0, 0, 60, 60]),
        sc("flats-group", std, GROUP),  # lines on white: the group goes above, in Multiply mode
        sc("flats-group-under", on_transparency, {**GROUP, "transparent": False}),  # forced transparent
        sc("ai-ignores-layers", std, {"flats-layers": True}),  # one layer, as always with AI colours
        sc("gap-automatic", gap, FLATS, canvas=[GAP_SIDE, GAP_SIDE]),
        sc("gap-4", gap, {**FLATS, "gap": 4}, canvas=[GAP_SIDE, GAP_SIDE]),
        sc("gap-4-ai", gap, {"gap": 4}, canvas=[GAP_SIDE, GAP_SIDE]),
    ]


@pytest.fixture(scope="module")
def run(gimp_root: Path, server: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("gimp-flats")
    return {**run_in_gimp(gimp_root, scenarios(server["url"]), out), "kind": server["kind"]}


def children(rec: dict) -> list[dict]:
    return [item for item in rec["after"] if item["parent"] == "AI Colorize"]


def assert_user_layers_unchanged(rec: dict) -> None:
    """The artist's layers: same order, attributes and pixels; only the hint layer is hidden."""
    ignore = {"position", "u8"}
    before = [{k: v for k, v in i.items() if k not in ignore} for i in rec["before"]]
    after = [
        {k: v for k, v in i.items() if k not in ignore}
        for i in rec["after"]
        if i["name"] != "AI Colorize" and i["parent"] != "AI Colorize"
    ]
    for item in before:
        if item["name"] == "Hints":
            assert item["visible"]
            item["visible"] = False
    assert after == before


def inside(box: str, margin: int = 4) -> tuple[slice, slice]:
    x0, y0, x1, y1 = BOXES[box]
    return slice(y0 + margin, y1 - margin), slice(x0 + margin, x1 - margin)


@pytest.mark.parametrize(
    "name", ["ai-transparent", "ai-opaque", "flats-transparent", "flats-opaque", "flats-selection"]
)
def test_one_new_layer_and_the_users_layers_unchanged(run, name):
    rec = scenario(run, name)
    assert rec["status"] == "success", rec["message"]
    new = new_layer(rec)
    assert not new["is_group"] and new["size"] == [W, H]
    assert len(rec["after"]) == len(rec["before"]) + 1
    assert_user_layers_unchanged(rec)


def test_transparent_is_the_default_and_clears_the_unhinted_background(run):
    out = pixels(run, new_layer(scenario(run, "ai-transparent")))
    assert (out[0:6, :, 3] == 0).all() and (out[:, 0:6, 3] == 0).all()  # paper around the boxes
    for box in ("A", "B"):
        assert (out[inside(box)][..., 3] == 255).all()
    assert (out[BOXES["A"][1], 20:40] == (0, 0, 0, 255)).all()  # drawn-in lines stay opaque
    opaque = pixels(run, new_layer(scenario(run, "ai-opaque")))
    assert (opaque[..., 3] == 255).all()  # turned off: the old opaque layer


def test_flat_colours_are_the_exact_dab_colours_and_transparent_elsewhere(run):
    out = pixels(run, new_layer(scenario(run, "flats-transparent")))
    for box in ("A", "B"):
        assert (out[inside(box)] == (*HINTS[box], 255)).all(), box
    assert (out[inside("C")][..., 3] == 0).all()  # a closed area without a dab: nothing painted
    assert (out[0:6, :, 3] == 0).all()
    assert (out[BOXES["A"][1], 20:40] == (0, 0, 0, 255)).all()  # the lines, drawn in
    opaque = pixels(run, new_layer(scenario(run, "flats-opaque")))
    assert (opaque[..., 3] == 255).all() and (opaque[inside("C")][..., :3] == 255).all()  # white


def test_selection_still_limits_a_transparent_result(run):
    out = pixels(run, new_layer(scenario(run, "flats-selection")))
    ys, xs = inside("A")
    assert (out[ys, xs] == (*HINTS["A"], 255)).all()
    assert (out[60:, :, 3] == 0).all() and (out[:, 60:, 3] == 0).all()
    assert (out[inside("B")][..., 3] == 0).all()


def test_flats_group_holds_one_layer_per_dab_colour(run):
    rec = scenario(run, "flats-group")
    assert rec["status"] == "success", rec["message"]
    group = new_layer(rec)
    assert group["is_group"]
    names = [i["name"] for i in rec["after"] if i["parent"] is None]
    assert names == ["Hints", "AI Colorize", "Line art", "Paper"]  # above the opaque line art
    assert "MULTIPLY" in group["mode"], group["mode"]  # so the lines show through
    assert rec["seconds"] < 60
    parts = children(rec)
    assert sorted(i["name"] for i in parts) == sorted(
        "#{:02x}{:02x}{:02x}".format(*c) for c in HINTS.values()
    )
    assert len(rec["after"]) == len(rec["before"]) + 1 + len(parts)
    assert_user_layers_unchanged(rec)
    painted = np.zeros((H, W), int)
    for item in parts:
        assert item["size"] == [W, H] and item["visible"] and "NORMAL" in item["mode"]
        out = pixels(run, item)
        colour = tuple(int(item["name"][i : i + 2], 16) for i in (1, 3, 5))
        box = next(b for b, c in HINTS.items() if c == colour)
        assert (out[inside(box)] == (*colour, 255)).all(), item["name"]
        assert (out[out[..., 3] > 0][:, :3] == colour).all()  # nothing but its own colour
        painted += out[..., 3] > 0
    assert painted.max() == 1  # disjoint
    assert (painted[inside("C")] == 0).all()  # no dab, no layer paints it
    x0, y0, x1, _ = BOXES["A"]
    assert (painted[y0, x0 + 10 : x1 - 10] == 0).all()  # no lines in the layers


def test_flats_group_goes_under_lines_on_transparency(run):
    rec = scenario(run, "flats-group-under")
    assert rec["status"] == "success", rec["message"]
    names = [i["name"] for i in rec["after"] if i["parent"] is None]
    assert names == ["Hints", "Line art", "AI Colorize", "Paper"]
    assert "MULTIPLY" not in new_layer(rec)["mode"]
    assert len(children(rec)) == 2
    for item in children(rec):  # transparent even though "transparent" was off: layers of one colour
        assert (pixels(run, item)[inside("C")][..., 3] == 0).all()
    assert_user_layers_unchanged(rec)


def test_one_layer_per_colour_is_ignored_with_ai_colours(run):
    rec = scenario(run, "ai-ignores-layers")
    assert rec["status"] == "success", rec["message"]
    assert not new_layer(rec)["is_group"] and not children(rec)


def test_the_gap_option_reaches_the_engine(run):
    x0, y0, x1, y1 = SHAPE
    closed = pixels(run, new_layer(scenario(run, "gap-automatic")))
    around = np.ones((GAP_SIDE, GAP_SIDE), bool)
    around[y0 - 8 : y1 + 8, x0 - 8 : x1 + 8] = False
    assert (closed[around] == (*DAB, 255)).all()  # the dab's colour on the paper around
    assert (closed[y0 + 8 : y1 - 8, x0 + 8 : x1 - 8, 3] == 0).all()  # 6 px gap closed (auto 8)
    leaked = pixels(run, new_layer(scenario(run, "gap-4")))
    assert (leaked[y0 + 8 : y1 - 8, x0 + 8 : x1 - 8] == (*DAB, 255)).all()  # gap 4 < 6: it runs in
    ai = scenario(run, "gap-4-ai")
    assert ai["status"] == "success", ai["message"]


def test_group_placement_follows_the_shared_rule():
    assert rules.place_result(True, False, False).multiply  # the rule the group test relies on
    assert not rules.place_result(False, False, False).above
