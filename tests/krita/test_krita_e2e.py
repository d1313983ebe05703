"""Filter > AI Colorize… in real Krita 5 against a running ``inkhue serve``.

One Krita run (conftest ``e2e``) drives the plug-in like a user, through the Filter menu's own
QAction and the real dialog; these tests judge what it recorded. With the test fill model a hinted
region must come out exactly in its hint colour; with the shipped trained model (when present) it
must come out closest to its own hint.
"""

from __future__ import annotations

import krita_scenario as ks
import krita_servers
import numpy as np
import pytest

from engine.wire import layer_rules as rules

pytestmark = pytest.mark.needs_krita
SRGB = "sRGB-elle-V2-srgbtrc.icc"

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
        else:  # CMYK: converted by Krita through the profile, exactly as Krita converts the image
            fmt = run.result["formats"][key]
            krita = np.frombuffer(bytes.fromhex(fmt["krita_rgba"]), np.uint8).reshape(-1, 4).astype(int)
            assert np.abs(got - krita).max() <= 1, (key, got.tolist(), krita.tolist())
        assert run.result["formats"][key]["scratch_closed"], key
        assert got[0, :3].max() <= 2 and got[1, :3].min() >= 253 or model == "CMYKA", key


def test_result_layer_directly_below_the_line_art(e2e):
    a = e2e[0].result["A"]
    assert a["outcome"]["state"] == "done", a["outcome"]
    assert a["names"] == ["Background", "Sketch", "Empty", "AI Colorize", "Ink", "Hints", "Marker"]
    assert (a["outcome"]["above"], a["outcome"]["blending"], a["outcome"]["reason"]) == (False, "normal", "")
    assert a["size"] == [ks.WIDTH, ks.HEIGHT]
    assert a["result"]["format"][:2] == ["RGBA", "U8"]


def test_hint_colours_followed(e2e, model_dir):
    run, out, _ = e2e
    rgba = _rgba_from_bgra((out / run.result["A"]["result"]["pixels"]).read_bytes())
    exact = model_dir[1]
    _check_regions(rgba, {n: c for n, (_, _, c) in ks.DABS.items()}, exact)
    assert rgba[ks.ink_mask()][:, :3].max() <= 60, "the lines are drawn into the result"
    # nothing hinted outside the frame: transparent there (the dialog's default)
    labels, _ = ks.regions()
    assert (rgba[ks.interior(labels, int(labels[2, 2]), 1)][:, 3] == 0).all()


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
    assert (first["lineart"], first["hints"], first["problem"], first["ok_enabled"]) == (
        "Ink",
        "Hints",
        "",
        True,
    )
    assert first["mode"] == "local"  # from plugin.json
    assert first["notes"] == []  # an sRGB document: nothing to say about colours
    assert first["methods"] == ["AI (shading, guesses)", "Flat colours (exact dab colours, no AI)"]
    assert (first["method"], first["per_colour"], first["per_colour_enabled"]) == (
        first["methods"][0],
        False,
        False,
    )
    assert (first["transparent"], first["transparent_text"]) == (True, "Transparent where nothing is painted")
    assert first["gap_text"] == "Automatic"
    assert "Close gaps in the lines up to:" in first["labels"]
    again = r["errors"]["dialog_defaults_after_first_run"]
    assert (again["mode"], again["url"]) == ("remote", e2e[2]["url"])


def _no_hint_run_added_one_layer(run: dict, names: list[str]) -> None:
    """A run without dabs went ahead: one new layer below the line art, the artist's layers byte
    for byte as they were, one undo step that takes exactly that layer away."""
    assert run["outcome"]["state"] == "done", (run["outcome"], run["messages"])
    assert run["messages"] == []  # a note in the dialog, never a message box
    want = [*names]
    want.insert(names.index("Ink"), "AI Colorize")
    assert run["names"] == want
    assert run["result"]["present"] and run["others_unchanged"]
    assert run["undo_text"] == "Undo Add Layer"
    assert run["names_undo1"] == names and run["state_undo1_equal"]


