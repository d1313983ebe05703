"""Model input channels: a registry of named planes and the prepared image they are cut from.

Inference and training build stage inputs the same way: ``prepare`` once per image (line plane,
hints, line-enclosed regions), then ``crop`` or ``downsample`` to planes, then ``stack`` the
channels a stage's manifest names.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from engine.arrays import INK_THRESHOLD, hints_planes, line_from_rgba
from engine.errors import InputError, unknown_name
from engine.flats import flats
from engine.reach import background_pockets
from engine.regions import find_regions
from engine.resample import box_resize, cell_of, cell_reduce, centre_indices

# Channel name -> number of planes. Order inside a stage comes from its manifest.
CHANNELS: dict[str, int] = {
    "line": 1,  # 1 = paper, 0 = ink
    "hint_rgb": 3,  # hint colour, 0 where unhinted
    "hint_mask": 1,  # hint strength (the hint layer's alpha)
    "fill_rgb": 3,  # hints spread inside their line-enclosed region (a flood fill)
    "fill_mask": 1,  # 1 where a region received a hint
    "draft_rgb": 3,  # the draft stage's output, upsampled (refinement stage only)
    "spread_rgb": 3,  # hints spread along paths that avoid ink, fading to white (draft stage only)
    "spread_mask": 1,  # the spread's confidence: 1 at a hint, fading with geodesic distance
    "near_rgb": 3,  # colour of the geodesically nearest hint, unfaded (white where none reaches)
    "flat_rgb": 3,  # the flats method: exact hint colour per gap-closed region, white where unhinted
    "flat_mask": 1,  # 1 where the flats paint
    "background": 1,  # 1 on regions open to the canvas border (engine.regions)
    "edge_dist": 1,  # distance to the nearest region boundary, in gap sizes, capped at 1
    # grayscale mode (engine.grayscale): the image's CIELAB L / 100, the hints' a, b (0.5 + ab/220)
    "gray_l": 1,
    "hint_ab": 2,
}

# computed on the draft's working-resolution planes by ``add_working``, not by crop/downsample
SPREAD_CHANNELS = ("spread_rgb", "spread_mask", "near_rgb")
REGION_CHANNELS = ("flat_rgb", "flat_mask", "background", "edge_dist")
WORKING_ONLY = SPREAD_CHANNELS + REGION_CHANNELS


def channel_count(names: tuple[str, ...] | list[str]) -> int:
    total = 0
    for name in names:
        if name not in CHANNELS:
            raise InputError(unknown_name("input channel", name, CHANNELS))
        total += CHANNELS[name]
    return total


@dataclass(frozen=True)
class Prepared:
    """One image's inputs at full resolution, kept compact (u8 hints, i32 labels)."""

    line_hw_f32: np.ndarray
    hints_rgba_u8: np.ndarray | None
    labels_hw_i32: np.ndarray  # 0 on ink, region id elsewhere
    region_rgb: np.ndarray  # (n_regions + 1, 3) f32 mean hint colour per region
    region_hinted: np.ndarray  # (n_regions + 1,) f32, 1 where the region holds a hint

    @property
    def shape(self) -> tuple[int, int]:
        return self.line_hw_f32.shape  # type: ignore[return-value]


