"""Line-art / colour pairs drawn by artists: a vector drawing rendered whole and with only its ink.

The pairs make the corpus's ``real`` split (``training.corpus``): evaluation on line art as artists
draw it, and training pairs beside the synthesised ones. Filters drop what is not line art with
colour to add, each with a threshold measured on a sample (``training/DATA.md``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from training.artwork import Job, fit, reject_reason, save_kept, trim
from training.ink import InkError, ink_only


@dataclass(frozen=True)
class PairFilter:
    """Thresholds telling a line-art pair from what is not (ink as a share of the drawing's
    bounding box, colour as a share of its non-white pixels)."""

    ink_level: int = 128  # a line-art pixel darker than this (luma, on white) is ink
    min_ink: float = 0.005  # less ink than this: no line art
    max_ink: float = 0.35  # more: silhouettes, stamps, lettering
    max_thick: float = 0.5  # share of ink deeper than ``thick_px`` inside ink: filled shapes, shading
    thick_px: float = 8.0  # at 512 px (strokes up to 16 px wide are lines); scaled with the render
    min_colour: float = 0.08  # colour pixels (chroma > 40) outside the ink: below this, nothing to colour
    max_dark: float = 0.5  # share of the whole picture that is near black: a dark background
    min_outline: float = 0.35  # share of strong colour edges within ``outline_px`` of ink: below it
    outline_px: float = 3.0  # the ink does not outline the colours (eyes only, shading strokes)
    edge_step: int = 60  # a colour edge: some channel changes by more than this between neighbours


@dataclass(frozen=True)
class PairStats:
    ink: float
    thick: float
    colour: float
    dark: float
    outline: float


def render_pair(svg_bytes: bytes, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(colour RGB, line art luma) on white, both ``width`` wide and pixel-aligned."""
    import cairosvg  # the train extra; imported lazily like the corpus's own SVG renders

    ink_svg, _ = ink_only(svg_bytes)
    out = []
    for data in (svg_bytes, ink_svg):
        png = cairosvg.svg2png(bytestring=data, output_width=width)
        if png is None:  # only when asked to write to a file
            raise ValueError("cairosvg rendered nothing")
        rgba = Image.open(io.BytesIO(png)).convert("RGBA")
        paper = Image.new("RGBA", rgba.size, "white")
        paper.alpha_composite(rgba)
        out.append(np.asarray(paper.convert("RGB")))
    colour, lines = out
    if colour.shape != lines.shape:
        raise ValueError(f"the renders disagree in size: {colour.shape} vs {lines.shape}")
    return colour, np.asarray(Image.fromarray(lines).convert("L"))


def pair_stats(colour_rgb_u8: np.ndarray, line_l_u8: np.ndarray, cfg: PairFilter = PairFilter()) -> PairStats:
    x = colour_rgb_u8.astype(np.int16)
    content = (255 - x.min(axis=2)) > 12
    n = max(1, int(content.sum()))
    ink = line_l_u8 < cfg.ink_level
    drawn = content | ink
    rows, cols = np.flatnonzero(drawn.any(1)), np.flatnonzero(drawn.any(0))
    box = max(1, (rows[-1] - rows[0] + 1) * (cols[-1] - cols[0] + 1)) if rows.size else 1
    depth = ndimage.distance_transform_edt(ink)
    thick_px = cfg.thick_px * max(line_l_u8.shape) / 512
    chroma = x.max(axis=2) - x.min(axis=2)
    edge = np.zeros(ink.shape, bool)
    edge[:, :-1] |= np.abs(x[:, :-1] - x[:, 1:]).max(axis=2) > cfg.edge_step
    edge[:-1] |= np.abs(x[:-1] - x[1:]).max(axis=2) > cfg.edge_step
    edge &= ~ink & (x.max(axis=2) >= 64)  # the colour's own edges, not the lines'
    near_ink = ndimage.distance_transform_edt(~ink) <= cfg.outline_px * max(line_l_u8.shape) / 512
    return PairStats(
        ink=float(ink.sum()) / box,
        thick=float((depth > thick_px).sum()) / max(1, int(ink.sum())),
        colour=float((content & ~ink & (chroma > 40)).sum()) / n,
        dark=float((x.max(axis=2) < 48).mean()),
        outline=float((edge & near_ink).sum()) / max(1, int(edge.sum())),
    )


def pair_reject_reason(stats: PairStats, cfg: PairFilter = PairFilter()) -> str | None:
    if stats.dark > cfg.max_dark:
        return "dark background"
    if stats.ink < cfg.min_ink:
        return "no ink"
    if stats.ink > cfg.max_ink:
        return "ink covers the picture"
    if stats.thick > cfg.max_thick:
        return "ink is filled shapes"
    if stats.colour < cfg.min_colour:
        return "no colour outside the ink"
    if stats.outline < cfg.min_outline:
        return "ink does not outline the colours"
    return None


def process_pair(job: Job) -> dict:
    """Worker: one vector drawing -> colour image and its own line art, aligned, or a reason."""
    try:
        colour, line = render_pair(Path(job.path).read_bytes(), job.max_side)
    except InkError as e:
        return {"path": job.path, "reason": f"ink unknown: {e}"}
    except Exception as e:  # noqa: BLE001 - one broken file must not stop a corpus build
        return {"path": job.path, "reason": f"unreadable: {type(e).__name__}"}
    reason = pair_reject_reason(pair_stats(colour, line))
    if reason:
        return {"path": job.path, "reason": reason}
    # one crop (the box of what the colour or the line art draws) and one resize for both
    both = trim(np.concatenate([colour, line[..., None]], -1), job.cfg.ink_level)
    if both is None:
        return {"path": job.path, "reason": "blank"}
    reason = reject_reason(both[..., :3], job.cfg)
    if reason:
        return {"path": job.path, "reason": reason}
    colour = fit(both[..., :3], job.max_side, job.cfg.margin)
    line = fit(np.repeat(both[..., 3:], 3, -1), job.max_side, job.cfg.margin)[..., 0]
    return save_kept(job, colour, line)
