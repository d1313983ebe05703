"""Resampling helpers for planes: box downsampling and separable bilinear crops."""

from __future__ import annotations

import numpy as np
from PIL import Image


def box_resize(plane_hw_f32: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    """Area-average a float plane to ``out_hw``: thin lines turn gray instead of vanishing."""
    if plane_hw_f32.shape == out_hw:
        return plane_hw_f32.astype(np.float32, copy=False)
    img = Image.fromarray(np.ascontiguousarray(plane_hw_f32, dtype=np.float32), mode="F")
    out = img.resize((out_hw[1], out_hw[0]), Image.Resampling.BOX)
    return np.asarray(out, dtype=np.float32)


def box_resize_hwc(hwc_f32: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    return np.stack([box_resize(hwc_f32[..., c], out_hw) for c in range(hwc_f32.shape[2])], -1)


def _axis_taps(n_out_start: int, n_out_stop: int, n_out_total: int, n_in: int):
    """Indices and weights of linear interpolation along one axis (half-pixel centres)."""
    pos = (np.arange(n_out_start, n_out_stop, dtype=np.float64) + 0.5) * (n_in / n_out_total) - 0.5
    pos = np.clip(pos, 0, n_in - 1)
    i0 = np.floor(pos).astype(np.intp)
    i1 = np.minimum(i0 + 1, n_in - 1)
    w = (pos - i0).astype(np.float32)
    return i0, i1, w


def bilinear_crop(
    small_hwc_f32: np.ndarray,
    full_hw: tuple[int, int],
    box: tuple[int, int, int, int],
) -> np.ndarray:
    """Bilinearly upsample ``small`` to ``full_hw`` but only materialise the crop ``box``.

    ``box`` is (y0, y1, x0, x1) in full-resolution pixels. Memory is bounded by the crop.
    """
    y0, y1, x0, x1 = box
    iy0, iy1, wy = _axis_taps(y0, y1, full_hw[0], small_hwc_f32.shape[0])
    ix0, ix1, wx = _axis_taps(x0, x1, full_hw[1], small_hwc_f32.shape[1])
    rows = small_hwc_f32[iy0] * (1 - wy)[:, None, None] + small_hwc_f32[iy1] * wy[:, None, None]
    out = rows[:, ix0] * (1 - wx)[None, :, None] + rows[:, ix1] * wx[None, :, None]
    return out.astype(np.float32, copy=False)
