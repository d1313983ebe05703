"""End-to-end run of Filter > AI Colorize… in real Krita (see test_krita_e2e.py for the checks).

Documents come from ``scenario.json`` and raw RGBA files written by the test. Facts go to
``result.json`` and raw pixel files in the output folder; the test judges them with numpy.
"""

import json
import os
import time

from krita import Krita, Selection
from kritahelp import (
    ModalDriver,
    add_layer,
    colorize,
    doc_state,
    filter_menu_action,
    layer_names,
    load_input,
    outcome,
    reset_outcome,
    rgba_to_bgra,
    save_bytes,
    save_result,
    scenario,
    wait_outcome,
)

FORMATS = [
    ("RGBA", "U8"), ("RGBA", "U16"), ("RGBA", "F16"), ("RGBA", "F32"),
    ("GRAYA", "U8"), ("GRAYA", "U16"), ("GRAYA", "F16"), ("GRAYA", "F32"),
    ("CMYKA", "U8"), ("CMYKA", "U16"), ("CMYKA", "F32"),
    ("LABA", "U8"), ("LABA", "U16"), ("LABA", "F32"),
]  # fmt: skip

res = {}
app = Krita.instance()
NO_HINTS_CHOICE = "(none: AI suggests tones)"  # layer_rules.NO_HINTS_CHOICE (the test checks it)


def undo():
    app.action("edit_undo").trigger()


def new_doc(sc, name, layers, size=None):
    """An RGBA/U8 document: Krita's white "Background" plus ``layers`` (bottom to top); a layer
    named "Background" is painted onto the existing one."""
    width, height = size or (sc["width"], sc["height"])
    doc = app.createDocument(width, height, name, "RGBA", "U8", "", 72.0)
    doc.setBatchmode(True)
    for spec in layers:
        pixels = load_input(spec["file"])
        if spec["name"] == "Background":
            node = doc.nodeByName("Background")
            node.setPixelData(rgba_to_bgra(pixels), spec["x"], spec["y"], spec["w"], spec["h"])
            continue
        node = add_layer(doc, spec["name"], pixels, spec["x"], spec["y"], spec["w"], spec["h"])
        for key, setter in (("opacity", node.setOpacity), ("visible", node.setVisible)):
            if key in spec:
                setter(spec[key])
    return doc


def show(doc, active_name):
    app.activeWindow().addView(doc)
    yield 300
    doc.setActiveNode(doc.nodeByName(active_name))
    yield 300


def group_facts(doc, prefix):
    """The "AI Colorize" layer group: its blending and each child's name, type and pixels (as
    stored: BGRA for 8-bit RGB, RGBA floats for F32)."""
    node = doc.nodeByName("AI Colorize")
    if node is None or node.type() != "grouplayer":
        return {"present": False, "type": node and node.type()}
    children = []
    for i, child in enumerate(reversed(node.childNodes())):  # top to bottom, as the docker shows
        data = child.pixelData(0, 0, doc.width(), doc.height())
        children.append(
            {
                "name": child.name(),
                "type": child.type(),
                "format": [child.colorModel(), child.colorDepth()],
                "blending": child.blendingMode(),
                "pixels": save_bytes(f"{prefix}_{i}.raw", data),
            }
        )
    return {"present": True, "type": node.type(), "blending": node.blendingMode(), "children": children}


def result_layer_facts(doc, prefix):
    node = doc.nodeByName("AI Colorize")
    if node is None:
        return {"present": False}
    return {
        "present": True,
        "format": [node.colorModel(), node.colorDepth(), node.colorProfile()],
        "blending": node.blendingMode(),
        "pixels": save_bytes(prefix + ".raw", node.pixelData(0, 0, doc.width(), doc.height())),
        "bounds": [node.bounds().x(), node.bounds().y(), node.bounds().width(), node.bounds().height()],
    }


