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
paper within ``LINE_NEAR_PX`` of a line the flat colour therefore wins up to ``LINE_SNAP_NEAR``.
Which flat is a pixel's there must be read on its own side of the line: where the working grid is
coarser than the canvas, the cell under a pixel beside a line may straddle the line and hold the
colour across it (on 30 `real-val` pictures enlarged 2x, full hints, that lost 0.42 dB), so each
such pixel reads the cell under the nearest paper pixel a cell's width from any line, reached
without crossing ink (+1.1 dB, as with flats computed at full resolution, at a fraction of their
cost); where no such pixel is near, the pixel keeps the ordinary snap.

In a flat area the network mostly left alone (``snap_canvas``: at least ``FIRM_AGREE`` of its pixels
within ``SNAP_NEAR``) the rest of its departures are drift too (a soft stripe, a lighter patch on a
flat fill) and the flat wins up to ``FIRM_NEAR``, and outright over a speck (``FIRM_SPECK_PX``);
an area the network repainted keeps its colour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from engine.arrays import INK_THRESHOLD
from engine.held import Dabs, held_flats
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
# a flat area whose result keeps at least FIRM_AGREE of its pixels within SNAP_NEAR is one the network
# left alone: its remaining departures (a soft stripe, a lighter patch) are drift, and the flat wins
# up to FIRM_NEAR there. Measured on the refined result (the draft drifts more: judged on it, half
# the gain). real-val 60, full hints: PSNR 20.25 -> 20.61, hint ΔE00 0.74 -> 0.73, ΔE00 and bleed
# the same (0.3, or 64 / 128, or 96 / 192: within 0.02 dB); sparse unchanged; val 40 (on the draft)
# full PSNR 14.38 -> 14.41, ΔE00 8.98 -> 8.94
FIRM_AGREE = 0.5
FIRM_NEAR = 48.0
FIRM_FAR = 96.0
# in such an area a departure of at most FIRM_SPECK_PX working pixels (scaled to the canvas) is a
# speck of drift however far it goes (a lighter corner where two bands of a frame meet, a tinted
# fringe along a stretch of line): the flat wins outright. real-val 60, full hints: PSNR 20.61 ->
# 21.03, all of it from two simple pictures brought near their flats (a knotwork frame 58.9 -> 67.8
# dB, an ice lolly 73.5 -> 89.6), no other picture more than 0.03 dB either way; 64 or 128 px only
# caught the frame; sparse real-val and val 40 unchanged
FIRM_SPECK_PX = 256
SNAP_BAND_PX = 1 << 20  # canvas pixels snapped at a time, in bands of whole rows (bounds memory)
SNAP_CHANNELS = ("flat_rgb", "flat_mask")  # a draft that sees these corrects the flats


