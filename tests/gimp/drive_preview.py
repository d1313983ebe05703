# Runs INSIDE GIMP 3 after the helpers of drive_colorize.py (test_gimp_preview.py joins them).
#
# The dialog's Preview without the dialog: for each scenario it builds the image, marks it clean,
# imports the installed plug-in and drives ``inkhue_gimp.start_preview`` (the object the dialog's
# timer steps) through the scenario's steps, recording the layers, the image's dirty state and
# the selected layers after each. "ok" does what the dialog's Colorize does: the preview is
# removed, then the procedure makes the result. The host-side test makes the assertions.
# build, describe, path, PROC, NI and U8 come from drive_colorize.py, placed before this file.
# ruff: noqa: F821
import json
import os
import sys
import time
import traceback

from gi.repository import Gegl, Gimp

PLUGIN = os.path.join(os.environ["GIMP3_DIRECTORY"], "plug-ins", "inkhue_gimp")
sys.path.insert(0, PLUGIN)
import inkhue_gimp as plug  # noqa: E402


def snapshot(image, preview, label):
    layer = preview.layer.layer
    return {
        "label": label,
        "message": preview.message,
        "updates": preview.updates,
        "dropped": preview.requests.dropped,
        "preview_id": layer.get_id() if layer is not None and layer.is_valid() else None,
        "dirty": image.is_dirty(),
        "selected": [item.get_name() for item in image.get_selected_layers()],
        "layers": describe(image, dump=label),
    }


def run_preview(sc):
    with open(path("plugin.json"), "w") as f:
        json.dump(sc["settings"], f)
    image, made, selected = build(sc)
    image.clean_all()
    rec = {"before": describe(image), "dirty_before": image.is_dirty(), "steps": []}
    proc = Gimp.get_pdb().lookup_procedure(PROC)
    cfg = proc.create_config()
    cfg.set_property("run-mode", NI)
    cfg.set_property("image", image)
    cfg.set_core_object_array("drawables", selected)
    for key, value in sc.get("args", {}).items():
        cfg.set_property(key, made[value] if key.endswith("-layer") else value)
    preview = plug.start_preview(image, selected, cfg)
    for i, step in enumerate(sc["steps"]):
        label = f"{sc['name']}-{i}-{step['do']}"
        t0 = time.monotonic()
        extra = {}
        if step["do"] == "settle":
            extra["current"] = preview.settle(timeout=120)
        elif step["do"] == "set":
            cfg.set_property(step["prop"], step["value"])
            extra["current"] = preview.settle(timeout=120)
        elif step["do"] == "paint":  # the artist paints while the dialog is open
            layer = made[step["layer"]]
            buf = layer.get_buffer()
            with open(path(step["file"]), "rb") as f:
                buf.set(Gegl.Rectangle.new(0, 0, layer.get_width(), layer.get_height()), U8, f.read())
            buf.flush()
            image.clean_all()  # the test's own painting: only the preview's effect is recorded
            rec["painted"] = describe(image)
            extra["current"] = preview.settle(timeout=120)
        elif step["do"] == "off":
            preview.step(False)
        elif step["do"] == "cancel":
            preview.close()
        elif step["do"] == "ok":
            preview.close()
            result = proc.run(cfg)
            status = result.index(0)
            extra["status"] = status.value_nick if hasattr(status, "value_nick") else str(status)
        extra["seconds"] = time.monotonic() - t0
        rec["steps"].append({**snapshot(image, preview, label), **extra})
    image.delete()
    return rec


RESULT = {"gimp_version": Gimp.version(), "scenarios": {}}
with open(path("spec.json")) as f:
    SPEC = json.load(f)
for sc in SPEC["scenarios"]:
    try:
        RESULT["scenarios"][sc["name"]] = run_preview(sc)
    except Exception:
        RESULT["scenarios"][sc["name"]] = {"driver_error": traceback.format_exc()}
with open(path("result.json"), "w") as f:
    json.dump(RESULT, f, indent=1)
