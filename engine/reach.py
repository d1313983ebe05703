"""How far a dab's colour reaches beyond the pixels it was painted on, besides its own region.

Two rules of the flats (``engine.flats``), both about ground that no dab claims for itself:

- **Open ground shared by several colours** (``beyond_reach``): dabs of several colours on one open
  ground (a figure whose colour areas have no outline, a background painted in patches) say what
  is near them, not what fills the canvas to its far corners. Each dab reaches ``FLATS_REACH``
  times its distance to the nearest dab of another colour; one colour alone (a dab on the sky)
  still paints the whole background.
- **Regions without a dab** (``through_openings``): gap closing parts a figure wherever its lines
  nearly close, also where the artist meant one area (a neck narrowing into the head, a leg cut
  at the knee by a joint's circle). A region with no dab of its own takes the colour that reaches
  it through such an opening, as a flood fill or the lazy brush would carry it: from the painted
  region behind its widest opening, region by region down a chain. A region its lines enclose (no
  line-free boundary) stays empty, and the background is never filled this way, nor fills a
  figure: a dab on the sky does not run into a figure through a gap. The rule works on the
  regions' 4-connected pieces: gap closing may join pixels that touch only through another region
  (a flamingo's toes and its foot), and a piece the split of its region's dabs cannot flood into
  is as empty as a region without a dab. 60 `real-val` pictures, flats: full PSNR 21.41 -> 21.49,
  ΔE00 7.51 -> 7.50, bleed 0.225 -> 0.221 (better on 19 pictures, worse on 3 by at most 0.07
  ΔE00), sparse ΔE00 11.03 -> 11.02; 40 `val` the same within 0.01.

And one rule of the AI result (``background_pockets``): a small piece gap closing cut off from the
background (a letter C's counter, the tip of a wedge between converging lines) is background that
no dab claims, left empty as the background is, not a figure for the network to guess a colour
for (it painted such pockets light grey).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from engine.regions import Regions

# how far colours reach on open ground, in distances to the nearest other colour's dab. 60 real-val
# pictures, flats: full hints ΔE00 9.63 -> 7.62, PSNR 19.69 -> 20.29, bleed 0.240 -> 0.243; sparse
# ΔE00 12.90 -> 11.08. 40 val (synthetic lines): full ΔE00 8.36 (same), PSNR -0.23, bleed 0.272 ->
# 0.297; sparse ΔE00 17.40 -> 16.19. At 1 real-val gained more and val lost. The AI result leaves
# the same pixels empty, its network still sees the unbounded flats it was trained on (seeing
# bounded ones cost 0.3 dB on real-val, full hints).
FLATS_REACH = 2.0
# a pocket is smaller than this many gap-size squares (4 gaps across); a figure with an open
# outline is larger and keeps the network's guess. 128 real-val, AI, full hints: PSNR 22.65 -> 23.02
# (a letter C's grey counter, a wedge's grey tip: 44.4 -> 51.6 and 57.1 -> 90.8 dB), bleed 0.1851 ->
# 0.1844; sparse, none and 40 val within 0.01
POCKET_GAPS = 16


def beyond_reach(markers_hw_i32: np.ndarray) -> np.ndarray:
    """Where open ground shared between the dabs of ``markers_hw_i32`` (palette indices, 0: none)
    lies beyond their reach: further from its nearest dab than ``FLATS_REACH`` times that dab's
    distance to the nearest dab of another colour."""
    none = np.zeros(markers_hw_i32.shape, bool)
    dabs, n = ndimage.label(markers_hw_i32 > 0)
    if n < 2:
        return none
    ys, xs = np.nonzero(dabs)
    dab = dabs[ys, xs] - 1
    # each dab's colour is its most common one (its anti-aliased rim is no other colour's dab)
    k = int(markers_hw_i32.max()) + 1
    votes = np.bincount(dab * k + markers_hw_i32[ys, xs], minlength=n * k).reshape(n, k)
    colour = votes.argmax(1)[dab]
    if np.unique(colour).size < 2:
        return none
    from scipy.spatial import cKDTree

    extent = np.zeros(n, np.float64)
    for c in np.unique(colour):
        mine = colour == c
        d, _ = cKDTree(np.stack([ys[~mine], xs[~mine]], 1)).query(np.stack([ys[mine], xs[mine]], 1))
        np.maximum.at(extent, dab[mine], d)
    dist, (iy, ix) = ndimage.distance_transform_edt(dabs == 0, return_indices=True)
    return dist > FLATS_REACH * extent[dabs[iy, ix] - 1]


def through_openings(regions: Regions, index_hw_i32: np.ndarray) -> np.ndarray:
    """``index_hw_i32`` (palette indices, 0: unpainted) with every piece of a figure region that
    holds no painted pixel filled through its openings (module doc); a new array when anything
    changed."""
    regions = regions.pieces
    labels = regions.labels_hw_i32.ravel()
    n = regions.n
    painted = np.zeros(n + 1, bool)
    painted[np.unique(labels[index_hw_i32.ravel() > 0])] = True
    todo = ~painted & ~regions.background
    todo[0] = False
    if not todo.any() or not painted.any():
        return index_hw_i32
    pairs = regions.openings
    receiver, donor = labels[pairs[:, 0]], labels[pairs[:, 1]]
    pairs = pairs[todo[receiver] & ~regions.background[donor]]
    if not pairs.size:
        return index_hw_i32
    receiver = labels[pairs[:, 0]]
    # an opening's width: twice the distance to the lines where the regions meet (a count of the
    # pixel pairs there measures how the boundary winds, not how wide the opening is)
    width = regions.ink_dist_hw_f32.ravel()[pairs[:, 0]]
    index = index_hw_i32.ravel().copy()
    k = int(index.max()) + 1
    while True:  # one ring of regions per round: a chain (leg, knee, leg, foot) fills link by link
        colour = index[pairs[:, 1]]
        live = todo[receiver] & (colour > 0)
        if not live.any():
            break
        widest = np.zeros((n + 1) * k)
        np.maximum.at(widest, receiver[live] * k + colour[live], width[live] + 1.0)
        widest = widest.reshape(n + 1, k)
        got = np.asarray(widest.any(axis=1), bool)
        fill = np.where(got, widest.argmax(1), 0).astype(index.dtype)
        take = got[labels]
        index[take] = fill[labels[take]]
        todo &= ~got
    return index.reshape(index_hw_i32.shape)


def background_pockets(regions: Regions, painted_hw_bool: np.ndarray) -> np.ndarray:
    """Where unpainted figure pieces smaller than ``POCKET_GAPS`` gap-size squares open onto the
    background through a line-free opening: background cut off by gap closing (module doc)."""
    regions = regions.pieces
    labels = regions.labels_hw_i32
    n = regions.n
    area = np.bincount(labels.ravel(), minlength=n + 1)
    painted = np.zeros(n + 1, bool)
    painted[np.unique(labels[painted_hw_bool])] = True
    small = (area < POCKET_GAPS * regions.gap**2) & ~painted & ~regions.background
    small[0] = False
    if not small.any() or not regions.background.any():
        return np.zeros(labels.shape, bool)
    pairs = regions.openings
    flat = labels.ravel()
    receiver, donor = flat[pairs[:, 0]], flat[pairs[:, 1]]
    opens = np.zeros(n + 1, bool)
    opens[receiver[regions.background[donor]]] = True
    return (small & opens)[labels]
