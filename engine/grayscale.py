"""Grayscale mode: colour a shaded grayscale drawing (manga tones, pencil shading), keeping its
lightness.

The model (``inkhue-grayscale``, manifest kind ``grayscale``, one stage ``chroma``) sees the
image's CIELAB L and the hints' a, b at the working size and predicts a, b; the result is the
input's own full-resolution L with the predicted chroma upsampled (``engine.lab.compose``), so its
L equals the input's within rounding. ``looks_shaded`` tells a shaded grayscale layer from line
art for ``mode="auto"``.
"""

from __future__ import annotations

import logging
import threading

import numpy as np
from scipy import ndimage

from engine import lab
from engine.arrays import check_hints, check_lineart, line_from_rgba
from engine.backends import StageBackend
from engine.errors import ModelError
from engine.modelspec import ModelManifest
from engine.resample import bilinear_crop, box_resize
from engine.tiling import pad_to_multiple, working_shape
from engine.wire.schema import ColorizeOptions

log = logging.getLogger(__name__)

GRAYSCALE_MODEL = "inkhue-grayscale"
STAGE = "chroma"
AB_SCALE = 110.0  # the model's a, b planes: 0.5 + ab / (2 · AB_SCALE)
STRIP_PIXELS = 1 << 20

# looks_shaded: mid tones that survive a morphological opening are shading (broad areas), not the
# anti-aliased edges of lines; screentone turns into such mid tones when averaged over 4×4 pixels
MID_TONES = (0.15, 0.85)
SCREEN_CELL = 4
MIN_SCREEN_SIDE = 128  # the averaged check needs a page, not a thumbnail
SHADED_SHARE = 0.15  # of the canvas (measured on the val split: MODEL_CARD.md of inkhue-grayscale)
MAX_SIDE = 1024
COLOURFUL = 0.03  # share of clearly coloured pixels above which an image is not grayscale


def _broad_mid_share(gray_hw: np.ndarray, radius: int) -> float:
    mid = (gray_hw > MID_TONES[0]) & (gray_hw < MID_TONES[1])
    return float(ndimage.binary_opening(mid, np.ones((2 * radius + 1, 2 * radius + 1), bool)).mean())


def shading_scores(rgba_u8: np.ndarray) -> tuple[float, float, float]:
    """(colourful share, broad mid-tone share at full size, at 1/4 size) of an RGBA layer.

    A large canvas is judged at about a screen's size: every k-th pixel (k keeps it at least
    2 × ``MAX_SIDE``), then area-averaged to ``MAX_SIDE``.
    """
    k = max(1, -(-max(rgba_u8.shape[:2]) // (2 * MAX_SIDE)))
    rgba_u8 = rgba_u8[::k, ::k]
    sample = rgba_u8[::2, ::2]  # colour: every other pixel is plenty
    r, g, b = (sample[..., i].astype(np.int16) for i in range(3))
    chroma = np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)
    colourful = float(((chroma > 40) & (sample[..., 3] > 127)).mean())
    gray = line_from_rgba(np.ascontiguousarray(rgba_u8))
    h, w = gray.shape
    if max(h, w) > MAX_SIDE:
        scale = MAX_SIDE / max(h, w)
        gray = box_resize(gray, (max(1, round(h * scale)), max(1, round(w * scale))))
        h, w = gray.shape
    if min(h, w) < MIN_SCREEN_SIDE:  # too few cells: averaged lines would pass for tones
        return colourful, _broad_mid_share(gray, 2), 0.0
    small = box_resize(gray, (max(1, h // SCREEN_CELL), max(1, w // SCREEN_CELL)))
    return colourful, _broad_mid_share(gray, 2), _broad_mid_share(small, 1)


def looks_shaded(rgba_u8: np.ndarray) -> bool:
    """True for a shaded grayscale drawing (gray tones, screentone), False for line art or colour."""
    colourful, full, quarter = shading_scores(rgba_u8)
    return colourful < COLOURFUL and max(full, quarter) > SHADED_SHARE


def hint_ab_planes(hints_rgba_u8: np.ndarray | None, shape: tuple[int, int], small_hw: tuple[int, int]):
    """The hints' a, b (H×W×2, model scale, 0.5 where unhinted) and mask at the working size: each
    cell any hint reaches takes the hints' alpha-weighted mean a, b."""
    ab = np.full((*small_hw, 2), 0.5, np.float32)
    if hints_rgba_u8 is None or not hints_rgba_u8[..., 3].any():
        return ab, np.zeros(small_hw, np.float32)
    alpha = hints_rgba_u8[..., 3].astype(np.float32) / 255.0
    hint_lab = lab.rgb_to_lab(hints_rgba_u8[..., :3].astype(np.float32) / 255.0).astype(np.float32)
    m = box_resize(alpha, small_hw)
    hinted = m > 1e-6
    for c in range(2):
        s = box_resize(hint_lab[..., 1 + c] * alpha, small_hw)
        ab[..., c] = np.where(hinted, 0.5 + s / np.maximum(m, 1e-6) / (2 * AB_SCALE), 0.5)
    return ab, hinted.astype(np.float32)  # binary, as the training's hint squares


class GrayscaleColorizer:
    """Runs a grayscale-kind model; safe to share between threads."""

    def __init__(self, manifest: ModelManifest, backend: StageBackend) -> None:
        if manifest.kind != "grayscale":
            raise ModelError(f"model {manifest.name!r} colours line art, not shaded grayscale")
        self.manifest = manifest
        self.backend = backend
        self._lock = threading.Lock()

    def colorize(self, image: np.ndarray, hints: np.ndarray | None, opts: ColorizeOptions) -> np.ndarray:
        rgba = check_lineart(image, opts.max_pixels)
        shape = rgba.shape[:2]
        hints_rgba = check_hints(hints, shape)
        gray = line_from_rgba(rgba)
        spec = self.manifest.stages[STAGE]
        small_hw = working_shape(shape, opts.working_size or self.manifest.working_size)
        l_small = box_resize(lab.gray_lightness(gray).astype(np.float32), small_hw) / 100.0
        ab, mask = hint_ab_planes(hints_rgba, shape, small_hw)
        x = np.concatenate([l_small[None], np.moveaxis(ab, -1, 0), mask[None]]).astype(np.float32)
        x = pad_to_multiple(x, spec.generator.divisor)[None]
        with self._lock:
            y = self.backend.run(STAGE, x)
        ab_small = np.moveaxis(y[0, :2, : small_hw[0], : small_hw[1]], 0, -1)
        rgb = np.empty((*shape, 3), np.uint8)
        step = max(1, STRIP_PIXELS // shape[1])  # float64 temporaries stay bounded on large canvases
        for y0 in range(0, shape[0], step):
            y1 = min(shape[0], y0 + step)
            ab_full = (bilinear_crop(ab_small, shape, (y0, y1, 0, shape[1])) - 0.5) * (2 * AB_SCALE)
            rgb[y0:y1] = lab.compose(lab.gray_lightness(gray[y0:y1]), ab_full)
        if not opts.transparent:
            return rgb
        return np.concatenate([rgb, rgba[..., 3:4]], -1)