def formats_phase():
    """Krita converts known colours into each model/depth; the plug-in must read them back."""
    colors = scenario()["probe_colors"]
    out = {}
    for model, depth in FORMATS:
        doc = app.createDocument(len(colors), 1, "fmt", "RGBA", "U8", "", 72.0)
        doc.setBatchmode(True)
        px = b"".join(bytes([b, g, r, a]) for r, g, b, a in colors)
        node = doc.createNode("l", "paintlayer")
        doc.rootNode().addChildNode(node, None)
        node.setPixelData(px, 0, 0, len(colors), 1)
        doc.setColorSpace(model, depth, "")
        doc.waitForDone()
        node = doc.nodeByName("l")
        from inkhue_krita import kritaio, pixels, planning

        n_docs = len(app.documents())
        raw, fmt = kritaio.read_layer(app, node, planning.Rect(0, 0, len(colors), 1))
        out[model + "/" + depth] = {
            "profile": node.colorProfile(),
            "rgba": pixels.to_rgba8(raw, fmt).hex(),
            "scratch_closed": len(app.documents()) == n_docs,
        }
        if model == "CMYKA":  # what Krita itself makes of these pixels in 8-bit sRGB
            doc.setColorSpace("RGBA", "U8", "sRGB-elle-V2-srgbtrc.icc")
            doc.waitForDone()
            bgra = bytes(doc.nodeByName("l").pixelData(0, 0, len(colors), 1))
            out[model + "/" + depth]["krita_rgba"] = rgba_to_bgra(bgra).hex()
        doc.close()
    res["formats"] = out


def float_doc_with_selection(sc, name):
    """A 32-bit float linear copy of the scene with the line art shown and the scene's selection."""
    doc = new_doc(sc, name, sc["layers"])
    doc.setColorSpace("RGBA", "F32", "")
    doc.waitForDone()
    yield from show(doc, "Ink")
    sel = Selection()
    x, y, w, h = sc["selection"]
    sel.select(x, y, w, h, 255)
    doc.setSelection(sel)
    yield 200
    return doc


