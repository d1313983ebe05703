# Runs INSIDE GIMP 3 (gimp-console-3.0 --batch-interpreter python-fu-eval -b - < this file).
#
# Reads $INKHUE_GIMP_DATA/spec.json (scenarios written by tests/gimp/test_gimp_real.py), builds
# each scenario's image from raw RGBA layer files, runs the AI Colorize procedure through the PDB
# non-interactively, and writes what happened to result.json: status, message, every layer's
# attributes and pixel checksums before and after, and the new layer's pixels (raw and PNG).
# The host-side test makes the assertions; this script only records, so a failure shows the data.
import hashlib
import importlib.util
import json
import os
import time
import traceback

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp, Gio  # noqa: E402

DATA = os.environ["INKHUE_GIMP_DATA"]
PROC = "plug-in-inkhue-colorize"
NI = Gimp.RunMode.NONINTERACTIVE
U8 = "R'G'B'A u8"


def path(name):
    return os.path.join(DATA, name)


def read(layer, fmt):
    rect = Gegl.Rectangle.new(0, 0, layer.get_width(), layer.get_height())
    return bytes(layer.get_buffer().get(rect, 1.0, fmt, Gegl.AbyssPolicy.NONE))


def walk(layers, parent=None):
    for pos, layer in enumerate(layers):
        yield layer, parent, pos
        if layer.is_group():
            yield from walk(layer.get_children(), layer.get_name())


def describe(image, dump=None):
    """Every layer's attributes and checksums; ``dump``: also save its 8-bit RGBA pixels."""
    out = []
    for layer, parent, pos in walk(image.get_layers()):
        _, ox, oy = layer.get_offsets()
        item = {
            "name": layer.get_name(),
            "id": layer.get_id(),
            "parent": parent,
            "position": pos,
            "offsets": [ox, oy],
            "size": [layer.get_width(), layer.get_height()],
            "opacity": layer.get_opacity(),
            "visible": layer.get_visible(),
            "mode": str(layer.get_mode()),
            "type": str(layer.type()),
            "is_group": layer.is_group(),
        }
        if not layer.is_group():
            item["sha_native"] = hashlib.sha256(read(layer, None)).hexdigest()
            u8 = read(layer, U8)
            item["sha_u8"] = hashlib.sha256(u8).hexdigest()
            if dump:
                item["u8"] = f"{dump}-{layer.get_id()}.rgba"
                with open(path(item["u8"]), "wb") as f:
                    f.write(u8)
        out.append(item)
    return out


def build(sc):
    w, h = sc["canvas"]
    image = Gimp.Image.new(w, h, Gimp.ImageBaseType.RGB)
    made = {}
    for spec in sc["layers"]:  # top to bottom
        if spec.get("group"):
            layer = Gimp.GroupLayer.new(image, spec["name"])
        else:
            lw, lh = spec["size"]
            layer = Gimp.Layer.new(
                image, spec["name"], lw, lh, Gimp.ImageType.RGBA_IMAGE, 100.0, Gimp.LayerMode.NORMAL
            )
        parent = made.get(spec.get("parent"))
        siblings = parent.get_children() if parent else image.get_layers()
        image.insert_layer(layer, parent, len(siblings))
        if not spec.get("group"):
            layer.set_offsets(*spec.get("offset", (0, 0)))
            buf = layer.get_buffer()
            with open(path(spec["file"]), "rb") as f:
                buf.set(Gegl.Rectangle.new(0, 0, *spec["size"]), U8, f.read())
            buf.flush()
        made[spec["name"]] = layer
    convert = sc.get("convert")
    if convert == "u16-linear":
        image.convert_precision(Gimp.Precision.U16_LINEAR)
    elif convert == "float-linear":
        image.convert_precision(Gimp.Precision.FLOAT_LINEAR)
    elif convert == "grayscale":
        image.convert_grayscale()
    elif convert == "indexed":
        image.convert_indexed(
            Gimp.ConvertDitherType.NONE, Gimp.ConvertPaletteType.GENERATE, 32, False, False, ""
        )
    if sc.get("selection"):
        image.select_rectangle(Gimp.ChannelOps.REPLACE, *sc["selection"])
    selected = [made[n] for n in sc.get("selected", [])]
    image.set_selected_layers(selected)
    return image, made, selected


def export(image, layer, name):
    """The new layer on its own, saved as PNG through GIMP's exporter."""
    one = Gimp.Image.new(image.get_width(), image.get_height(), Gimp.ImageBaseType.RGB)
    copy = Gimp.Layer.new_from_drawable(layer, one)
    one.insert_layer(copy, None, 0)
    Gimp.file_save(NI, one, Gio.File.new_for_path(path(name)), None)
    one.delete()


def run_scenario(sc):
    with open(path("plugin.json"), "w") as f:  # the plug-in reads it on every run ($INKHUE_CONFIG)
        json.dump(sc["settings"], f)
    image, made, selected = build(sc)
    rec = {"before": describe(image), "base_type": str(image.get_base_type())}
    proc = Gimp.get_pdb().lookup_procedure(PROC)
    cfg = proc.create_config()
    interactive = sc.get("run_mode") == "interactive"  # a dialog: the test answers it
    cfg.set_property("run-mode", Gimp.RunMode.INTERACTIVE if interactive else NI)
    cfg.set_property("image", image)
    cfg.set_core_object_array("drawables", selected)
    for key, value in sc.get("args", {}).items():
        cfg.set_property(key, made[value] if key.endswith("-layer") else value)
    t0 = time.monotonic()
    result = proc.run(cfg)
    rec["seconds"] = time.monotonic() - t0
    status = result.index(0)
    rec["status"] = status.value_nick if hasattr(status, "value_nick") else str(status)
    message = ""
    if rec["status"] != "success":  # the procedure's error message follows the status
        extra = result.index(1) if result.length() > 1 else None
        message = extra if isinstance(extra, str) else Gimp.get_pdb().get_last_error()
    rec["message"] = message
    rec["after"] = describe(image, dump=sc["name"])
    new = image.get_layer_by_name("AI Colorize")
    if new is not None:
        rec["new_u8"] = sc["name"] + "-new.rgba"
        with open(path(rec["new_u8"]), "wb") as f:
            f.write(read(new, U8))
        if sc.get("export"):
            rec["new_png"] = sc["name"] + "-new.png"
            export(image, new, rec["new_png"])
            rec["image_png"] = sc["name"] + "-image.png"
            Gimp.file_save(NI, image, Gio.File.new_for_path(path(rec["image_png"])), None)
    image.delete()
    return rec


def arguments():
    """Each argument's name -> [label, explanation], as the dialog and the PDB browser show them."""
    proc = Gimp.get_pdb().lookup_procedure(PROC)
    return {a.name: [a.get_nick(), a.get_blurb()] for a in proc.get_arguments()} if proc else {}


# --- main (drive_preview.py reuses everything above this line)
RESULT = {
    "arguments": arguments(),
    "proc_found": Gimp.get_pdb().lookup_procedure(PROC) is not None,
    "numpy_in_gimp_python": importlib.util.find_spec("numpy") is not None,
    "gimp_version": Gimp.version(),
    "scenarios": {},
}
with open(path("spec.json")) as f:
    SPEC = json.load(f)
for sc in SPEC["scenarios"]:
    try:
        RESULT["scenarios"][sc["name"]] = run_scenario(sc)
    except Exception:
        RESULT["scenarios"][sc["name"]] = {"driver_error": traceback.format_exc()}
with open(path("result.json"), "w") as f:
    json.dump(RESULT, f, indent=1)
