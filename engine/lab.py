"""CIELAB (D65) for the grayscale mode: lightness of a gray image, and colour from L plus a, b.

``compose`` keeps L exactly: where L with the predicted a, b falls outside sRGB, the chroma is
scaled down (per pixel, by bisection) until it fits, instead of clipping RGB (which moves L).
numpy only; matches scikit-image's ``rgb2lab`` / ``lab2rgb`` to float precision.
"""

from __future__ import annotations

import numpy as np

_M = np.array(
    [[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]],
    np.float64,
)
_M_INV = np.linalg.inv(_M)
_WHITE = np.array([0.95047, 1.0, 1.08883])
_EPS = (6.0 / 29.0) ** 3
_BISECT = 14  # chroma scale found to 2^-14


def _linear(rgb: np.ndarray) -> np.ndarray:
    return np.where(rgb <= 0.04045, rgb / 12.92, ((np.maximum(rgb, 0.0) + 0.055) / 1.055) ** 2.4)


def _gamma(lin: np.ndarray) -> np.ndarray:
    return np.where(lin <= 0.0031308, lin * 12.92, 1.055 * np.maximum(lin, 0.0) ** (1 / 2.4) - 0.055)


def _f(t: np.ndarray) -> np.ndarray:
    return np.where(t > _EPS, np.cbrt(t), t / (3 * (6.0 / 29.0) ** 2) + 4.0 / 29.0)


def _f_inv(t: np.ndarray) -> np.ndarray:
    return np.where(t > 6.0 / 29.0, t**3, 3 * (6.0 / 29.0) ** 2 * (t - 4.0 / 29.0))


def rgb_to_lab(rgb_f: np.ndarray) -> np.ndarray:
    """sRGB (…×3, 0..1) → CIELAB (L 0..100)."""
    xyz = (_linear(rgb_f.astype(np.float64)) @ _M.T) / _WHITE
    fx, fy, fz = (_f(xyz[..., i]) for i in range(3))
    return np.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], -1)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """CIELAB → sRGB 0..1, unclipped (out-of-gamut colours leave 0..1)."""
    fy = (lab[..., 0] + 16.0) / 116.0
    f = np.stack([fy + lab[..., 1] / 500.0, fy, fy - lab[..., 2] / 200.0], -1)
    return _gamma((_f_inv(f) * _WHITE) @ _M_INV.T)


def gray_lightness(gray_f: np.ndarray) -> np.ndarray:
    """CIELAB L of gray pixels whose sRGB value is ``gray_f`` (0..1)."""
    y = _linear(np.clip(gray_f.astype(np.float64), 0.0, 1.0))
    return 116.0 * _f(y) - 16.0


def _fits(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    rgb = lab_to_rgb(np.concatenate([lightness[..., None], ab], -1))
    return np.all((rgb >= 0.0) & (rgb <= 1.0), -1)


def compose(l_hw: np.ndarray, ab_hw2: np.ndarray) -> np.ndarray:
    """H×W×3 uint8 sRGB of lightness ``l_hw`` and chroma ``ab_hw2``, chroma reduced to fit sRGB."""
    l_hw = np.clip(l_hw.astype(np.float64), 0.0, 100.0)
    ab = ab_hw2.astype(np.float64).copy()
    out = ~_fits(l_hw, ab)
    if out.any():
        l_o, ab_o = l_hw[out], ab[out]
        lo, hi = np.zeros(len(l_o)), np.ones(len(l_o))  # scale 0 (gray) always fits
        for _ in range(_BISECT):
            mid = 0.5 * (lo + hi)
            ok = _fits(l_o, ab_o * mid[:, None])
            lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
        ab[out] = ab_o * lo[:, None]
    rgb = lab_to_rgb(np.concatenate([l_hw[..., None], ab], -1))
    return (np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
