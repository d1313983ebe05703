"""Pixel plumbing for the GIMP plug-in in plain ``bytes`` operations (GIMP's Python has no numpy).

Everything here works on row-major 8-bit buffers: RGBA (4 bytes per pixel), RGB (3) or a mask
(1). Per-pixel Python loops would take seconds on a 4K canvas, so the work is done with slice
assignment, ``bytes.translate`` and big-integer bit operations, which all run in C.
"""

from __future__ import annotations

import sys
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


def _bits(plane: bytes, table: bytes) -> int:
    """One bit per pixel as a big integer (bit i set where ``table[plane[i]]``): C-speed logic."""
    return int.from_bytes(plane.translate(table), "little")


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


def _lanes(pattern: bytes, n: int) -> int:
    """``pattern`` repeated ``n`` times as one little-endian big integer (one lane per pixel)."""
    return int.from_bytes(pattern * n, "little")


def min_planes(a: bytes, b: bytes) -> bytes:
    """The per-byte minimum of two planes of equal length, without a Python loop.

    Each byte gets a 16-bit lane: ``(256 + a) - b`` keeps bit 8 exactly where ``a >= b`` and never
    borrows from the next lane, so one subtraction compares every pixel at once.
    """
    if len(a) != len(b):
        raise ValueError(f"planes have {len(a)} and {len(b)} bytes")
    n = len(a)
    wide_a, wide_b = bytearray(2 * n), bytearray(2 * n)
    wide_a[0::2], wide_b[0::2] = a, b
    big_a, big_b = int.from_bytes(wide_a, "little"), int.from_bytes(wide_b, "little")
    bit8 = _lanes(b"\x00\x01", n)
    take_b = (((big_a | bit8) - big_b) & bit8) >> 8  # 1 in each lane where a >= b
    take_b *= 255  # 0xff lanes: no carry, each lane holds 0 or 1
    low = _lanes(b"\xff\x00", n)
    out = (big_b & take_b) | (big_a & (low ^ take_b))
    return out.to_bytes(2 * n, "little")[0::2]


def limit_alpha(rgba: bytes, mask: bytes | None) -> bytes | bytearray:
    """RGBA with its alpha limited by a selection ``mask`` (one byte per pixel; None: unchanged)."""
    if mask is None:
        return rgba
    if len(mask) * 4 != len(rgba):
        raise ValueError(f"mask has {len(mask)} bytes for {len(rgba) // 4} pixels")
    out = bytearray(rgba)
    out[3::4] = min_planes(rgba[3::4], mask)
    return out


def result_to_rgba(data: bytes, pixels: int, mask: bytes | None = None) -> bytes | bytearray:
    """The engine's answer (RGB, or RGBA when asked for transparency) as RGBA, limited to ``mask``."""
    if len(data) == 3 * pixels:
        return rgb_to_rgba(data, mask)
    if len(data) == 4 * pixels:
        return limit_alpha(data, mask)
    raise ValueError(f"the engine answered {len(data)} bytes for {pixels} pixels")


def colour_name(rgb: tuple[int, int, int]) -> str:
    """ "#c83c5a": how a flats layer is named."""
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def split_colours(rgba: bytes) -> list[tuple[tuple[int, int, int], int, bytes]]:
    """One (colour, pixel count, RGBA) per exact colour painted in ``rgba``, largest area first.

    Each RGBA keeps only the pixels of its colour (the rest is all zero, transparent); pixels with
    alpha 0 belong to none. Every pixel is a 32-bit lane of one big integer: a colour's pixels are
    those whose RGB, XORed with the colour, is zero, found for all pixels in a few C-speed steps.
    """
    if len(rgba) % 4:
        raise ValueError(f"RGBA data has {len(rgba)} bytes, not a multiple of 4")
    n = len(rgba) // 4
    if n == 0:
        return []
    found = set(memoryview(bytes(rgba)).cast("I"))  # every distinct pixel, at C speed
    order = sys.byteorder
    colours = sorted({tuple(v.to_bytes(4, order)[:3]) for v in found if v.to_bytes(4, order)[3]})
    if not colours:
        return []
    whole = int.from_bytes(rgba, "little")
    rgb_lanes = _lanes(b"\xff\xff\xff\x00", n)
    ones = _lanes(b"\x01\x00\x00\x00", n)
    alpha_low = _lanes(b"\xff\x00\x00\x00", n)
    # 1 per lane where alpha > 0: a + 255 reaches bit 8 (and stays inside the lane)
    painted = ((((whole >> 24) & alpha_low) + alpha_low) >> 8) & ones
    rgb = whole & rgb_lanes
    out = []
    for colour in colours:
        value = colour[0] | colour[1] << 8 | colour[2] << 16
        differs = rgb ^ (ones * value)  # lanes below 2**24: zero where the colour matches
        nonzero = ((differs + rgb_lanes) >> 24) & ones
        match = (ones ^ nonzero) & painted
        keep = whole & (match * 0xFFFFFFFF)
        out.append((colour, match.bit_count(), keep.to_bytes(4 * n, "little")))
    out.sort(key=lambda item: -item[1])  # stable: equal areas keep the colour order
    return out
