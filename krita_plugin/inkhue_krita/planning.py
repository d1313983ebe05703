"""Decisions before any pixel moves: which layers, which area, where the result goes, settings.

No Krita import: the extension passes plain values in, so all of this is unit tested.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields

MIN_SIDE = 16  # the engine refuses smaller images
DEFAULT_MAX_MEGAPIXELS = 50  # about 8660 x 5770; keeps Krita's memory for the request sane
RESULT_LAYER_NAME = "AI Colorize"
NO_HINT_LAYER_HELP = (
    "No hint layer found. Add a new paint layer above the line art (Layer > New > Add Paint "
    'Layer), name it "Hints", and paint small dabs of colour inside the areas you want coloured.'
)
_HINT_NAME = re.compile(r"hint", re.IGNORECASE)
_EXACT_HINT_NAME = re.compile(r"^\s*(colou?r\s*)?hints?\s*$", re.IGNORECASE)


class PlanError(Exception):
    """The request cannot go ahead; the message tells the artist what to change."""


def find_hint_layer(names: list[str]) -> int | None:
    """Index of the layer that holds the hints: "Hints"/"hint"/"Colour hints" first, then any
    name containing "hint"; the topmost match wins (``names`` is ordered bottom to top)."""
    for pattern in (_EXACT_HINT_NAME, _HINT_NAME):
        for i in range(len(names) - 1, -1, -1):
            if pattern.search(names[i]):
                return i
    return None


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
            f"{what} is {area.width}x{area.height} = {area.pixels / 1e6:.3g} megapixels, over the "
            f"limit of {max_megapixels:g} megapixels. Select a smaller part to colour (only the "
            "selection is processed), or raise the size limit in the AI Colorize options."
        )


def placement(index_in_parent: int, lineart_opaque: bool) -> str:
    """Where the result layer goes: "below" the line art, as colour is painted under lines.

    Two cases cannot show a layer below, so the result (which has the lines drawn in) goes
    directly "above": line art that is the lowest layer of its group (nothing can be inserted
    under it in one undo step), and line art without any transparency (it would hide it).
    """
    if index_in_parent == 0 or lineart_opaque:
        return "above"
    return "below"


@dataclass
class Settings:
    """The dialog's choices, remembered between runs in Krita's settings (strings only)."""

    mode: str = "local"  # "local" managed engine, or "remote" server
    url: str = ""
    token: str = ""
    compose_lines: bool = True
    working_size: int = 0  # 0: the model's own
    max_megapixels: float = DEFAULT_MAX_MEGAPIXELS
    hint_layer: str = ""  # name last used, preferred when the document has it

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
        if s.max_megapixels <= 0:
            s.max_megapixels = DEFAULT_MAX_MEGAPIXELS
        return s

    def save(self, write: Callable[[str, str], None]) -> None:
        for key, value in asdict(self).items():
            write(key, ("true" if value else "false") if isinstance(value, bool) else str(value))

    def engine_options(self) -> dict:
        """The request's options (only non-defaults are sent, so any engine version accepts them)."""
        opts: dict = {"compose_lines": self.compose_lines}
        if self.working_size:
            opts["working_size"] = self.working_size
        return opts
