"""CIE L*a*b* (a colour model without R, G, B channels) to 8-bit sRGB planes.

Rare for line art, so plain Python is fine here: each distinct colour is converted once (line art
has few). CMYK needs the document's profile, so Krita converts it (``kritaio.read_layer``).
"""

from __future__ import annotations

import struct

from .samples import PixelFormat, channel_u8, to_srgb, to_u8

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
        to_u8(to_srgb(sum(m * v for m, v in zip(row, xyz, strict=True)), "linear")) for row in _XYZ50_TO_RGB
    )


def lab_to_rgb(data: bytes, fmt: PixelFormat) -> tuple[bytes, bytes, bytes]:
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
