"""A dabbed area keeps its colour: the network may move it to another colour the artist dabbed
in the same region, not to a colour nobody dabbed.

The 1.0 network corrects the flats, and where the split between several dabs of a region drew
the boundary in the wrong place (a grey dab on a thin shadow band flooding a beer mug's stripe)
it rightly repaints a flat area in a neighbour's dabbed colour. But it also repaints areas the
artist dabbed with colours of its own: a brown boot turned ochre around its brown dabs, light
washes over a hammer's flat tan board, a red tank smudged pink; ``engine.snap`` keeps such
departures, since beyond ``SNAP_FAR`` they look like shading or a colour edge without a line.

A flat area is *held* when a dab of its own colour lies in it, at least ``HELD_DEPTH_PX``
working pixels from the ink (a dab squeezed against a line may be a thin shading band's colour,
not the area's), and it is not open background. After the network, ``engine.snap.snap_canvas``
compares the mean of the result over each held area with the area's colour and with the other
dab colours of its region: nearest its own, the area takes its flat colour exactly; nearest
another dabbed colour, the network's repaint stands.

``real-val`` (the 126 pictures of the default corpus build), full hints, PSNR / ΔE00 / bleed:
23.11 / 6.69 / 0.1841 -> 23.29 / 6.63 / 0.1832 (the flats: 23.08 / 6.84 / 0.1834: the boot
20.4 -> 26.8 dB); sparse 14.69 / 9.76 -> 14.70 / 9.74; 40 ``val`` (synthetic lines) full 15.21 /
8.55 -> 15.32 / 8.34, sparse 11.91 / 15.05 -> 11.93 / 15.13. The flat in every held area, no vote:
full 23.26 / 6.66 / 0.1830, sparse -0.04 dB (the mug's grey stripe back); the vote without the
depth rule: sparse 14.64 / 9.78.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.dabs import ink_within

HELD_DEPTH_PX = 3.0  # a dab this far from the ink (working pixels) speaks for its area


@dataclass(frozen=True)
class Dabs:
    """The dab pixels of the working-size hint planes, as the held-area rule reads them."""

    idx_i64: np.ndarray  # flat indices into the working grid
    code_i64: np.ndarray  # each pixel's dab colour as 0xRRGGBB
    region_i64: np.ndarray  # its gap-closed region (``engine.regions``)
    holds_bool: np.ndarray  # at least HELD_DEPTH_PX from the ink, not on open background

    @staticmethod
    def from_planes(planes_small: dict[str, np.ndarray], line_hw_f32: np.ndarray) -> Dabs | None:
        """From the working-size planes (``channels.add_regions``' ``flat_region``, the hint and
        background planes) and the line plane the regions were found on; None without a dab.
        Reads the dab pixels and their neighbourhoods only: a Live update pays nothing canvas-wide."""
        if "flat_region" not in planes_small:
            return None
        idx = np.flatnonzero(planes_small["hint_mask"] > 0.5)
        if idx.size == 0:
            return None
        code = _codes(planes_small["hint_rgb"].reshape(-1, 3)[idx])
        holds = planes_small["background"].ravel()[idx] <= 0.5
        r = int(np.ceil(HELD_DEPTH_PX))
        disc = [
            (dy, dx)
            for dy in range(-r, r + 1)
            for dx in range(-r, r + 1)
            if dy * dy + dx * dx < HELD_DEPTH_PX**2
        ]
        holds &= ~ink_within(idx, line_hw_f32, disc)  # ink nearer than the depth
        return Dabs(idx, code, planes_small["flat_region"].ravel()[idx].astype(np.int64), holds)


def _codes(rgb_f32: np.ndarray) -> np.ndarray:
    return np.round(np.clip(rgb_f32, 0.0, 1.0) * 255.0).astype(np.int64) @ np.array([65536, 256, 1], np.int64)


def _rgb(codes_i64: np.ndarray) -> np.ndarray:
    return np.stack([(codes_i64 >> 16) & 255, (codes_i64 >> 8) & 255, codes_i64 & 255], -1) / 255.0


def held_areas(
    dabs: Dabs, areas_hw_i32: np.ndarray, flat_rgb_small: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per flat area (``snap.flat_areas``' labels; n = max + 1): whether it is held and its own
    colour (0xRRGGBB, -1 where not held), and its region's other dabbed colours as rows
    (area, 0xRRGGBB)."""
    n = int(areas_hw_i32.max()) + 1
    area = areas_hw_i32.ravel()[dabs.idx_i64]
    own = dabs.holds_bool & (area > 0)
    own &= dabs.code_i64 == _codes(flat_rgb_small.reshape(-1, 3)[dabs.idx_i64])
    held = np.zeros(n, bool)
    held[area[own]] = True
    if not held.any():
        return held, np.full(n, -1, np.int64), np.zeros((0, 2), np.int64)
    own_code = np.full(n, -1, np.int64)
    own_code[area[own]] = dabs.code_i64[own]
    region_of = np.zeros(n, np.int64)
    region_of[area[own]] = dabs.region_i64[own]
    # (region, colour) of every dab, joined to the held areas of that region
    pairs = np.unique(dabs.region_i64 << 24 | dabs.code_i64)
    held_ids = np.flatnonzero(held)
    lo = np.searchsorted(pairs >> 24, region_of[held_ids], "left")
    hi = np.searchsorted(pairs >> 24, region_of[held_ids], "right")
    rows_area = np.repeat(held_ids, hi - lo)
    rows_code = pairs[np.concatenate([np.arange(a, b) for a, b in zip(lo, hi)])] & 0xFFFFFF
    other = rows_code != own_code[rows_area]
    return held, own_code, np.stack([rows_area[other], rows_code[other]], 1)