def _no_hint_answer(engine_server) -> np.ndarray:
    """What the engine itself makes of doc A's line art with no hints (the dialog's options)."""
    from engine.wire import client

    line = ks.lineart_rgba(True)[ks.MARGIN : ks.MARGIN + ks.HEIGHT, ks.MARGIN : ks.MARGIN + ks.WIDTH]
    rgba = client.colorize(
        engine_server.url, np.ascontiguousarray(line).tobytes(), None, ks.WIDTH, ks.HEIGHT,
        options={"compose_lines": True, "transparent": True}, token=krita_servers.TOKEN,
    )  # fmt: skip
    return np.frombuffer(rgba, np.uint8).reshape(ks.HEIGHT, ks.WIDTH, 4)


def test_no_dabs_and_no_hint_layer_colour_with_a_note(e2e, engine_server):
    run, out, _ = e2e
    nh = run.result["nohints"]
    empty, none, no_layer = nh["empty"], nh["none"], nh["no_layer"]
    # an empty hint layer: the plain note, in the dialog, and the run goes ahead
    assert empty["filled"] == {
        "lineart": "Ink",
        "hints": "Empty",
        "note": rules.no_hints_note("Empty", "on the canvas"),
        "problem": "",
        "ok_enabled": True,
    }
    # "(none: AI suggests tones)" is offered first, before the layers; the Hints layer is the default
    assert empty["dialog"]["hint_choices"] == [rules.NO_HINTS_CHOICE, *reversed(DOC_A_LAYERS)]
    assert empty["dialog"]["hints"] == "Hints" and empty["dialog"]["note"] == ""
    assert none["filled"]["hints"] == rules.NO_HINTS_CHOICE
    assert none["filled"]["note"] == rules.no_hints_note(None) and none["filled"]["problem"] == ""
    # no hint layer in the document: "(none)" is the default choice, with its note
    first = no_layer["dialog"]
    assert (first["hints"], first["note"], first["problem"], first["ok_enabled"]) == (
        rules.NO_HINTS_CHOICE,
        rules.no_hints_note(None),
        "",
        True,
    )
    for r, names in (
        (empty, DOC_A_LAYERS),
        (none, DOC_A_LAYERS),
        (no_layer, [n for n in DOC_A_LAYERS if n != "Hints"]),
    ):
        _no_hint_run_added_one_layer(r, names)
    # all three sent fully transparent hints of the canvas size: the engine's own no-hint answer
    want = _no_hint_answer(engine_server)
    for r in (empty, none, no_layer):
        got = _rgba_from_bgra((out / r["result"]["pixels"]).read_bytes())
        assert (got[..., 3] == want[..., 3]).all()
        seen = want[..., 3] > 0
        assert np.abs(got[..., :3].astype(int) - want[..., :3])[seen].max() <= 1
    # and it is a picture: the lines drawn in, every area inside the frame painted (opaque)
    got = _rgba_from_bgra((out / none["result"]["pixels"]).read_bytes())
    assert (got[ks.ink_mask()][:, :3] <= 60).all()
    labels, dab_label = ks.regions()
    for name in ks.DABS:
        assert (got[ks.interior(labels, dab_label[name])][:, 3] == 255).all(), name


def _choice_message(lineart, hints) -> str:
    with pytest.raises(rules.LayerRuleError) as e:
        rules.check_choice(lineart, hints)
    return str(e.value)


@pytest.mark.parametrize(
    "case, message",
    [
        ("flats_empty_hints", rules.flats_need_dabs_message("Empty", "on the canvas")),
        ("same_layers", _choice_message(rules.LayerInfo(1, "Ink"), rules.LayerInfo(1, "Ink"))),
    ],
)
def test_dialog_refuses_with_the_shared_messages_and_stays_open(e2e, case, message):
    got = e2e[0].result["errors"][case]
    assert got["refused"] == [message]
    assert got["outcome"]["state"] == "cancelled" and got["messages"] == []


