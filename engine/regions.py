"""Line art understood the way flatting tools do: regions that close gaps, and the background.

Gaps in the lines up to ``gap`` pixels are closed by multi-scale *cores* (the trapped-ball idea):
a region's core is where a ball of radius gap/2 fits between the lines, so it cannot pass through
a narrower opening; thinner areas get cores at smaller radii unless they are already part of a
larger region. A watershed on the distance to the nearest line then grows every core back to the
lines, meeting its neighbours at the narrowest point of each gap (see ``_grow``); pixels under the
lines go to a region they border. Everything here is scipy, a few distance transforms and labellings: fast
enough to run on every request (``bench/regions.py``).

A line is ink (the plane below ``INK_THRESHOLD``) or a thin faint ridge (``_ridges``): a 1 px
outline drawn anti-aliased between two pixel columns puts half its ink or less in each and would
leave its figure open to the background. 128 ``real-val`` pictures, flats: full hints PSNR 22.75 ->
23.00, ΔE00 6.84 -> 6.80, bleed 0.189 -> 0.184 (a mushroom's faint outline now closes its cap:
19.8 -> 25.3 dB), sparse ΔE00 10.44 -> 10.27; the AI result full 22.41 -> 22.65 / 6.74 -> 6.66 /
0.191 -> 0.185, sparse ΔE00 9.82 -> 9.71. 40 ``val`` (synthetic lines), flats: full ΔE00 8.27 ->
8.32, sparse 16.25 -> 16.45 (one small icon, 10.3 -> 6.0 dB, both wrong in different ways); the AI
result full ΔE00 8.84 -> 8.76, sparse 16.54 -> 16.42, none 19.65 -> 19.57.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
from scipy import ndimage

from engine.arrays import INK_THRESHOLD
from engine.wire.schema import MAX_GAP

GAP_PER_SIDE = 1 / 64  # default gap: 8 px on a 512 px canvas, 32 px on 2048
_ELEV_MAX = np.iinfo(np.uint16).max


def default_gap(shape: tuple[int, int]) -> int:
    """The gap size closed when the request says 0: scaled to the canvas's longest side."""
    return int(min(MAX_GAP, max(2, round(max(shape) * GAP_PER_SIDE))))


def working_gap(gap: int, shape: tuple[int, int], small_hw: tuple[int, int]) -> int:
    """A request's ``gap`` (canvas pixels; 0: the default) in the pixels of a working-size grid."""
    return max(1, round(gap * max(small_hw) / max(shape))) if gap else 0


@dataclass(frozen=True)
class Regions:
    """A partition of the canvas into regions 1..n (every pixel, lines included)."""

    labels_hw_i32: np.ndarray
    n: int
    ink_hw_bool: np.ndarray
    background: np.ndarray  # (n + 1,) bool: the region is background (open to the canvas border)
    gap: int
    ink_dist_hw_f32: np.ndarray  # each pixel's distance to the nearest ink pixel (inf without ink)

    @property
    def background_hw_bool(self) -> np.ndarray:
        return self.background[self.labels_hw_i32]

    @cached_property
    def pieces(self) -> Regions:
        """These regions cut into their 4-connected pieces, each keeping its region's background
        flag: gap closing joins pixels that touch only through another region, or across a line
        (``reach.through_openings``). Kept with the regions, which Live reuses while only the hints
        change."""
        from skimage.measure import label

        pieces = np.asarray(label(self.labels_hw_i32, background=0, connectivity=1), np.int32)
        n = int(pieces.max())
        of = np.zeros(n + 1, np.int64)
        of[pieces.ravel()] = self.labels_hw_i32.ravel()
        return replace(self, labels_hw_i32=pieces, n=n, background=self.background[of])

    @cached_property
    def openings(self) -> np.ndarray:
        """(N, 2) flat indices of 4-neighbour pixel pairs in different regions with no ink on
        either side, both orders: the line-free boundary between regions. Kept with the regions:
        ``reach.through_openings`` and ``reach.background_pockets`` read it on every Live update."""
        labels = self.labels_hw_i32
        h, w = labels.shape
        idx = np.arange(h * w).reshape(h, w)
        pairs = []
        for a, b in (
            ((slice(None), slice(0, w - 1)), (slice(None), slice(1, w))),
            ((slice(0, h - 1), slice(None)), (slice(1, h), slice(None))),
        ):
            ok = (labels[a] != labels[b]) & ~self.ink_hw_bool[a] & ~self.ink_hw_bool[b]
            p, q = idx[a][ok], idx[b][ok]
            pairs += [np.stack([p, q], 1), np.stack([q, p], 1)]
        return np.concatenate(pairs)


def _radii(gap: int) -> list[float]:
    """Core radii from half the gap down to 0 (every enclosed area gets a core at the end)."""
    radii, r = [], gap / 2.0
    while r >= 1.0:
        radii.append(r)
        r /= 2.0
    return [*radii, 0.0]


