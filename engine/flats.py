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
from engine.regions import INK_THRESHOLD, Regions, find_regions
from engine.wire.schema import ColorizeOptions

STRONG_ALPHA = 128  # a dab's anti-aliased rim is not a colour of its own
LINE_WEIGHT = 64.0  # landscape of a full-dark line, in pixels of distance to the lines
TIE_WEIGHT = 1e-3  # per pixel of distance to the nearest dab: decides on open paper only
DEPTH_GAPS = 2.0  # room deeper than two gap sizes is open paper: Voronoi cells there (see _split)


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
        rgb = [(int(r), int(g), int(b)) for r, g, b in self.palette_rgb_u8.tolist()]
        return [(rgb[i], self.index_hw_i32 == i) for i in order]


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


def _split(
    markers_hw_i32: np.ndarray, inside_hw_bool: np.ndarray, line_hw_f32: np.ndarray, depth: float
) -> np.ndarray:
    """Share one region between dabs of several colours, cutting where the lines nearly close.

    A region holds several colours where its lines leave openings (between a figure's open
    outline and the background, between stripes) or where colours meet without a line. A
    watershed (scikit-image's priority flood) on the negated distance to the lines fills every
    room from its dab before it crosses a narrow opening, so basins meet at the narrowest point
    of each opening, as the lazy-brush fill does; faint lines (pencil lighter than ink, colour
    edges) add walls, and the distance to the nearest dab breaks ties on open paper. Pixels of
    other regions are masked out. (scipy's ``watershed_ift`` floods such plateaus from one dab.)
    Depth is capped at ``depth`` px: deeper paper is open, where several dabs of one shaded area
    share it as Voronoi cells (uncapped, the first dab to reach the deepest spot flooded it all,
    in raster-order streaks); openings narrower than twice the cap still part rooms.
    """
    from skimage.segmentation import watershed

    darkness = np.clip(1.0 - line_hw_f32, 0.0, 1.0)
    paper = line_hw_f32 >= INK_THRESHOLD
    room = ndimage.distance_transform_edt(paper) if not paper.all() else np.zeros(paper.shape)
    room = np.minimum(room, depth)
    near = ndimage.distance_transform_edt(markers_hw_i32 == 0)
    elev = -room + darkness * LINE_WEIGHT + near * TIE_WEIGHT
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
    pair_region, pair_colour = pairs // len(palette), pairs % len(palette)
    per_region = np.bincount(pair_region, minlength=n + 1)
    single = np.zeros(n + 1, np.int32)
    alone = per_region[pair_region] == 1
    single[pair_region[alone]] = pair_colour[alone]
    index[:] = single[labels]
    multi = np.flatnonzero(per_region > 1)
    if multi.size:
        seeds = np.zeros(labels.shape, np.int32)
        seeds.ravel()[idx] = colour
        boxes = ndimage.find_objects(labels)
        for r in multi:
            box = boxes[r - 1]
            inside = labels[box] == r
            markers = np.where(inside, seeds[box], 0).astype(np.int32)
            index[box][inside] = _split(markers, inside, line_hw_f32[box], DEPTH_GAPS * regions.gap)[inside]
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
