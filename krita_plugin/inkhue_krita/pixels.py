"""Krita pixel data <-> 8-bit RGBA, with the standard library only (Krita's Python has no numpy).

``Node.pixelData`` returns the layer's native bytes: 8- and 16-bit RGBA in B,G,R,A order, half and
float RGBA in R,G,B,A order, GRAYA as gray+alpha, CMYKA (16-bit: 0..65535, float: ink 0..100),
LABA (L*, a*, b*, alpha). The engine wants 8-bit sRGB RGBA, so colour samples also go through the
profile's transfer curve: Krita's default float and 16-bit profiles are linear ("…-g10.icc").

Speed comes from byte slicing, ``bytes.translate`` and ``map`` over lookup tables, all running in C:
no per-pixel Python code except for the rare CMYK and Lab models.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import repeat
from operator import add, lshift, or_

MODELS = {"RGBA": 4, "GRAYA": 2, "CMYKA": 5, "LABA": 4}
SAMPLE_BYTES = {"U8": 1, "U16": 2, "F16": 2, "F32": 4}


class FormatError(ValueError):
    """A colour model or depth this plug-in cannot read; the message says what to do."""


def transfer_of(profile: str) -> str:
    """The tone curve a profile's samples are encoded with: "srgb", "linear", "g18" or "g22".

    Judged from the name (Krita's own profiles are named after their curve, e.g.
    ``sRGB-elle-V2-g10.icc``); unknown names are taken as sRGB-like, which is what painting
    profiles almost always are.
    """
    name = profile.lower()
    if "g10" in name or "linear" in name or "scrgb" in name:
        return "linear"
    if "g18" in name:
        return "g18"
    if "g22" in name:
        return "g22"
    return "srgb"


@dataclass(frozen=True)
class PixelFormat:
    model: str
    depth: str
    profile: str = ""

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise FormatError(
                f"colour model {self.model} is not supported; convert the layer to RGB "
                "(Layer > Convert > Convert Layer Color Space…) or use RGB, Grayscale, CMYK or L*a*b*"
            )
        if self.depth not in SAMPLE_BYTES:
            raise FormatError(f"channel depth {self.depth} is not supported (use 8, 16 or 32 bits)")

    @property
    def channels(self) -> int:
        return MODELS[self.model]

    @property
    def pixel_size(self) -> int:
        return self.channels * SAMPLE_BYTES[self.depth]

    @property
    def transfer(self) -> str:
        return transfer_of(self.profile) if self.model in ("RGBA", "GRAYA") else "srgb"

    @property
    def bgr(self) -> bool:
        """Krita stores integer RGBA as B,G,R,A and float RGBA as R,G,B,A."""
        return self.model == "RGBA" and self.depth in ("U8", "U16")


# ------------------------------------------------------------------------------------------------
# tone curves, as 0..1 -> 0..1 functions


def _srgb_encode(lin: float) -> float:
    return 12.92 * lin if lin <= 0.0031308 else 1.055 * lin ** (1 / 2.4) - 0.055


def _srgb_decode(v: float) -> float:
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


_GAMMA = {"linear": 1.0, "g18": 1.8, "g22": 2.2}


def _to_srgb(v: float, transfer: str) -> float:
    """A sample in ``transfer`` encoding -> the sRGB-encoded value, clamped to 0..1."""
    if v != v or v <= 0.0:  # NaN or dark
        return 0.0
    if v >= 1.0:
        return 1.0
    return v if transfer == "srgb" else _srgb_encode(v ** _GAMMA[transfer])


def _from_srgb(v: float, transfer: str) -> float:
    if transfer == "srgb":
        return v
    return _srgb_decode(v) ** (1.0 / _GAMMA[transfer])


def _u8(v: float) -> int:
    return int(v * 255.0 + 0.5)


# ------------------------------------------------------------------------------------------------
# decoding one channel to 8 bits


@cache
def _table_u8(transfer: str) -> bytes:
    return bytes(_u8(_to_srgb(i / 255.0, transfer)) for i in range(256))


@cache
def _table_u16(transfer: str, unit: float) -> bytes:
    return bytes(_u8(_to_srgb(i / unit, transfer)) for i in range(65536))


@cache
def _table_f16(transfer: str, unit: float) -> bytes:
    """Every half-float bit pattern -> 8-bit value (NaN, negatives and overflow clamp)."""
    halves = struct.unpack("<65536e", struct.pack("<65536H", *range(65536)))
    return bytes(_u8(_to_srgb(h / unit, transfer)) for h in halves)


@cache
def _table_bf16(transfer: str, unit: float) -> bytes:
    """Every "bfloat16" pattern (the top 16 bits of a float32) -> 8-bit value.

    A float32 cut to its top half still has 8 bits of precision; taking the middle of the range
    each pattern stands for keeps the result within one 8-bit level (exact for values that came
    from 8 bits), and turns float decoding into byte slicing plus one table lookup per sample.
    """
    words = bytearray(4 * 65537)
    words[2::4] = bytes(range(256)) * 256 + b"\x00"
    words[3::4] = bytes(i for i in range(256) for _ in range(256)) + b"\x00"
    floats = struct.unpack("<65537f", bytes(words))
    out = bytearray(65536)
    for w in range(65536):
        lo, hi = floats[w], floats[w + 1]
        mid = (lo + hi) * 0.5 if w < 0x7F80 else lo  # positive finite: middle of the bucket
        out[w] = _u8(_to_srgb(mid / unit, transfer))
    return bytes(out)


_LOOKUP_CHUNK = 1 << 18


def _lookup(table: bytes, words) -> bytes:
    """``table[w]`` for every 16-bit word. In chunks: a single long C call would hold the GIL and
    starve the GUI thread's Python timers while the worker converts a big layer."""
    get = table.__getitem__
    return b"".join(
        bytes(map(get, words[i : i + _LOOKUP_CHUNK])) for i in range(0, len(words), _LOOKUP_CHUNK)
    )


