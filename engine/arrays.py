"""Validation and conversion of the caller's arrays into the engine's float planes.

Conventions: ``*_u8`` arrays are uint8 0..255, ``*_f32`` are float32 0..1; ``hw`` is one plane,
``hwc`` is channels-last. ``line_hw_f32`` is 1.0 on paper and 0.0 on ink.
"""

from __future__ import annotations

import numpy as np

from engine.errors import InputError
from engine.wire.schema import DEFAULT_MAX_PIXELS, MIN_SIDE, ColorizeOptions

INK_THRESHOLD = 0.5  # line plane below this is a barrier for region filling

# Rec. 601 luma: what artists' tools use for "grayscale"
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def check_size(height: int, width: int, what: str, max_pixels: int) -> None:
    if height < MIN_SIDE or width < MIN_SIDE:
        raise InputError(f"{what} is {width}x{height} pixels; both sides must be at least {MIN_SIDE} pixels")
    if height * width > max_pixels:
        raise InputError(
            f"{what} is {width}x{height} = {height * width:,} pixels, over the limit of "
            f"{max_pixels:,}; crop or downscale it, or raise max_pixels"
        )


def check_lineart(lineart: object, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Return ``lineart`` as an H×W×4 uint8 RGBA array, or raise InputError."""
    if not isinstance(lineart, np.ndarray):
        raise InputError(f"line art must be a numpy array, got {type(lineart).__name__}")
    if lineart.dtype != np.uint8:
        raise InputError(f"line art must be uint8, got dtype {lineart.dtype}")
    if lineart.ndim in (2, 3):  # before any copy: a huge view is refused without allocating
        check_size(lineart.shape[0], lineart.shape[1], "line art", max_pixels)
    if lineart.ndim == 2:
        gray = lineart
        rgba = np.empty((*gray.shape, 4), np.uint8)
        rgba[..., :3] = gray[..., None]
        rgba[..., 3] = 255
    elif lineart.ndim == 3 and lineart.shape[2] in (3, 4):
        rgba = lineart
        if lineart.shape[2] == 3:
            rgba = np.empty((*lineart.shape[:2], 4), np.uint8)
            rgba[..., :3] = lineart
            rgba[..., 3] = 255
    else:
        raise InputError(f"line art must be H×W, H×W×3 or H×W×4 uint8, got shape {tuple(lineart.shape)}")
    return rgba


def check_hints(hints: object, shape: tuple[int, int]) -> np.ndarray | None:
    """Return ``hints`` as H×W×4 uint8 RGBA matching ``shape``, or None for no hints."""
    if hints is None:
        return None
    if not isinstance(hints, np.ndarray):
        raise InputError(f"hints must be a numpy array or None, got {type(hints).__name__}")
    if hints.dtype != np.uint8:
        raise InputError(f"hints must be uint8, got dtype {hints.dtype}")
    if hints.ndim != 3 or hints.shape[2] != 4:
        raise InputError(
            f"hints must be H×W×4 uint8 RGBA (alpha marks the hint pixels), got shape {tuple(hints.shape)}"
        )
    if hints.shape[:2] != shape:
        raise InputError(
            f"hints are {hints.shape[1]}x{hints.shape[0]} but the line art is "
            f"{shape[1]}x{shape[0]}; the hint layer must have the line art's size"
        )
    return hints


def line_from_rgba(lineart_rgba_u8: np.ndarray) -> np.ndarray:
    """Line plane (1 = paper, 0 = ink) from RGBA line art, on white or on a transparent layer.

    Compositing over white handles both cases: opaque dark-on-white keeps its luma, and lines on a
    transparent layer (alpha carries the strokes) become dark where alpha is high.
    """
    h = lineart_rgba_u8.shape[0]
    line_hw_f32 = np.empty(lineart_rgba_u8.shape[:2], np.float32)
    step = max(1, (1 << 22) // max(1, lineart_rgba_u8.shape[1]))  # ~4 M pixels of temporaries
    for y in range(0, h, step):
        strip = lineart_rgba_u8[y : y + step]
        alpha = strip[..., 3].astype(np.float32) * (1.0 / 255.0)
        luma = (strip[..., :3].astype(np.float32) @ _LUMA) * (1.0 / 255.0)
        line_hw_f32[y : y + step] = 1.0 - alpha * (1.0 - luma)
    return line_hw_f32


def hints_planes(hints_rgba_u8: np.ndarray | None, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Hint colour (H×W×3, zero where unhinted) and hint mask (H×W, alpha as strength) as f32."""
    if hints_rgba_u8 is None:
        return np.zeros((*shape, 3), np.float32), np.zeros(shape, np.float32)
    mask_hw_f32 = hints_rgba_u8[..., 3].astype(np.float32) * (1.0 / 255.0)
    rgb_hwc_f32 = hints_rgba_u8[..., :3].astype(np.float32) * (1.0 / 255.0)
    rgb_hwc_f32 *= (mask_hw_f32 > 0)[..., None]
    return rgb_hwc_f32, mask_hw_f32


def to_rgb_u8(rgb_hwc_f32: np.ndarray) -> np.ndarray:
    """Quantise in place (the float buffer is consumed) so large canvases need no temporaries."""
    rgb_hwc_f32 *= 255.0
    rgb_hwc_f32 += 0.5
    np.clip(rgb_hwc_f32, 0, 255, out=rgb_hwc_f32)
    return rgb_hwc_f32.astype(np.uint8)


def with_alpha(
    rgb_u8: np.ndarray, alpha_hw_f32: np.ndarray, line_hw_f32: np.ndarray, opts: ColorizeOptions
) -> np.ndarray:
    """RGBA from an RGB result; drawn-in lines stay opaque over transparent areas."""
    if opts.compose_lines:
        alpha_hw_f32 = np.maximum(alpha_hw_f32, 1.0 - np.clip(line_hw_f32, 0.0, 1.0))
    alpha_u8 = (alpha_hw_f32 * 255.0 + 0.5).astype(np.uint8)
    return np.concatenate([rgb_u8, alpha_u8[..., None]], -1)
