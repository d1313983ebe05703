"""Classical colorizers the model is measured against, on exactly the model's inputs.

Each is ``fn(lineart_rgba_u8, hints_rgba_u8 | None) -> rgb_u8``. For a fair comparison every output is
multiplied by the line plane, as the engine's ``compose_lines`` does for the model.

- ``lineart``: the line art left as is (white paper, no colour).
- ``flood_fill``: each line-enclosed region takes the mean colour of the hints inside it (the
  engine's own region table); regions without a hint stay white.
- ``watershed``: a marker watershed over the ink darkness, seeded by the hint dots, each dot with its
  own colour — the idea behind Krita's Colorize Mask. Colour floods until it meets another
  colour's front, so it crosses gaps in open lines but stops at the inked ridges between seeds.
- ``flats``: the engine's own ``method="flats"`` (gap-closed regions in the exact hint colours,
  unhinted regions left white), the floor the AI result must beat.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import ndimage
from skimage.segmentation import watershed as sk_watershed

from engine.arrays import check_hints, check_lineart, line_from_rgba, to_rgb_u8
from engine.channels import prepare
from engine.errors import unknown_name

Method = Callable[[np.ndarray, np.ndarray | None], np.ndarray]


def _inputs(lineart_rgba_u8: np.ndarray, hints_rgba_u8: np.ndarray | None):
    lineart = check_lineart(lineart_rgba_u8)
    return lineart, check_hints(hints_rgba_u8, lineart.shape[:2])


def _compose(rgb_hwc_f32: np.ndarray, line_hw_f32: np.ndarray) -> np.ndarray:
    return to_rgb_u8(rgb_hwc_f32 * line_hw_f32[..., None])


def _spread_into_ink(rgb_hwc_f32: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """Give ink pixels the colour of the nearest paper pixel, so anti-aliased line edges (partly
    ink, partly paper) blend with the fill beside them instead of with black."""
    if not ink.any() or ink.all():
        return rgb_hwc_f32
    _, (iy, ix) = ndimage.distance_transform_edt(ink, return_indices=True)
    return rgb_hwc_f32[iy, ix]


def lineart(lineart_rgba_u8: np.ndarray, hints_rgba_u8: np.ndarray | None = None) -> np.ndarray:
    la, _ = _inputs(lineart_rgba_u8, hints_rgba_u8)
    line = line_from_rgba(la)
    return _compose(np.ones((*line.shape, 3), np.float32), line)


def flood_fill(lineart_rgba_u8: np.ndarray, hints_rgba_u8: np.ndarray | None = None) -> np.ndarray:
    la, hints = _inputs(lineart_rgba_u8, hints_rgba_u8)
    prep = prepare(la, hints)
    hinted = prep.region_hinted[prep.labels_hw_i32] > 0
    fill = np.where(hinted[..., None], prep.region_rgb[prep.labels_hw_i32], 1.0).astype(np.float32)
    fill = _spread_into_ink(fill, prep.labels_hw_i32 == 0)
    return _compose(fill, prep.line_hw_f32)


def watershed(lineart_rgba_u8: np.ndarray, hints_rgba_u8: np.ndarray | None = None) -> np.ndarray:
    la, hints = _inputs(lineart_rgba_u8, hints_rgba_u8)
    line = line_from_rgba(la)
    if hints is None or not hints[..., 3].any():
        return _compose(np.ones((*line.shape, 3), np.float32), line)
    markers, n = ndimage.label(hints[..., 3] > 0)
    # each dot's colour: its strength-weighted mean hint colour
    w = hints[..., 3].astype(np.float64) / 255.0
    wsum = ndimage.sum_labels(w, markers, np.arange(1, n + 1))
    colours = np.ones((n + 1, 3), np.float32)
    for c in range(3):
        csum = ndimage.sum_labels(w * hints[..., c] / 255.0, markers, np.arange(1, n + 1))
        colours[1:, c] = csum / np.maximum(wsum, 1e-12)
    # elevation = ink darkness, quantised so flat paper is one level (skimage floods level by level)
    elevation = np.round((1.0 - line) * 255.0).astype(np.uint8)
    regions = sk_watershed(elevation, markers)
    return _compose(colours[regions], line)


def flats(lineart_rgba_u8: np.ndarray, hints_rgba_u8: np.ndarray | None = None) -> np.ndarray:
    from engine.flats import colorize_flats
    from engine.wire.schema import ColorizeOptions

    la, hints = _inputs(lineart_rgba_u8, hints_rgba_u8)
    return colorize_flats(la, hints, ColorizeOptions(method="flats"))


BASELINES: dict[str, Method] = {
    "lineart": lineart,
    "flood_fill": flood_fill,
    "watershed": watershed,
    "flats": flats,
}


def get_baseline(name: str) -> Method:
    if name not in BASELINES:
        raise ValueError(unknown_name("baseline", name, BASELINES))
    return BASELINES[name]