def steps():
    sc = scenario()
    driver = ModalDriver()
    action = filter_menu_action()
    res["action"] = {"text": action.text(), "shortcut": action.shortcut().toString()}
    formats_phase()
    save_result(res)

    # ---- A: RGBA/U8, remote engine, the normal case
    doc = new_doc(sc, "A", sc["layers"])
    yield from show(doc, "Hints")
    marker = doc.createNode("Marker", "paintlayer")
    doc.rootNode().addChildNode(marker, None)  # an earlier undo step, to count ours
    doc.waitForDone()
    yield 200
    doc.setActiveNode(doc.nodeByName("Ink"))  # the line art is the active layer
    yield 300
    before = doc_state(doc)
    remote = {"mode": "remote", "url": sc["url"], "token": sc["token"]}
    t0 = time.monotonic()
    yield from colorize(driver, remote)  # the dialog's own defaults for the layers
    a = {"outcome": outcome(), "seconds": time.monotonic() - t0, "dialog": driver.dialogs()[-1]}
    a["size"] = [doc.width(), doc.height()]
    a["names"] = layer_names(doc)
    a["result"] = result_layer_facts(doc, "A")
    a["hints_visible"] = doc.nodeByName("Hints").visible()
    after = doc_state(doc)
    a["others_unchanged"] = [s for s in after if s["name"] != "AI Colorize"] == before
    undo()
    yield 300
    a["names_undo1"] = layer_names(doc)
    a["state_undo1_equal"] = doc_state(doc) == before
    undo()
    yield 300
    a["names_undo2"] = layer_names(doc)
    res["A"] = a
    save_result(res)

    # ---- errors and cancels on the same document: each must leave it exactly as it was
    before = doc_state(doc)
    errors = {}
    remote = dict(remote, lineart="Ink", hints="Hints", limit=50.0)
    cases = [
        ("bad_token", dict(remote, token="wrong-token")),
        ("unreachable", dict(remote, url=sc["dead_url"])),
        ("empty_lineart", dict(remote, lineart="Empty")),
        ("flats_empty_hints", dict(remote, hints="Empty", method="flats")),
        ("same_layers", dict(remote, lineart="Ink", hints="Ink")),
        ("too_large", dict(remote, limit=0.01)),
        ("dialog_cancel", "reject"),
        ("engine_missing", dict(remote, mode="local")),
    ]
    config = os.path.expanduser("~/.config/inkhue/plugin.json")
    with open(config, encoding="utf-8") as f:
        saved_config = f.read()
    for name, plan in cases:
        if name == "engine_missing":  # the installed engine was removed since the installer ran
            with open(config, "w", encoding="utf-8") as f:
                json.dump({"inkhue": "/nonexistent/inkhue", "mode": "local"}, f)
        n_messages, n_refused = len(driver.messages()), len(driver.refusals())
        yield from colorize(driver, plan)
        yield 100
        errors[name] = {
            "outcome": outcome(),
            "messages": driver.messages()[n_messages:],
            "refused": driver.refusals()[n_refused:],
        }
    with open(config, "w", encoding="utf-8") as f:
        f.write(saved_config)
    # a server that never answers: Krita must keep running its event loop, Cancel must work
    n_messages = len(driver.messages())
    driver.progress_seen = []
    ticks = driver.ticks
    driver.plan = dict(remote, url=sc["stall_url"])
    reset_outcome()
    filter_menu_action().trigger()
    t0 = time.monotonic()
    yield 1500
    stalled = {"ticks_per_s": (driver.ticks - ticks) / (time.monotonic() - t0), "running": not outcome()}
    stalled["progress_labels"] = sorted(set(driver.progress_seen))
    driver.cancel_progress = True
    yield from wait_outcome(10)
    driver.cancel_progress = False
    stalled["outcome"] = outcome()
    stalled["messages"] = driver.messages()[n_messages:]
    errors["stalled_cancel"] = stalled
    errors["unchanged"] = doc_state(doc) == before
    errors["dialog_defaults_after_first_run"] = driver.dialogs()[1]
    res["errors"] = errors
    save_result(res)

    # ---- the image closed, or the line art deleted, while the engine works: nothing is added
    vanish = {}
    for what in ("close_image", "delete_lineart"):
        tmp = new_doc(sc, "Vanish", sc["layers"])
        yield from show(tmp, "Ink")
        reset_outcome()
        n_messages = len(driver.messages())
        driver.plan = dict(remote, url=sc["slow_url"])
        filter_menu_action().trigger()
        yield 200  # the request is on its way (the slow proxy holds it)
        if what == "close_image":
            tmp.setModified(False)
            tmp.close()
        else:
            tmp.nodeByName("Ink").remove()
        yield from wait_outcome(30)
        vanish[what] = {"outcome": outcome(), "messages": driver.messages()[n_messages:]}
        if what == "delete_lineart":
            vanish[what]["names"] = layer_names(tmp)
            tmp.setModified(False)
            tmp.close()
        yield 200
    res["vanish"] = vanish
    save_result(res)

    # ---- no hints: an empty hint layer, "(none: AI suggests tones)", no hint layer at all; each
    # run adds the AI's own colours as one undo step and leaves the artist's layers alone
    plain = {k: remote[k] for k in ("mode", "url", "token", "lineart")}
    # (first: the hint layer used last, remembered by name, would be the default otherwise)
    nh = {}
    nohints = new_doc(sc, "NoHints", [s for s in sc["layers"] if s["name"] != "Hints"])
    yield from show(nohints, "Ink")
    nh["no_layer"] = yield from one_run(nohints, driver, plain, "NH_no_layer")  # the dialog's default
    nohints.setModified(False)
    nohints.close()
    yield 200
    yield 300
    nh["empty"] = yield from one_run(doc, driver, dict(plain, hints="Empty"), "NH_empty")
    nh["none"] = yield from one_run(doc, driver, dict(plain, hints=NO_HINTS_CHOICE), "NH_none")
    res["nohints"] = nh
    save_result(res)

    # ---- B: 32-bit float linear document, a selection, the local engine started by the plug-in
    docb = yield from float_doc_with_selection(sc, "B")
    before = doc_state(docb)
    n_messages = len(driver.messages())
    t0 = time.monotonic()
    local = {"mode": "local", "lineart": "Ink", "hints": "Hints", "limit": 50.0}
    yield from colorize(driver, local, timeout=150)
    b = {"outcome": outcome(), "seconds": time.monotonic() - t0, "names": layer_names(docb)}
    b["doc_format"] = [docb.colorModel(), docb.colorDepth(), docb.colorProfile()]
    b["result"] = result_layer_facts(docb, "B")
    b["others_unchanged"] = [s for s in doc_state(docb) if s["name"] != "AI Colorize"] == before
    t0 = time.monotonic()
    yield from colorize(driver, local)  # the engine is running now: reused
    b["second_seconds"] = time.monotonic() - t0
    b["second_outcome"] = outcome()
    undo()
    yield 300
    b["names_undo1"] = layer_names(docb)
    undo()
    yield 300
    b["names_undo2"] = layer_names(docb)
    b["state_undo2_equal"] = doc_state(docb) == before
    b["messages"] = driver.messages()[n_messages:]
    res["B"] = b
    save_result(res)

    # ---- C: grayscale document whose line art is the opaque bottom layer
    docc = new_doc(sc, "C", sc["layers_c"])
    docc.setColorSpace("GRAYA", "U8", "")
    docc.waitForDone()
    yield from show(docc, "Background")
    before = doc_state(docc)
    n_messages = len(driver.messages())
    yield from colorize(driver, dict(remote, lineart="Background", hints="Hints", compose=False))
    c = {"outcome": outcome(), "names": layer_names(docc), "dialog": driver.dialogs()[-1]}
    c["result"] = result_layer_facts(docc, "C")
    c["merged"] = save_bytes("C_merged.raw", docc.pixelData(0, 0, docc.width(), docc.height()))
    c["hints_gray"] = save_bytes(
        "C_hints.raw", docc.nodeByName("Hints").pixelData(0, 0, docc.width(), docc.height())
    )
    c["others_unchanged"] = [s for s in doc_state(docc) if s["name"] != "AI Colorize"] == before
    undo()
    yield 300
    c["names_undo1"] = layer_names(docc)
    c["state_undo1_equal"] = doc_state(docc) == before
    c["messages"] = driver.messages()[n_messages:]
    res["C"] = c
    save_result(res)
    yield from later_phases(sc, driver, remote)
    yield from flats_phases(sc, driver, remote)


