"""Exact flat colours where the network agrees with the flats.

The 1.0 draft corrects the flats (``engine.flats``) rather than painting from scratch, and the
refinement redraws the corrected draft at full resolution: where they leave a flat alone the
colour still drifts by a few levels (resampling, the residual head's small noise), which a hint
promises not to do. Where the network's colour lies within ``SNAP_NEAR`` of the region's flat
colour it is that colour exactly; from ``SNAP_NEAR`` to ``SNAP_FAR`` it blends into the network's
own (no visible edge where shading starts); beyond, the network decided (shading, a colour
boundary without a line, a leak it closed) and is kept.

Beside the lines the network drifts further: it learnt the dark rims and soft edges of painted
pictures and draws a fringe of its own along every line, also where the artist's fill is flat. On
paper within ``LINE_NEAR_PX`` of a line the flat colour therefore wins up to ``LINE_SNAP_NEAR``,
where the draft's working grid is the canvas itself. On a larger canvas the working flats are
sampled from cells that straddle the lines, so beside a line they may hold the colour across it:
there the rule is left off (on 30 `real-val` pictures enlarged 2x it lost 0.42 dB at full hints;
with flats computed at full resolution it gained 1.1 dB, the next step).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from engine.resample import centre_indices
from engine.underlines import PAPER_LEVEL

# RGB distance (0..255 levels, Euclidean) under which the flat colour is used, and over which the
# network's colour is kept. Was 8 / 24: at 16 / 40 hint ΔE00 fell 1.20 -> 0.94 (real-val, all 128,
# full hints) and 1.59 -> 1.35 (sparse), PSNR rose 19.08 -> 19.21 at full, ΔE00 stayed within
# ±0.03 on real-val and val (synthetic lines); at 24 / 64 sparse real-val ΔE00 got worse
SNAP_NEAR = 16.0
SNAP_FAR = 40.0
# the same within LINE_NEAR_PX of a line (chessboard). real-val 60 full hints: PSNR 18.83 -> 19.38,
# hint ΔE00 0.93 -> 0.75, ΔE00 and bleed unchanged; val 40: ΔE00 9.21 -> 9.02 (full), 17.82 ->
# 17.67 (sparse); sparse real-val PSNR -0.08 dB. Snapping this hard everywhere lost ΔE00; a
# wider band (8 px) gained full PSNR and lost sparse PSNR.
LINE_NEAR_PX = 4
LINE_SNAP_NEAR = 64.0
LINE_SNAP_FAR = 128.0
SNAP_CHANNELS = ("flat_rgb", "flat_mask")  # a draft that sees these corrects the flats


def near_lines(line_hw_f32: np.ndarray) -> np.ndarray:
    """H×W bool: within ``LINE_NEAR_PX`` (chessboard) of a pixel that is not paper, itself included."""
    not_paper = (line_hw_f32 < PAPER_LEVEL).view(np.uint8)
    return ndimage.maximum_filter(not_paper, size=2 * LINE_NEAR_PX + 1).view(bool)


def nearest_crop(small_hwc: np.ndarray, shape: tuple[int, int], box: tuple[int, int, int, int]) -> np.ndarray:
    """``small_hwc`` (a working-resolution plane, H×W or H×W×C) sampled nearest at the pixels of
    ``box`` = (y0, y1, x0, x1) of a ``shape`` canvas: cells keep their exact values."""
    h, w = small_hwc.shape[:2]
    y0, y1, x0, x1 = box
    if (h, w) == tuple(shape):  # the working grid is the canvas (a small canvas, or the preview)
        return small_hwc[y0:y1, x0:x1]
    return small_hwc[np.ix_(centre_indices(y0, y1, shape[0], h), centre_indices(x0, x1, shape[1], w))]


def _keep(dist_hw_f32: np.ndarray, near: float, far: float) -> np.ndarray:
    """0 (the flat) up to ``near`` levels, 1 (the network) from ``far``, linear between."""
    keep = dist_hw_f32 * np.float32(255.0 / (far - near))
    keep -= np.float32(near / (far - near))
    return np.clip(keep, 0.0, 1.0, out=keep)


def snap_to_flats(
    rgb_hwc_f32: np.ndarray,
    flat_rgb_hwc_f32: np.ndarray,
    flat_mask_hw_f32: np.ndarray,
    near_lines_hw_bool: np.ndarray | None = None,
) -> np.ndarray:
    """``rgb_hwc_f32`` (0..1) pulled onto the flat colour where it is painted and close to it;
    closer to the lines (``near_lines``, same crop) the flat wins from further away."""
    flat = np.asarray(flat_rgb_hwc_f32, np.float32)
    diff = np.asarray(rgb_hwc_f32, np.float32) - flat
    # in place, float32: this runs on every Live update at the canvas size
    dist = np.sqrt(np.einsum("hwc,hwc->hw", diff, diff))
    if near_lines_hw_bool is not None and near_lines_hw_bool.any():
        beside = _keep(dist[near_lines_hw_bool], LINE_SNAP_NEAR, LINE_SNAP_FAR)
        keep = _keep(dist, SNAP_NEAR, SNAP_FAR)
        keep[near_lines_hw_bool] = beside
    else:
        keep = _keep(dist, SNAP_NEAR, SNAP_FAR)
    keep[flat_mask_hw_f32 <= 0.5] = 1.0
    diff *= keep[..., None]
    diff += flat
    return diff
