"""Which layer is the line art and which holds the colour hints (pure Python, no GIMP).

The plug-in passes the image's layers top to bottom as ``LayerInfo`` records; the choice follows
what an artist expects: the selected layer is the line art, the hints sit in a layer named like
"Hints". When the artist is still on the hint layer, the line art is found by its name instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class LayerChoiceError(ValueError):
    """No sensible line-art / hint layer pair; the message says what to do."""


# whole words only: GIMP's German default layer name "Hintergrund" (background) must not match
_HINT_NAME = re.compile(r"\bhints?\b", re.IGNORECASE)
_LINE_NAME = re.compile(r"line|lineart|\bink|inks\b|outline", re.IGNORECASE)


@dataclass(frozen=True)
class LayerInfo:
    key: object  # what identifies the layer for the caller (the plug-in uses GIMP's item id)
    name: str
    is_group: bool = False


def is_hint_name(name: str) -> bool:
    """ "Hints", "hint", "colour hints", "Hints #2", "my_hints" — but not "Highlights"."""
    return bool(_HINT_NAME.search(name.replace("_", " ").replace("-", " ").strip()))


def is_lineart_name(name: str) -> bool:
    return bool(_LINE_NAME.search(name)) and not is_hint_name(name)


def choose_layers(
    layers: list[LayerInfo],
    selected: object | None,
    lineart: object | None = None,
    hints: object | None = None,
) -> tuple[LayerInfo, LayerInfo]:
    """(line art, hints) from explicit choices, else the selection and the layers' names."""
    if not layers:
        raise LayerChoiceError("the image has no layers")

    def find(key: object, role: str) -> LayerInfo:
        for info in layers:
            if info.key == key:
                return info
        raise LayerChoiceError(f"the chosen {role} layer is not in this image")

    if lineart is not None:
        line = find(lineart, "line-art")
    else:
        line = _default_lineart(layers, selected)
    if hints is not None:
        hint = find(hints, "hint")
    else:
        candidates = [i for i in layers if is_hint_name(i.name) and i is not line]
        if not candidates:
            raise LayerChoiceError(
                f'no hint layer found: add a layer named "Hints" above the line art {line.name!r} '
                "and paint colour dabs on it, or choose the hint layer in the dialog"
            )
        hint = candidates[0]
    if hint is line:
        raise LayerChoiceError(
            f"the layer {line.name!r} was chosen as both line art and hints; the hints go on a "
            "layer of their own"
        )
    return line, hint


def _default_lineart(layers: list[LayerInfo], selected: object | None) -> LayerInfo:
    current = None
    if selected is not None:
        current = next((i for i in layers if i.key == selected), None)
    if current is not None and not is_hint_name(current.name) and not current.is_group:
        return current
    named = [i for i in layers if is_lineart_name(i.name) and not i.is_group]
    if named:
        return named[0]
    if current is not None and current.is_group:
        raise LayerChoiceError(
            f"the selected layer {current.name!r} is a layer group; select the line-art layer itself"
        )
    raise LayerChoiceError(
        'cannot tell which layer is the line art: select it (or name it "Line art") and run AI Colorize again'
    )