def later_phases(sc, driver, remote):
    remote = {k: remote[k] for k in ("mode", "url", "token")}  # the layers: the dialog's guesses
    # ---- G: layer guesses; the active layer is the background, a stored working size of 384
    app.writeSetting("inkhue_krita", "working_size", "384")
    docg = new_doc(sc, "G", sc["layers_g"])
    group = docg.createNode("Group", "grouplayer")
    docg.rootNode().addChildNode(group, None)
    flats = docg.createNode("Flats", "paintlayer")
    group.addChildNode(flats, None)
    docg.waitForDone()
    yield from show(docg, "Background")
    before = doc_state(docg)
    n_refused = len(driver.refusals())
    yield from colorize(driver, dict(remote, lineart="Group"))
    g = {"dialog": driver.dialogs()[-1], "refused": driver.refusals()[n_refused:], "outcome": outcome()}
    g["unchanged"] = doc_state(docg) == before
    res["G"] = g
    docg.setModified(False)
    docg.close()
    yield 200
    save_result(res)

    # ---- an L-shaped selection whose bounding box, but not its shape, holds the "left" dab
    docs = new_doc(sc, "S", sc["layers"])
    yield from show(docs, "Ink")
    sel, arm = Selection(), Selection()
    sel.select(20, 20, 10, 80, 255)
    arm.select(20, 90, 80, 10, 255)
    sel.add(arm)
    docs.setSelection(sel)
    yield 200
    res["selection_shape"] = yield from one_run(docs, driver, dict(remote, lineart="Ink", hints="Hints"), "S")
    docs.setModified(False)
    docs.close()
    yield 200
    save_result(res)

    # ---- D: a CMYK document: Krita converts the layers through its profile; the result is sRGB
    docd = new_doc(sc, "D", sc["layers"])
    docd.setColorSpace("CMYKA", "U8", "")
    docd.waitForDone()
    yield from show(docd, "Ink")
    before = doc_state(docd)
    n_docs = len(app.documents())
    n_messages = len(driver.messages())
    yield from colorize(driver, dict(remote, lineart="Ink", hints="Hints", compose=True))
    d = {"outcome": outcome(), "names": layer_names(docd), "dialog": driver.dialogs()[-1]}
    d["doc_format"] = [docd.colorModel(), docd.colorDepth(), docd.colorProfile()]
    d["result"] = result_layer_facts(docd, "D")
    d["others_unchanged"] = [s for s in doc_state(docd) if s["name"] != "AI Colorize"] == before
    d["documents_same"] = len(app.documents()) == n_docs
    undo()
    yield 300
    d["names_undo1"] = layer_names(docd)
    d["state_undo1_equal"] = doc_state(docd) == before
    d["messages"] = driver.messages()[n_messages:]
    res["D"] = d
    docd.setModified(False)
    docd.close()
    yield 200
    save_result(res)

    # ---- E: an A4 page (lines on white, one layer) with the default choices
    w, h = sc["a4"]
    doce = new_doc(sc, "E", sc["layers_e"], size=(w, h))
    yield from show(doce, "A4 lines")
    before = doc_state(doce)
    n_messages = len(driver.messages())
    t0 = time.monotonic()
    yield from colorize(driver, dict(remote, compose=True), timeout=120)
    e = {"outcome": outcome(), "seconds": time.monotonic() - t0, "names": layer_names(doce)}
    e["dialog"] = driver.dialogs()[-1]
    e["result"] = result_layer_facts(doce, "E")
    e["others_unchanged"] = [s for s in doc_state(doce) if s["name"] != "AI Colorize"] == before
    e["messages"] = driver.messages()[n_messages:]
    res["E"] = e
    doce.setModified(False)
    doce.close()
    yield 200
    save_result(res)

    # ---- why the hint layer is not hidden after a run: Krita's setVisible is no undo step
    docv = app.createDocument(32, 32, "V", "RGBA", "U8", "", 72.0)
    yield from show(docv, "Background")
    hints = add_layer(docv, "Hints", bytes(32 * 32 * 4))
    yield 200
    undo_action = app.action("edit_undo")
    add_layer(docv, "AI Colorize", bytes(32 * 32 * 4))  # as the plug-in's one step, then hide
    hints.setVisible(False)
    docv.waitForDone()
    yield 200
    v = {"undo_text": undo_action.text()}
    undo()
    yield 300
    v["names_after_undo"] = layer_names(docv)
    v["hints_hidden_after_undo"] = not docv.nodeByName("Hints").visible()
    res["visibility"] = v
    docv.setModified(False)
    docv.close()
    save_result(res)


