"""Krita's native pixel samples -> 8-bit planes, with the standard library only.

``Node.pixelData`` returns the layer's native bytes: 8- and 16-bit RGBA in B,G,R,A order, half and
float RGBA in R,G,B,A order, GRAYA as gray+alpha, CMYKA (16-bit: 0..65535, float: ink 0..100),
LABA (L*, a*, b*, alpha). Colour samples also go through the profile's tone curve: Krita's
default float and 16-bit profiles are linear ("…-g10.icc") while the engine wants sRGB.

Speed comes from byte slicing, ``bytes.translate`` and ``map`` over lookup tables, all running in C:
no per-sample Python code.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import repeat
from operator import lshift, or_

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


def to_srgb(v: float, transfer: str) -> float:
    """A sample in ``transfer`` encoding -> the sRGB-encoded value, clamped to 0..1."""
    if v != v or v <= 0.0:  # NaN or dark
        return 0.0
    if v >= 1.0:
        return 1.0
    return v if transfer == "srgb" else _srgb_encode(v ** _GAMMA[transfer])


def from_srgb(v: float, transfer: str) -> float:
    if transfer == "srgb":
        return v
    return _srgb_decode(v) ** (1.0 / _GAMMA[transfer])


def to_u8(v: float) -> int:
    return int(v * 255.0 + 0.5)


# ------------------------------------------------------------------------------------------------
# decoding one channel to 8 bits


@cache
def _table_u8(transfer: str) -> bytes:
    return bytes(to_u8(to_srgb(i / 255.0, transfer)) for i in range(256))


@cache
def _table_u16(transfer: str, unit: float) -> bytes:
    return bytes(to_u8(to_srgb(i / unit, transfer)) for i in range(65536))


@cache
def _table_f16(transfer: str, unit: float) -> bytes:
    """Every half-float bit pattern -> 8-bit value (NaN, negatives and overflow clamp)."""
    halves = struct.unpack("<65536e", struct.pack("<65536H", *range(65536)))
    return bytes(to_u8(to_srgb(h / unit, transfer)) for h in halves)


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
        out[w] = to_u8(to_srgb(mid / unit, transfer))
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
# whole planes


def interleave(r: bytes, g: bytes, b: bytes, a: bytes) -> bytes:
    out = bytearray(len(a) * 4)
    out[0::4], out[1::4], out[2::4], out[3::4] = r, g, b, a
    return bytes(out)


@lru_cache(maxsize=1)
def _product_table() -> bytes:
    """(a << 8 | b) -> round(a * b / 255): multiplies two 8-bit planes through ``map``."""
    return bytes((a * b + 127) // 255 for a in range(256) for b in range(256))


def multiply(x: bytes, y: bytes) -> bytes:
    return bytes(map(_product_table().__getitem__, map(or_, map(lshift, x, repeat(8)), y)))


def invert(plane: bytes) -> bytes:
    return plane.translate(bytes(range(255, -1, -1)))
