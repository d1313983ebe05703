# Runs INSIDE GIMP 3 (gimp-console-3.0 --batch-interpreter python-fu-eval -b - < this file).
#
# Reads $INKHUE_GIMP_DATA/spec.json (written by tests/gimp/test_gimp_learn.py): a canvas and its
# layers top to bottom (raw RGBA files, visibility). Builds the image, runs Filters → AI Colorize:
# Learn from This Document through the PDB twice, and records status, message, the layers before
# and after and the number of open images in result.json. The host-side test judges the pair.
import json
import os

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp  # noqa: E402

DATA = os.environ["INKHUE_GIMP_DATA"]
PROC = "plug-in-inkhue-learn"
U8 = "R'G'B'A u8"

with open(os.path.join(DATA, "spec.json")) as f:
    spec = json.load(f)
w, h = spec["canvas"]
image = Gimp.Image.new(w, h, Gimp.ImageBaseType.RGB)
for item in spec["layers"]:  # top to bottom
    layer = Gimp.Layer.new(image, item["name"], w, h, Gimp.ImageType.RGBA_IMAGE, 100.0, Gimp.LayerMode.NORMAL)
    image.insert_layer(layer, None, len(image.get_layers()))
    buf = layer.get_buffer()
    with open(os.path.join(DATA, item["file"]), "rb") as f:
        buf.set(Gegl.Rectangle.new(0, 0, w, h), U8, f.read())
    buf.flush()
    layer.set_visible(item.get("visible", True))


def names():
    return [(lay.get_name(), lay.get_visible()) for lay in image.get_layers()]


rec = {"proc_found": Gimp.get_pdb().lookup_procedure(PROC) is not None, "before": names(), "runs": []}
images_before = len(Gimp.get_images())
for _ in range(2):
    proc = Gimp.get_pdb().lookup_procedure(PROC)
    cfg = proc.create_config()
    cfg.set_property("run-mode", Gimp.RunMode.NONINTERACTIVE)
    cfg.set_property("image", image)
    result = proc.run(cfg)
    status = result.index(0)
    nick = status.value_nick if hasattr(status, "value_nick") else str(status)
    message = "" if nick == "success" else (Gimp.get_pdb().get_last_error() or "")
    rec["runs"].append({"status": nick, "message": message})
rec["after"] = names()
rec["images_added"] = len(Gimp.get_images()) - images_before
with open(os.path.join(DATA, "result.json"), "w") as f:
    json.dump(rec, f, indent=1)