@dataclass(frozen=True)
class BesideLines:
    """Paper pixels within ``LINE_NEAR_PX`` of a line (canvas coordinates) and, for each, the
    working cell whose flat is its own. Depends on the line art and the working grid only."""

    y_i64: np.ndarray
    x_i64: np.ndarray
    cell_y_i64: np.ndarray
    cell_x_i64: np.ndarray

    def crop(
        self, box: tuple[int, int, int, int], flat_rgb_small: np.ndarray, flat_mask_small: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(y, x) within ``box`` = (y0, y1, x0, x1) of the pixels whose flat is painted, and that
        flat (N×3 f32)."""
        y0, y1, x0, x1 = box
        cy, cx = self.cell_y_i64, self.cell_x_i64
        keep = (self.y_i64 >= y0) & (self.y_i64 < y1) & (self.x_i64 >= x0) & (self.x_i64 < x1)
        keep &= flat_mask_small[cy, cx] > 0.5
        flat = np.asarray(flat_rgb_small[cy[keep], cx[keep]], np.float32)
        return self.y_i64[keep] - y0, self.x_i64[keep] - x0, flat


def beside_lines(line_hw_f32: np.ndarray, small_hw: tuple[int, int]) -> BesideLines:
    """The pixels beside the lines of ``line_hw_f32`` and their cells on the ``small_hw`` grid."""
    h, w = line_hw_f32.shape
    paper = line_hw_f32 >= PAPER_LEVEL
    if paper.all():  # no line (the transform would return -1 everywhere)
        none = np.zeros(0, np.int64)
        return BesideLines(none, none, none, none)
    dist = ndimage.distance_transform_cdt(paper, metric="chessboard")  # 0 off paper
    y, x = np.nonzero(paper & (dist <= LINE_NEAR_PX))
    sy, sx = y, x
    if tuple(small_hw) != (h, w):  # read each pixel's flat a cell's width from the line
        deep = dist > int(np.ceil(max(h / small_hw[0], w / small_hw[1]))) + 1
        if not deep.any():
            y = x = sy = sx = np.zeros(0, np.intp)
        else:
            iy, ix = ndimage.distance_transform_cdt(
                ~deep, metric="chessboard", return_distances=False, return_indices=True
            )
            sy, sx = iy[y, x], ix[y, x]
            clear = np.ones(y.size, bool)
            for t in (0.25, 0.5, 0.75):  # the way there crosses no ink
                clear &= (
                    line_hw_f32[
                        np.rint(y + t * (sy - y)).astype(np.intp), np.rint(x + t * (sx - x)).astype(np.intp)
                    ]
                    >= INK_THRESHOLD
                )
            y, x, sy, sx = y[clear], x[clear], sy[clear], sx[clear]
    cell_y = centre_indices(0, h, h, small_hw[0])[sy]
    cell_x = centre_indices(0, w, w, small_hw[1])[sx]
    return BesideLines(
        y.astype(np.int64), x.astype(np.int64), cell_y.astype(np.int64), cell_x.astype(np.int64)
    )


def nearest_crop(small_hwc: np.ndarray, shape: tuple[int, int], box: tuple[int, int, int, int]) -> np.ndarray:
    """``small_hwc`` (a working-resolution plane, H×W or H×W×C) sampled nearest at the pixels of
    ``box`` = (y0, y1, x0, x1) of a ``shape`` canvas: cells keep their exact values."""
    h, w = small_hwc.shape[:2]
    y0, y1, x0, x1 = box
    if (h, w) == tuple(shape):  # the working grid is the canvas (a small canvas, or the preview)
        return small_hwc[y0:y1, x0:x1]
    return small_hwc[np.ix_(centre_indices(y0, y1, shape[0], h), centre_indices(x0, x1, shape[1], w))]


def flat_areas(flat_rgb_hwc_f32: np.ndarray, flat_mask_hw_f32: np.ndarray) -> np.ndarray:
    """Labels (H×W int32, 0 where unpainted) of the flat areas: connected pixels of one flat colour."""
    from skimage.measure import label

    painted = flat_mask_hw_f32 > 0.5
    if not painted.any():
        return np.zeros(painted.shape, np.int32)
    rgb = np.round(np.asarray(flat_rgb_hwc_f32) * 255.0).astype(np.int32)
    code = rgb @ np.array([65536, 256, 1], np.int32)
    code[~painted] = -1
    return np.asarray(label(code, background=-1, connectivity=1), np.int32)


def _bands(shape: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    h, w = shape
    rows = max(1, SNAP_BAND_PX // max(1, w))
    return [(y0, min(h, y0 + rows), 0, w) for y0 in range(0, h, rows)]


def snap_canvas(
    rgb_hwc_f32: np.ndarray,
    flat_rgb_small: np.ndarray,
    flat_mask_small: np.ndarray,
    beside: BesideLines | None = None,
    dabs: Dabs | None = None,
) -> np.ndarray:
    """A whole result (``rgb_hwc_f32``, the canvas size, changed in place) snapped onto the
    working-size flats: first each flat area's agreement (``FIRM_AGREE``) and, with ``dabs``,
    which held areas take their flat outright (``engine.held``), then ``snap_to_flats`` band by
    band (``SNAP_BAND_PX``), so memory stays bounded whatever the canvas size."""
    shape = rgb_hwc_f32.shape[:2]
    areas_small = flat_areas(flat_rgb_small, flat_mask_small)
    n = int(areas_small.max()) + 1
    bands = _bands(shape)

    def crops(box: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
        """The flat colour and the area labels over ``box``, at the canvas's pixels."""
        return nearest_crop(flat_rgb_small, shape, box), nearest_crop(areas_small, shape, box)

    one = crops(bands[0]) if len(bands) == 1 else None  # one band: both passes share its crops
    small_hw = flat_mask_small.shape[:2]
    speck_px = FIRM_SPECK_PX * max(1.0, shape[0] * shape[1] / (small_hw[0] * small_hw[1]))

    total, kept = np.zeros(n), np.zeros(n)
    measured = None  # one band: the second pass reuses the first's difference and distance
    for box in bands:
        y0, y1, x0, x1 = box
        flat, areas = one or crops(box)
        diff, dist = _departure(rgb_hwc_f32[y0:y1, x0:x1], flat)
        agree = dist <= np.float32(SNAP_NEAR / 255.0)
        total += np.bincount(areas.ravel(), minlength=n)
        kept += np.bincount(areas.ravel(), weights=agree.ravel(), minlength=n)
        measured = (diff, dist) if one is not None else None
    firm = kept >= FIRM_AGREE * total
    firm[0] = False
    # which held areas take their flat outright: read before the second pass changes the result
    wins = held_flats(dabs, rgb_hwc_f32, areas_small, flat_rgb_small) if dabs is not None else None
    for box in bands:
        y0, y1, x0, x1 = box
        flat, areas = one or crops(box)
        rgb_hwc_f32[y0:y1, x0:x1] = snap_to_flats(
            rgb_hwc_f32[y0:y1, x0:x1],
            flat,
            areas > 0,
            beside.crop(box, flat_rgb_small, flat_mask_small) if beside is not None else None,
            firm[areas],
            speck_px,
            (y0 > 0, y1 < shape[0]),
            measured,
            wins[areas] if wins is not None else None,
        )
    return rgb_hwc_f32


def _departure(rgb_hwc_f32: np.ndarray, flat_rgb_hwc_f32: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(difference from the flat, H×W×3, and its length, H×W), float32: this runs on every Live
    update at the canvas size."""
    diff = np.asarray(rgb_hwc_f32, np.float32) - np.asarray(flat_rgb_hwc_f32, np.float32)
    return diff, np.sqrt(np.einsum("hwc,hwc->hw", diff, diff))


def _keep(dist_hw_f32: np.ndarray, near: float, far: float) -> np.ndarray:
    """0 (the flat) up to ``near`` levels, 1 (the network) from ``far``, linear between."""
    keep = dist_hw_f32 * np.float32(255.0 / (far - near))
    keep -= np.float32(near / (far - near))
    return np.clip(keep, 0.0, 1.0, out=keep)


def _specks(off_hw_bool: np.ndarray, speck_px: float, cut: tuple[bool, bool]) -> np.ndarray:
    """The 4-connected parts of ``off_hw_bool`` of at most ``speck_px`` pixels, but for those
    touching a row that ``cut`` says the box was cut at."""
    labels, n = ndimage.label(off_hw_bool)
    if n == 0:
        return off_hw_bool
    small = np.bincount(labels.ravel(), minlength=n + 1) <= speck_px
    small[0] = False
    for row, is_cut in zip((labels[0], labels[-1]), cut):
        if is_cut:
            small[row] = False
    return small[labels]


def snap_to_flats(
    rgb_hwc_f32: np.ndarray,
    flat_rgb_hwc_f32: np.ndarray,
    flat_mask_hw_f32: np.ndarray,
    beside: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    firm_hw_bool: np.ndarray | None = None,
    speck_px: float = 0.0,
    cut: tuple[bool, bool] = (False, False),
    measured: tuple[np.ndarray, np.ndarray] | None = None,
    held_hw_bool: np.ndarray | None = None,
) -> np.ndarray:
    """``rgb_hwc_f32`` (0..1) pulled onto the flat colour where it is painted and close to it;
    ``beside`` (``BesideLines.crop`` of the same box) pulls the pixels beside the lines onto their
    own flat from further away, as ``firm_hw_bool`` (``snap_canvas``) does the areas the
    network left alone, where departures of at most ``speck_px`` pixels take the flat outright
    (``cut``: whether the box's first and last rows cut the canvas, so what touches them may be
    part of a larger departure and is kept). ``measured``: ``_departure`` of these arrays, when the
    caller has it (its difference is changed in place). ``held_hw_bool``: where the flat wins
    outright (``engine.held``)."""
    flat = np.asarray(flat_rgb_hwc_f32, np.float32)
    diff, dist = measured if measured is not None else _departure(rgb_hwc_f32, flat)
    keep = _keep(dist, SNAP_NEAR, SNAP_FAR)
    specks = None
    if firm_hw_bool is not None and firm_hw_bool.any():
        keep[firm_hw_bool] = _keep(dist[firm_hw_bool], FIRM_NEAR, FIRM_FAR)
        if speck_px > 0:
            specks = _specks(firm_hw_bool & (keep > 0), speck_px, cut)
            keep[specks] = 0.0
    if held_hw_bool is not None:
        keep[held_hw_bool] = 0.0
        specks = held_hw_bool if specks is None else specks | held_hw_bool
    keep[flat_mask_hw_f32 <= 0.5] = 1.0
    diff *= keep[..., None]
    diff += flat
    if beside is not None and beside[0].size:
        y, x, own = beside
        d = np.asarray(rgb_hwc_f32, np.float32)[y, x] - own
        k = _keep(np.sqrt(np.einsum("nc,nc->n", d, d)), LINE_SNAP_NEAR, LINE_SNAP_FAR)
        if specks is not None:
            k[specks[y, x]] = 0.0
        diff[y, x] = own + d * k[:, None]
    return diff
