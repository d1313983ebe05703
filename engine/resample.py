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


def centre_indices(start: int, stop: int, n_out: int, n_in: int) -> np.ndarray:
    """For output positions ``start..stop-1`` of an ``n_out`` axis, the ``n_in``-axis sample under
    each one's centre (nearest sampling: a working-size cell keeps its exact value)."""
    return np.minimum(((np.arange(start, stop) + 0.5) * n_in / n_out).astype(np.intp), n_in - 1)


def cell_starts(n_in: int, n_out: int) -> np.ndarray:
    """First input index of each output cell; a cell holds the inputs whose centres fall in it.

    Input ``i`` belongs to cell ``floor((i + 0.5) * n_out / n_in)`` (integer arithmetic, so ties
    are exact): the same cells as PIL's BOX filter, and every cell is non-empty for n_out <= n_in.
    """
    if not 1 <= n_out <= n_in:
        raise ValueError(f"cells need 1 <= n_out <= n_in, got {n_out} cells for {n_in} inputs")
    return np.searchsorted(cell_of(np.arange(n_in), n_in, n_out), np.arange(n_out)).astype(np.intp)


def cell_of(index: np.ndarray, n_in: int, n_out: int) -> np.ndarray:
    """The output cell of each input index (``cell_starts``' cells)."""
    return (2 * index.astype(np.int64) + 1) * n_out // (2 * n_in)


def cell_reduce(ufunc: np.ufunc, plane_hw: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    """``ufunc`` (np.add, np.maximum) over each output cell of a plane: one value per cell.

    Sum and max over the *same* cells keep a hint's strength and its colour consistent: a cell
    is hinted exactly when its colour average has hint pixels in it.
    """
    h, w = plane_hw.shape
    rows = ufunc.reduceat(plane_hw, cell_starts(h, out_hw[0]), axis=0)
    return ufunc.reduceat(rows, cell_starts(w, out_hw[1]), axis=1)


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
