"""Pixels in and out of GIMP: layers read as canvas-sized 8-bit RGBA, result layers written.

GIMP's Gegl converts from and to any precision and mode (16/32-bit, linear, grayscale, indexed).
Used by the procedure (``inkhue_gimp.py``) and by the dialog's preview (``inkhue_preview.py``).
"""

from __future__ import annotations

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
import inkhue_pixels as px  # noqa: E402
from gi.repository import Gegl, Gimp  # noqa: E402

FMT_RGBA = "R'G'B'A u8"  # 8-bit sRGB-encoded RGBA whatever the image's precision or mode
FMT_MASK = "Y u8"
LAYER_TYPES = {
    Gimp.ImageBaseType.RGB: Gimp.ImageType.RGBA_IMAGE,
    Gimp.ImageBaseType.GRAY: Gimp.ImageType.GRAYA_IMAGE,
    Gimp.ImageBaseType.INDEXED: Gimp.ImageType.INDEXEDA_IMAGE,
}


def _rect(r: px.Rect) -> Gegl.Rectangle:
    return Gegl.Rectangle.new(r.x, r.y, r.width, r.height)


def read_on_canvas(layer: Gimp.Layer, canvas_w: int, canvas_h: int) -> bytes | bytearray:
    """The layer's pixels as canvas-sized 8-bit RGBA; transparent where the layer does not reach."""
    _, ox, oy = layer.get_offsets()
    window = px.layer_window(canvas_w, canvas_h, ox, oy, layer.get_width(), layer.get_height())
    if window is None:
        return bytearray(canvas_w * canvas_h * 4)
    in_layer, on_canvas = window
    data = layer.get_buffer().get(_rect(in_layer), 1.0, FMT_RGBA, Gegl.AbyssPolicy.NONE)
    return px.place(bytes(data), on_canvas, canvas_w, canvas_h)


def selection_mask(image: Gimp.Image, canvas_w: int, canvas_h: int) -> bytes | None:
    """One byte per canvas pixel (255 = selected), or None when nothing is selected."""
    if Gimp.Selection.is_empty(image):
        return None
    buf = image.get_selection().get_buffer()
    mask = bytes(buf.get(Gegl.Rectangle.new(0, 0, canvas_w, canvas_h), 1.0, FMT_MASK, Gegl.AbyssPolicy.NONE))
    return None if px.is_all(mask, 255) else mask


def new_layer(image: Gimp.Image, name: str, multiply: bool = False) -> Gimp.Layer:
    """A canvas-sized layer in the image's mode (not inserted yet)."""
    layer_type = LAYER_TYPES.get(image.get_base_type(), Gimp.ImageType.RGBA_IMAGE)
    mode = Gimp.LayerMode.MULTIPLY if multiply else Gimp.LayerMode.NORMAL
    return Gimp.Layer.new(image, name, image.get_width(), image.get_height(), layer_type, 100.0, mode)


def fill(layer: Gimp.Layer, rgba: bytes) -> None:
    """Write canvas-sized 8-bit RGBA into ``layer`` (converted into the image's mode)."""
    width, height = layer.get_width(), layer.get_height()
    buf = layer.get_buffer()
    buf.set(Gegl.Rectangle.new(0, 0, width, height), FMT_RGBA, bytes(rgba))
    buf.flush()
    layer.update(0, 0, width, height)


def new_group(image: Gimp.Image, name: str, multiply: bool = False) -> Gimp.Layer:
    group = Gimp.GroupLayer.new(image, name)
    if multiply:
        group.set_mode(Gimp.LayerMode.MULTIPLY)
    return group


def fill_group(image: Gimp.Image, group: Gimp.Layer, rgba: bytes) -> None:
    """One layer per exact colour of the flats inside ``group``, largest area on top."""
    for position, (colour, _count, data) in enumerate(px.split_colours(rgba)):
        layer = new_layer(image, px.colour_name(colour))
        if not image.insert_layer(layer, group, position):
            raise RuntimeError("GIMP did not add a flats layer")
        fill(layer, data)
