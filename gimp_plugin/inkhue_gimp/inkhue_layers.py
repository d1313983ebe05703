"""The GIMP side of the layer rules (pure Python, no GIMP): the rules themselves are shared.

``vendor/layer_rules.py`` (``engine/wire/layer_rules.py``, also carried by the Krita plug-in) decides
which layers are guessed, whether a choice is usable and where the result goes, with the words
the artist reads. This module only adds what is GIMP's own: our earlier results are never
guessed, explicit script arguments win, and the checks run in the dialog and in scripts alike.
"""

from __future__ import annotations

from collections.abc import Callable

from vendor import layer_rules as rules
from vendor.layer_rules import PREVIEW_LAYER_NAME, LayerInfo, LayerRuleError

RESULT_NAME = "AI Colorize"

__all__ = [
    "PREVIEW_LAYER_NAME",
    "LayerInfo",
    "LayerRuleError",
    "RESULT_NAME",
    "guess",
    "hints_note",
    "problem",
    "resolve",
    "where",
]


def is_result_name(name: str) -> bool:
    """ "AI Colorize", "AI Colorize #1", "AI Colorize copy": a layer this plug-in made."""
    return name.strip().casefold().startswith(RESULT_NAME.casefold())


def guess(
    layers: list[LayerInfo], active: object | None, remembered_hints: str = ""
) -> tuple[LayerInfo | None, LayerInfo | None]:
    """The shared guess, blind to earlier results (GIMP selects a layer it just added)."""
    blind = [LayerInfo(i.key, i.name, i.is_group, False) if is_result_name(i.name) else i for i in layers]
    by_key = {i.key: i for i in layers}
    line, hint = rules.guess_layers(blind, active, remembered_hints)
    return (by_key[line.key] if line else None), (by_key[hint.key] if hint else None)


def resolve(
    layers: list[LayerInfo],
    active: object | None,
    lineart: object | None,
    hints: object | None,
    no_hints: bool = False,
) -> tuple[LayerInfo, LayerInfo | None]:
    """(line art, hints) for a run: the chosen keys (None: guessed), checked by the shared rules.

    Hints None: ``no_hints`` asked for none, or no layer was chosen and none is named like hints
    (the AI chooses the colours)."""
    by_key = {i.key: i for i in layers}
    for key, role in ((lineart, "line-art"), (None if no_hints else hints, "hint")):
        if key is not None and key not in by_key:
            raise LayerRuleError(f"The chosen {role} layer is not in this image: choose one of its layers.")
    line_guess, hint_guess = guess(layers, active)
    line = by_key[lineart] if lineart is not None else line_guess
    hint = None if no_hints else by_key[hints] if hints is not None else hint_guess
    rules.check_choice(line, hint)
    return line, hint


def where(in_selection: bool) -> str:
    return "inside the selection" if in_selection else "on the canvas"


def hints_note(hints: LayerInfo | None, has_dabs: bool, in_selection: bool, method: str = "ai") -> str:
    """The shared note about the hints ("" with dabs: the AI suggests tones where there are none);
    raises ``LayerRuleError`` for flat colours without a dab."""
    name = hints.name if hints is not None else None
    return rules.check_hints(name, has_dabs, method, where(in_selection))


def problem(
    lineart: LayerInfo,
    hints: LayerInfo | None,
    line_state: Callable[[], tuple[bool, bool]],
    hints_have_dabs: Callable[[], bool],
    in_selection: bool,
    method: str = "ai",
) -> str | None:
    """What stops a checked pair from being coloured, read from pixels; None when it can go ahead.

    ``line_state()`` -> (has any paint, has dark lines) on the canvas; ``hints_have_dabs()``: a
    visible hint pixel on the canvas, or inside the selection when there is one. No dabs (or no
    hint layer) stop only flat colours: the AI suggests light, muted tones by itself (``hints_note``).
    """
    painted, inked = line_state()
    if not inked:
        return rules.no_ink_message(lineart.name, blank=not painted)
    try:
        hints_note(hints, hints is not None and hints_have_dabs(), in_selection, method)
    except LayerRuleError as e:
        return str(e)
    return None
