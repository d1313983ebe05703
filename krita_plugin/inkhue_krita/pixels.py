"""Krita pixel data <-> 8-bit sRGB RGBA, the engine's format (standard library only: Krita's Python
has no numpy). Native layouts and tone curves are decoded in ``samples``, Lab in ``colorspaces``
(CMYK is converted by Krita itself, see ``kritaio.read_layer``); this module assembles whole
pixels and checks what a layer holds.
"""

from __future__ import annotations

import struct
from functools import cache

from .colorspaces import lab_to_rgb
from .samples import (
    SAMPLE_BYTES,
    FormatError,
    PixelFormat,
    channel_u8,
    from_srgb,
    interleave,
    multiply,
    to_u8,
)

__all__ = [
    "FormatError",
    "PixelFormat",
    "from_rgba8",
    "is_blank_raw",
    "limit_alpha",
    "rgb_to_rgba",
    "split_colours",
    "to_rgba8",
]


def to_rgba8(data: bytes, fmt: PixelFormat) -> bytes:
    """Native Krita pixel bytes -> 8-bit sRGB RGBA bytes (row-major, like the input)."""
    data = bytes(data)
    if len(data) % fmt.pixel_size:
        raise FormatError(f"{len(data)} bytes is not a whole number of {fmt.model}/{fmt.depth} pixels")
    tr = fmt.transfer
    alpha = channel_u8(data, fmt, fmt.channels - 1)
    if fmt.model == "RGBA":
        r, g, b = (channel_u8(data, fmt, i, tr) for i in ((2, 1, 0) if fmt.bgr else (0, 1, 2)))
    elif fmt.model == "GRAYA":
        r = g = b = channel_u8(data, fmt, 0, tr)
    elif fmt.model == "CMYKA":  # needs the profile: Krita converts it (kritaio.read_layer)
        raise FormatError("CMYK pixels must be converted to RGB by Krita first")
    else:
        r, g, b = lab_to_rgb(data, fmt)
    return interleave(r, g, b, alpha)


# ------------------------------------------------------------------------------------------------
# encoding the result (RGBA documents only; others get an 8-bit RGBA layer, see kritaio)


@cache
def _encode_tables(depth: str, transfer: str) -> tuple[bytes, ...]:
    """One translate table per byte of a sample: 8-bit value -> that byte of the native sample."""
    values = [from_srgb(i / 255.0, transfer) for i in range(256)]
    if depth == "U8":
        samples = [struct.pack("<B", to_u8(v)) for v in values]
    elif depth == "U16":
        samples = [struct.pack("<H", int(v * 65535.0 + 0.5)) for v in values]
    elif depth == "F16":
        samples = [struct.pack("<e", v) for v in values]
    else:
        samples = [struct.pack("<f", v) for v in values]
    return tuple(bytes(s[j] for s in samples) for j in range(len(samples[0])))


def from_rgba8(rgba: bytes, fmt: PixelFormat) -> bytes:
    """8-bit sRGB RGBA -> native bytes of an RGBA layer of ``fmt``'s depth and tone curve."""
    if fmt.model != "RGBA":
        raise FormatError(f"cannot encode into {fmt.model}; only RGBA layers are written natively")
    size = SAMPLE_BYTES[fmt.depth]
    order = (2, 1, 0, 3) if fmt.bgr else (0, 1, 2, 3)
    colour = _encode_tables(fmt.depth, fmt.transfer)
    alpha = _encode_tables(fmt.depth, "srgb")
    out = bytearray(len(rgba) * size)
    stride = 4 * size
    for slot, src in enumerate(order):
        plane = rgba[src::4]
        tables = alpha if src == 3 else colour
        for j, table in enumerate(tables):
            out[slot * size + j :: stride] = plane.translate(table)
    return bytes(out)


def rgb_to_rgba(rgb: bytes, alpha: bytes | None = None) -> bytes:
    """Engine output (RGB) plus an alpha plane (None: opaque) -> RGBA."""
    n = len(rgb) // 3
    return interleave(rgb[0::3], rgb[1::3], rgb[2::3], alpha if alpha is not None else b"\xff" * n)


