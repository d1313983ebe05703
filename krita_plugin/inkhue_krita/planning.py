"""Decisions before any pixel moves: which area, how large, the remembered settings.

No Krita import: the extension passes plain values in, so all of this is unit tested. Which layers
and where the result goes are the shared rules in ``vendor/layer_rules.py``; the engine's limits
and choices (smallest side, methods, modes, largest gap) come from ``vendor/schema.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields

# the engine's: smallest side it accepts, its methods (the model, or flat hint colours by region),
# what the line-art layer holds, its largest gap to close
from .vendor.schema import MAX_GAP as MAX_GAP
from .vendor.schema import METHODS as METHODS
from .vendor.schema import MIN_SIDE as MIN_SIDE
from .vendor.schema import MODES as INPUT_MODES

DEFAULT_MAX_MEGAPIXELS = 50  # about 8660 x 5770; keeps Krita's memory for the request sane
RESULT_LAYER_NAME = "AI Colorize"
WORKING_SIZES = (0, 512, 768, 1024)  # 0: automatic (the model's own); offered in the dialog


class PlanError(Exception):
    """The request cannot go ahead; the message tells the artist what to change."""


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height

    def intersect(self, other: Rect) -> Rect | None:
        x0, y0 = max(self.x, other.x), max(self.y, other.y)
        x1 = min(self.x + self.width, other.x + other.width)
        y1 = min(self.y + self.height, other.y + other.height)
        if x1 <= x0 or y1 <= y0:
            return None
        return Rect(x0, y0, x1 - x0, y1 - y0)


def work_area(canvas: Rect, selection: Rect | None) -> Rect:
    """The canvas, or the selection's bounding box clipped to it."""
    if selection is None or selection.pixels == 0:
        return canvas
    area = canvas.intersect(selection)
    if area is None:
        raise PlanError("The selection lies outside the canvas. Select part of the image, or deselect all.")
    return area


def check_area(area: Rect, max_megapixels: float, selected: bool) -> None:
    if area.width < MIN_SIDE or area.height < MIN_SIDE:
        what = "The selection" if selected else "The image"
        raise PlanError(
            f"{what} is {area.width}x{area.height} pixels; AI Colorize needs at least "
            f"{MIN_SIDE}x{MIN_SIDE}. Select a larger area."
        )
    limit = int(max_megapixels * 1_000_000)
    if area.pixels > limit:
        what = "The selection" if selected else "The image"
        raise PlanError(
            f"{what} is {area.width}x{area.height} = {area.pixels / 1e6:.3g} million pixels, over the "
            f"limit of {max_megapixels:g} million. Select a smaller part to colour (only the "
            'selection is processed), or raise "Largest image to colour" under Advanced in the '
            "AI Colorize dialog."
        )


@dataclass
class Settings:
    """The dialog's choices, remembered between runs in Krita's settings (strings only)."""

    mode: str = "local"  # "local" managed engine, or "remote" server
    url: str = ""
    token: str = ""
    compose_lines: bool = True
    working_size: int = 0  # one of WORKING_SIZES
    max_megapixels: float = DEFAULT_MAX_MEGAPIXELS
    hint_layer: str = ""  # name last used, preferred when the document has it
    transparent: bool = True  # alpha 0 where nothing is painted
    method: str = "ai"  # one of METHODS
    per_colour: bool = False  # flats only: a layer group with one layer per hint colour
    gap: int = 0  # close gaps in the lines up to this many pixels; 0 = automatic
    input_mode: str = "lineart"  # one of INPUT_MODES: line art, or a shaded grayscale drawing (AI only)
    model: str = ""  # an installed model's name (the Model picker); "": the engine's own

    @property
    def split(self) -> bool:
        """The result is a group of one layer per colour (only flat colours can be split)."""
        return self.method == "flats" and self.per_colour

    @classmethod
    def load(
        cls, read: Callable[[str, str], str], mode: str = "local", url: str = "", token: str = ""
    ) -> Settings:
        """``read(key, default)`` returns the stored string; ``mode``/``url``/``token`` are the
        defaults from the engine's plug-in config file."""
        base = cls(mode=mode, url=url or "", token=token or "")
        values = {}
        for f in fields(cls):
            default = getattr(base, f.name)
            raw = read(f.name, "")
            if raw == "":
                values[f.name] = default
                continue
            try:
                if f.type in ("bool", bool):
                    values[f.name] = raw.lower() in ("1", "true", "yes")
                elif f.type in ("int", int):
                    values[f.name] = int(raw)
                elif f.type in ("float", float):
                    values[f.name] = float(raw)
                else:
                    values[f.name] = raw
            except ValueError:
                values[f.name] = default  # a hand-edited setting: fall back, never fail
        s = cls(**values)
        if s.mode not in ("local", "remote"):
            s.mode = base.mode
        if s.working_size not in WORKING_SIZES:  # e.g. 384 from an older version: now automatic
            s.working_size = 0
        if s.max_megapixels <= 0:
            s.max_megapixels = DEFAULT_MAX_MEGAPIXELS
        if s.method not in METHODS:
            s.method = "ai"
        if s.input_mode not in INPUT_MODES:
            s.input_mode = "lineart"
        if not 0 <= s.gap <= MAX_GAP:
            s.gap = 0
        return s

    def save(self, write: Callable[[str, str], None]) -> None:
        for key, value in asdict(self).items():
            write(key, ("true" if value else "false") if isinstance(value, bool) else str(value))

    def engine_options(self) -> dict:
        """The request's options. Only those that differ from the engine's defaults are sent, so an
        engine older than an option still accepts a request that does not use it (transparent is
        the plug-in's default, though: an engine without it refuses until it is unchecked).

        One layer per colour needs the flats alone: transparent, without the lines drawn in."""
        opts: dict = {"compose_lines": self.compose_lines and not self.split}
        if self.method != "ai":
            opts["method"] = self.method
        else:
            if self.working_size:  # the draft pass exists only for the AI
                opts["working_size"] = self.working_size
            if self.input_mode != "lineart":
                opts["mode"] = self.input_mode
        if self.transparent or self.split:
            opts["transparent"] = True
        if self.gap:
            opts["gap"] = self.gap
        return opts