def test_hints_outside_a_selections_shape_do_not_count(e2e):
    run, out, _ = e2e
    got = run.result["selection_shape"]
    assert got["filled"]["note"] == rules.no_hints_note("Hints", "inside the selection")
    assert got["outcome"]["state"] == "done" and got["messages"] == []
    assert got["others_unchanged"] and got["state_undo1_equal"] and got["undo_text"] == "Undo Add Layer"
    assert got["names"] == DOC_A_LAYERS[:3] + ["AI Colorize", "Ink", "Hints"]
    rgba = _rgba_from_bgra((out / got["result"]["pixels"]).read_bytes())
    shape = np.zeros((ks.HEIGHT, ks.WIDTH), bool)
    shape[20:100, 20:30] = shape[90:100, 20:100] = True  # the L the script selects
    assert (rgba[~shape][:, 3] == 0).all(), "the result must stay inside the selection's shape"


def test_layer_guesses_groups_and_the_advanced_section(e2e):
    g = e2e[0].result["G"]
    dialog = g["dialog"]
    # the active layer is "Background", but a layer is named "Lines"
    assert (dialog["lineart"], dialog["hints"]) == ("Lines", "Hints")
    assert g["refused"] == [_choice_message(rules.LayerInfo(1, "Group", is_group=True), None)]
    assert g["outcome"]["state"] == "cancelled" and g["unchanged"]
    assert "Advanced" in dialog["groups"]
    sizes = ["Automatic (recommended)", "512 pixels", "768 pixels", "1024 pixels"]
    assert dialog["working_sizes"] == sizes
    assert dialog["working_size"] == "Automatic (recommended)"  # a stored 384 is no longer offered
    assert dialog["limit_text"] == "50 million pixels"
    words = " ".join(dialog["labels"])
    assert "Detail of the first pass" in words and "Largest image to colour" in words
    assert "Draft resolution" not in words and "MP" not in words.split()


