"""The plug-ins' "Learn from this document": an artist's line art and colour saved as a training pair.

Standard library only: ``installer/vendor.py`` copies this file into the Krita and the GIMP plug-in.
A pair is two PNG files in the user's style folder, ``NAME.lines.png`` (the line-art layer) and
``NAME.colour.png`` (the colour layers under it with the lines on top), which
``inkhue-train finetune --documents FOLDER`` reads (``training.documents``). The layers are chosen by
the plug-ins' own rules (``layer_rules``): the line art as the dialog would pre-select it, the colour
as every visible paint layer under it except hint layers and the preview.
"""

from __future__ import annotations

import os
import re
import struct
import time
import zlib

try:  # vendored into a plug-in: a sibling module; in the engine: the engine's own
    from . import layer_rules as rules
    from .folders import STYLE_ENV as STYLE_ENV  # re-exported: the style folder's rule is folders'
    from .folders import style_dir as style_dir
except ImportError:  # pragma: no cover - loaded as a top-level module
    import layer_rules as rules
    from folders import STYLE_ENV as STYLE_ENV
    from folders import style_dir as style_dir

LINES_SUFFIX, COLOUR_SUFFIX = ".lines.png", ".colour.png"
MAX_SIDE = 1024  # pairs are trained at 512 px at most: larger canvases are scaled down by the host


def choose(layers: list[rules.LayerInfo], visible: dict | None = None, active: object | None = None):
    """(line-art layer, colour layers top to bottom) of ``layers`` (top to bottom, a group before
    its layers); ``visible`` maps a key to False for hidden layers. Raises ``LayerRuleError``."""
    visible = visible or {}
    shown = [i for i in layers if visible.get(i.key, True) and i.name != rules.PREVIEW_LAYER_NAME]
    line, _ = rules.guess_layers(shown, active)
    if line is None or line.is_group or not line.is_paint:
        raise rules.LayerRuleError(
            'Name your line-art layer "Lines" (or "Line art", "Ink") so AI Colorize can find it.'
        )
    below = shown[shown.index(line) + 1 :]
    colour = [i for i in below if i.is_paint and not i.is_group and not rules.is_hint_name(i.name)]
    if not colour:
        raise rules.LayerRuleError(
            f'There is no colour under the line art "{line.name}": colour the picture on layers below '
            "the line art, then learn from it."
        )
    return line, colour


def scaled_size(width: int, height: int, max_side: int = MAX_SIDE) -> tuple[int, int]:
    """The size a pair is saved at: the canvas, scaled down to ``max_side`` at most."""
    scale = min(1.0, max_side / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


def pair_stem(folder: str, title: str) -> str:
    """A new file name stem in ``folder`` from the document's title (never overwrites a pair)."""
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", os.path.splitext(os.path.basename(title or ""))[0]).strip("-")
    base = (base or "picture")[:60] + time.strftime("-%Y%m%d-%H%M%S")
    stem, n = base, 1
    while os.path.exists(os.path.join(folder, stem + LINES_SUFFIX)):
        n += 1
        stem = f"{base}-{n}"
    return stem


def png_bytes(width: int, height: int, rgba: bytes) -> bytes:
    """8-bit RGBA pixels (row after row) as a PNG file."""
    if len(rgba) != width * height * 4:
        raise ValueError(f"{len(rgba)} bytes are not {width}x{height} RGBA pixels")
    row = width * 4
    raw = b"".join(b"\x00" + rgba[y * row : (y + 1) * row] for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def save_pair(
    folder: str, title: str, width: int, height: int, lines_rgba: bytes, colour_rgba: bytes
) -> tuple[str, str]:
    """Write ``NAME.lines.png`` and ``NAME.colour.png`` into ``folder``; returns both paths."""
    os.makedirs(folder, exist_ok=True)
    stem = pair_stem(folder, title)
    paths = (os.path.join(folder, stem + LINES_SUFFIX), os.path.join(folder, stem + COLOUR_SUFFIX))
    for path, data in zip(paths, (lines_rgba, colour_rgba)):
        tmp = path + ".part"
        with open(tmp, "wb") as f:
            f.write(png_bytes(width, height, data))
        os.replace(tmp, path)
    return paths


def count_pairs(folder: str) -> int:
    try:
        return sum(1 for n in os.listdir(folder) if n.endswith(LINES_SUFFIX))
    except OSError:
        return 0


def saved_message(folder: str, count: int) -> str:
    return (
        f"Saved this picture's line art and colour as a training pair in {folder} ({count} there). "
        f"Train on them with: inkhue-train finetune --documents {folder}"
    )