def channel_u8(data: bytes, fmt: PixelFormat, index: int, transfer: str = "srgb", unit: float = 1.0) -> bytes:
    """Channel ``index`` of every pixel as 8-bit values, ``unit`` being its full-scale value.

    ``transfer`` is the curve to undo (colour channels); "srgb" leaves values as they are.
    16-bit sRGB samples keep their high byte, and float32 samples their top 16 bits: both are
    within one level of exact rounding.
    """
    step = fmt.channels
    if fmt.depth == "U8":
        plane = data[index::step]
        return plane if transfer == "srgb" else plane.translate(_table_u8(transfer))
    if fmt.depth == "U16":
        if transfer == "srgb" and unit == 1.0:
            return data[2 * index + 1 :: 2 * step]  # little-endian: the high byte
        words = memoryview(data).cast("H")[index::step]
        return _lookup(_table_u16(transfer, unit * 65535.0), words)
    if fmt.depth == "F16":
        words = memoryview(data).cast("H")[index::step]
        return _lookup(_table_f16(transfer, unit), words)
    top = bytearray(len(data) // (2 * step))  # the high 2 bytes of each little-endian float
    top[0::2] = data[4 * index + 2 :: 4 * step]
    top[1::2] = data[4 * index + 3 :: 4 * step]
    return _lookup(_table_bf16(transfer, unit), memoryview(top).cast("H"))


# ------------------------------------------------------------------------------------------------
# whole pixels


def interleave(r: bytes, g: bytes, b: bytes, a: bytes) -> bytes:
    out = bytearray(len(a) * 4)
    out[0::4], out[1::4], out[2::4], out[3::4] = r, g, b, a
    return bytes(out)


@lru_cache(maxsize=1)
def _product_table() -> bytes:
    """(a << 8 | b) -> round(a * b / 255): multiplies two 8-bit planes through ``map``."""
    return bytes((a * b + 127) // 255 for a in range(256) for b in range(256))


def _multiply(x: bytes, y: bytes) -> bytes:
    return bytes(map(_product_table().__getitem__, map(or_, map(lshift, x, repeat(8)), y)))


def _invert(plane: bytes) -> bytes:
    return plane.translate(bytes(range(255, -1, -1)))


def _cmyk_to_rgb(data: bytes, fmt: PixelFormat) -> tuple[bytes, bytes, bytes]:
    # naive (profile-free) separation: close enough to find lines and hint colours
    unit = 100.0 if fmt.depth in ("F16", "F32") else 1.0
    c, m, y, k = (channel_u8(data, fmt, i, unit=unit) for i in range(4))
    white = _invert(k)
    return _multiply(_invert(c), white), _multiply(_invert(m), white), _multiply(_invert(y), white)


_D50 = (0.9642, 1.0, 0.8249)
# XYZ (D50, as ICC Lab is) -> linear sRGB, Bradford-adapted
_XYZ50_TO_RGB = (
    (3.1338561, -1.6168667, -0.4906146),
    (-0.9787684, 1.9161415, 0.0334540),
    (0.0719453, -0.2289914, 1.4052427),
)


def lab_to_srgb8(lightness: float, a: float, b: float) -> tuple[int, int, int]:
    """CIE L*a*b* (D50) -> 8-bit sRGB, clipped."""
    fy = (lightness + 16.0) / 116.0
    fx, fz = fy + a / 500.0, fy - b / 200.0

    def finv(t: float) -> float:
        return t**3 if t > 6.0 / 29.0 else 3.0 * (6.0 / 29.0) ** 2 * (t - 4.0 / 29.0)

    xyz = (finv(fx) * _D50[0], finv(fy) * _D50[1], finv(fz) * _D50[2])
    return tuple(  # type: ignore[return-value]
        _u8(_to_srgb(sum(m * v for m, v in zip(row, xyz, strict=True)), "linear")) for row in _XYZ50_TO_RGB
    )


def _lab_to_rgb(data: bytes, fmt: PixelFormat) -> tuple[bytes, bytes, bytes]:
    # planes in Krita's 8-bit Lab encoding: L* = L/255*100, a* = a-128, b* = b-128
    if fmt.depth in ("F16", "F32"):
        lp = channel_u8(data, fmt, 0, unit=100.0)
        ap, bp = (_float_ab_u8(data, fmt, i) for i in (1, 2))
    else:
        lp, ap, bp = (channel_u8(data, fmt, i) for i in range(3))
    known: dict[tuple[int, int, int], tuple[int, int, int]] = {}
    r, g, b = bytearray(len(lp)), bytearray(len(lp)), bytearray(len(lp))
    for i, key in enumerate(zip(lp, ap, bp, strict=True)):  # line art has few distinct colours: cache them
        rgb = known.get(key)
        if rgb is None:
            rgb = known[key] = lab_to_srgb8(key[0] * 100.0 / 255.0, key[1] - 128.0, key[2] - 128.0)
        r[i], g[i], b[i] = rgb
    return bytes(r), bytes(g), bytes(b)


def _float_ab_u8(data: bytes, fmt: PixelFormat, index: int) -> bytes:
    if fmt.depth == "F16":
        values = struct.unpack(f"<{len(data) // 2}e", data)[index :: fmt.channels]
    else:
        values = memoryview(data).cast("f")[index :: fmt.channels].tolist()
    return bytes(min(255, max(0, int(v + 128.5))) for v in values)


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
    elif fmt.model == "CMYKA":
        r, g, b = _cmyk_to_rgb(data, fmt)
    else:
        r, g, b = _lab_to_rgb(data, fmt)
    return interleave(r, g, b, alpha)


# ------------------------------------------------------------------------------------------------
# encoding the result (RGBA documents only; others get an 8-bit RGBA layer, see kritaio)


@cache
def _encode_tables(depth: str, transfer: str) -> tuple[bytes, ...]:
    """One translate table per byte of a sample: 8-bit value -> that byte of the native sample."""
    values = [_from_srgb(i / 255.0, transfer) for i in range(256)]
    if depth == "U8":
        samples = [struct.pack("<B", _u8(v)) for v in values]
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


# ------------------------------------------------------------------------------------------------
# quick facts about a layer's content


def alpha_plane(rgba: bytes) -> bytes:
    return rgba[3::4]


def is_blank(rgba: bytes) -> bool:
    """True when nothing is painted: fully transparent everywhere."""
    alpha = alpha_plane(rgba)
    return alpha.count(0) == len(alpha)


@lru_cache(maxsize=1)
def _luma_tables() -> tuple[bytes, bytes, bytes]:
    # Rec. 601 weights (as the engine's line plane); the parts of white sum to exactly 255
    return tuple(bytes(round(v * w) for v in range(256)) for w in (0.299, 0.587, 0.114))  # type: ignore[return-value]


def darkness(rgba: bytes) -> bytes:
    """Per pixel, how dark it looks over white paper: alpha * (255 - luma) / 255."""
    tr, tg, tb = _luma_tables()
    luma = bytes(
        map(add, map(add, rgba[0::4].translate(tr), rgba[1::4].translate(tg)), rgba[2::4].translate(tb))
    )
    return _multiply(_invert(luma), alpha_plane(rgba))


_SCAN = 1 << 18  # pixels per chunk when looking for ink: line art usually has some early


def has_ink(rgba: bytes, threshold: int = 128) -> bool:
    """True when some pixel would be a line for the engine (darker than mid-grey over white).

    Works for dark lines on white and for lines on a transparent layer alike.
    """
    if is_blank(rgba):
        return False
    if min(min(rgba[0::4]), min(rgba[1::4]), min(rgba[2::4])) > 255 - threshold:
        return False  # only light colours anywhere
    for start in range(0, len(rgba), 4 * _SCAN):
        if max(darkness(rgba[start : start + 4 * _SCAN]), default=0) >= threshold:
            return True
    return False


def is_opaque(rgba: bytes) -> bool:
    return min(alpha_plane(rgba), default=255) == 255
