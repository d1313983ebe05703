"""Filter > AI Colorize: Learn from This Document: save the document's line art and colour as a
training pair in the user's style folder (``vendor/style_pairs.py``, shared with the GIMP plug-in).

Krita composites the colour itself: in a clone of the document, every layer but the line art and
the colour layers under it is removed, the clone is converted to 8-bit sRGB and scaled down to the
pair's size, and its projection is read. The artist's document and its undo history are untouched.
"""

from __future__ import annotations

from . import kritaio

SRGB8 = ("RGBA", "U8", kritaio.RESULT_PROFILE)


def _bgra_to_rgba(data: bytes) -> bytes:
    out = bytearray(data)
    out[0::4], out[2::4] = data[2::4], data[0::4]
    return bytes(out)


def _visible(node) -> bool:
    while node is not None and node.type() != "":
        if not node.visible():
            return False
        node = node.parentNode()
    return True


def learn(app, doc, rules, pairs, folder: str | None = None) -> tuple[str, str]:
    """Save ``doc``'s pair; returns (lines path, colour path). Raises ``rules.LayerRuleError``."""
    clone = doc.clone()
    try:
        clone.setBatchmode(True)
        layers = kritaio.all_layers(clone)
        infos = kritaio.layer_infos(rules, layers)
        visible = {kritaio.layer_key(n): _visible(n) for n in layers}
        line, colour = pairs.choose(infos, visible)
        keep = {line.key, *(i.key for i in colour)}
        line_node = next(n for n in layers if kritaio.layer_key(n) == line.key)
        for node in layers:
            if node.type() != "grouplayer" and kritaio.layer_key(node) not in keep:
                node.remove()
        clone.setColorSpace(*SRGB8)
        w, h = pairs.scaled_size(clone.width(), clone.height())
        if (w, h) != (clone.width(), clone.height()):
            clone.scaleImage(w, h, int(clone.xRes()), int(clone.yRes()), "Bicubic")
        clone.refreshProjection()
        clone.waitForDone()
        colour_rgba = _bgra_to_rgba(bytes(clone.pixelData(0, 0, w, h)))
        lines_rgba = _bgra_to_rgba(bytes(line_node.pixelData(0, 0, w, h)))
    finally:
        clone.setModified(False)
        clone.close()
    if len(colour_rgba) != w * h * 4 or len(lines_rgba) != w * h * 4:
        raise rules.LayerRuleError("Krita could not read the layers as 8-bit RGBA.")
    folder = folder or pairs.style_dir()
    return pairs.save_pair(folder, doc.name() or doc.fileName(), w, h, lines_rgba, colour_rgba)
