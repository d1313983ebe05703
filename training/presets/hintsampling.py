"""The papers' hint samplers: whitened patches of a blurred copy (two-stage) and user squares (ColourU).

Sizes are given for 256 px images, as in the papers, and scaled to the crop.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

PAPER_SIDE = 256.0


def blurred_patch_hints(rgb_u8: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Cheng et al.: a heavily blurred copy (115×115 Gaussian) with 30 random 45×45 patches whitened.

    Returns H×W×3 f32 in 0..1.
    """
    h, w = rgb_u8.shape[:2]
    k = min(h, w) / PAPER_SIDE
    sigma = 115.0 * k / 6.0  # a 115-tap kernel spans ±3σ
    out = ndimage.gaussian_filter(rgb_u8.astype(np.float32) / 255.0, (sigma, sigma, 0), mode="nearest")
    side = max(1, round(45 * k))
    for _ in range(30):
        y = int(rng.integers(0, max(1, h - side + 1)))
        x = int(rng.integers(0, max(1, w - side + 1)))
        out[y : y + side, x : x + side] = 1.0
    return out


def user_squares(
    rgb_u8: np.ndarray, rng: np.random.Generator, p: float = 1.0 / 8.0, scale: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """ColourU-style user hints: squares of the true colour (their mean), count geometric with
    ``p`` (0 allowed, mean (1-p)/p = 7), centres ~ Gaussian around the image centre with σ = side/4,
    sides ~ U{1..9} (scaled to the crop, or by ``scale``). Returns hint RGB (H×W×3) and mask (H×W), f32 0..1.
    """
    h, w = rgb_u8.shape[:2]
    k = min(h, w) / PAPER_SIDE if scale is None else scale
    rgb = np.zeros((h, w, 3), np.float32)
    mask = np.zeros((h, w), np.float32)
    count = int(rng.geometric(p)) - 1
    src = rgb_u8.astype(np.float32) / 255.0
    for _ in range(count):
        side = max(1, round(int(rng.integers(1, 10)) * k))
        cy = int(np.clip(rng.normal(h / 2, h / 4), 0, h - 1))
        cx = int(np.clip(rng.normal(w / 2, w / 4), 0, w - 1))
        y0, x0 = max(0, cy - side // 2), max(0, cx - side // 2)
        y1, x1 = min(h, y0 + side), min(w, x0 + side)
        rgb[y0:y1, x0:x1] = src[y0:y1, x0:x1].reshape(-1, 3).mean(0)
        mask[y0:y1, x0:x1] = 1.0
    return rgb, mask


def high_pass(gray_hw: np.ndarray, sigma: float = 2.0) -> np.ndarray:
    """Gray minus its Gaussian blur, centred on 0.5."""
    return np.clip(gray_hw - ndimage.gaussian_filter(gray_hw, sigma, mode="nearest") + 0.5, 0.0, 1.0)
