# Runs INSIDE GIMP 3 (gimp-console-3.0 --batch-interpreter python-fu-eval; see bench/apps.py).
#
# For every case of $INKHUE_GIMP_DATA/cases.json: an image with the line art as an opaque layer
# and an empty fill layer below it; for every hint mark one bucket fill of the fill layer with the
# mark's colour at the mark, "fill similar colors" sampled on the merged image (so only the line
# art bounds the fill). GIMP 3.0's PDB offers no "fill by line art detection" (that mode exists
# only in the bucket tool's GUI options), so this is the classic line-bounded bucket fill. The
# fill layer is written out as raw 8-bit RGBA; seconds per case cover the fills only.
import json
import os
import time

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp  # noqa: E402

DATA = os.environ["INKHUE_GIMP_DATA"]
U8 = "R'G'B'A u8"
THRESHOLD = 0.5  # anti-aliased ink lighter than mid-grey counts as paper, as artists set it for line art


def path(name):
    return os.path.join(DATA, name)


def new_layer(image, name, w, h, data=None):
    layer = Gimp.Layer.new(image, name, w, h, Gimp.ImageType.RGBA_IMAGE, 100.0, Gimp.LayerMode.NORMAL)
    image.insert_layer(layer, None, len(image.get_layers()))
    if data is not None:
        buf = layer.get_buffer()
        buf.set(Gegl.Rectangle.new(0, 0, w, h), U8, data)
        buf.flush()
    return layer


def fill(case):
    w, h = case["w"], case["h"]
    image = Gimp.Image.new(w, h, Gimp.ImageBaseType.RGB)
    with open(path(case["line"]), "rb") as f:
        new_layer(image, "lines", w, h, f.read())
    layer = new_layer(image, "fill", w, h)  # below the opaque line art: never seen when sampling
    Gimp.context_push()
    Gimp.context_set_sample_merged(True)
    Gimp.context_set_sample_criterion(Gimp.SelectCriterion.COMPOSITE)
    Gimp.context_set_sample_threshold(THRESHOLD)
    Gimp.context_set_sample_transparent(False)
    Gimp.context_set_diagonal_neighbors(False)
    Gimp.context_set_antialias(False)
    t0 = time.perf_counter()
    for x, y, r, g, b in case["seeds"]:
        # a CSS colour is sRGB, as the hints are (Gegl.Color.set_rgba would take linear light)
        Gimp.context_set_foreground(Gegl.Color.new(f"#{r:02x}{g:02x}{b:02x}"))
        layer.edit_bucket_fill(Gimp.FillType.FOREGROUND, x, y)
    rect = Gegl.Rectangle.new(0, 0, w, h)
    data = bytes(layer.get_buffer().get(rect, 1.0, U8, Gegl.AbyssPolicy.NONE))
    seconds = time.perf_counter() - t0
    Gimp.context_pop()
    with open(path(case["out"]), "wb") as f:
        f.write(data)
    image.delete()
    return seconds


with open(path("cases.json"), encoding="utf-8") as f:
    spec = json.load(f)
result = {"version": Gimp.version(), "seconds": {}, "errors": {}}
for case in spec["cases"]:
    try:
        result["seconds"][case["key"]] = fill(case)
    except Exception as e:  # one case failing must not lose the others
        result["errors"][case["key"]] = repr(e)
with open(path("result.json"), "w", encoding="utf-8") as f:
    json.dump(result, f, indent=1)
