"""The AI Colorize docker with Live preview in real Krita (scripts/live.py drives it)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import krita_servers
import kritarun
import numpy as np
import pytest

pytestmark = pytest.mark.needs_krita
SCALE = 3
W, H = 160 * SCALE, 120 * SCALE
SCREENSHOT = os.environ.get("INKHUE_KRITA_SCREENSHOT")  # copy docker.png there (README image)


def _ink() -> np.ndarray:
    import krita_scenario as ks

    mask = np.kron(ks.ink_mask(), np.ones((SCALE, SCALE), bool))
    rgba = np.zeros((H, W, 4), np.uint8)
    rgba[mask] = (0, 0, 0, 255)
    return rgba


def _bgra(rgba: np.ndarray) -> bytes:
    return np.ascontiguousarray(rgba[..., [2, 1, 0, 3]]).tobytes()


@pytest.fixture(scope="module")
def live(krita_available, engine_server, tmp_path_factory):
    base = tmp_path_factory.mktemp("krita-live")
    inputs, out, home = base / "in", base / "out", base / "home"
    inputs.mkdir()
    hints = np.zeros((H, W, 4), np.uint8)
    hints[160:178, 100:118] = (230, 40, 40, 255)  # a red dab in the left region
    (inputs / "ink.rgba").write_bytes(_ink()[..., [0, 1, 2, 3]].tobytes())
    (inputs / "hints.rgba").write_bytes(hints.tobytes())
    sc = {
        "url": engine_server.url,
        "token": krita_servers.TOKEN,
        "width": W,
        "height": H,
        "dab": {"x": 320, "y": 80, "rgb": [40, 80, 220]},  # blue, right-top region
        "probe": [400, 150],
    }
    (inputs / "scenario.json").write_text(json.dumps(sc), encoding="utf-8")
    kritarun.make_home(home)
    root = os.environ.get("INKHUE_KRITA_ROOT")
    env = {"INKHUE_KRITA_INPUT": str(inputs)}
    run = kritarun.run_script(kritarun.SCRIPTS / "live.py", out, home, env, root=root and Path(root))
    assert run.ok, run.explain()
    if SCREENSHOT and (out / "docker.png").exists():
        shutil.copy(out / "docker.png", SCREENSHOT)
    return run.result, out


def test_docker_appears(live):
    r, _ = live
    assert r["docker_found"] and r["docker_titles"] == ["AI Colorize"]


def test_live_preview_follows_a_dab_painted_through_the_api(live):
    r, _ = live
    assert r["facts_first"]["state"] == "shown", r["facts_first"]
    assert r["dab_shown"], r["facts_dab"]
    assert r["dab_preview_s"] < 20, r["dab_preview_s"]
    assert "AI Colorize (preview)" not in r["combo_items"], "the preview is never an input"
    assert r["names_live"] == ["Background", "AI Colorize (preview)", "Ink", "Hints", "Marker"]


def test_apply_leaves_one_new_layer_and_one_undo_step(live):
    r, out = live
    assert r["facts_apply"]["state"] == "applied", r["facts_apply"]
    assert r["names_applied"] == ["Background", "AI Colorize", "Ink", "Hints", "Marker"]
    assert r["names_undo1"] == r["names_before"], "one undo removes the result"
    assert r["names_undo2"] == ["Background", "Ink", "Hints"], "the step before was the marker"
    px = np.frombuffer((out / r["result_pixels"]).read_bytes(), np.uint8).reshape(H, W, 4)
    b, g, red = (int(v) for v in px[150, 400, :3])  # the blue dab's region is blue-ish
    assert b > red and b > 100, (red, g, b)


def test_user_layers_byte_identical(live):
    r, _ = live
    assert r["user_unchanged_live"] and r["user_unchanged_apply"] and r["user_unchanged_undo1"]


def test_discard_removes_the_preview(live):
    r, _ = live
    assert r["preview_again"], r["facts_discard"]
    assert r["names_discarded"] == r["names_before_discard"]


def test_discard_during_insertion_or_after_losing_track_leaves_no_preview(live):
    r, _ = live
    assert r["race_called"] and r["preview_lost"], r
    assert r["names_race"] == r["names_before_discard"]
    assert r["names_lost"] == r["names_before_discard"]


def test_no_hint_layer_choice_previews_and_applies_with_the_note(live):
    from engine.wire import layer_rules as rules

    r, _ = live
    assert r["none_choice"] == rules.NO_HINTS_CHOICE
    assert r["facts_none"]["state"] == "shown", r["facts_none"]
    assert r["facts_none"]["message"].endswith(" " + rules.no_hints_note(None)), r["facts_none"]
    assert r["facts_none_apply"]["state"] == "applied", r["facts_none_apply"]
    before = r["names_none_before"]
    assert r["names_none_applied"] == [*before[:1], "AI Colorize", *before[1:]]
    assert r["user_unchanged_none"] and r["user_unchanged_none_undo1"]
    assert r["names_none_undo1"] == before, "one undo removes the result"
    # flat colours have nothing to follow without dabs: said in the docker, nothing added
    assert r["facts_none_flats"]["state"] == "error"
    assert r["facts_none_flats"]["message"] == rules.flats_need_dabs_message(None)
    assert r["names_none_flats"] == before
