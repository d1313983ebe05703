"""Runs INSIDE Krita under tests/krita's harness (see ../test_krita_installed.py).

A two-layer document ("Line art" on white, "Hints" above it), the line art active, then Filter >
AI Colorize... through the menu's own QAction with the dialog accepted as it opens: whatever the
dialog shows comes from the installer's settings. Facts go to result.json for the test to judge.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "krita", "scripts"))  # the Krita helper's kit

from krita import Krita  # noqa: E402
from kritahelp import (  # noqa: E402
    ModalDriver,
    add_layer,
    colorize,
    filter_menu_action,
    layer_names,
    load_input,
    outcome,
    rgba_to_bgra,
    save_bytes,
    save_result,
    scenario,
)

app = Krita.instance()


def steps():
    sc = scenario()
    w, h = sc["width"], sc["height"]
    doc = app.createDocument(w, h, "installed", "RGBA", "U8", "", 72.0)
    doc.setBatchmode(True)
    line = doc.nodeByName("Background")  # Krita's one layer becomes the line art: two layers
    line.setName("Line art")
    line.setPixelData(rgba_to_bgra(load_input("lineart.rgba")), 0, 0, w, h)
    add_layer(doc, "Hints", load_input("hints.rgba"))
    app.activeWindow().addView(doc)
    yield 300
    doc.setActiveNode(doc.nodeByName("Line art"))
    yield 300
    res = {"action": filter_menu_action().text(), "layers_before": layer_names(doc)}
    driver = ModalDriver()
    yield from colorize(driver, {}, timeout=150)  # {}: accept the dialog as it opens
    res.update(outcome=outcome(), dialogs=driver.dialogs(), messages=driver.messages())
    res["layers_after"] = layer_names(doc)
    node = doc.nodeByName("AI Colorize")
    if node is not None:
        res["pixels"] = save_bytes("result.bgra", node.pixelData(0, 0, w, h))
    save_result(res)
