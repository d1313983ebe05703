"""Inkhue engine: two-stage line-art colorization.

from engine import colorize
rgb_u8 = colorize(lineart_u8, hints_rgba_u8)
"""

from __future__ import annotations

from engine.errors import BackendError, ImageReadError, InkhueError, InputError, ModelError
from engine.pipeline import Colorizer, colorize
from engine.schema import ColorizeOptions

__version__ = "0.1.0"
__all__ = [
    "BackendError",
    "ColorizeOptions",
    "Colorizer",
    "ImageReadError",
    "InkhueError",
    "InputError",
    "ModelError",
    "colorize",
]
