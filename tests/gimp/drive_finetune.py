# Runs INSIDE GIMP 3 (gimp-console-3.0 --batch-interpreter python-fu-eval -b - < this file).
#
# Reads $INKHUE_GIMP_DATA/spec.json (written by tests/gimp/test_gimp_finetune.py): two pictures,
# each a canvas and its layers top to bottom (raw RGBA files, visibility). Runs Filters → AI
# Colorize: Learn from This Document on each (two pairs), then Fine-tune on My Style through the
# PDB: "start" (returns while the job trains), "start" again (says how far it got), then
# "progress" every second until the job ended. Then lists the models the AI Colorize dialog
# offers (inkhue_engine.model_entries, the plug-in's own module) and colours the second picture
# with the new model. Everything is recorded in result.json; the host-side test judges it.
import hashlib
import json
import os
import sys
import time

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp  # noqa: E402

DATA = os.environ["INKHUE_GIMP_DATA"]
U8 = "R'G'B'A u8"
pdb = Gimp.get_pdb()

with open(os.path.join(DATA, "spec.json")) as f:
    spec = json.load(f)


def build(picture):
    w, h = picture["canvas"]
    image = Gimp.Image.new(w, h, Gimp.ImageBaseType.RGB)
    for item in picture["layers"]:  # top to bottom
        layer = Gimp.Layer.new(
            image, item["name"], w, h, Gimp.ImageType.RGBA_IMAGE, 100.0, Gimp.LayerMode.NORMAL
        )
        image.insert_layer(layer, None, len(image.get_layers()))
        buf = layer.get_buffer()
        with open(os.path.join(DATA, item["file"]), "rb") as f:
            buf.set(Gegl.Rectangle.new(0, 0, w, h), U8, f.read())
        buf.flush()
        layer.set_visible(item.get("visible", True))
    return image


def run(name, image, **props):
    proc = pdb.lookup_procedure(name)
    cfg = proc.create_config()
    cfg.set_property("run-mode", Gimp.RunMode.NONINTERACTIVE)
    cfg.set_property("image", image)
    for key, value in props.items():
        cfg.set_property(key, value)
    result = proc.run(cfg)
    status = result.index(0)
    nick = status.value_nick if hasattr(status, "value_nick") else str(status)
    out = {"status": nick, "message": "" if nick == "success" else (pdb.get_last_error() or "")}
    if nick == "success" and name == "plug-in-inkhue-finetune":
        out.update(phase=result.index(1), text=result.index(2))
    return out


def layers(image):
    out = []
    for lay in image.get_layers():
        w, h = lay.get_width(), lay.get_height()
        px = lay.get_buffer().get(Gegl.Rectangle.new(0, 0, w, h), 1.0, U8, Gegl.AbyssPolicy.NONE)
        out.append({"name": lay.get_name(), "sha": hashlib.sha256(bytes(px)).hexdigest()})
    return out


rec = {
    "procs": {
        p: pdb.lookup_procedure(p) is not None for p in ("plug-in-inkhue-learn", "plug-in-inkhue-finetune")
    }
}
images = [build(p) for p in spec["pictures"]]
rec["learn"] = [run("plug-in-inkhue-learn", image) for image in images]
image = images[-1]
rec["before"] = layers(image)

t0 = time.monotonic()
rec["start"] = run("plug-in-inkhue-finetune", image, action="start")
rec["start_s"] = time.monotonic() - t0
rec["again"] = run("plug-in-inkhue-finetune", image, action="start")
seen = []
deadline = time.monotonic() + 150
while time.monotonic() < deadline:
    now = run("plug-in-inkhue-finetune", image, action="progress")
    if not seen or seen[-1] != now:
        seen.append(now)
    if now.get("phase") in ("done", "failed", "cancelled"):
        break
    time.sleep(1.0)
rec["progress"] = seen

sys.path.insert(0, os.path.join(Gimp.directory(), "plug-ins", "inkhue_gimp"))
import inkhue_engine  # noqa: E402  (the plug-in's own module: what the dialog's Model picker lists)

rec["models"] = [list(entry) for entry in inkhue_engine.model_entries()]
rec["dialog_note"] = inkhue_engine.finetune_note()
rec["colorize"] = run(
    "plug-in-inkhue-colorize",
    image,
    **{"engine": "local", "model": "inkhue-finetuned", "no-hints": False},
)
rec["after"] = layers(image)
with open(os.path.join(DATA, "result.json"), "w") as f:
    json.dump(rec, f, indent=1)
