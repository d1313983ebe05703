"""Synthetic line art from colour artwork, in several styles, with the flaws of real line art.

Every extractor maps an RGB u8 image to an ink plane (H×W f32, 1 = ink) and takes a line weight;
``synth_lineart`` picks one at random, then opens the drawing (erases whole stretches of boundary and
cuts short gaps), optionally adds JPEG noise, and delivers dark lines on white or black lines on a
transparent layer (alpha = ink), the two ways artists hand over line art.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage.morphology import skeletonize

from engine.arrays import line_from_rgba
from engine.errors import unknown_name

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _gray(rgb_u8: np.ndarray) -> np.ndarray:
    return (rgb_u8.astype(np.float32) @ _LUMA) * (1.0 / 255.0)


def _odd(width: float) -> int:
    return 2 * max(1, round(width)) + 1


def dilate_minus_gray(rgb_u8: np.ndarray, rng: np.random.Generator, width: float) -> np.ndarray:
    """PaintsChainer style: grey dilation minus the image, inverted (ink where it gets darker).

    Usually on the luma; sometimes on every channel, which also finds boundaries between two
    colours of equal brightness (that the luma version leaves open, like a real inker might).
    """
    size = _odd(width / 2)
    if rng.random() < 0.5:
        dil = ndimage.maximum_filter(rgb_u8, size=(size, size, 1))
        diff = (dil - rgb_u8).max(axis=2)  # u8, dil >= x so no wrap-around
    else:
        g = np.round(_gray(rgb_u8) * 255).astype(np.uint8)
        diff = ndimage.maximum_filter(g, size=size) - g
    gain = rng.uniform(2.0, 5.0)
    return np.clip(diff.astype(np.float32) * (gain / 255.0), 0.0, 1.0)


def xdog(rgb_u8: np.ndarray, rng: np.random.Generator, width: float) -> np.ndarray:
    """Difference of Gaussians with a soft tanh threshold (the XDoG look): ink on the dark side."""
    sigma = 0.4 + 0.35 * width
    g = _gray(rgb_u8)
    g1 = ndimage.gaussian_filter(g, sigma, truncate=2.5)
    g2 = ndimage.gaussian_filter(g, sigma * 1.6, truncate=2.5)
    d = g2 - g1  # > 0 just inside the darker side of an edge
    eps, phi = rng.uniform(0.005, 0.02), rng.uniform(40.0, 120.0)
    return np.clip(np.tanh(phi * (d - eps)), 0.0, 1.0)


def thin_edges(rgb_u8: np.ndarray, rng: np.random.Generator, width: float) -> np.ndarray:
    """Colour boundaries thinned to one pixel, then drawn with the chosen width (a clean pen)."""
    x = rgb_u8.astype(np.int16)
    t = rng.integers(24, 60)
    edge = np.zeros(x.shape[:2], bool)
    edge[:-1] |= np.abs(x[1:] - x[:-1]).max(axis=2) > t
    edge[:, :-1] |= np.abs(x[:, 1:] - x[:, :-1]).max(axis=2) > t
    skel = skeletonize(edge)
    r = max(0, round(width / 2 - 0.5))
    ink = ndimage.maximum_filter(skel.astype(np.uint8), size=2 * r + 1) if r else skel.astype(np.uint8)
    # anti-aliased pen: a 1-pixel line blurred with sigma 0.6 peaks at ~0.63, so rescale to full ink
    return np.minimum(ndimage.gaussian_filter(ink.astype(np.float32), 0.6, truncate=2.0) * 1.6, 1.0)


Extractor = Callable[[np.ndarray, np.random.Generator, float], np.ndarray]

EXTRACTORS: dict[str, Extractor] = {
    "dilate": dilate_minus_gray,
    "xdog": xdog,
    "edges": thin_edges,
}


@dataclass(frozen=True)
class LineConfig:
    """Probabilities and ranges of the line-art synthesis (saved beside each training run)."""

    extractors: tuple[tuple[str, float], ...] = (("dilate", 0.35), ("xdog", 0.3), ("edges", 0.35))
    width: tuple[float, float] = (1.0, 4.0)  # line weight, pixels at 512 px
    p_dark_as_ink: float = 0.6  # existing dark outlines / spot blacks of the artwork stay ink
    p_open: float = 0.6  # erase whole stretches of boundary (no line between two colours)
    open_fraction: tuple[float, float] = (0.05, 0.25)  # area share of the erased stretches
    p_gaps: float = 0.6  # cut short gaps into strokes
    gaps_per_megapixel: tuple[float, float] = (40.0, 300.0)
    # pixels; log-uniform (short gaps far more often than long ones) unless gap_log is off
    gap_size: tuple[int, int] = (1, 30)
    gap_log: bool = True
    strength: tuple[float, float] = (0.8, 1.0)  # darkest ink (pencil to marker)
    p_transparent: float = 0.3  # lines on a transparent layer instead of on white
    p_jpeg: float = 0.25  # only for lines on white
    jpeg_quality: tuple[int, int] = (40, 90)
    # a uniform thick outline around the figure's silhouette, as inkers draw it
    p_outline: float = 0.3
    outline_width: tuple[float, float] = (2.5, 8.0)  # pixels at 512 px

    def __post_init__(self) -> None:
        for name, _ in self.extractors:
            if name not in EXTRACTORS:
                raise ValueError(unknown_name("line extractor", name, EXTRACTORS))


@dataclass(frozen=True)
class _Draw:
    extractor: str
    width: float
    dark_as_ink: bool
    open_fraction: float  # 0 = closed
    n_gaps_per_mp: float  # 0 = none
    gap_size: int
    strength: float
    transparent: bool
    jpeg_quality: int  # 0 = none
    outline_width: float = 0.0  # 0 = no silhouette outline


def _draw(rng: np.random.Generator, cfg: LineConfig) -> _Draw:
    """Every random decision, always drawn in the same order (so variants differ only where asked)."""
    names = [n for n, _ in cfg.extractors]
    p = np.array([w for _, w in cfg.extractors], np.float64)
    extractor = names[rng.choice(len(names), p=p / p.sum())]
    width = rng.uniform(*cfg.width)
    dark = rng.random() < cfg.p_dark_as_ink
    opened = rng.random() < cfg.p_open
    open_fraction = rng.uniform(*cfg.open_fraction)
    gaps = rng.random() < cfg.p_gaps
    n_gaps = rng.uniform(*cfg.gaps_per_megapixel)
    if cfg.gap_log:
        gap_size = int(np.exp(rng.uniform(np.log(cfg.gap_size[0]), np.log(cfg.gap_size[1] + 1))))
    else:
        gap_size = int(rng.integers(cfg.gap_size[0], cfg.gap_size[1] + 1))
    strength = rng.uniform(*cfg.strength)
    transparent = rng.random() < cfg.p_transparent
    jpeg = rng.random() < cfg.p_jpeg
    quality = int(rng.integers(cfg.jpeg_quality[0], cfg.jpeg_quality[1] + 1))
    outline = 0.0
    if cfg.p_outline > 0.0:  # drawn only when asked: configs without it keep their random stream
        outlined = rng.random() < cfg.p_outline
        outline = rng.uniform(*cfg.outline_width) if outlined else 0.0
    return _Draw(
        extractor,
        width,
        dark,
        open_fraction if opened else 0.0,
        n_gaps if gaps else 0.0,
        gap_size,
        strength,
        transparent,
        quality if jpeg and not transparent else 0,
        outline,
    )


def open_mask(
    shape: tuple[int, int], fraction: float, rng: np.random.Generator, cell: int = 24
) -> np.ndarray:
    """Smooth random blobs covering about ``fraction`` of the image: where lines are erased."""
    h, w = shape
    coarse = rng.random((h // cell + 2, w // cell + 2)).astype(np.float32)
    field = ndimage.zoom(coarse, cell, order=1)[:h, :w]
    return field < np.quantile(coarse, fraction)


def silhouette_outline(rgb_u8: np.ndarray, width: float, paper: int = 24) -> np.ndarray:
    """A uniform band of ``width`` pixels just inside the figure's silhouette (bool H×W).

    The figure is everything that is not near-white paper, its holes filled.
    """
    figure = ndimage.binary_fill_holes((255 - rgb_u8.astype(np.int16)).max(axis=2) > paper)
    inner = ndimage.distance_transform_edt(np.pad(figure, 1))[1:-1, 1:-1]
    return figure & (inner <= width)


def gap_mask(ink: np.ndarray, per_mp: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """Square holes of ``size`` pixels centred on random ink pixels: short breaks in strokes."""
    ys, xs = np.nonzero(ink > 0.5)
    n = min(ys.size, int(round(per_mp * ink.size / 1e6)))
    seeds = np.zeros(ink.shape, np.uint8)
    if n:
        pick = rng.choice(ys.size, n, replace=False)
        seeds[ys[pick], xs[pick]] = 1
    return ndimage.maximum_filter(seeds, size=size).astype(bool)


def ink_plane(rgb_u8: np.ndarray, rng: np.random.Generator, cfg: LineConfig = LineConfig()) -> tuple:
    """The ink plane (H×W f32, 1 = ink) and the random draw that made it."""
    d = _draw(rng, cfg)
    ink = EXTRACTORS[d.extractor](rgb_u8, rng, d.width)
    if d.dark_as_ink:
        x = rgb_u8.astype(np.int16)
        dark = (x.max(axis=2) < 70) & ((x.max(axis=2) - x.min(axis=2)) < 40)
        ink = np.maximum(ink, dark.astype(np.float32))
    if d.outline_width > 0:
        ink = np.maximum(ink, silhouette_outline(rgb_u8, d.outline_width).astype(np.float32))
    if d.open_fraction > 0:
        ink[open_mask(ink.shape, d.open_fraction, rng)] = 0.0
    if d.n_gaps_per_mp > 0:
        ink[gap_mask(ink, d.n_gaps_per_mp, d.gap_size, rng)] = 0.0
    return ink * np.float32(d.strength), d


def synth_lineart(rgb_u8: np.ndarray, rng: np.random.Generator, cfg: LineConfig = LineConfig()) -> np.ndarray:
    """Line art (H×W×4 u8) drawn from a colour image: dark on white (alpha 255) or black on clear."""
    if rgb_u8.dtype != np.uint8 or rgb_u8.ndim != 3 or rgb_u8.shape[2] != 3:
        raise ValueError(f"synth_lineart needs H×W×3 uint8 RGB, got {rgb_u8.dtype} {rgb_u8.shape}")
    ink, d = ink_plane(rgb_u8, rng, cfg)
    ink_u8 = np.round(ink * 255.0).astype(np.uint8)
    out = np.empty((*ink.shape, 4), np.uint8)
    if d.transparent:
        out[..., :3] = 0
        out[..., 3] = ink_u8
        return out
    paper = 255 - ink_u8
    if d.jpeg_quality:
        buf = io.BytesIO()
        Image.fromarray(paper).save(buf, "JPEG", quality=d.jpeg_quality)
        paper = np.asarray(Image.open(buf).convert("L"))
    out[..., :3] = paper[..., None]
    out[..., 3] = 255
    return out


def pair_lineart(
    lineart_rgba_u8: np.ndarray, rng: np.random.Generator, cfg: LineConfig = LineConfig()
) -> np.ndarray:
    """An artist's own line art (dark on white) as handed over: on white, or black on a clear layer."""
    if rng.random() >= cfg.p_transparent:
        return lineart_rgba_u8
    out = np.zeros((*lineart_rgba_u8.shape[:2], 4), np.uint8)
    out[..., 3] = np.round((1.0 - line_from_rgba(lineart_rgba_u8)) * 255.0)
    return out
