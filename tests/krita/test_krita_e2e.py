"""Filter > AI Colorize… in real Krita 5 against a running ``inkhue serve``.

One Krita run (conftest ``e2e``) drives the plug-in like a user, through the Filter menu's own
QAction and the real dialog; these tests judge what it recorded. With the test fill model a hinted
region must come out exactly in its hint colour; with the shipped trained model (when present) it
must come out closest to its own hint.
"""

from __future__ import annotations

import krita_scenario as ks
import numpy as np
import pytest

pytestmark = pytest.mark.needs_krita

DOC_A_LAYERS = ["Background", "Sketch", "Empty", "Ink", "Hints"]


def _rgba_from_bgra(raw: bytes) -> np.ndarray:
    a = np.frombuffer(raw, np.uint8).reshape(ks.HEIGHT, ks.WIDTH, 4)
    return a[..., [2, 1, 0, 3]]


def _rgba_from_f32(raw: bytes) -> np.ndarray:
    a = np.frombuffer(raw, np.float32).reshape(ks.HEIGHT, ks.WIDTH, 4)
    out = ks.srgb_from_linear(a[..., :3])
    alpha = np.clip(a[..., 3] * 255 + 0.5, 0, 255).astype(np.uint8)
    return np.dstack([out, alpha])


def _check_regions(rgba: np.ndarray, expected: dict[str, tuple], exact: bool, only=None) -> None:
    """Each dab's region (interior, optionally within ``only``) shows that dab's colour."""
    labels, dab_label = ks.regions()
    for name, want in expected.items():
        mask = ks.interior(labels, dab_label[name])
        if only is not None:
            mask &= only
        assert mask.sum() > 50, name
        got = rgba[mask][:, :3].astype(int)
        assert (rgba[mask][:, 3] == 255).all(), f"{name}: result not opaque"
        if exact:
            assert np.abs(got - np.array(want)).max() <= 2, f"{name}: {got.mean(0)} != {want}"
        else:  # a trained model: the region's colour is nearest to its own hint, and nearer to
            # it than to the bare paper (the model fades colour far from a dab, so no fixed bound)
            mean = got.mean(0)
            dists = {n: np.linalg.norm(mean - np.array(c)) for n, c in expected.items()}
            dists["(paper)"] = np.linalg.norm(mean - np.array((255, 255, 255)))
            assert min(dists, key=dists.get) == name, f"{name}: mean {mean}, distances {dists}"


def test_action_sits_in_the_filter_menu(e2e):
    run, _, _ = e2e
    assert run.result["action"] == {"text": "AI Colorize…", "shortcut": "Ctrl+Alt+Shift+H"}


def test_reads_every_colour_model_and_depth_as_rgba8(e2e):
    run, _, sc = e2e
    probe = np.array(sc["probe_colors"])
    decoded = {k: np.frombuffer(bytes.fromhex(v["rgba"]), np.uint8).reshape(-1, 4).astype(int)
               for k, v in run.result["formats"].items()}  # fmt: skip
    assert len(decoded) == 14
    opaque = probe[:, 3] > 0
    for key, got in decoded.items():
        assert np.abs(got[:, 3] - probe[:, 3]).max() <= 1, key
        model = key.split("/")[0]
        if model == "RGBA":
            assert np.abs(got[opaque, :3] - probe[opaque, :3]).max() <= 1, key
        elif model == "LABA":
            assert np.abs(got[opaque, :3] - probe[opaque, :3]).max() <= 4, key
        elif model == "GRAYA":
            assert (got[:, 0] == got[:, 1]).all() and (got[:, 1] == got[:, 2]).all(), key
            assert np.abs(got[opaque, 0] - decoded["GRAYA/U8"][opaque, 0]).max() <= 2, key
        else:  # CMYK, profile-free: lines and dominant hues survive
            assert got[0, :3].max() <= 16 and got[1, :3].min() >= 240, key
            assert got[2, 0] > 200 and got[2, 1:3].max() < 60, key
        assert got[0, :3].max() <= 2 and got[1, :3].min() >= 253 or model == "CMYKA", key


def test_result_layer_directly_below_the_line_art(e2e):
    a = e2e[0].result["A"]
    assert a["outcome"]["state"] == "done", a["outcome"]
    assert a["names"] == ["Background", "Sketch", "Empty", "AI Colorize", "Ink", "Hints", "Marker"]
    assert a["size"] == [ks.WIDTH, ks.HEIGHT]
    assert a["result"]["format"][:2] == ["RGBA", "U8"]


def test_hint_colours_followed(e2e, model_dir):
    run, out, _ = e2e
    rgba = _rgba_from_bgra((out / run.result["A"]["result"]["pixels"]).read_bytes())
    exact = model_dir[1]
    _check_regions(rgba, {n: c for n, (_, _, c) in ks.DABS.items()}, exact)
    assert rgba[ks.ink_mask()][:, :3].max() <= 60, "the lines are drawn into the result"
    if exact:  # nothing hinted outside the frame: the fill model leaves paper white
        labels, _ = ks.regions()
        assert (rgba[ks.interior(labels, int(labels[2, 2]), 1)][:, :3] == 255).all()


