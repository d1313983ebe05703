"""Rules both plug-ins apply to an artist's layers: which is the line art, which holds the hints,
whether the hints are usable, and where the result layer goes.

Standard library only: ``installer/vendor.py`` copies this file into the Krita and the GIMP
plug-in, so both decide the same way and say the same words. Layers are passed as plain
``LayerInfo`` records, ordered **top to bottom** as the Layers panel shows them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Generic, TypeVar

# whole words only: GIMP's German default layer name "Hintergrund" (background) must not match
_HINT_NAME = re.compile(r"\bhints?\b", re.IGNORECASE)
_LINE_NAME = re.compile(r"\blines?\b|line ?art|\binks?\b|\binking\b|outlines?", re.IGNORECASE)
_BACKGROUND_NAME = re.compile(r"^\s*(background|hintergrund|arrière-plan|fond|paper|canvas)\b", re.IGNORECASE)


PREVIEW_LAYER_NAME = "AI Colorize (preview)"  # the temporary preview layer: never an input


class LayerRuleError(ValueError):
    """The layers cannot be used as chosen; the message says what to do."""


K = TypeVar("K")  # whatever identifies a layer for the caller (a node, an item id, an index)


@dataclass(frozen=True)
class LayerInfo(Generic[K]):
    key: K
    name: str
    is_group: bool = False
    is_paint: bool = True  # a layer holding pixels (not a group, mask, vector or filter layer)


def _words(name: str) -> str:
    return name.replace("_", " ").replace("-", " ").strip()


def is_hint_name(name: str) -> bool:
    """ "Hints", "hint", "Colour hints", "Hints #2", "my_hints", but not "Hintergrund" or "Highlights"."""
    return bool(_HINT_NAME.search(_words(name)))


def is_lineart_name(name: str) -> bool:
    """ "Lines", "Line art", "lineart", "Ink", "Inking", "Outline", "Clean lines", not "Hints"."""
    return bool(_LINE_NAME.search(_words(name))) and not is_hint_name(name)


def is_background_name(name: str) -> bool:
    """ "Background", "Hintergrund", "Background copy", "Paper": the canvas, not a drawing."""
    return bool(_BACKGROUND_NAME.search(_words(name)))


def guess_layers(
    layers: list[LayerInfo[K]], active: object | None = None, remembered_hints: str = ""
) -> tuple[LayerInfo[K] | None, LayerInfo[K] | None]:
    """The (line art, hints) a dialog should pre-select; either may be None when nothing fits.

    Line art: a layer named like line art (topmost first), else the active layer unless it is a
    hint, background or group layer, else the topmost other paint layer, else a background layer
    (line art opened from a file is often the only layer, named "Background"). Hints: the layer last
    used (by name), else one named like "Hints" (topmost first); never the line art.
    """
    paint = [i for i in layers if i.is_paint and not i.is_group]
    current = next((i for i in layers if active is not None and i.key == active), None)
    line = next((i for i in paint if is_lineart_name(i.name)), None)
    if line is None and current is not None and current in paint:
        if not is_hint_name(current.name) and not is_background_name(current.name):
            line = current
    if line is None:
        line = next((i for i in paint if not is_hint_name(i.name) and not is_background_name(i.name)), None)
    if line is None:  # a scan opened as "Background" with a Hints layer added: that is the line art
        line = next((i for i in paint if not is_hint_name(i.name)), None)
    hints = [i for i in paint if i is not line]
    hint = next((i for i in hints if remembered_hints and i.name == remembered_hints), None)
    if hint is None:
        hint = next((i for i in hints if is_hint_name(i.name)), None)
    return line, hint


NO_HINTS_CHOICE = "(none: AI suggests tones)"  # the hint-layer choice that sends no hints


def check_choice(lineart: LayerInfo | None, hints: LayerInfo | None) -> None:
    """Raise ``LayerRuleError`` unless the chosen pair can be coloured (before any pixel is read).

    ``hints`` None is a valid choice ("no hint layer": the AI chooses the colours)."""
    if lineart is None:
        raise LayerRuleError(
            'Choose the layer with your line art (dark lines on white or on transparency; naming it "Lines" '
            "lets AI Colorize pick it for you)."
        )
    if lineart.is_group or not lineart.is_paint:
        raise LayerRuleError(f'"{lineart.name}" is a layer group: choose the line-art layer itself.')
    if hints is None:
        return
    if hints.is_group or not hints.is_paint:
        raise LayerRuleError(f'"{hints.name}" is a layer group: choose the hint layer itself.')
    if hints.key == lineart.key:
        raise LayerRuleError(
            f'"{lineart.name}" is chosen as both the line art and the hints: the colour dabs go on a '
            "layer of their own."
        )


def no_hints_note(hint_name: str | None, where: str = "on the canvas") -> str:
    """The plain note for a run without dabs (``hint_name`` None: no hint layer chosen)."""
    if hint_name is None:
        return (
            "No hint layer: AI Colorize will suggest light, muted tones by itself. To choose a "
            'colour, paint a dab inside the area on a layer named "Hints" and choose it here.'
        )
    return (
        f'No colour dabs on "{hint_name}" {where}: AI Colorize will suggest light, muted tones by itself. '
        "Paint a dab inside an area to choose its colour."
    )


def flats_need_dabs_message(hint_name: str | None, where: str = "on the canvas") -> str:
    """Why flat colours cannot run without dabs (they only repeat the dabs' colours)."""
    what = "no hint layer is chosen" if hint_name is None else f'"{hint_name}" has no colour dabs {where}'
    return (
        f"Flat colours fills each area with the colour of the dab inside it, and {what}. Paint a "
        "dab inside each area you want coloured, or choose AI colours to let AI Colorize choose them."
    )


def check_hints(
    hint_name: str | None, has_dabs: bool, method: str = "ai", where: str = "on the canvas"
) -> str:
    """The note to show about the hints: "" when there are dabs in the area to colour, else the
    plain note that the AI chooses the colours. Raises ``LayerRuleError`` for flat colours
    (``method`` "flats") without dabs: they would paint nothing.

    ``hint_name`` None: no hint layer is chosen (the plug-in sends fully transparent hints)."""
    if has_dabs and hint_name is not None:
        return ""
    if method == "flats":
        raise LayerRuleError(flats_need_dabs_message(hint_name, where))
    return no_hints_note(hint_name, where)


_VISIBLE = bytes(1 if v > 32 else 0 for v in range(256))  # alpha: more than a speck
_DARK = bytes(1 if v < 224 else 0 for v in range(256))  # a channel noticeably below paper white
INK_CHUNK = 1 << 20  # pixels per step: line art usually has ink near the top, so stop early


def _bits(plane: bytes, table: bytes) -> int:
    """One bit per pixel as a big integer (bit i set where ``table[plane[i]]``): C-speed logic."""
    return int.from_bytes(plane.translate(table), "little")


def has_ink(rgba: bytes) -> bool:
    """True when 8-bit RGBA line art holds any line: a visible pixel noticeably darker than white.

    The one rule both plug-ins apply before asking the engine. Lines may be on white or on a
    transparent layer; coloured lines count (their darkest channel is dark), and so does a
    mid-grey pencil layer (the engine sees grey lines as lines: its spread and flats respect
    them); a blank, white, off-white or fully transparent layer has none.
    """
    step = 4 * INK_CHUNK
    for start in range(0, len(rgba), step):
        chunk = rgba[start : start + step]
        visible = _bits(chunk[3::4], _VISIBLE)
        if visible and visible & (
            _bits(chunk[0::4], _DARK) | _bits(chunk[1::4], _DARK) | _bits(chunk[2::4], _DARK)
        ):
            return True
    return False


def no_ink_message(lineart_name: str, blank: bool, where: str = "on the canvas") -> str:
    state = "is empty" if blank else "has no dark lines"
    return (
        f'The line-art layer "{lineart_name}" {state} {where}. Choose the layer with your lines '
        "(dark lines on white, or on a transparent layer)."
    )


@dataclass(frozen=True)
class Placement:
    """Where the result layer goes and how it blends."""

    above: bool  # directly above the line art (else directly below it)
    multiply: bool  # blend mode Multiply: the lines below show through flat colours
    reason: str  # one plain sentence for the artist, empty when the result goes below as usual


def place_result(lineart_opaque: bool, lineart_is_lowest: bool, lines_drawn_in: bool) -> Placement:
    """Colour goes under the lines, unless it cannot be seen there.

    An opaque line-art layer (lines on white) would hide a layer below it, and under the lowest
    layer of a group nothing can be inserted in one step: then the result goes above. Drawn in,
    the lines are in the result itself; without them the result multiplies onto the line art so
    the lines stay visible and the layer still holds flat colours.
    """
    if not lineart_opaque and not lineart_is_lowest:
        return Placement(above=False, multiply=False, reason="")
    why = "the line art has no transparent parts" if lineart_opaque else "the line art is the lowest layer"
    if lines_drawn_in:
        return Placement(
            True, False, f"The result is above the line art, with the lines drawn in, because {why}."
        )
    return Placement(
        True, True, f"The result is above the line art in Multiply mode (lines show through): {why}."
    )
