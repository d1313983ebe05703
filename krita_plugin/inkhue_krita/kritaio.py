"""Krita layers in and out: read any layer as 8-bit RGBA, add the result as one new layer.

Reading never changes a layer (CMYK pixels are converted by Krita in a scratch document). Writing
creates a new, filled node and inserts it with one ``addChildNode`` call, which Krita records as a
single "Add Layer" undo step (filling an existing layer with ``setPixelData`` would not be undoable
at all).
"""

from __future__ import annotations

import json

from .pixels import FormatError, PixelFormat
from .planning import RESULT_LAYER_NAME, Rect

ANNOTATION = "inkhue-ai-colorize"  # per document, the docker's layers: {"lineart": name, "hints": name}
RASTER_TYPES = ("paintlayer",)  # read from their own pixels
RENDERED_TYPES = ("grouplayer", "vectorlayer", "filelayer", "clonelayer", "filllayer")  # projection
LAYER_TYPES = RASTER_TYPES + RENDERED_TYPES
RESULT_PROFILE = "sRGB-elle-V2-srgbtrc.icc"  # Krita's built-in sRGB, for the 8-bit result layer


def all_layers(doc) -> list:
    """Every layer that can hold line art or hints, top to bottom as the Layers docker shows
    them (a group before its children)."""
    out = []

    def walk(node):
        for child in reversed(node.childNodes()):
            if child.type() in LAYER_TYPES:
                out.append(child)
            if child.type() == "grouplayer":
                walk(child)

    walk(doc.rootNode())
    return out


def layer_key(node) -> str:
    return node.uniqueId().toString()


def layer_infos(rules, layers: list) -> list:
    """``rules.LayerInfo`` records for ``layers``: groups are not paint layers; vector, file, clone
    and fill layers are read as rendered, so they count as layers with pixels."""
    group = "grouplayer"
    return [rules.LayerInfo(layer_key(n), n.name(), n.type() == group, n.type() != group) for n in layers]


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


def read_layer(app, node, area: Rect) -> tuple[bytes, PixelFormat]:
    """``read_raw``, with a CMYK layer converted to 8-bit sRGB by Krita through its own profile
    (a separation cannot be undone by formula: SWOP colours came out about 10 levels off)."""
    data, fmt = read_raw(node, area)
    if fmt.model != "CMYKA":
        return data, fmt
    return krita_to_srgb8(app, data, fmt, area), PixelFormat("RGBA", "U8", RESULT_PROFILE)


def krita_to_srgb8(app, data: bytes, fmt: PixelFormat, area: Rect) -> bytes:
    """Native pixels -> 8-bit sRGB (Krita's BGRA), converted by Krita in a scratch document that
    is closed again: the artist's document and its undo history are not touched."""
    w, h = area.width, area.height
    scratch = app.createDocument(w, h, "inkhue-scratch", fmt.model, fmt.depth, fmt.profile, 72.0)
    try:
        scratch.setBatchmode(True)
        node = scratch.createNode("pixels", "paintlayer")
        scratch.rootNode().addChildNode(node, None)
        node.setPixelData(data, 0, 0, w, h)
        scratch.setColorSpace("RGBA", "U8", RESULT_PROFILE)
        scratch.waitForDone()
        out = bytes(scratch.nodeByName("pixels").pixelData(0, 0, w, h))
    finally:
        scratch.setModified(False)
        scratch.close()
    if len(out) != w * h * 4:
        raise FormatError(f"Krita could not convert the {fmt.model} pixels to RGB")
    return out


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


def is_lowest(node) -> bool:
    """Nothing can be inserted under the lowest layer of its group in one undo step."""
    return same_node(node.parentNode().childNodes()[0], node)


def _anchor(lineart, above: bool):
    """(parent, the sibling to insert after) for a node directly above or below ``lineart``."""
    parent = lineart.parentNode()
    siblings = parent.childNodes()
    index = next(i for i, n in enumerate(siblings) if same_node(n, lineart))
    if not above and index == 0:
        raise ValueError("nothing can go below the lowest layer in one step (see layer_rules)")
    return parent, (lineart if above else siblings[index - 1])


def _scratch(app, fmt: PixelFormat):
    """A hidden 1x1 document to build nodes in: what is done there is no step of the artist's
    undo history."""
    scratch = app.createDocument(1, 1, "inkhue-scratch", fmt.model, fmt.depth, fmt.profile, 72.0)
    scratch.setBatchmode(True)
    return scratch


def _close(scratch) -> None:
    scratch.setModified(False)
    scratch.close()


def add_result_layer(
    app,
    doc,
    lineart,
    data: bytes,
    native: bool,
    area: Rect,
    above: bool,
    multiply: bool,
    name=RESULT_LAYER_NAME,
):
    """Insert a new paint layer holding ``data`` (in ``result_format``) directly above or below
    ``lineart``, in blending mode Multiply if asked. A layer in a foreign format is made in a
    scratch document and moved over in the same single step.
    """
    parent, anchor = _anchor(lineart, above)
    scratch = None
    if native:
        node = doc.createNode(name, "paintlayer")
    else:
        scratch = _scratch(app, PixelFormat("RGBA", "U8", RESULT_PROFILE))
        node = scratch.createNode(name, "paintlayer")
    try:
        node.setPixelData(data, area.x, area.y, area.width, area.height)
        if multiply:
            node.setBlendingMode("multiply")  # set before insertion: part of the same step
        parent.addChildNode(node, anchor)  # the one undo step
        doc.waitForDone()
    finally:
        if scratch is not None:
            _close(scratch)
    return node


def add_result_group(app, doc, lineart, pieces, fmt: PixelFormat, above: bool, multiply: bool):
    """Insert a layer group "AI Colorize" holding one paint layer per ``request.Piece`` (first
    piece on top) directly above or below ``lineart``, in blending mode Multiply if asked.

    The group is filled in a scratch document in the result's format (adding a child to a group
    is an undo step of the document the group was made in), then moved into ``doc`` with one
    ``addChildNode``: the artist's history gets a single "Add Layer" step for the whole group.
    """
    parent, anchor = _anchor(lineart, above)
    scratch = _scratch(app, fmt)
    try:
        group = scratch.createNode(RESULT_LAYER_NAME, "grouplayer")
        for piece in reversed(pieces):  # each child goes on top of the ones before it
            child = scratch.createNode(piece.name, "paintlayer")
            a = piece.area
            child.setPixelData(piece.data, a.x, a.y, a.width, a.height)
            group.addChildNode(child, None)
        if multiply:
            group.setBlendingMode("multiply")
        parent.addChildNode(group, anchor)  # the one undo step
        doc.waitForDone()
    finally:
        _close(scratch)
    return group


def read_annotation(doc) -> dict:
    try:
        raw = bytes(doc.annotation(ANNOTATION)) if hasattr(doc, "annotation") else b""
        value = json.loads(raw.decode("utf-8")) if raw else {}
        return value if isinstance(value, dict) else {}
    except (ValueError, UnicodeDecodeError):
        return {}


def write_annotation(doc, value: dict) -> None:
    if hasattr(doc, "setAnnotation"):  # Krita 5.0+
        from .qt import QByteArray

        doc.setAnnotation(
            ANNOTATION, "Inkhue AI Colorize layers", QByteArray(json.dumps(value).encode("utf-8"))
        )