def _cores(dist_hw_f32: np.ndarray, gap: int) -> tuple[np.ndarray, int]:
    """Markers: components of {distance to ink > r}, largest r first; a component that touches an
    earlier core is part of that region (it reached it through an opening wider than 2r)."""
    markers = np.zeros(dist_hw_f32.shape, np.int32)
    n = 0
    for r in _radii(gap):
        comp, k = ndimage.label(dist_hw_f32 > r)
        if k == 0:
            continue
        touched = np.zeros(k + 1, bool)
        touched[comp[markers > 0]] = True
        new_ids = np.zeros(k + 1, np.int32)
        fresh = np.flatnonzero(~touched[1:]) + 1
        new_ids[fresh] = np.arange(n + 1, n + 1 + fresh.size, dtype=np.int32)
        n += fresh.size
        take = (markers == 0) & (new_ids[comp] > 0)
        markers[take] = new_ids[comp[take]]
    return markers, n


def _grow(markers_hw_i32: np.ndarray, dist_hw_f32: np.ndarray) -> np.ndarray:
    """Every pixel's region: the nearest core where that core can see it, else a watershed.

    A watershed on the distance to the lines floods from the cores towards the lines, so basins
    meet at the narrowest point of each gap and ink is crossed last. On its own it lets a flood
    that came through a gap run along the thin band beside a line (equal costs there), so pixels
    that lie in the ink-free disk around their nearest core pixel take that core's region: a
    straight path joins them without crossing a line.
    """
    scale = min(64.0, (_ELEV_MAX - 2) / max(1.0, float(dist_hw_f32.max())))
    elev = (_ELEV_MAX - 1 - np.minimum(dist_hw_f32 * scale, _ELEV_MAX - 2)).astype(np.uint16)
    elev[dist_hw_f32 == 0] = _ELEV_MAX
    flooded = ndimage.watershed_ift(elev, markers_hw_i32)
    near_d, (iy, ix) = ndimage.distance_transform_edt(markers_hw_i32 == 0, return_indices=True)
    seen = near_d <= dist_hw_f32[iy, ix]
    return np.where(seen, markers_hw_i32[iy, ix], flooded).astype(np.int32, copy=False)


def _background(labels_hw_i32: np.ndarray, n: int, ink_hw_bool: np.ndarray) -> np.ndarray:
    """Regions open to the canvas: on two or more sides of the border, with a border contact of
    at least a quarter of the largest. A figure cut by one edge (a bust at the bottom) is not."""
    sides = [
        (labels_hw_i32[0], ink_hw_bool[0]),
        (labels_hw_i32[-1], ink_hw_bool[-1]),
        (labels_hw_i32[:, 0], ink_hw_bool[:, 0]),
        (labels_hw_i32[:, -1], ink_hw_bool[:, -1]),
    ]
    contact = np.zeros(n + 1, np.int64)
    side_count = np.zeros(n + 1, np.int64)
    for lab, ink in sides:
        counts = np.bincount(lab[~ink], minlength=n + 1)
        contact += counts
        side_count += counts > 0
    bg = (side_count >= 2) & (contact * 4 >= contact.max()) & (contact > 0)
    bg[0] = False
    return bg


RIDGE_CONTRAST = 0.25  # darkness a thin line must stand above the paper on both its sides


def _ridges(line_hw_f32: np.ndarray) -> np.ndarray:
    """Thin faint lines: one or two pixels darker than the pixels on both their sides (along a
    row or a column) by ``RIDGE_CONTRAST`` in all. A 1 px line drawn anti-aliased between two
    pixel columns darkens each by a half or less and never reaches ``INK_THRESHOLD``; a grey fill
    or the soft edge of a thick line is no ridge."""
    d = np.clip(1.0 - line_hw_f32, 0.0, 1.0)
    out = np.zeros(d.shape, bool)
    for a, o in ((d, out), (d.T, out.T)):  # along rows, then along columns (views of one array)
        left, mid, right = a[:, :-2], a[:, 1:-1], a[:, 2:]
        o[:, 1:-1] |= (mid - np.maximum(left, right)) >= RIDGE_CONTRAST
        l2, p, q, r2 = a[:, :-3], a[:, 1:-2], a[:, 2:-1], a[:, 3:]
        low = np.minimum(p, q)
        pair = (low > np.maximum(l2, r2)) & ((p + q - l2 - r2) >= RIDGE_CONTRAST)
        o[:, 1:-2] |= pair
        o[:, 2:-1] |= pair
    return out


def find_regions(line_hw_f32: np.ndarray, gap: int = 0) -> Regions:
    """Regions of the line plane (1 = paper, 0 = ink) closing gaps up to ``gap`` px (0: default).

    Lines are where the plane is below ``INK_THRESHOLD``, and thin faint ridges (``_ridges``);
    pixels under them join a neighbour.
    """
    shape = line_hw_f32.shape
    gap = int(gap) if gap > 0 else default_gap(shape)
    ink = (line_hw_f32 < INK_THRESHOLD) | _ridges(line_hw_f32)
    if not ink.any():
        labels = np.ones(shape, np.int32)
        return Regions(labels, 1, ink, np.array([False, True]), gap, np.full(shape, np.inf, np.float32))
    dist = ndimage.distance_transform_edt(~ink).astype(np.float32)
    markers, n = _cores(dist, gap)
    if n == 0:  # all ink
        labels = np.ones(shape, np.int32)
        return Regions(labels, 1, ink, np.array([False, False]), gap, np.zeros(shape, np.float32))
    labels = _grow(markers, dist)
    return Regions(labels, n, ink, _background(labels, n, ink), gap, dist)