def one_run(doc, driver, plan, prefix, group=False, timeout=90):
    """Colorize ``doc`` with ``plan``, record the result, undo it; returns the facts."""
    before = doc_state(doc)
    n_messages, n_enabled = len(driver.messages()), len(driver.enabled())
    undo_action = app.action("edit_undo")
    t0 = time.monotonic()
    yield from colorize(driver, plan, timeout=timeout)
    f = {"outcome": outcome(), "seconds": time.monotonic() - t0, "names": layer_names(doc)}
    f["dialog"] = driver.dialogs()[-1]
    f["filled"] = driver.filled()[-1] if plan != "reject" else None
    f["enabled"] = driver.enabled()[n_enabled:]
    f["checked"] = driver.checked()[n_enabled:]
    f["result"] = group_facts(doc, prefix) if group else result_layer_facts(doc, prefix)
    f["others_unchanged"] = [s for s in doc_state(doc) if s["name"] != "AI Colorize"] == before
    deadline = time.monotonic() + 3  # Krita 6 may rename its undo action an event loop turn later
    while undo_action.text().strip() == "Undo" and time.monotonic() < deadline:
        yield 50
    f["undo_text"] = undo_action.text()
    undo()
    yield 300
    f["names_undo1"] = layer_names(doc)
    f["state_undo1_equal"] = doc_state(doc) == before
    f["messages"] = driver.messages()[n_messages:]
    return f


