"""Source files to kept artwork: load, trim to the drawing, filter, fit, and save under a content id.

The corpus builder (``training.corpus``) runs ``process_image`` (or ``training.pairs.process_pair``
for a drawing with its own ink) on every source file in worker processes; the fine-tune's layered
documents (``training.documents``) reuse the same trimming, fitting and saving.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

MAX_SOURCE_PIXELS = 40_000_000  # a few openclipart PNGs are poster-sized; decoding them costs GBs
_LAPLACE = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


@dataclass(frozen=True)
class FilterConfig:
    """Thresholds that tell flat colour artwork from what is not (measured on u8 RGB on white)."""

    min_side: int = 64  # after trimming the white border
    min_content: float = 0.02  # fraction of non-white pixels below this = blank
    ink_level: int = 12  # a pixel differs from white by more than this = content
    chroma: int = 40  # max-min over RGB above this = a coloured pixel
    min_colourful: float = 0.04  # fraction of coloured content pixels below this = near-grayscale
    noise_level: float = 6.0  # |3x3 Laplacian| above this = a textured pixel (0 on flat fills/ramps)
    max_textured: float = 0.45  # fraction of textured content pixels above this = photo-like / noisy
    margin: float = 0.03  # white margin added around the trimmed artwork, per side


class TooLarge(ValueError):
    """A source image over MAX_SOURCE_PIXELS (decoding it would cost GBs for a 512 px result)."""


def load_rgba(path: str | Path, render_px: int = 512) -> np.ndarray:
    """Any raster file or SVG as H×W×4 uint8 (SVGs are rendered ``render_px`` wide)."""
    path = Path(path)
    if path.suffix.lower() == ".svg":
        import cairosvg  # lazily: only SVG sources need cairo

        png = cairosvg.svg2png(url=str(path), output_width=render_px)
        if png is None:  # only when asked to write to a file
            raise ValueError(f"cairosvg rendered nothing for {path}")
        img = Image.open(io.BytesIO(png))
    else:
        try:
            img = Image.open(path)
        except Image.DecompressionBombError as e:  # PIL's own limit, far above ours
            raise TooLarge(str(e)) from e
        if img.width * img.height > MAX_SOURCE_PIXELS:
            raise TooLarge(f"{img.width}x{img.height} is too large to be worth decoding")
        img.seek(0)
    return np.asarray(img.convert("RGBA"))


def over_white(rgba_u8: np.ndarray) -> np.ndarray:
    a = rgba_u8[..., 3:4].astype(np.float32) / 255.0
    rgb = rgba_u8[..., :3].astype(np.float32) * a + 255.0 * (1.0 - a)
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


def trim(rgb_u8: np.ndarray, ink_level: int) -> np.ndarray | None:
    """Crop to the bounding box of non-white pixels; None if there are none."""
    content = (255 - rgb_u8.min(axis=2)) > ink_level
    rows, cols = np.flatnonzero(content.any(1)), np.flatnonzero(content.any(0))
    if rows.size == 0:
        return None
    return rgb_u8[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def fit(rgb_u8: np.ndarray, max_side: int, margin: float) -> np.ndarray:
    """Scale down so the artwork plus a white margin fits ``max_side``; then add the margin."""
    h, w = rgb_u8.shape[:2]
    m = round(margin * min(max(h, w), max_side))
    scale = min(1.0, (max_side - 2 * m) / max(h, w))
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        rgb_u8 = np.asarray(Image.fromarray(rgb_u8).resize(size, Image.Resampling.LANCZOS))
    return np.pad(rgb_u8, ((m, m), (m, m), (0, 0)), constant_values=255)


def reject_reason(rgb_u8: np.ndarray, cfg: FilterConfig = FilterConfig()) -> str | None:
    """Why a trimmed image is not usable colour artwork, or None to keep it."""
    if min(rgb_u8.shape[:2]) < cfg.min_side:
        return "tiny"
    x = rgb_u8.astype(np.int16)
    content = (255 - x.min(axis=2)) > cfg.ink_level
    n = int(content.sum())
    if n < cfg.min_content * content.size:
        return "blank"
    chroma = x.max(axis=2) - x.min(axis=2)
    if (chroma[content] > cfg.chroma).sum() < cfg.min_colourful * n:
        return "grayscale"
    # the Laplacian vanishes on flat fills and linear gradients, so in clip art it fires only on
    # edges; photos, scans and JPEG noise fire nearly everywhere
    lap = np.max([np.abs(ndimage.convolve(x[..., c].astype(np.float32), _LAPLACE)) for c in range(3)], 0)
    if (lap[content] > cfg.noise_level).mean() > cfg.max_textured:
        return "photo"
    return None


def dhash(rgb_u8: np.ndarray, size: int = 16) -> np.ndarray:
    """Difference hash of the luma as ``size``×``size`` bits packed into uint64 words."""
    gray = Image.fromarray(rgb_u8).convert("L").resize((size + 1, size), Image.Resampling.BILINEAR)
    g = np.asarray(gray, np.int16)
    bits = (g[:, 1:] > g[:, :-1]).ravel()
    return np.packbits(bits).view(">u8").astype(np.uint64)


def thumb(rgb_u8: np.ndarray) -> np.ndarray:
    """4×4 colour thumbnail: separates recolourings that share a dHash."""
    return np.asarray(Image.fromarray(rgb_u8).resize((4, 4), Image.Resampling.BOX), np.int16).ravel()


@dataclass(frozen=True)
class Job:
    path: str
    images_dir: str
    max_side: int
    cfg: FilterConfig
    pairs: bool = False  # render the drawing whole and as its own ink (training/pairs.py)


def process_image(job: Job) -> dict:
    """Worker: one image file -> kept image written to disk, or a reject reason."""
    try:
        rgb = trim(over_white(load_rgba(job.path, render_px=job.max_side)), job.cfg.ink_level)
    except TooLarge:
        return {"path": job.path, "reason": "huge"}
    except Exception as e:  # noqa: BLE001 - one broken file must not stop a corpus build
        return {"path": job.path, "reason": f"unreadable: {type(e).__name__}"}
    if rgb is None:
        return {"path": job.path, "reason": "blank"}
    reason = reject_reason(fit(rgb, job.max_side, 0.0), job.cfg)
    if reason:
        return {"path": job.path, "reason": reason}
    rgb = fit(rgb, job.max_side, job.cfg.margin)
    return save_kept(job, rgb)


def save_kept(job: Job, rgb: np.ndarray, line: np.ndarray | None = None) -> dict:
    """Write a kept image (and a pair's line art) under its content id; the worker's answer."""
    content = rgb.tobytes() + (b"" if line is None else line.tobytes()) + str(rgb.shape).encode()
    image_id = hashlib.sha256(content).hexdigest()[:16]
    Image.fromarray(rgb).save(Path(job.images_dir) / f"{image_id}.png", optimize=False)
    kept = {
        "path": job.path,
        "reason": None,
        "id": image_id,
        "height": rgb.shape[0],
        "width": rgb.shape[1],
        "hash": dhash(rgb),
        "thumb": thumb(rgb),
    }
    if line is not None:
        lines_dir = Path(job.images_dir).parent / "lines"
        lines_dir.mkdir(exist_ok=True)
        Image.fromarray(line).save(lines_dir / f"{image_id}.png", optimize=False)
        kept["lineart"] = f"lines/{image_id}.png"
    return kept
