"""Stand-in data for the training tests: flat-colour shapes with dark outlines, tiny and fast.

The real corpus and line/hint synthesisers are the data pipeline's; these keep the training tests
independent of them and quick on two CPU cores.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from training.batch import Synth
from training.images import ArrayImages


def shapes_image(rng: np.random.Generator, h: int = 96, w: int = 128) -> np.ndarray:
    """H×W×3 uint8: a coloured background, a few flat ellipses and rectangles, dark outlines."""
    img = np.empty((h, w, 3), np.uint8)
    img[:] = rng.integers(120, 256, 3)
    yy, xx = np.mgrid[:h, :w]
    labels = np.zeros((h, w), np.int32)
    for k in range(1, int(rng.integers(3, 6)) + 1):
        cy, cx = rng.integers(0, h), rng.integers(0, w)
        ry, rx = rng.integers(10, h // 2), rng.integers(10, w // 2)
        if rng.random() < 0.5:
            inside = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        else:
            inside = (abs(yy - cy) <= ry) & (abs(xx - cx) <= rx)
        img[inside] = rng.integers(0, 256, 3)
        labels[inside] = k
    edges = ndimage.morphological_gradient(labels, size=2) > 0
    img[edges] = 20
    return img


def standin_lines(rgb_u8: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dark-on-white line art: pixels where the colour changes, sometimes on a transparent layer."""
    gray = rgb_u8.astype(np.int32).sum(-1)
    edge = (ndimage.morphological_gradient(gray, size=2) > 30) | (rgb_u8.max(-1) < 40)
    out = np.full((*gray.shape, 4), 255, np.uint8)
    if rng.random() < 0.5:
        out[edge, :3] = 0
    else:
        out[..., :3] = 0
        out[..., 3] = np.where(edge, 255, 0)
    return out


def standin_hints(rgb_u8: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random number of 3×3 dots of the true colour."""
    h, w = rgb_u8.shape[:2]
    out = np.zeros((h, w, 4), np.uint8)
    for _ in range(int(rng.integers(0, 30))):
        y, x = int(rng.integers(1, h - 1)), int(rng.integers(1, w - 1))
        out[y - 1 : y + 2, x - 1 : x + 2, :3] = rgb_u8[y, x]
        out[y - 1 : y + 2, x - 1 : x + 2, 3] = 255
    return out


STANDIN = Synth(standin_lines, standin_hints)


def standin_images(n: int, seed: int = 0, h: int = 96, w: int = 128) -> ArrayImages:
    rng = np.random.default_rng(seed)
    return ArrayImages([shapes_image(rng, h, w) for _ in range(n)])
