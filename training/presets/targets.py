"""What a preset's generator predicts: ``TARGETS`` maps a name to a ``Target``.

``encode`` turns a crop into the training target (C×H×W f32), ``decode`` a network output back into
sRGB u8 given the true L (the chroma presets keep the input's lightness), ``seen`` the 3-plane
image the discriminator judges (RGB, or L with the predicted chroma).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.errors import unknown_name
from training.presets import colour
from training.presets.inputs import Crop


@dataclass(frozen=True)
class Target:
    out_channels: int  # the generator's output planes
    head: str  # "sigmoid" (regression in 0..1) or "raw" (classification logits)
    encode: Callable[[Crop], np.ndarray]
    decode: Callable[[np.ndarray, np.ndarray], np.ndarray]  # (C×H×W output, L H×W) -> H×W×3 u8
    space: str  # for the report


def _rgb_encode(c: Crop) -> np.ndarray:
    return np.moveaxis(c.rgb_u8.astype(np.float32) / 255.0, -1, 0)


def _rgb_decode(out: np.ndarray, _l: np.ndarray) -> np.ndarray:
    return colour.to_u8(np.moveaxis(out, 0, -1))


def _ab_encode(c: Crop) -> np.ndarray:
    return np.moveaxis(colour.ab_to_unit(c.lab[..., 1:]), -1, 0).astype(np.float32)


def _ab_decode(out: np.ndarray, l_hw: np.ndarray) -> np.ndarray:
    return colour.lab_planes_to_rgb_u8(l_hw, colour.unit_to_ab(np.moveaxis(out, 0, -1)))


def _uv_encode(c: Crop) -> np.ndarray:
    return np.moveaxis(colour.uv_to_unit(colour.rgb_u8_to_luv(c.rgb_u8)[..., 1:]), -1, 0).astype(np.float32)


def _uv_decode(out: np.ndarray, l_hw: np.ndarray) -> np.ndarray:
    return colour.luv_planes_to_rgb_u8(l_hw, colour.unit_to_uv(np.moveaxis(out, 0, -1)))


def _bins_encode(c: Crop) -> np.ndarray:
    return np.moveaxis(colour.uv_bins(colour.rgb_u8_to_luv(c.rgb_u8)[..., 1:]), -1, 0).astype(np.float32)


ANNEAL_T = 0.38  # Zhang et al.'s annealed mean: between the mode (saturated) and the mean (muted)


def bins_to_unit(logits: np.ndarray) -> np.ndarray:
    """2·UV_BINS×H×W logits → annealed-mean u, v in 0..1 (H×W×2)."""
    n = colour.UV_BINS
    z = logits.reshape(2, n, *logits.shape[1:]).astype(np.float64) / ANNEAL_T
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    unit = np.einsum("cbhw,b->chw", p, colour.bin_centres().astype(np.float64))
    return np.moveaxis(unit, 0, -1)


def _bins_decode(out: np.ndarray, l_hw: np.ndarray) -> np.ndarray:
    return colour.luv_planes_to_rgb_u8(l_hw, colour.unit_to_uv(bins_to_unit(out)))


TARGETS: dict[str, Target] = {
    "rgb": Target(3, "sigmoid", _rgb_encode, _rgb_decode, "sRGB"),
    "ab": Target(2, "sigmoid", _ab_encode, _ab_decode, "CIELAB a, b (L from the input)"),
    "uv": Target(2, "sigmoid", _uv_encode, _uv_decode, "CIELUV u, v (L from the input)"),
    "uv-bins": Target(2 * colour.UV_BINS, "raw", _bins_encode, _bins_decode, "CIELUV u, v in 50 bins each"),
}


def get_target(name: str) -> Target:
    if name not in TARGETS:
        raise ValueError(unknown_name("target", name, TARGETS))
    return TARGETS[name]
