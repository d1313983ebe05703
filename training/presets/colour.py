"""Colour spaces of the paper presets (numpy): CIELAB and CIELUV scaled for networks, and bins.

Networks see and predict planes in 0..1: L/100, ab as 0.5 + ab/220, u and v mapped from their
sRGB gamut ranges. ``UV_BINS`` bins per channel quantise u and v for the classification preset.
"""

from __future__ import annotations

import numpy as np
from skimage.color.colorconv import lab2rgb, luv2rgb, rgb2lab, rgb2luv

AB_SCALE = 110.0  # |a|, |b| of sRGB colours stay under ~110
U_RANGE = (-90.0, 180.0)  # sRGB gamut in CIELUV (D65), with a margin
V_RANGE = (-140.0, 110.0)
UV_BINS = 50


def rgb_u8_to_lab(rgb_u8: np.ndarray) -> np.ndarray:
    return rgb2lab(rgb_u8).astype(np.float32)


def rgb_u8_to_luv(rgb_u8: np.ndarray) -> np.ndarray:
    return rgb2luv(rgb_u8).astype(np.float32)


def to_u8(rgb_f: np.ndarray) -> np.ndarray:
    return (np.clip(rgb_f, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def ab_to_unit(ab: np.ndarray) -> np.ndarray:
    return 0.5 + ab / (2.0 * AB_SCALE)


def unit_to_ab(x: np.ndarray) -> np.ndarray:
    return (x - 0.5) * (2.0 * AB_SCALE)


def lab_planes_to_rgb_u8(l_hw: np.ndarray, ab_hw2: np.ndarray) -> np.ndarray:
    """L (0..100) and a, b → sRGB u8 (out-of-gamut colours clipped)."""
    return to_u8(lab2rgb(np.concatenate([l_hw[..., None], ab_hw2], -1).astype(np.float64)))


def uv_to_unit(uv: np.ndarray) -> np.ndarray:
    u = (uv[..., 0] - U_RANGE[0]) / (U_RANGE[1] - U_RANGE[0])
    v = (uv[..., 1] - V_RANGE[0]) / (V_RANGE[1] - V_RANGE[0])
    return np.stack([u, v], -1)


def unit_to_uv(x: np.ndarray) -> np.ndarray:
    u = U_RANGE[0] + x[..., 0] * (U_RANGE[1] - U_RANGE[0])
    v = V_RANGE[0] + x[..., 1] * (V_RANGE[1] - V_RANGE[0])
    return np.stack([u, v], -1)


def uv_bins(uv: np.ndarray) -> np.ndarray:
    """Bin index (0..UV_BINS-1) of u and v, H×W×2 int64."""
    return np.clip((uv_to_unit(uv) * UV_BINS).astype(np.int64), 0, UV_BINS - 1)


def bin_centres() -> np.ndarray:
    """Unit-scaled centre of every bin, shape (UV_BINS,)."""
    return (np.arange(UV_BINS, dtype=np.float32) + 0.5) / UV_BINS


def luv_planes_to_rgb_u8(l_hw: np.ndarray, uv_hw2: np.ndarray) -> np.ndarray:
    return to_u8(luv2rgb(np.concatenate([l_hw[..., None], uv_hw2], -1).astype(np.float64)))


def luma(rgb_u8: np.ndarray) -> np.ndarray:
    """Rec. 601 luma in 0..1 (the "grayscale" of the papers)."""
    x = rgb_u8.astype(np.float32) / 255.0
    return x[..., 0] * 0.299 + x[..., 1] * 0.587 + x[..., 2] * 0.114
