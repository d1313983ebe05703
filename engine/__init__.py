"""Inkhue engine: two-stage line-art colorization.

from engine import colorize
rgb_u8 = colorize(lineart_u8, hints_rgba_u8)

The names below load on first use, so ``engine.wire`` (standard library only: what the plug-ins
and the installer share with the engine) imports without numpy or a model runtime.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.colorizer import Colorizer, colorize, make_colorizer
    from engine.errors import BackendError, ImageReadError, InkhueError, InputError, ModelError
    from engine.pipeline import LocalColorizer
    from engine.remote import RemoteColorizer
    from engine.wire.schema import ColorizeOptions

__version__ = "0.1.0"
__all__ = [
    "BackendError",
    "ColorizeOptions",
    "Colorizer",
    "ImageReadError",
    "InkhueError",
    "InputError",
    "LocalColorizer",
    "ModelError",
    "RemoteColorizer",
    "colorize",
    "make_colorizer",
]
_HOME = {name: "engine.errors" for name in __all__ if name.endswith("Error")}
_HOME.update(
    Colorizer="engine.colorizer",
    colorize="engine.colorizer",
    make_colorizer="engine.colorizer",
    LocalColorizer="engine.pipeline",
    RemoteColorizer="engine.remote",
    ColorizeOptions="engine.wire.schema",
)


def __getattr__(name: str) -> object:
    if name not in _HOME:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value
