"""Flat colours from hints, the way a flatting tool lays them: each gap-closed region takes the
exact colour of the dabs inside it; a region with dabs of several colours is split between them
along its faint lines; regions without a dab stay empty (alpha 0).

No network: this is the ``flats`` method, the floor the AI result must beat, and the region
analysis the AI draft is given as input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from engine.arrays import line_from_rgba
from engine.regions import Regions, find_regions
from engine.schema import ColorizeOptions

STRONG_ALPHA = 128  # a dab's anti-aliased rim is not a colour of its own
DIST_WEIGHT = 16.0  # landscape per pixel of distance from the nearest dab ...
LINE_WEIGHT = 40000.0  # ... and for a line of full darkness (a 0.3 pencil line = 750 px of paper)


@dataclass(frozen=True)
class Flats:
    """Per pixel: a palette index (0 = unpainted) and the palette of exact hint colours."""

    index_hw_i32: np.ndarray
    palette_rgb_u8: np.ndarray  # (k + 1, 3); row 0 is unused (white)

    @property
    def painted_hw_bool(self) -> np.ndarray:
        return self.index_hw_i32 > 0

    def rgb_u8(self) -> np.ndarray:
        return self.palette_rgb_u8[self.index_hw_i32]

    def layers(self) -> list[tuple[tuple[int, int, int], np.ndarray]]:
        """One (colour, mask_hw_bool) per palette colour that paints any pixel, largest first."""
        counts = np.bincount(self.index_hw_i32.ravel(), minlength=len(self.palette_rgb_u8))
        order = [int(i) for i in np.argsort(-counts[1:], kind="stable") + 1 if counts[i] > 0]
        return [(tuple(int(v) for v in self.palette_rgb_u8[i]), self.index_hw_i32 == i) for i in order]


def _hint_colours(hints_rgba_u8: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def _split(markers_hw_i32: np.ndarray, inside_hw_bool: np.ndarray, darkness_hw_f32: np.ndarray) -> np.ndarray:
    """Share one region between dabs of several colours: each pixel goes to the nearest dab,
    unless a faint line (a pencil stroke lighter than ink, a colour edge) is in the way.

    A watershed (scikit-image's priority flood) whose landscape is the distance to the nearest dab
    plus a wall for every faint line: basins meet half way between dabs on open paper, and along
    the faint lines where there are some. (scipy's ``watershed_ift`` floods such plateaus from one
    dab only.) Other regions' pixels are masked out, so no dab reaches through them.
    """
    from skimage.segmentation import watershed

    near = ndimage.distance_transform_edt(markers_hw_i32 == 0)
    elev = near * DIST_WEIGHT + darkness_hw_f32 * LINE_WEIGHT
    return watershed(elev, markers_hw_i32, mask=inside_hw_bool)


def flats(regions: Regions, line_hw_f32: np.ndarray, hints_rgba_u8: np.ndarray | None) -> Flats:
    """Lay the hints' exact colours into the regions they were painted in."""
    labels = regions.labels_hw_i32
    index = np.zeros(labels.shape, np.int32)
    if hints_rgba_u8 is None:
        return Flats(index, np.full((1, 3), 255, np.uint8))
    idx, colour, palette = _hint_colours(hints_rgba_u8)
    if idx.size == 0:
        return Flats(index, palette)
    region = labels.ravel()[idx]
    n = regions.n
    # the colours each region holds: one -> a flat fill; several -> split along faint lines
    pairs = np.unique(region.astype(np.int64) * len(palette) + colour)
    per_region = np.bincount(pairs // len(palette), minlength=n + 1)
    single = np.zeros(n + 1, np.int32)
    one = per_region == 1
    first = {int(p // len(palette)): int(p % len(palette)) for p in pairs}
    for r in np.flatnonzero(one):
        single[r] = first[int(r)]
    index[:] = single[labels]
    multi = np.flatnonzero(per_region > 1)
    if multi.size:
        darkness = np.clip(1.0 - line_hw_f32, 0.0, 1.0)
        seeds = np.zeros(labels.shape, np.int32)
        seeds.ravel()[idx] = colour
        boxes = ndimage.find_objects(labels)
        for r in multi:
            box = boxes[r - 1]
            inside = labels[box] == r
            markers = np.where(inside, seeds[box], 0).astype(np.int32)
            index[box][inside] = _split(markers, inside, darkness[box])[inside]
    return Flats(index, palette)


def flats_rgba_u8(f: Flats, line_hw_f32: np.ndarray, transparent: bool, compose_lines: bool) -> np.ndarray:
    """The flats as an H×W×4 image: exact colours, alpha 0 (or paper white) where unpainted;
    with ``compose_lines`` the lines are multiplied on and stay opaque over empty areas."""
    rgb = f.rgb_u8()
    alpha = np.where(f.painted_hw_bool, 255, 0 if transparent else 255).astype(np.uint8)
    if compose_lines:
        line = np.clip(line_hw_f32, 0.0, 1.0)
        rgb = (rgb.astype(np.float32) * line[..., None] + 0.5).astype(np.uint8)
        ink_alpha = ((1.0 - line) * 255.0 + 0.5).astype(np.uint8)
        alpha = np.maximum(alpha, ink_alpha)
        if transparent:  # over empty areas only the lines are left: black, alpha = darkness
            rgb[~f.painted_hw_bool] = 0
    return np.concatenate([rgb, alpha[..., None]], -1)


def flats_layers(
    lineart_rgba_u8: np.ndarray, hints_rgba_u8: np.ndarray | None, gap: int = 0
) -> list[tuple[tuple[int, int, int], np.ndarray]]:
    """One (colour, mask_hw_bool) per hint colour, largest area first: G'MIC-style flats layers."""
    line = line_from_rgba(lineart_rgba_u8)
    return flats(find_regions(line, gap), line, hints_rgba_u8).layers()


def colorize_flats(
    lineart_rgba_u8: np.ndarray, hints_rgba_u8: np.ndarray | None, opts: ColorizeOptions
) -> np.ndarray:
    """The ``flats`` method: H×W×3 RGB (paper white where unpainted) or H×W×4 RGBA (alpha 0)."""
    line = line_from_rgba(lineart_rgba_u8)
    f = flats(find_regions(line, opts.gap), line, hints_rgba_u8)
    rgba = flats_rgba_u8(f, line, opts.transparent, opts.compose_lines)
    return rgba if opts.transparent else np.ascontiguousarray(rgba[..., :3])
