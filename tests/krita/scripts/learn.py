"""Filter > AI Colorize: Learn from This Document in real Krita (test_krita_learn.py judges it).

A document with Background, Flats, a hidden Sketch, Lines and Hints (raw RGBA files from the test)
is opened in a view; the menu action is triggered twice (two pairs, distinct names); the layers
and the undo history must be as before.
"""

import json
import os

from krita import Krita
from kritahelp import add_layer, layer_names, load_input, rgba_to_bgra, save_result

app = Krita.instance()
res = {}


def menu_action(action_id):
    menubar = app.activeWindow().qwindow().menuBar()
    menus = [a.menu() for a in menubar.actions() if a.objectName().lower() == "filter" and a.menu()]
    found = [a for a in menus[0].actions() if a.objectName() == action_id] if menus else []
    if not found:
        raise AssertionError(f"{action_id} is not in the Filter menu")
    return found[0]


def steps():
    with open(os.path.join(os.environ["INKHUE_KRITA_INPUT"], "scenario.json"), encoding="utf-8") as f:
        sc = json.load(f)
    w, h = sc["width"], sc["height"]
    doc = app.createDocument(w, h, "my picture", "RGBA", "U8", "", 72.0)
    doc.setBatchmode(True)
    app.activeWindow().addView(doc)
    doc.nodeByName("Background").setPixelData(rgba_to_bgra(load_input("Background.rgba")), 0, 0, w, h)
    for name in ("Flats", "Sketch", "Lines", "Hints"):
        node = add_layer(doc, name, load_input(f"{name}.rgba"))
        if name == "Sketch":
            node.setVisible(False)
    yield 200
    before = layer_names(doc)
    action = menu_action("inkhue_learn_document")
    res["text"] = action.text()
    action.trigger()
    yield 300
    action.trigger()  # a second pair of the same document: a new name, nothing overwritten
    yield 300
    ext = [e for e in app.extensions() if type(e).__name__ == "InkhueExtension"][0]
    res["message"] = ext.last_message
    res["layers_before"], res["layers_after"] = before, layer_names(doc)
    res["documents"] = len(app.documents())
    save_result(res)
