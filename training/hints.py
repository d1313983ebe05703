"""Colour hints, simulated: as an artist paints them for training, and per colour area for evaluation.

Training (``synth_hints``): dots and short strokes of the true local colour, from none to dense, or the
two-stage paper's variant (a heavily blurred copy of the image with random patches whitened out).
Evaluation (``eval_hints``): one small dot in every colour area of the true image ("full") or in
~40 % of them ("sparse"), or none; areas are connected pixels of one (lightly quantised) colour,
lines excluded, whether or not the line art closes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage.measure import label as label_equal

from engine.arrays import line_from_rgba
from engine.channels import INK_THRESHOLD

DENSITIES: dict[str, float] = {"none": 0.0, "sparse": 0.4, "full": 1.0}
NEAR_BLACK = 64  # max RGB and chroma below this: an outline of the true image, not a colour area


@dataclass(frozen=True)
class HintConfig:
    """Probabilities and ranges of training hints (sizes in pixels at 512 px)."""

    p_none: float = 0.1  # no hints at all: the model must still colour plausibly
    max_marks: int = 160  # densest case, per 512×512
    p_stroke: float = 0.35  # a mark is a short stroke rather than a dot
    radius: tuple[int, int] = (1, 6)
    stroke_length: tuple[int, int] = (6, 48)
    tolerance: int = 24  # a mark stays on pixels this close to its colour (artists paint inside)
    p_soft: float = 0.1  # a mark with alpha below 255 (a soft brush)
    p_blur: float = 0.15  # the paper's variant instead of marks
    blur_sigma: tuple[float, float] = (0.02, 0.08)  # of the longest side
    whiten: tuple[float, float] = (0.3, 0.8)  # share of the blurred hint whitened out


def _disk(r: int) -> np.ndarray:
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    return yy * yy + xx * xx <= r * r + r  # +r: rounder small disks


def _mark(
    rgb_u8: np.ndarray, out: np.ndarray, rng: np.random.Generator, cfg: HintConfig, scale: float
) -> None:
    """Paint one dot or stroke of the median true colour under it into ``out`` (in place)."""
    h, w = rgb_u8.shape[:2]
    r = max(1, round(rng.integers(cfg.radius[0], cfg.radius[1] + 1) * scale))
    y0, x0 = int(rng.integers(h)), int(rng.integers(w))
    if rng.random() < cfg.p_stroke:
        length = rng.uniform(*cfg.stroke_length) * scale
        angle = rng.uniform(0, 2 * np.pi)
        y1, x1 = y0 + length * np.sin(angle), x0 + length * np.cos(angle)
    else:
        y1, x1 = float(y0), float(x0)
    ya, yb = max(0, int(min(y0, y1)) - r), min(h, int(max(y0, y1)) + r + 1)
    xa, xb = max(0, int(min(x0, x1)) - r), min(w, int(max(x0, x1)) + r + 1)
    if ya >= yb or xa >= xb:
        return
    yy, xx = np.mgrid[ya:yb, xa:xb]
    # distance of each window pixel to the segment (a dot is a zero-length segment)
    dy, dx = y1 - y0, x1 - x0
    t = np.clip(((yy - y0) * dy + (xx - x0) * dx) / max(dy * dy + dx * dx, 1e-9), 0.0, 1.0)
    brush = (yy - y0 - t * dy) ** 2 + (xx - x0 - t * dx) ** 2 <= r * r + r
    win = rgb_u8[ya:yb, xa:xb]
    colour = np.median(win[brush], axis=0)
    brush &= np.abs(win.astype(np.float32) - colour).max(axis=2) <= cfg.tolerance
    if not brush.any():
        return
    alpha = 255 if rng.random() >= cfg.p_soft else int(rng.integers(128, 255))
    out[ya:yb, xa:xb][brush] = (*np.round(colour).astype(np.uint8), alpha)


def _blurred(rgb_u8: np.ndarray, rng: np.random.Generator, cfg: HintConfig) -> np.ndarray:
    """The paper's hint: a heavy blur of the image, random patches whitened out (no hint there)."""
    h, w = rgb_u8.shape[:2]
    sigma = rng.uniform(*cfg.blur_sigma) * max(h, w)
    f = max(1, int(sigma // 2))  # blur at reduced size: same look, a fraction of the cost
    small = np.asarray(Image.fromarray(rgb_u8).resize((max(1, w // f), max(1, h // f)), Image.Resampling.BOX))
    small = ndimage.gaussian_filter(small.astype(np.float32), (sigma / f, sigma / f, 0), truncate=2.5)
    blur = np.asarray(Image.fromarray(np.clip(small + 0.5, 0, 255).astype(np.uint8)).resize((w, h)))
    cell = int(rng.integers(16, 64))
    field = rng.random((h // cell + 1, w // cell + 1))
    keep = np.repeat(np.repeat(field, cell, 0), cell, 1)[:h, :w] >= np.quantile(
        field, rng.uniform(*cfg.whiten)
    )
    out = np.zeros((h, w, 4), np.uint8)
    out[keep, :3] = blur[keep]
    out[keep, 3] = 255
    return out


def synth_hints(rgb_u8: np.ndarray, rng: np.random.Generator, cfg: HintConfig = HintConfig()) -> np.ndarray:
    """Training hints (H×W×4 u8; alpha > 0 marks a hint, alpha = strength) for a colour image."""
    if rgb_u8.dtype != np.uint8 or rgb_u8.ndim != 3 or rgb_u8.shape[2] != 3:
        raise ValueError(f"synth_hints needs H×W×3 uint8 RGB, got {rgb_u8.dtype} {rgb_u8.shape}")
    h, w = rgb_u8.shape[:2]
    if rng.random() < cfg.p_blur:
        return _blurred(rgb_u8, rng, cfg)
    out = np.zeros((h, w, 4), np.uint8)
    if rng.random() < cfg.p_none:
        return out
    scale = max(h, w) / 512.0
    dense = max(1.0, cfg.max_marks * h * w / 512.0**2)
    n = int(np.exp(rng.uniform(0.0, np.log(dense + 1.0))))  # log-uniform: few marks as often as many
    for _ in range(n):
        _mark(rgb_u8, out, rng, cfg, scale)
    return out


def colour_areas(rgb_u8: np.ndarray, lineart_rgba_u8: np.ndarray, min_area: int = 32) -> np.ndarray:
    """Label (H×W int32, 0 = none) every connected area of one colour, lines and tiny areas excluded.

    Colours are quantised to 16 levels per channel first, so anti-aliasing and faint noise do not
    split an area. Lines belong to no area: the line art's ink (line plane below the engine's
    barrier threshold) and the true image's own near-black outlines, which an opened line art leaves
    uncovered in places and no artist would hint.
    """
    x = rgb_u8.astype(np.int32)
    q = ((x + 8) // 16).clip(0, 15)
    code = (q[..., 0] << 8) | (q[..., 1] << 4) | q[..., 2]
    hi, lo = x.max(axis=2), x.min(axis=2)
    code[(hi < NEAR_BLACK) & (hi - lo < NEAR_BLACK)] = -1
    code[line_from_rgba(lineart_rgba_u8) < INK_THRESHOLD] = -1
    labels = np.asarray(label_equal(code, background=-1, connectivity=1), np.int32)
    sizes = np.bincount(labels.ravel())
    small = sizes < min_area
    small[0] = True
    keep = np.cumsum(~small).astype(np.int32)  # renumber the kept areas 1..n
    keep[small] = 0
    return keep[labels]


def eval_hints(
    rgb_u8: np.ndarray,
    lineart_rgba_u8: np.ndarray,
    density: str,
    rng: np.random.Generator,
    radius: int = 2,
    min_area: int = 32,
) -> np.ndarray:
    """Evaluation hints: one dot of the true colour in all ("full"), ~40 % ("sparse") or no areas."""
    if density not in DENSITIES:
        raise ValueError(f"unknown hint density {density!r}; valid: {', '.join(DENSITIES)}")
    out = np.zeros((*rgb_u8.shape[:2], 4), np.uint8)
    labels = colour_areas(rgb_u8, lineart_rgba_u8, min_area)
    n = int(labels.max())
    if n == 0 or DENSITIES[density] == 0.0:
        return out
    chosen = np.sort(rng.choice(n, max(1, round(DENSITIES[density] * n)), replace=False)) + 1
    # dot centres: a random pixel deep enough that the dot fits inside its area, else the deepest
    edge = np.zeros(labels.shape, bool)
    edge[:-1] |= labels[:-1] != labels[1:]
    edge[1:] |= labels[:-1] != labels[1:]
    edge[:, :-1] |= labels[:, :-1] != labels[:, 1:]
    edge[:, 1:] |= labels[:, :-1] != labels[:, 1:]
    depth = ndimage.distance_transform_cdt(~edge, metric="chessboard").astype(np.float32)
    score = np.minimum(depth, radius + 1) + 0.5 * rng.random(labels.shape, dtype=np.float32)
    centres = ndimage.maximum_position(score, labels, chosen)
    seeds = np.zeros(labels.shape, np.int32)
    ys, xs = np.array(centres, np.intp).reshape(-1, 2).T
    seeds[ys, xs] = labels[ys, xs]
    grown = ndimage.grey_dilation(seeds, footprint=_disk(radius))
    dots = (grown == labels) & (grown > 0)
    out[dots, :3] = rgb_u8[dots]
    out[dots, 3] = 255
    return out
