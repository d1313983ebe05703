"""Synthetic screentone: the tones of a grayscale image as halftone dots or hatching, as in manga.

``tone_gray(rgb_u8, rng)`` is the grayscale training input (CIELAB L / 100): the image's own
lightness, or with probability ``p_tone`` its mid tones printed as black-and-white screentone.
Lines (dark) and paper (light) are left as they are; only the tones in between are screened.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from training.presets import colour

TONE_LOW, TONE_HIGH = 0.12, 0.92  # lightness band (0..1) that screentone replaces


def _rotated(shape: tuple[int, int], angle: float) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[: shape[0], : shape[1]].astype(np.float32)
    c, s = np.cos(angle), np.sin(angle)
    return x * c + y * s, -x * s + y * c


def halftone(gray: np.ndarray, pitch: float, angle: float) -> np.ndarray:
    """Round dots on a rotated grid whose area matches the local darkness; 0/1 float."""
    u, v = _rotated(gray.shape, angle)
    du = (u / pitch) % 1.0 - 0.5
    dv = (v / pitch) % 1.0 - 0.5
    radius = np.sqrt(np.clip(1.0 - gray, 0.0, 1.0) / np.pi)  # in cells: dot area = darkness
    return (np.hypot(du, dv) >= radius).astype(np.float32)


def hatching(gray: np.ndarray, pitch: float, angle: float) -> np.ndarray:
    """Parallel lines whose thickness follows the local darkness; 0/1 float."""
    u, _ = _rotated(gray.shape, angle)
    return (((u / pitch) % 1.0) >= np.clip(1.0 - gray, 0.0, 1.0)).astype(np.float32)


PATTERNS = {"halftone": halftone, "hatching": hatching}


def screen(gray: np.ndarray, rng: np.random.Generator, kind: str | None = None) -> np.ndarray:
    """``gray`` (H×W, 0..1) with its mid tones screened by one random pattern."""
    kind = kind or str(rng.choice(list(PATTERNS)))
    pitch = float(rng.uniform(3.0, 7.0))
    pattern = PATTERNS[kind](gray, pitch, float(rng.uniform(0.0, np.pi)))
    smooth = ndimage.uniform_filter(gray, 3)
    tone = (smooth > TONE_LOW) & (smooth < TONE_HIGH)
    return np.where(tone, pattern, gray).astype(np.float32)


def tone_gray(rgb_u8: np.ndarray, rng: np.random.Generator, p_tone: float = 0.4) -> np.ndarray:
    """The grayscale input: L / 100 of the image, screened with probability ``p_tone``."""
    gray = colour.rgb_u8_to_lab(rgb_u8)[..., 0] / 100.0
    if rng.random() < p_tone:
        gray = screen(gray, rng)
    return gray.astype(np.float32)