def flats_phases(sc, driver, remote):
    """Flat colours: one transparent layer, one layer per colour (a group), the gap option."""
    remote = {k: remote[k] for k in ("mode", "url", "token")}
    flats = dict(remote, lineart="Ink", hints="Hints", method="flats", transparent=True, compose=True)
    # ---- F: doc A's layers (lines on a transparent layer): a flats layer, then a flats group
    docf = new_doc(sc, "F", sc["layers"])
    yield from show(docf, "Ink")
    f = {}
    f["layer"] = yield from one_run(docf, driver, dict(flats, per_colour=False), "F_layer")
    f["group"] = yield from one_run(docf, driver, dict(flats, per_colour=True), "F_group", group=True)
    res["F"] = f
    save_result(res)
    docf.setModified(False)
    docf.close()
    yield 200

    # ---- H: an A4 page (lines on white, opaque): the group goes above it, in Multiply
    w, h = sc["a4"]
    doch = new_doc(sc, "H", sc["layers_e"], size=(w, h))
    yield from show(doch, "A4 lines")
    res["H"] = yield from one_run(doch, driver, dict(remote), "H", group=True, timeout=120)
    save_result(res)
    doch.setModified(False)
    doch.close()
    yield 200

    # ---- the group in other formats: grayscale (an 8-bit sRGB group above the opaque bottom
    # layer), 32-bit float linear with a selection (the document's own format)
    group = dict(remote, hints="Hints", method="flats", per_colour=True)
    docc = new_doc(sc, "GC", sc["layers_c"])
    docc.setColorSpace("GRAYA", "U8", "")
    docc.waitForDone()
    yield from show(docc, "Background")
    n_docs = len(app.documents())
    res["group_gray"] = yield from one_run(docc, driver, dict(group, lineart="Background"), "GC", group=True)
    res["group_gray"]["documents_same"] = len(app.documents()) == n_docs
    docc.setModified(False)
    docc.close()
    yield 200
    docb = yield from float_doc_with_selection(sc, "GB")
    res["group_f32"] = yield from one_run(docb, driver, dict(group, lineart="Ink"), "GB", group=True)
    res["group_f32"]["doc_format"] = [docb.colorModel(), docb.colorDepth(), docb.colorProfile()]
    docb.setModified(False)
    docb.close()
    yield 200
    save_result(res)

    # ---- gap: a square with a 6 px break, 512 px: closed by the automatic gap, not by 4 px
    size = sc["gap_size"]
    docg = new_doc(sc, "Gap", sc["layers_gap"], size=(size, size))
    yield from show(docg, "Gap lines")
    plan = dict(remote, lineart="Gap lines", hints="Gap hints", method="flats", per_colour=False)
    gap = {}
    gap["auto"] = yield from one_run(docg, driver, dict(plan, gap=0), "Gap_auto")
    gap["four"] = yield from one_run(docg, driver, dict(plan, gap=4), "Gap_four")
    yield from colorize(driver, "reject")
    gap["remembered"] = driver.dialogs()[-1]
    res["gap"] = gap
    save_result(res)
    docg.setModified(False)
    docg.close()
    yield 200