def region_fill_table(
    labels_hw_i32: np.ndarray, n_regions: int, hints_rgba_u8: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Strength-weighted mean hint colour of every region (only the hint pixels are visited)."""
    region_rgb = np.zeros((n_regions + 1, 3), np.float32)
    hinted = np.zeros(n_regions + 1, np.float32)
    if hints_rgba_u8 is None:
        return region_rgb, hinted
    idx = np.flatnonzero(hints_rgba_u8[..., 3])
    if idx.size == 0:
        return region_rgb, hinted
    lab = labels_hw_i32.ravel()[idx]
    flat = hints_rgba_u8.reshape(-1, 4)[idx].astype(np.float64)
    w = flat[:, 3] / 255.0
    wsum = np.bincount(lab, weights=w, minlength=n_regions + 1)
    for c in range(3):
        csum = np.bincount(lab, weights=w * flat[:, c] / 255.0, minlength=n_regions + 1)
        region_rgb[:, c] = np.where(wsum > 0, csum / np.maximum(wsum, 1e-12), 0.0)
    hinted[:] = wsum > 0
    region_rgb[0] = 0.0  # ink is never filled
    hinted[0] = 0.0
    return region_rgb, hinted


def prepare(lineart_rgba_u8: np.ndarray, hints_rgba_u8: np.ndarray | None) -> Prepared:
    line_hw_f32 = line_from_rgba(lineart_rgba_u8)
    labels, n = ndimage.label(line_hw_f32 >= INK_THRESHOLD)
    labels = labels.astype(np.int32, copy=False)
    region_rgb, hinted = region_fill_table(labels, n, hints_rgba_u8)
    return Prepared(line_hw_f32, hints_rgba_u8, labels, region_rgb, hinted)


def crop(prep: Prepared, box: tuple[int, int, int, int]) -> dict[str, np.ndarray]:
    """Full-resolution planes inside ``box`` = (y0, y1, x0, x1)."""
    y0, y1, x0, x1 = box
    hints = None if prep.hints_rgba_u8 is None else prep.hints_rgba_u8[y0:y1, x0:x1]
    hint_rgb, hint_mask = hints_planes(hints, (y1 - y0, x1 - x0))
    lab = prep.labels_hw_i32[y0:y1, x0:x1]
    return {
        "line": prep.line_hw_f32[y0:y1, x0:x1],
        "hint_rgb": hint_rgb,
        "hint_mask": hint_mask,
        "fill_rgb": prep.region_rgb[lab],
        "fill_mask": prep.region_hinted[lab],
    }


def hint_cells(hints_rgba_u8: np.ndarray, out_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(hint_rgb, hint_mask) of a hint layer at a working size below its own.

    Strength = the strongest hint pixel of a cell, colour = the strength-weighted mean over the
    same cell (``resample.cell_starts``' cells): a cell is hinted exactly when its mean has hint
    pixels in it (a max filter over a differently placed window gave black hints beside every dab
    at non-integer scales). Summed over the painted pixels only: dabs cover little of a canvas.
    """
    ys, xs = np.nonzero(hints_rgba_u8[..., 3])
    (h, w), (oh, ow) = hints_rgba_u8.shape[:2], out_hw
    cell = cell_of(ys, h, oh) * ow + cell_of(xs, w, ow)
    alpha = hints_rgba_u8[ys, xs, 3].astype(np.float32) * (1.0 / 255.0)
    hint_mask = np.zeros(oh * ow, np.float32)
    np.maximum.at(hint_mask, cell, alpha)
    denom = np.maximum(np.bincount(cell, alpha, oh * ow), 1e-12)
    hint_rgb = np.zeros((oh * ow, 3), np.float32)
    painted = hint_mask > 0
    for c in range(3):
        prem = hints_rgba_u8[ys, xs, c].astype(np.float32) * (1.0 / 255.0) * alpha
        hint_rgb[painted, c] = (np.bincount(cell, prem, oh * ow) / denom)[painted]
    return np.clip(hint_rgb, 0.0, 1.0).reshape(oh, ow, 3), hint_mask.reshape(oh, ow)


def downsample(prep: Prepared, out_hw: tuple[int, int]) -> dict[str, np.ndarray]:
    """Planes at the draft's working resolution.

    Lines are box-averaged; a cell with any hint pixel is hinted at the strongest pixel's strength
    (a small dab survives the downscale) in the cell's mean hint colour; regions are sampled at
    block centres.
    """
    h, w = prep.shape
    if out_hw == (h, w):
        return crop(prep, (0, h, 0, w))
    ys = centre_indices(0, out_hw[0], out_hw[0], h)
    xs = centre_indices(0, out_hw[1], out_hw[1], w)
    lab = prep.labels_hw_i32[np.ix_(ys, xs)]
    planes = {
        "line": box_resize(prep.line_hw_f32, out_hw),
        # not a model input: the region analysis's barrier plane (see ``add_regions``)
        "line_dark": cell_reduce(np.minimum, prep.line_hw_f32, out_hw),
        "fill_rgb": prep.region_rgb[lab],
        "fill_mask": prep.region_hinted[lab],
    }
    if prep.hints_rgba_u8 is None:
        planes["hint_rgb"] = np.zeros((*out_hw, 3), np.float32)
        planes["hint_mask"] = np.zeros(out_hw, np.float32)
        return planes
    planes["hint_rgb"], planes["hint_mask"] = hint_cells(prep.hints_rgba_u8, out_hw)
    return planes


@dataclass(frozen=True)
class SpreadParams:
    """How the spread channels are computed; a model's manifest records the values it was trained with."""

    fade: float = 0.3  # colour fades to paper over this share of the longest side (geodesic)
    ink_cost: float = 2000.0  # path cost of crossing one pixel of full ink (paper costs 1)

    def __post_init__(self) -> None:
        if not self.fade > 0.0 or not self.ink_cost >= 0.0:
            raise ValueError(f"spread fade must be > 0 and ink_cost >= 0, got {self}")


DEFAULT_SPREAD = SpreadParams()


def spread(
    line_hw_f32: np.ndarray,
    hint_rgb: np.ndarray,
    hint_mask: np.ndarray,
    params: SpreadParams = DEFAULT_SPREAD,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hints spread along geodesic paths that avoid ink, fading to white with distance.

    Every pixel takes the colour of the hint pixel nearest to it by a path whose cost is 1 per
    paper pixel and ``params.ink_cost`` per ink pixel: colour stays inside the lines, leaks through
    gaps in open line art only until another hint is nearer (like a marker watershed, Krita's
    Colorize Mask idea), and fades to white far from every hint, where a guess is likely wrong.
    Returns (spread_rgb H×W×3, spread_mask H×W = the fade weight, 1 at a hint, 0 when none,
    near_rgb H×W×3 = the nearest hint's colour before the fade: with dense hints an unhinted
    closed region is usually its neighbour's colour, not white).
    """
    from scipy import sparse
    from scipy.sparse import csgraph

    shape = line_hw_f32.shape
    seeds = np.flatnonzero(hint_mask > 0)
    if seeds.size == 0:
        white = np.ones((*shape, 3), np.float32)
        return white, np.zeros(shape, np.float32), white.copy()
    h, w = shape
    ink = (1.0 - np.clip(line_hw_f32, 0.0, 1.0)).ravel()
    idx = np.arange(h * w).reshape(shape)
    a = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    b = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    cost = 1.0 + params.ink_cost * np.maximum(ink[a], ink[b])
    graph = sparse.csr_matrix((cost, (a, b)), shape=(h * w, h * w))
    dist, _, source = csgraph.dijkstra(
        graph, directed=False, indices=seeds, min_only=True, return_predecessors=True
    )
    reached = source >= 0
    fade = np.where(reached, np.exp(-dist / (params.fade * max(h, w))), 0.0).astype(np.float32)
    colour = np.where(reached[:, None], hint_rgb.reshape(-1, 3)[np.where(reached, source, 0)], 1.0)
    rgb = fade[:, None] * colour + (1.0 - fade[:, None])
    near = colour.reshape(h, w, 3).astype(np.float32, copy=False)
    return rgb.reshape(h, w, 3).astype(np.float32), fade.reshape(shape), near


def add_spread(planes: dict[str, np.ndarray], params: SpreadParams = DEFAULT_SPREAD) -> dict[str, np.ndarray]:
    """Add ``spread_rgb`` / ``spread_mask`` / ``near_rgb`` to working-resolution planes (in place)."""
    planes["spread_rgb"], planes["spread_mask"], planes["near_rgb"] = spread(
        planes["line"], planes["hint_rgb"], planes["hint_mask"], params
    )
    return planes


def region_planes(regions) -> dict[str, np.ndarray]:
    """The ``REGION_CHANNELS`` that depend on the line art alone: ``background`` and ``edge_dist``."""
    labels = regions.labels_hw_i32
    edge = np.zeros(labels.shape, bool)
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edge[1:] |= labels[1:] != labels[:-1]
    dist = ndimage.distance_transform_edt(~edge) if edge.any() else np.full(labels.shape, np.inf)
    return {
        "background": regions.background_hw_bool.astype(np.float32),
        "edge_dist": np.minimum(1.0, dist / regions.gap).astype(np.float32),
    }


def barrier_line(planes: dict[str, np.ndarray]) -> np.ndarray:
    """The line plane the working-size regions and flats read.

    A line thinner than the downscale averages to grey paper and would open every region it closes
    (a 3 px line of an A4 page at 300 dpi, drafted at 512 px): each cell's darkest pixel instead,
    where ``downsample`` gives it.
    """
    return planes.get("line_dark", planes["line"])


def add_regions(
    planes: dict[str, np.ndarray],
    gap: int = 0,
    regions=None,
    fixed: dict[str, np.ndarray] | None = None,
    memo: dict | None = None,
) -> dict[str, np.ndarray]:
    """Add the line-art analysis (``REGION_CHANNELS``) to working-resolution planes (in place).

    ``gap`` is in these planes' pixels (0: scaled to their size). What the preview keeps while
    only the hints change: ``regions`` (``engine.regions.find_regions`` of these planes' line
    plane with that gap), ``fixed`` (their ``region_planes``) and the flats' split ``memo``.
    """
    line = barrier_line(planes)
    hints_rgba_u8 = np.empty((*line.shape, 4), np.uint8)
    hints_rgba_u8[..., :3] = np.round(np.clip(planes["hint_rgb"], 0.0, 1.0) * 255.0)
    hints_rgba_u8[..., 3] = np.round(np.clip(planes["hint_mask"], 0.0, 1.0) * 255.0)
    if regions is None:
        regions = find_regions(line, gap)
    f = flats(regions, line, hints_rgba_u8, memo)
    planes["flat_rgb"] = f.rgb_u8().astype(np.float32) * (1.0 / 255.0)
    planes["flat_mask"] = f.painted_hw_bool.astype(np.float32)
    if f.beyond_hw_bool is not None:  # not an input: where the AI result's alpha is 0 (flats.ai_alpha)
        planes["flat_beyond"] = f.beyond_hw_bool.astype(np.float32)
    pockets = background_pockets(regions, f.painted_hw_bool)
    if pockets.any():  # not an input either: background cut off by gap closing (flats.ai_alpha)
        planes["flat_pocket"] = pockets.astype(np.float32)
    planes["flat_region"] = regions.labels_hw_i32  # not an input: the held-area rule (engine.held)
    planes.update(fixed if fixed is not None else region_planes(regions))
    return planes


def add_working(
    planes: dict[str, np.ndarray],
    inputs: tuple[str, ...] | list[str],
    spread_params: SpreadParams,
    gap: int = 0,
) -> dict[str, np.ndarray]:
    """Add the working-resolution channels a stage's ``inputs`` name, and only those."""
    if any(c in SPREAD_CHANNELS for c in inputs):
        add_spread(planes, spread_params)
    if any(c in REGION_CHANNELS for c in inputs):
        add_regions(planes, gap)
    return planes


def stack(names: tuple[str, ...] | list[str], planes: dict[str, np.ndarray]) -> np.ndarray:
    """Stack the named planes into one C×H×W float32 array, in the manifest's order."""
    h, w = planes["line"].shape
    out = np.empty((channel_count(names), h, w), np.float32)
    i = 0
    for name in names:
        if name not in planes:
            raise InputError(unknown_name("input channel", name, planes))
        p = planes[name]
        n = 1 if p.ndim == 2 else p.shape[2]
        out[i : i + n] = p[None] if p.ndim == 2 else np.moveaxis(p, -1, 0)
        i += n
    return out
