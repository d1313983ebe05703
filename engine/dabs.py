"""What the hint layer says: its dabs' pixels and exact colours, and which dabs say little.

A dab is a connected patch of hint pixels. Its anti-aliased rim (alpha under ``STRONG_ALPHA``) is
no colour of its own. A dab painted wholly on the lines' anti-aliased rim (``on_rim``) picks up
the blend of line and fill, not an area's colour: the flats let it count only where no dab on
paper reaches (``engine.flats.flats``). 128 ``real-val`` pictures, one dab per colour area (307
of 6,642 dabs lie so, in 48 pictures): flats full PSNR 21.41 -> 22.75 (two warning signs whose
white band took a grey fringe dab's colour are now exact), ΔE00 7.14 -> 6.84, bleed 0.193 ->
0.189, sparse ΔE00 10.76 -> 10.44; 40 ``val`` (synthetic lines, no such dabs) unchanged.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from engine.regions import INK_THRESHOLD
from engine.underlines import PAPER_LEVEL

STRONG_ALPHA = 128  # a dab's anti-aliased rim is not a colour of its own


def hint_colours(hints_rgba_u8: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(flat indices of the dab pixels, their palette index, palette with a row 0)."""
    alpha = hints_rgba_u8[..., 3].ravel()
    strong = alpha >= STRONG_ALPHA
    idx = np.flatnonzero(strong if strong.any() else alpha > 0)
    if idx.size == 0:
        return idx, idx.astype(np.int32), np.full((1, 3), 255, np.uint8)
    rgb = hints_rgba_u8.reshape(-1, 4)[idx, :3]
    key = rgb.astype(np.int32) @ np.array([65536, 256, 1], np.int32)
    uniq, inverse = np.unique(key, return_inverse=True)
    palette = np.stack([(uniq >> 16) & 255, (uniq >> 8) & 255, uniq & 255], 1).astype(np.uint8)
    palette = np.concatenate([np.full((1, 3), 255, np.uint8), palette])
    return idx, inverse.astype(np.int32).ravel() + 1, palette


def ink_within(idx: np.ndarray, line_hw_f32: np.ndarray, offsets: list[tuple[int, int]]) -> np.ndarray:
    """Per flat index ``idx``: whether ink lies at any of ``offsets`` (dy, dx) from it. Offsets
    past the canvas edge are clipped onto it: for a square or a disc of offsets the clipped pixel
    is one another offset reaches anyway."""
    h, w = line_hw_f32.shape
    ys, xs = np.divmod(idx, w)
    near = np.zeros(idx.shape, bool)
    for dy, dx in offsets:
        near |= line_hw_f32[np.clip(ys + dy, 0, h - 1), np.clip(xs + dx, 0, w - 1)] < INK_THRESHOLD
    return near


def on_rim(idx: np.ndarray, line_hw_f32: np.ndarray) -> np.ndarray:
    """Per dab pixel (``hint_colours``' flat indices): whether its dab lies wholly on the lines'
    anti-aliased rim (darker than paper, within a pixel of ink). Such a dab picks up the blend of
    line and fill (the grey row under a sign's black border), not the area's colour. Reads only the
    dabs' pixels and their neighbours: dabs on paper, the usual case, cost a Live update nothing."""
    none = np.zeros(idx.shape, bool)
    if idx.size == 0:
        return none
    h, w = line_hw_f32.shape
    rim = line_hw_f32.ravel()[idx] < PAPER_LEVEL
    if not rim.any():
        return none
    rim &= ink_within(idx, line_hw_f32, [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
    if not rim.any():
        return none
    at = np.zeros((h, w), bool)
    at.ravel()[idx] = True
    dabs, n = ndimage.label(at, np.ones((3, 3), bool))
    dab = dabs.ravel()[idx]
    paper_px = np.bincount(dab, weights=~rim, minlength=n + 1)
    return paper_px[dab] == 0