@pytest.mark.parametrize(
    "case, words",
    [
        ("bad_token", "token"),
        ("unreachable", "cannot reach"),
        ("empty_lineart", rules.no_ink_message("Empty", True, "on the canvas")),
        ("too_large", "Largest image to colour"),
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


def test_grayscale_document_flat_colours_over_opaque_line_art_multiply(e2e, model_dir):
    run, out, _ = e2e
    c = run.result["C"]
    assert c["outcome"]["state"] == "done", (c["outcome"], c["messages"])
    # nothing can go below the bottom layer in one step, and it is opaque: directly above it, and
    # without the lines drawn in it multiplies, so the lines stay visible
    assert c["names"] == ["Background", "AI Colorize", "Hints"]
    assert c["result"]["blending"] == "multiply"
    assert c["outcome"]["reason"] == rules.place_result(True, True, False).reason
    merged = np.frombuffer((out / c["merged"]).read_bytes(), np.uint8).reshape(ks.HEIGHT, ks.WIDTH, 2)
    assert merged[ks.ink_mask()][:, 0].max() <= 60, "the lines vanished under the result"
    assert c["result"]["format"][:2] == ["RGBA", "U8"]
    assert any("grayscale" in n and "sRGB" in n for n in c["dialog"]["notes"]), c["dialog"]["notes"]
    rgba = _rgba_from_bgra((out / c["result"]["pixels"]).read_bytes())
    gray = np.frombuffer((out / c["hints_gray"]).read_bytes(), np.uint8).reshape(ks.HEIGHT, ks.WIDTH, 2)
    expected = {n: (int(gray[y + 2, x + 2, 0]),) * 3 for n, (x, y, _) in ks.DABS.items()}
    if model_dir[1]:
        _check_regions(rgba, expected, exact=True)
    assert c["names_undo1"] == ["Background", "Hints"] and c["state_undo1_equal"]


def test_cmyk_document_gets_an_srgb_layer_and_is_left_alone(e2e):
    d = e2e[0].result["D"]
    assert d["outcome"]["state"] == "done", (d["outcome"], d["messages"])
    assert d["doc_format"][:2] == ["CMYKA", "U8"]
    assert d["names"] == ["Background", "Sketch", "Empty", "AI Colorize", "Ink", "Hints"]
    assert d["result"]["format"] == ["RGBA", "U8", SRGB]
    assert any("CMYK" in n and "sRGB" in n for n in d["dialog"]["notes"]), d["dialog"]["notes"]
    assert d["others_unchanged"] and d["documents_same"], "the conversion's scratch document stayed open"
    assert d["names_undo1"] == ["Background", "Sketch", "Empty", "Ink", "Hints"] and d["state_undo1_equal"]


def test_a4_page_matches_the_engine_run_directly(e2e, engine_server):
    """The A4 size showed seams before the engine fix: the plug-in's layer must be exactly what the
    engine makes of the same pixels (no tiling or offsets of its own), opaque, above the scan."""
    from engine.wire import client

    run, out, sc = e2e
    e = run.result["E"]
    assert e["outcome"]["state"] == "done", (e["outcome"], e["messages"])
    assert e["names"] == ["Background", "A4 lines", "AI Colorize", "A4 hints"]
    assert e["result"]["blending"] == "normal"
    w, h = ks.A4
    got = np.frombuffer((out / e["result"]["pixels"]).read_bytes(), np.uint8).reshape(h, w, 4)
    line, hints = ks.a4_lineart_rgba(), ks.a4_hints_rgba()
    rgba = client.colorize(
        engine_server.url, line.tobytes(), hints.tobytes(), w, h,
        options={"compose_lines": True, "transparent": True}, token=krita_servers.TOKEN,
    )  # fmt: skip
    want = np.frombuffer(rgba, np.uint8).reshape(h, w, 4)
    assert (got[..., 3] == want[..., 3]).all()
    assert (want[..., 3] == 0).any() and (want[..., 3] == 255).any()  # paper around the frame: clear
    seen = want[..., 3] > 0
    diff = np.abs(got[..., [2, 1, 0]].astype(int) - want[..., :3])[seen]
    assert diff.max() <= 1, f"{(diff > 1).sum()} pixels differ from the engine's own result"
    assert e["others_unchanged"]


def test_hint_layer_stays_visible_because_hiding_is_no_undo_step(e2e):
    r = e2e[0].result
    assert r["A"]["hints_visible"] and r["A"]["others_unchanged"]
    v = r["visibility"]
    # hiding after adding a layer leaves "Add Layer" as the last undo step, and undoing it leaves
    # the hint layer hidden: hiding it would break "one undo step"
    assert v["undo_text"] == "Undo Add Layer"
    assert v["names_after_undo"] == ["Background", "Hints"] and v["hints_hidden_after_undo"]


def test_image_closed_or_line_art_deleted_while_the_engine_works(e2e):
    vanish = e2e[0].result["vanish"]
    closed, deleted = vanish["close_image"], vanish["delete_lineart"]
    assert closed["outcome"]["state"] == "error" and "image was closed" in closed["messages"][0]
    assert deleted["outcome"]["state"] == "error" and "was deleted" in deleted["messages"][0]
    assert "AI Colorize" not in deleted["names"]


# ------------------------------------------------------------------------------------------------
# flat colours, one layer per colour, the gap option


def _hint_rgb() -> dict[str, tuple]:
    return {n: c for n, (_, _, c) in ks.DABS.items()}


def test_flats_layer_is_transparent_outside_and_exact_inside(e2e):
    run, out, _ = e2e
    f = run.result["F"]["layer"]
    assert f["outcome"]["state"] == "done", (f["outcome"], f["messages"])
    assert f["names"] == ["Background", "Sketch", "Empty", "AI Colorize", "Ink", "Hints"]
    rgba = _rgba_from_bgra((out / f["result"]["pixels"]).read_bytes())
    _check_regions(rgba, _hint_rgb(), exact=True)
    labels, _ = ks.regions()
    assert (rgba[ks.interior(labels, int(labels[2, 2]), 1)][:, 3] == 0).all(), "the paper must stay clear"
    assert (rgba[ks.ink_mask()][:, :3] <= 60).all() and (rgba[ks.ink_mask()][:, 3] == 255).all()
    assert f["others_unchanged"] and f["state_undo1_equal"]


def _children(out, group, shape):
    h, w = shape
    return {
        c["name"]: np.frombuffer((out / c["pixels"]).read_bytes(), np.uint8).reshape(h, w, 4)[
            ..., [2, 1, 0, 3]
        ]
        for c in group["children"]
    }


def _disjoint_exact(layers: dict) -> np.ndarray:
    """Each child holds only its own colour, opaque; no pixel is painted twice. Returns the union."""
    union = np.zeros(next(iter(layers.values())).shape[:2], int)
    for name, rgba in layers.items():
        painted = rgba[..., 3] > 0
        assert (rgba[painted][:, 3] == 255).all(), name
        want = tuple(int(name[i : i + 2], 16) for i in (1, 3, 5))
        assert (rgba[painted][:, :3] == want).all(), name
        union += painted
    assert union.max() == 1, "two colour layers paint the same pixel"
    return union > 0


def test_flats_group_one_layer_per_colour_one_undo_step(e2e):
    run, out, _ = e2e
    g = run.result["F"]["group"]
    assert g["outcome"]["state"] == "done", (g["outcome"], g["messages"])
    assert g["enabled"] == [
        {"per_colour_check": True, "compose_check": False, "transparent_check": False, "gap_spin": True}
    ]
    assert g["checked"] == [{"compose": False, "transparent": True}]  # what one layer per colour gets
    assert g["names"] == ["Background", "Sketch", "Empty", "AI Colorize", "Ink", "Hints"]
    r = g["result"]
    assert (r["present"], r["type"], r["blending"]) == (True, "grouplayer", "normal")
    names = [c["name"] for c in r["children"]]
    assert sorted(names) == sorted(pixels_name(c) for c in _hint_rgb().values())
    assert names == g["outcome"]["layers"]  # largest area first, on top
    assert {c["type"] for c in r["children"]} == {"paintlayer"}
    layers = _children(out, r, (ks.HEIGHT, ks.WIDTH))
    _disjoint_exact(layers)
    labels, dab_label = ks.regions()
    for name, rgb in _hint_rgb().items():  # each dab's region is in its colour's layer
        inside = ks.interior(labels, dab_label[name])
        assert (layers[pixels_name(rgb)][inside][:, 3] == 255).all(), name
    outside = ks.interior(labels, int(labels[2, 2]), 1)
    assert all((layer[outside][:, 3] == 0).all() for layer in layers.values())
    assert g["others_unchanged"], "the user's layers changed"
    assert g["undo_text"] == "Undo Add Layer"
    assert g["names_undo1"] == DOC_A_LAYERS[:3] + ["Ink", "Hints"] and g["state_undo1_equal"]


def pixels_name(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def test_a4_flats_group_above_opaque_line_art_in_multiply(e2e):
    from engine.flats import flats_layers

    run, out, _ = e2e
    hh = run.result["H"]
    assert hh["outcome"]["state"] == "done", (hh["outcome"], hh["messages"])
    # remembered from the run before: flat colours, one layer per colour
    assert (hh["dialog"]["method"], hh["dialog"]["per_colour"]) == (
        "Flat colours (exact dab colours, no AI)",
        True,
    )
    assert hh["names"] == ["Background", "A4 lines", "AI Colorize", "A4 hints"]
    assert hh["result"]["blending"] == "multiply"
    assert hh["outcome"]["reason"] == rules.place_result(True, False, False).reason
    w, h = ks.A4
    layers = _children(out, hh["result"], (h, w))
    _disjoint_exact(layers)
    want = flats_layers(ks.a4_lineart_rgba(), ks.a4_hints_rgba())
    assert [c["name"] for c in hh["result"]["children"]] == [pixels_name(c) for c, _ in want]
    for colour, mask in want:
        assert np.array_equal(layers[pixels_name(colour)][..., 3] == 255, mask), colour
    assert hh["others_unchanged"] and hh["state_undo1_equal"]
    o = hh["outcome"]
    took = f"{o['seconds']:.2f} s, split {o['split_seconds']:.3f} s, added {o['add_seconds']:.3f} s"
    print(f"A4 flats group: {took}")


def test_flats_group_in_grayscale_and_float_documents(e2e):
    run, out, sc = e2e
    gray, f32 = run.result["group_gray"], run.result["group_f32"]
    for g in (gray, f32):
        assert g["outcome"]["state"] == "done", (g["outcome"], g["messages"])
        assert g["others_unchanged"] and g["state_undo1_equal"] and g["undo_text"] == "Undo Add Layer"
    # grayscale: an 8-bit sRGB group directly above the opaque bottom layer, in Multiply
    assert gray["names"] == ["Background", "AI Colorize", "Hints"] and gray["documents_same"]
    assert gray["result"]["blending"] == "multiply"
    assert {tuple(c["format"]) for c in gray["result"]["children"]} == {("RGBA", "U8")}
    layers = _children(out, gray["result"], (ks.HEIGHT, ks.WIDTH))
    _disjoint_exact(layers)  # exact colours: the grays Krita made of the dabs (as in document C)
    hints = np.frombuffer((out / run.result["C"]["hints_gray"]).read_bytes(), np.uint8)
    hints = hints.reshape(ks.HEIGHT, ks.WIDTH, 2)
    assert set(layers) == {pixels_name((int(hints[y + 2, x + 2, 0]),) * 3) for x, y, _ in ks.DABS.values()}
    # float: the document's own format, only inside the selection; the dab there is "left"
    assert f32["doc_format"][:2] == ["RGBA", "F32"]
    assert {tuple(c["format"]) for c in f32["result"]["children"]} == {("RGBA", "F32")}
    assert f32["names"] == ["Background", "Sketch", "Empty", "AI Colorize", "Ink", "Hints"]
    x, y, w, h = sc["selection"]
    inside = np.zeros((ks.HEIGHT, ks.WIDTH), bool)
    inside[y : y + h, x : x + w] = True
    painted = np.zeros_like(inside)
    for c in f32["result"]["children"]:
        rgba = _rgba_from_f32((out / c["pixels"]).read_bytes())
        assert (rgba[~inside][:, 3] == 0).all(), c["name"]
        painted |= rgba[..., 3] > 0
    labels, dab_label = ks.regions()
    left = ks.interior(labels, dab_label["left"]) & inside
    assert painted[left].all() and pixels_name(ks.DABS["left"][2]) in [
        c["name"] for c in f32["result"]["children"]
    ]


def test_gap_option_reaches_the_engine(e2e):
    run, out, _ = e2e
    gap = run.result["gap"]
    n = ks.GAP_SIZE
    results = {}
    for key in ("auto", "four"):
        g = gap[key]
        assert g["outcome"]["state"] == "done", (key, g["outcome"], g["messages"])
        raw = (out / g["result"]["pixels"]).read_bytes()
        results[key] = np.frombuffer(raw, np.uint8).reshape(n, n, 4)[..., [2, 1, 0, 3]]
        around = results[key][ks.gap_outside()]
        assert (around[:, 3] == 255).all() and (around[:, :3] == ks.GAP_DAB[2]).all(), key
        assert g["state_undo1_equal"], key
    assert gap["auto"]["dialog"]["gap_text"] == "Automatic"
    # one layer per colour (remembered from the A4 run) showed no lines; turned off, the artist's
    # own choice (lines drawn in, remembered through the group runs) comes back
    assert gap["auto"]["dialog"]["compose"] is False and gap["auto"]["dialog"]["per_colour"] is True
    assert gap["auto"]["checked"] == [{"compose": True, "transparent": True}]
    assert (results["auto"][ks.gap_inside()][:, 3] == 0).all(), "the automatic gap (8 px) closes the break"
    leaked = results["four"][ks.gap_inside()]
    assert (leaked[:, 3] == 255).all() and (leaked[:, :3] == ks.GAP_DAB[2]).all(), "4 px leaves it open"
    assert gap["remembered"]["gap_text"] == "4 px"
