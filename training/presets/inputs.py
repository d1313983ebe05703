"""Input planes of the paper presets: ``INPUTS`` maps a name to (planes, builder).

A builder takes the example's crop (``Crop``: true RGB, its CIELAB, the ink of its line art when the
preset draws one) and a random generator, and returns C×H×W float32 planes in 0..1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.errors import unknown_name
from training.presets import colour, hintsampling


@dataclass(frozen=True)
class Crop:
    rgb_u8: np.ndarray  # H×W×3
    lab: np.ndarray  # H×W×3 f32, CIELAB
    ink: np.ndarray | None = None  # H×W f32, 1 = ink (synthetic line art of the crop)
    gray: np.ndarray | None = None  # H×W f32 0..1: the gray input when it is not the crop's own L


Builder = Callable[[Crop, np.random.Generator], np.ndarray]


def _gray(c: Crop, _rng: np.random.Generator) -> np.ndarray:
    return colour.luma(c.rgb_u8)[None]


def _lab_l(c: Crop, _rng: np.random.Generator) -> np.ndarray:
    return (c.lab[..., 0] / 100.0)[None].astype(np.float32)


def _edges(c: Crop, _rng: np.random.Generator) -> np.ndarray:
    from skimage.feature import canny

    return (1.0 - canny(colour.luma(c.rgb_u8), sigma=1.0).astype(np.float32))[None]


def _line(c: Crop) -> np.ndarray:
    if c.ink is None:
        raise ValueError("this input needs the crop's line art (Crop.ink)")
    return 1.0 - c.ink


def _line_hint(c: Crop, rng: np.random.Generator) -> np.ndarray:
    hint = hintsampling.blurred_patch_hints(c.rgb_u8, rng)
    return np.concatenate([_line(c)[None], np.moveaxis(hint, -1, 0)]).astype(np.float32)


def _colouru(c: Crop, rng: np.random.Generator) -> np.ndarray:
    gray = colour.luma(c.rgb_u8)
    rgb, mask = hintsampling.user_squares(c.rgb_u8, rng)
    planes = [gray[None], np.moveaxis(rgb, -1, 0), mask[None], hintsampling.high_pass(gray)[None]]
    return np.concatenate(planes).astype(np.float32)


def _colouru_no_hints(c: Crop, rng: np.random.Generator) -> np.ndarray:
    x = _colouru(c, rng)
    x[1:5] = 0.0
    return x


def gray_hint_planes(l_hw: np.ndarray, hint_lab: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The grayscale model's planes: L/100, the hints' a, b (0.5 + ab/220, 0.5 unhinted), mask."""
    ab = np.where(mask[..., None] > 0, colour.ab_to_unit(hint_lab[..., 1:]), 0.5)
    return np.concatenate([(l_hw / 100.0)[None], np.moveaxis(ab, -1, 0), mask[None]]).astype(np.float32)


def _gray_hints(c: Crop, rng: np.random.Generator) -> np.ndarray:
    """Shaded grayscale (its L, or screentone's when ``Crop.gray`` is set) + user hint dabs in ab."""
    rgb, mask = hintsampling.user_squares(c.rgb_u8, rng, p=1.0 / 6.0, scale=1.0)
    hint_lab = colour.rgb_u8_to_lab(colour.to_u8(rgb))
    l_hw = c.lab[..., 0] if c.gray is None else c.gray * 100.0
    return gray_hint_planes(l_hw, hint_lab, mask)


# name -> (planes, builder)
INPUTS: dict[str, tuple[int, Builder]] = {
    "gray": (1, _gray),
    "edges": (1, _edges),
    "lab-l": (1, _lab_l),
    "line-hint": (4, _line_hint),
    "colouru": (6, _colouru),
    "colouru-no-hints": (6, _colouru_no_hints),
    "gray-hints": (4, _gray_hints),
}
NEEDS_INK = ("line-hint",)


def get_input(name: str) -> tuple[int, Builder]:
    if name not in INPUTS:
        raise ValueError(unknown_name("input", name, INPUTS))
    return INPUTS[name]