def test_existing_layers_byte_for_byte_unchanged(e2e):
    r = e2e[0].result
    assert r["A"]["others_unchanged"]
    assert r["B"]["others_unchanged"]
    assert r["C"]["others_unchanged"]
    assert r["errors"]["unchanged"], "a failed or cancelled run changed the document"


def test_one_undo_removes_the_result(e2e):
    a = e2e[0].result["A"]
    assert a["names_undo1"] == DOC_A_LAYERS + ["Marker"]
    assert a["state_undo1_equal"]
    assert a["names_undo2"] == DOC_A_LAYERS, "the undo before ours must be the marker layer"


def test_dialog_defaults_and_remembered_choices(e2e):
    r = e2e[0].result
    first = r["A"]["dialog"]
    assert (first["lineart"], first["hints"], first["hint_help_visible"]) == ("Ink", "Hints", False)
    assert first["mode"] == "local"  # from plugin.json
    again = r["errors"]["dialog_defaults_after_first_run"]
    assert (again["mode"], again["url"]) == ("remote", e2e[2]["url"])
    nohints = r["nohints_dialog"]
    assert nohints["hints"].startswith("(none") and nohints["hint_help_visible"]


@pytest.mark.parametrize(
    "case, words",
    [
        ("bad_token", "token"),
        ("unreachable", "cannot reach"),
        ("empty_lineart", 'line-art layer "Empty" is empty'),
        ("empty_hints", 'hint layer "Empty" is empty'),
        ("same_layers", "two different layers"),
        ("too_large", "megapixels"),
        ("engine_missing", "not installed"),
    ],
)
def test_errors_explained_in_a_message_box(e2e, case, words):
    got = e2e[0].result["errors"][case]
    assert got["outcome"]["state"] == "error"
    assert len(got["messages"]) == 1 and words in got["messages"][0], got


def test_cancel_in_dialog_and_while_the_engine_works(e2e):
    errors = e2e[0].result["errors"]
    assert errors["dialog_cancel"]["outcome"]["state"] == "cancelled"
    assert errors["dialog_cancel"]["messages"] == []
    stalled = errors["stalled_cancel"]
    assert stalled["running"], "the request should still be waiting on the silent server"
    assert stalled["ticks_per_s"] > 10, "Krita's event loop stalled while the engine worked"
    assert any("Colorizing" in t for t in stalled["progress_labels"]), stalled
    assert stalled["outcome"]["state"] == "cancelled" and stalled["messages"] == []


def test_float_document_selection_and_local_engine(e2e, model_dir):
    run, out, sc = e2e
    b = run.result["B"]
    assert b["outcome"]["state"] == "done", (b["outcome"], b["messages"])
    assert b["second_outcome"]["state"] == "done"
    assert b["names"] == DOC_A_LAYERS[:3] + ["AI Colorize", "Ink", "Hints"]
    assert b["result"]["format"] == b["doc_format"] and b["doc_format"][:2] == ["RGBA", "F32"]
    rgba = _rgba_from_f32((out / b["result"]["pixels"]).read_bytes())
    x, y, w, h = sc["selection"]
    inside = np.zeros((ks.HEIGHT, ks.WIDTH), bool)
    inside[y : y + h, x : x + w] = True
    assert (rgba[~inside][:, 3] == 0).all(), "the result must stay inside the selection"
    _check_regions(rgba, {"left": ks.DABS["left"][2]}, model_dir[1], only=inside)
    assert b["names_undo1"].count("AI Colorize") == 1 and "AI Colorize" not in b["names_undo2"]
    assert b["state_undo2_equal"]


def test_grayscale_document_with_opaque_bottom_line_art(e2e, model_dir):
    run, out, _ = e2e
    c = run.result["C"]
    assert c["outcome"]["state"] == "done", (c["outcome"], c["messages"])
    # nothing can go below the bottom layer in one step, and it is opaque: directly above it
    assert c["names"] == ["Background", "AI Colorize", "Hints"]
    assert c["result"]["format"][:2] == ["RGBA", "U8"]
    rgba = _rgba_from_bgra((out / c["result"]["pixels"]).read_bytes())
    gray = np.frombuffer((out / c["hints_gray"]).read_bytes(), np.uint8).reshape(ks.HEIGHT, ks.WIDTH, 2)
    expected = {n: (int(gray[y + 2, x + 2, 0]),) * 3 for n, (x, y, _) in ks.DABS.items()}
    if model_dir[1]:
        _check_regions(rgba, expected, exact=True)
    assert c["names_undo1"] == ["Background", "Hints"] and c["state_undo1_equal"]


def test_image_closed_or_line_art_deleted_while_the_engine_works(e2e):
    vanish = e2e[0].result["vanish"]
    closed, deleted = vanish["close_image"], vanish["delete_lineart"]
    assert closed["outcome"]["state"] == "error" and "image was closed" in closed["messages"][0]
    assert deleted["outcome"]["state"] == "error" and "was deleted" in deleted["messages"][0]
    assert "AI Colorize" not in deleted["names"]
