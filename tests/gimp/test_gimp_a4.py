"""An A4 page (1240×1754, A4 at 150 dpi) through the plug-in in real GIMP 3: no seams.

The canvas sizes artists use are not multiples of the model's tiles; the engine once left seams
and colour blocks there. The page is lines on white (a grid of boxes) and a Hints layer with a
dab in each box. The plug-in's layer must equal the engine's answer for the same pixels, and
inside every box the colour must follow its dab with no step from one row or column to the next.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tests.gimp.scenes import (
    assert_originals_unchanged,
    layer,
    new_layer,
    pixels,
    remote_settings,
    run_in_gimp,
    scenario,
)

pytestmark = pytest.mark.skipif(
    os.environ.get("INKHUE_SKIP_GIMP") == "1", reason="INKHUE_SKIP_GIMP=1: real-GIMP tests skipped"
)

W, H = 1240, 1754
COLS, ROWS, LINE = 3, 4, 4  # boxes across, down; line width
MARGIN = 40
PALETTE = [(220, 50, 50), (50, 90, 220), (60, 170, 80), (240, 200, 40), (150, 70, 190), (240, 130, 40)]


def boxes() -> list[tuple[int, int, int, int]]:
    """Each box's inside (x0, y0, x1, y1), between the lines."""
    xs = np.linspace(MARGIN, W - MARGIN, COLS + 1).astype(int)
    ys = np.linspace(MARGIN, H - MARGIN, ROWS + 1).astype(int)
    return [
        (xs[c] + LINE, ys[r] + LINE, xs[c + 1], ys[r + 1]) for r in range(ROWS) for c in range(COLS)
    ]  # fmt: skip


def page() -> tuple[np.ndarray, np.ndarray]:
    line = np.full((H, W, 4), 255, np.uint8)
    xs = np.linspace(MARGIN, W - MARGIN, COLS + 1).astype(int)
    ys = np.linspace(MARGIN, H - MARGIN, ROWS + 1).astype(int)
    for x in xs:
        line[ys[0] : ys[-1] + LINE, x : x + LINE, :3] = 0
    for y in ys:
        line[y : y + LINE, xs[0] : xs[-1] + LINE, :3] = 0
    dabs = np.zeros((H, W, 4), np.uint8)
    for i, (x0, y0, x1, y1) in enumerate(boxes()):
        cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
        dabs[cy - 8 : cy + 8, cx - 8 : cx + 8] = (*PALETTE[i % len(PALETTE)], 255)
    return line, dabs


@pytest.fixture(scope="module")
def run(gimp_root: Path, server: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    line, dabs = page()
    base = {
        "canvas": [W, H],
        "layers": [("Hints", dabs), ("Line art", line)],
        "selected": ["Hints"],
        "settings": remote_settings(server["url"]),
    }
    flats = {"method": "flats"}
    scenario_list = [
        {**base, "name": "a4", "args": {"transparent": False}},  # opaque: the same as the engine's RGB
        {**base, "name": "a4-flats", "args": flats},  # one transparent layer
        {**base, "name": "a4-flats-group", "args": {**flats, "flats-layers": True}},
    ]
    out = tmp_path_factory.mktemp("gimp-a4")
    record = run_in_gimp(gimp_root, scenario_list, out)
    return {**record, "server": server, "line": line, "dabs": dabs}


def test_a4_result_equals_the_engine_and_has_no_seams(run):
    rec = scenario(run, "a4")
    assert rec["status"] == "success", rec["message"]
    assert_originals_unchanged(rec)
    new = new_layer(rec)
    assert new["size"] == [W, H] and new["position"] == layer(rec, "Line art")["position"] - 1
    got = pixels(run, new)
    assert (got[..., 3] == 255).all()
    got = got[..., :3].astype(int)

    # the same pixels through the engine directly (the server's model, on this machine)
    from engine import LocalColorizer

    engine = LocalColorizer(run["server"]["model"], backend="onnx", device="cpu")
    direct = engine.colorize(run["line"], run["dabs"])
    diff = np.abs(got - direct.astype(int))
    assert diff.max() <= 2 and diff.mean() < 0.05, (diff.max(), diff.mean())

    for i, (x0, y0, x1, y1) in enumerate(boxes()):
        inside = got[y0 + 24 : y1 - 24, x0 + 24 : x1 - 24]  # clear of the soft edge along the lines
        hint = np.array(PALETTE[i % len(PALETTE)])
        mean = inside.reshape(-1, 3).mean(0)
        assert np.linalg.norm(mean - hint) < 60, (i, mean, hint)
        # a seam is a step along a whole row or column: the mean step between neighbours (a clean
        # page measured below 2; the model's texture alone gives about 0.5-1)
        rows = np.abs(np.diff(inside, axis=0)).mean(axis=(1, 2))
        cols = np.abs(np.diff(inside, axis=1)).mean(axis=(0, 2))
        assert rows.max() < 3 and cols.max() < 3, (i, rows.max(), rows.argmax(), cols.max(), cols.argmax())


def test_a4_flats_as_one_layer_per_colour(run):
    """Splitting the flats into a layer per colour is quick at A4 (timings printed with -s)."""
    one, group = scenario(run, "a4-flats"), scenario(run, "a4-flats-group")
    for rec in (one, group):
        assert rec["status"] == "success", rec["message"]
    print(f"A4 flats: one layer {one['seconds']:.2f} s, a layer group per colour {group['seconds']:.2f} s")
    assert group["seconds"] < 60
    assert group["seconds"] - one["seconds"] < 20  # the split and the extra layers
    parts = [i for i in group["after"] if i["parent"] == "AI Colorize"]
    assert sorted(i["name"] for i in parts) == sorted("#{:02x}{:02x}{:02x}".format(*c) for c in PALETTE)
    assert "MULTIPLY" in new_layer(group)["mode"]  # above the opaque page, lines show through
    single = pixels(run, new_layer(one))
    painted = np.zeros((H, W), int)
    ink = run["line"][..., 0] < 128
    for item in parts:
        got = pixels(run, item)
        colour = tuple(int(item["name"][i : i + 2], 16) for i in (1, 3, 5))
        mine = got[..., 3] > 0
        assert (got[mine][:, :3] == colour).all()
        painted += mine
        for i, (x0, y0, x1, y1) in enumerate(boxes()):
            if PALETTE[i % len(PALETTE)] == colour:
                assert (got[y0 + 4 : y1 - 4, x0 + 4 : x1 - 4] == (*colour, 255)).all()
        # the group's layers hold exactly the one layer's flat colours (its drawn-in lines aside)
        same = (single[..., :3] == colour).all(-1) & (single[..., 3] == 255)
        assert (mine & ~ink <= same).all()
    assert painted.max() == 1
    assert (painted[:MARGIN, :] == 0).all()  # the margin outside the grid: no dab, transparent