def flat_wins(held: np.ndarray, others: np.ndarray, mean_rgb: np.ndarray, own_rgb: np.ndarray) -> np.ndarray:
    """Per area: held, and the network's mean colour over it (``mean_rgb``, n×3) lies no further
    from the area's own colour than from any other colour dabbed in its region."""
    d_own = np.sqrt(((mean_rgb - own_rgb) ** 2).sum(1))
    nearest = np.full(len(held), np.inf)
    if others.size:
        a = others[:, 0]
        d = np.sqrt(((mean_rgb[a] - _rgb(others[:, 1])) ** 2).sum(1))
        np.minimum.at(nearest, a, d)
    return held & (d_own <= nearest)


def held_flats(
    dabs: Dabs, rgb_hwc_f32: np.ndarray, areas_hw_i32: np.ndarray, flat_rgb_small: np.ndarray
) -> np.ndarray | None:
    """Per flat area (``areas_hw_i32``, working size): whether it takes its flat outright in the
    result ``rgb_hwc_f32`` (the canvas size; each held area's mean is read at its cells'
    centres); None when no area does."""
    held, own_code, others = held_areas(dabs, areas_hw_i32, flat_rgb_small)
    if not held.any():
        return None
    n = len(held)
    labels = areas_hw_i32.ravel().astype(np.intp)
    cells = np.flatnonzero(held[labels])
    (h, w), (sh, sw) = rgb_hwc_f32.shape[:2], areas_hw_i32.shape
    ys = ((cells // sw + 0.5) * (h / sh)).astype(np.intp)
    xs = ((cells % sw + 0.5) * (w / sw)).astype(np.intp)
    at = rgb_hwc_f32[ys, xs]
    lab = labels[cells]
    mean = np.stack([np.bincount(lab, at[:, c], n) for c in range(3)], 1)
    mean /= np.maximum(np.bincount(lab, minlength=n), 1)[:, None]
    wins = flat_wins(held, others, mean, _rgb(np.maximum(own_code, 0)))
    return wins if wins.any() else None