def limit_alpha(rgba: bytes, coverage: bytes | None) -> bytes:
    """RGBA with its alpha multiplied by a selection's ``coverage`` plane (None: unchanged)."""
    if coverage is None:
        return rgba
    out = bytearray(rgba)
    if coverage.translate(None, b"\x00\xff"):  # soft edges: multiply, pixel by pixel
        out[3::4] = multiply(rgba[3::4], coverage)
    else:  # a hard-edged selection: AND the planes as big integers, fast at any size
        out[3::4] = (_big(rgba[3::4]) & _big(coverage)).to_bytes(len(coverage), "big")
    return bytes(out)


def colour_name(rgb: tuple[int, int, int]) -> str:
    """The name of a colour layer: "#c83c5a"."""
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _big(plane: bytes) -> int:
    return int.from_bytes(plane, "big")


def _equal_table(value: int) -> bytes:
    return bytes(255 if i == value else 0 for i in range(256))


def split_colours(rgba: bytes) -> list[tuple[tuple[int, int, int], bytes]]:
    """Flat colours apart: one (colour, mask) per colour painted opaque, largest area first.

    A mask is one byte per pixel, 255 where the pixel is exactly that colour with alpha 255, else
    0; partly transparent pixels belong to no colour (flats have none). Fast without numpy: the
    planes are compared per channel with ``bytes.translate`` and combined as big integers; each
    round takes the first pixel not yet claimed and claims every pixel of its colour.
    """
    n = len(rgba) // 4
    planes = [rgba[i::4] for i in range(3)]
    left = _big(rgba[3::4].translate(_equal_table(255)))  # opaque pixels not in a colour yet
    out = []
    while left:
        first = n - 1 - (left.bit_length() - 1) // 8  # big-endian: the highest bit is pixel 0's
        colour = tuple(rgba[first * 4 : first * 4 + 3])
        bits = left
        for plane, value in zip(planes, colour, strict=True):
            bits &= _big(plane.translate(_equal_table(value)))
        left ^= bits
        mask = bits.to_bytes(n, "big")
        out.append((colour, mask, n - mask.count(0)))
    out.sort(key=lambda item: -item[2])  # stable: equal areas stay in reading order
    return [(rgb, mask) for rgb, mask, _ in out]


def colour_layer(rgb: tuple[int, int, int], mask: bytes, coverage: bytes | None = None) -> bytes:
    """RGBA of one flat colour: ``rgb`` where ``mask`` is 255 (times the selection's coverage)."""
    alpha = mask if coverage is None else (_big(mask) & _big(coverage)).to_bytes(len(mask), "big")
    r, g, b = (mask.translate(bytes([0] * 255 + [v])) for v in rgb)
    return interleave(r, g, b, alpha)


# ------------------------------------------------------------------------------------------------
# quick facts about a layer's content


def alpha_plane(rgba: bytes) -> bytes:
    return rgba[3::4]


_NONZERO = bytes([0] + [1] * 255)


def is_blank_raw(data: bytes, fmt: PixelFormat, coverage: bytes | None = None) -> bool:
    """``is_blank`` for native pixels of any model and depth (only alpha is decoded); with a
    selection's ``coverage`` plane, pixels outside the selection do not count."""
    alpha = channel_u8(bytes(data), fmt, fmt.channels - 1)
    if coverage is None:
        return alpha.count(0) == len(alpha)
    # one 0/1 byte per pixel, ANDed as two big integers: fast at any size
    painted, selected = (int.from_bytes(p.translate(_NONZERO), "big") for p in (alpha, coverage))
    return not painted & selected


def is_blank(rgba: bytes) -> bool:
    """True when nothing is painted: fully transparent everywhere."""
    alpha = alpha_plane(rgba)
    return alpha.count(0) == len(alpha)


def is_opaque(rgba: bytes) -> bool:
    return min(alpha_plane(rgba), default=255) == 255
