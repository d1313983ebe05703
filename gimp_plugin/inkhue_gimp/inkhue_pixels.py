"""Pixel plumbing for the GIMP plug-in in plain ``bytes`` operations (GIMP's Python has no numpy).

Everything here works on row-major 8-bit buffers: RGBA (4 bytes per pixel), RGB (3) or a mask
(1). Per-pixel Python loops would take seconds on a 4K canvas, so the work is done with slice
assignment, ``bytes.translate`` and big-integer bit operations, which all run in C.
"""

from __future__ import annotations

from typing import NamedTuple


class Rect(NamedTuple):
    x: int
    y: int
    width: int
    height: int


def layer_window(
    canvas_w: int, canvas_h: int, offset_x: int, offset_y: int, layer_w: int, layer_h: int
) -> tuple[Rect, Rect] | None:
    """The part of a layer that lies on the canvas, as (rect in layer coords, rect in canvas coords).

    None when the layer lies entirely off the canvas. Layers may be larger than the canvas, smaller,
    or shifted by any offset (negative included).
    """
    x0, y0 = max(0, offset_x), max(0, offset_y)
    x1, y1 = min(canvas_w, offset_x + layer_w), min(canvas_h, offset_y + layer_h)
    if x1 <= x0 or y1 <= y0:
        return None
    on_canvas = Rect(x0, y0, x1 - x0, y1 - y0)
    return Rect(x0 - offset_x, y0 - offset_y, on_canvas.width, on_canvas.height), on_canvas


def place(part: bytes, where: Rect, canvas_w: int, canvas_h: int, bpp: int = 4) -> bytes | bytearray:
    """A transparent (all-zero) canvas with ``part`` (``where.width``×``where.height``) copied in.

    A part that covers the whole canvas is returned as is (no copy of a possibly huge buffer).
    """
    expected = where.width * where.height * bpp
    if len(part) != expected:
        raise ValueError(f"part has {len(part)} bytes, expected {expected} for {where.width}x{where.height}")
    if where.x < 0 or where.y < 0 or where.x + where.width > canvas_w or where.y + where.height > canvas_h:
        raise ValueError(f"{where} does not fit a {canvas_w}x{canvas_h} canvas")
    if where == Rect(0, 0, canvas_w, canvas_h):
        return part
    out = bytearray(canvas_w * canvas_h * bpp)
    row = where.width * bpp
    stride = canvas_w * bpp
    start = (where.y * canvas_w + where.x) * bpp
    for r in range(where.height):
        dst = start + r * stride
        out[dst : dst + row] = part[r * row : (r + 1) * row]
    return out


def rgb_to_rgba(rgb: bytes, alpha: bytes | None = None) -> bytearray:
    """Interleave RGB with an alpha plane (one byte per pixel; None = opaque)."""
    if len(rgb) % 3:
        raise ValueError(f"RGB data has {len(rgb)} bytes, not a multiple of 3")
    n = len(rgb) // 3
    if alpha is not None and len(alpha) != n:
        raise ValueError(f"alpha has {len(alpha)} bytes for {n} pixels")
    out = bytearray(4 * n)
    out[0::4] = rgb[0::3]
    out[1::4] = rgb[1::3]
    out[2::4] = rgb[2::3]
    out[3::4] = alpha if alpha is not None else b"\xff" * n
    return out


_VISIBLE = bytes(1 if v > 32 else 0 for v in range(256))  # alpha: more than a speck
_DARK = bytes(1 if v < 224 else 0 for v in range(256))  # a channel noticeably below white
INK_CHUNK = 1 << 20  # pixels per step: line art usually has ink near the top, so stop early


def _bits(plane: bytes, table: bytes) -> int:
    """One bit per pixel as a big integer (bit i set where ``table[plane[i]]``): C-speed logic."""
    return int.from_bytes(plane.translate(table), "little")


def has_ink(rgba: bytes) -> bool:
    """True when the line art holds any line: a visible pixel noticeably darker than white.

    Lines may be drawn on transparent or on white; a blank, white or fully transparent layer has
    none. Coloured lines count (their darkest channel is dark).
    """
    step = 4 * INK_CHUNK
    for start in range(0, len(rgba), step):
        chunk = rgba[start : start + step]
        visible = _bits(chunk[3::4], _VISIBLE)
        if visible and visible & (
            _bits(chunk[0::4], _DARK) | _bits(chunk[1::4], _DARK) | _bits(chunk[2::4], _DARK)
        ):
            return True
    return False


_ANY = bytes(1 if v else 0 for v in range(256))  # the engine takes any alpha above 0 as a hint


def has_paint(rgba: bytes, mask: bytes | None = None) -> bool:
    """True when any pixel is not fully transparent (a hint layer with at least one dab).

    With a selection ``mask`` (one byte per pixel), only pixels with some selection count.
    """
    alpha = rgba[3::4]
    if mask is None:
        return bool(alpha.strip(b"\x00"))
    if len(mask) != len(alpha):
        raise ValueError(f"mask has {len(mask)} bytes for {len(alpha)} pixels")
    return bool(_bits(alpha, _ANY) & _bits(mask, _ANY))


_OPAQUE = bytes(1 if v >= 250 else 0 for v in range(256))


def opaque_share(rgba: bytes) -> float:
    """The share of pixels (0..1) a layer covers opaquely: near 1 for lines on white."""
    n = len(rgba) // 4
    return rgba[3::4].translate(_OPAQUE).count(1) / n if n else 0.0


def is_all(plane: bytes, value: int) -> bool:
    """True when every byte of ``plane`` equals ``value`` (e.g. a selection mask that is all 255)."""
    return not plane.strip(bytes((value,)))
