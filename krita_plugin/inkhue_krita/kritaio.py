"""Krita layers in and out: read any layer as 8-bit RGBA, add the result as one new layer.

Reading never changes a layer. Writing creates a new, filled node and inserts it with one
``addChildNode`` call, which Krita records as a single "Add Layer" undo step (filling an existing
layer with ``setPixelData`` would not be undoable at all).
"""

from __future__ import annotations

from .pixels import FormatError, PixelFormat
from .planning import RESULT_LAYER_NAME, Rect

RASTER_TYPES = ("paintlayer",)  # read from their own pixels
RENDERED_TYPES = ("grouplayer", "vectorlayer", "filelayer", "clonelayer", "filllayer")  # projection
LAYER_TYPES = RASTER_TYPES + RENDERED_TYPES
RESULT_PROFILE = "sRGB-elle-V2-srgbtrc.icc"  # Krita's built-in sRGB, for the 8-bit result layer


def all_layers(doc) -> list:
    """Every layer that can hold line art or hints, depth first, bottom to top."""
    out = []

    def walk(node):
        for child in node.childNodes():
            if child.type() in LAYER_TYPES:
                out.append(child)
            if child.type() == "grouplayer":
                walk(child)

    walk(doc.rootNode())
    return out


def same_node(a, b) -> bool:
    return a is not None and b is not None and a.uniqueId() == b.uniqueId()


def find_node(doc, unique_id):
    """The document's node with this id, or None once it was deleted."""
    for node in all_layers(doc):
        if node.uniqueId() == unique_id:
            return node
    return None


def layer_format(node) -> PixelFormat:
    try:
        return PixelFormat(node.colorModel(), node.colorDepth(), node.colorProfile())
    except FormatError as e:
        raise FormatError(f'Layer "{node.name()}": {e}') from None


def read_raw(node, area: Rect) -> tuple[bytes, PixelFormat]:
    """The layer's native pixel bytes inside ``area`` (canvas coordinates) and their format.

    Pixels are addressed in canvas coordinates whatever the layer's own bounds: parts of the layer
    outside the area are ignored, and parts of the area the layer does not cover read as
    transparent. Convert with ``pixels.to_rgba8`` (off the GUI thread: it is the slow part).
    """
    fmt = layer_format(node)
    args = (area.x, area.y, area.width, area.height)
    data = node.pixelData(*args) if node.type() in RASTER_TYPES else node.projectionPixelData(*args)
    data = bytes(data)
    if len(data) != area.pixels * fmt.pixel_size:
        raise FormatError(f'Layer "{node.name()}" has no pixels Krita can read ({node.type()})')
    return data, fmt


def selection_rect(doc) -> Rect | None:
    sel = doc.selection()
    if sel is None or sel.width() <= 0 or sel.height() <= 0:
        return None
    return Rect(sel.x(), sel.y(), sel.width(), sel.height())


def selection_alpha(doc, area: Rect) -> bytes | None:
    """The selection's coverage inside ``area`` (one byte per pixel), or None for "all"."""
    sel = doc.selection()
    if sel is None:
        return None
    alpha = bytes(sel.pixelData(area.x, area.y, area.width, area.height))
    if len(alpha) != area.pixels or alpha.count(255) == len(alpha):
        return None
    return alpha


def result_format(doc) -> tuple[PixelFormat, bool]:
    """The result layer's format and whether it is the document's own.

    An sRGB-based RGBA document of any depth gets a layer in its own format. Other documents
    (grayscale, CMYK, Lab, other RGB profiles) get an 8-bit sRGB layer, so Krita converts the
    colours for display with the real profiles instead of this plug-in guessing.
    """
    if doc.colorModel() == "RGBA" and "srgb" in doc.colorProfile().lower():
        try:
            return PixelFormat("RGBA", doc.colorDepth(), doc.colorProfile()), True
        except FormatError:
            pass
    return PixelFormat("RGBA", "U8", RESULT_PROFILE), False


def add_result_layer(app, doc, lineart, data: bytes, native: bool, area: Rect, where: str):
    """Insert a new paint layer holding ``data`` (in ``result_format``) next to ``lineart``.

    ``where`` is "below" (directly under the line art) or "above" (directly over it). A layer in
    a foreign format is made in a scratch document and moved over in the same single step.
    """
    parent = lineart.parentNode()
    siblings = parent.childNodes()
    index = next(i for i, n in enumerate(siblings) if same_node(n, lineart))
    if where == "below" and index == 0:
        where = "above"  # nothing can go under the lowest layer in one step (see planning)
    anchor = siblings[index - 1] if where == "below" else lineart

    scratch = None
    if native:
        node = doc.createNode(RESULT_LAYER_NAME, "paintlayer")
    else:
        scratch = app.createDocument(1, 1, "inkhue-scratch", "RGBA", "U8", RESULT_PROFILE, 72.0)
        scratch.setBatchmode(True)
        node = scratch.createNode(RESULT_LAYER_NAME, "paintlayer")
    try:
        node.setPixelData(data, area.x, area.y, area.width, area.height)
        parent.addChildNode(node, anchor)  # the one undo step
        doc.waitForDone()
    finally:
        if scratch is not None:
            scratch.setModified(False)
            scratch.close()
    return node
