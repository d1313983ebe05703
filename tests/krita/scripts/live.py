"""The AI Colorize docker in real Krita: Live preview, a dab painted through the API, Apply, Discard.

Inputs (``scenario.json`` and raw RGBA files) come from test_krita_live.py, which judges the facts
written to ``result.json``. A screenshot of the window goes to ``docker.png``.
"""

import json
import os
import time

from krita import Krita
from kritahelp import OUT, add_layer, layer_names, load_input, save_bytes, save_result

app = Krita.instance()
res = {}


def steps():
    with open(os.path.join(os.environ["INKHUE_KRITA_INPUT"], "scenario.json"), encoding="utf-8") as f:
        sc = json.load(f)
    for key, value in (("mode", "remote"), ("url", sc["url"]), ("token", sc["token"])):
        app.writeSetting("inkhue_krita", key, value)
    w, h = sc["width"], sc["height"]
    doc = app.createDocument(w, h, "live", "RGBA", "U8", "", 72.0)
    doc.setBatchmode(True)
    app.activeWindow().addView(doc)
    add_layer(doc, "Ink", load_input("ink.rgba"))
    hints = add_layer(doc, "Hints", load_input("hints.rgba"))
    add_layer(doc, "Marker", bytes(4 * w * h))  # the undo step before ours
    yield 200

    import inkhue_krita.docker as docker_mod

    found = [d for d in app.dockers() if d.objectName() == docker_mod.DOCKER_ID]
    res["docker_found"] = bool(found)
    res["docker_titles"] = [d.windowTitle() for d in found]
    dock = docker_mod.DOCKERS[-1]
    dock.show()
    dock.raise_()
    yield 300
    dock._sync_layers()
    for combo, name in ((dock.lineart_combo, "Ink"), (dock.hints_combo, "Hints")):
        combo.setCurrentIndex(combo.findText(name))
    res["names_before"] = layer_names(doc)
    users = [n for n in doc.rootNode().childNodes() if n.type() == "paintlayer"]

    def user_state():
        return {n.name(): bytes(n.pixelData(0, 0, w, h)).hex() for n in users}

    def preview():
        return next((n for n in doc.rootNode().childNodes() if n.name() == docker_mod.PREVIEW_NAME), None)

    def wait(cond, timeout):
        deadline = time.monotonic() + timeout
        while not cond() and time.monotonic() < deadline:
            yield 50

    before = user_state()
    dock.live_check.setChecked(True)
    t0 = time.monotonic()
    yield from wait(lambda: preview() is not None and dock.facts["updates"] >= 1, 90)
    res["first_preview_s"] = time.monotonic() - t0
    res["facts_first"] = dict(dock.facts)
    res["combo_items"] = [dock.hints_combo.itemText(i) for i in range(dock.hints_combo.count())]
    res["user_unchanged_live"] = user_state() == before

    # a second dab, painted through the API, in the right-top region
    x, y, size = sc["dab"]["x"], sc["dab"]["y"], 12
    rgb = sc["dab"]["rgb"]
    dab = bytes([rgb[2], rgb[1], rgb[0], 255]) * (size * size)
    hints.setPixelData(dab, x, y, size, size)
    probe = sc["probe"]  # a point of that region, away from the dab

    def shows_dab():
        p = preview()
        if p is None:
            return False
        b, g, r, _ = bytes(p.pixelData(probe[0], probe[1], 1, 1))
        return abs(r - rgb[0]) + abs(g - rgb[1]) + abs(b - rgb[2]) < 90

    updates = dock.facts["updates"]
    t0 = time.monotonic()
    yield from wait(lambda: shows_dab() and dock.facts["updates"] > updates, 30)
    res["dab_preview_s"] = time.monotonic() - t0
    res["dab_shown"] = shows_dab()
    res["facts_dab"] = dict(dock.facts)
    before_apply = user_state()
    names_live = layer_names(doc)
    res["names_live"] = names_live

    dock.apply()
    yield from wait(lambda: dock.facts["state"] in ("applied", "error"), 60)
    res["facts_apply"] = dict(dock.facts)
    res["names_applied"] = layer_names(doc)
    res["user_unchanged_apply"] = user_state() == before_apply
    result = doc.nodeByName("AI Colorize")
    res["result_pixels"] = save_bytes("result.bgra", result.pixelData(0, 0, w, h)) if result else ""
    yield 500
    app.activeWindow().qwindow().grab().save(os.path.join(OUT, "docker.png"))

    app.action("edit_undo").trigger()
    yield 300
    res["names_undo1"] = layer_names(doc)
    res["user_unchanged_undo1"] = user_state() == before_apply
    app.action("edit_undo").trigger()
    yield 300
    res["names_undo2"] = layer_names(doc)
    app.action("edit_redo").trigger()
    # a loaded machine applies the redo late: wait for the applied layers before going on
    yield from wait(lambda: layer_names(doc) == res["names_applied"], 30)

    # Discard: Live again, then throw the preview away
    names_before_discard = layer_names(doc)
    dock.live_check.setChecked(True)
    yield from wait(lambda: preview() is not None, 120)
    res["preview_again"] = preview() is not None
    dock.discard()
    yield from wait(lambda: preview() is None, 30)
    yield 300
    res["names_discarded"] = layer_names(doc)
    res["names_before_discard"] = names_before_discard
    res["facts_discard"] = dict(dock.facts)

    # Discard while Krita inserts the preview layer (its wait may run the event loop), then
    # Discard after the docker lost track of its layer: neither may leave a preview behind
    real_add, calls = docker_mod.kritaio.add_result_layer, []

    def add_then_discard(*args, **kwargs):
        node = real_add(*args, **kwargs)
        calls.append(1)
        dock.discard()
        return node

    docker_mod.kritaio.add_result_layer = add_then_discard
    dock.live_check.setChecked(True)
    yield from wait(lambda: bool(calls), 120)
    docker_mod.kritaio.add_result_layer = real_add
    yield 300
    res["race_called"] = bool(calls)
    res["names_race"] = layer_names(doc)
    dock.live_check.setChecked(True)
    yield from wait(lambda: preview() is not None, 120)
    res["preview_lost"] = preview() is not None
    dock.preview_id = None
    dock.discard()
    yield 300
    res["names_lost"] = layer_names(doc)
    save_result(res)

    # "(none: AI suggests tones)": Live and Apply without hints, the shared note in the status
    dock.hints_combo.setCurrentIndex(0)
    res["none_choice"] = dock.hints_combo.currentText()
    before_none, res["names_none_before"] = user_state(), layer_names(doc)
    dock.live_check.setChecked(True)
    yield from wait(lambda: preview() is not None and dock.facts["state"] == "shown", 120)
    res["facts_none"] = dict(dock.facts)
    dock.apply()
    yield from wait(lambda: dock.facts["state"] in ("applied", "error"), 60)
    res["facts_none_apply"] = dict(dock.facts)
    res["names_none_applied"] = layer_names(doc)
    res["user_unchanged_none"] = user_state() == before_none
    app.action("edit_undo").trigger()
    yield 300
    res["names_none_undo1"] = layer_names(doc)
    res["user_unchanged_none_undo1"] = user_state() == before_none
    # flat colours without a hint layer: refused in the status line, nothing added
    dock.method_combo.setCurrentIndex(dock.method_combo.findData("flats"))
    dock.live_check.setChecked(True)
    yield from wait(lambda: dock.facts["state"] == "error", 30)
    yield 600
    res["facts_none_flats"] = dict(dock.facts)
    res["names_none_flats"] = layer_names(doc)
    dock.live_check.setChecked(False)
    save_result(res)
