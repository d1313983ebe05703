"""Adding the result layer as one undo step (pure Python: GIMP's objects are passed in).

Kept apart from the GIMP calls that make and fill the layer so the order of the steps, all of
them inside one undo group, can be tested without GIMP (tests/gimp/test_gimp_units.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable


def is_lowest(image, layer) -> bool:
    """True when ``layer`` is the bottom layer of its group (or of the image)."""
    parent = layer.get_parent()
    siblings = parent.get_children() if parent is not None else image.get_layers()
    return image.get_item_position(layer) == len(siblings) - 1


def add_result(image, lineart, hints, make_layer: Callable[[], object], fill: Callable, above: bool):
    """Insert ``make_layer()`` next to ``lineart``, fill it and hide ``hints``: one undo step.

    GIMP's undo groups what happens between ``undo_group_start`` and ``undo_group_end``, so one
    Undo removes the result and shows the hint layer again. On a failure nothing is left changed.
    ``hints`` None: no hint layer was used, none is hidden.
    """
    position = image.get_item_position(lineart) + (0 if above else 1)
    hints_were_visible = hints is not None and hints.get_visible()
    image.undo_group_start()
    layer, inserted = None, False
    try:
        layer = make_layer()
        inserted = image.insert_layer(layer, lineart.get_parent(), position)
        if not inserted:
            raise RuntimeError("GIMP did not add the result layer")
        fill(layer)
        if hints_were_visible:
            hints.set_visible(False)  # the dabs would sit on top of the colours
    except BaseException:
        if inserted:
            image.remove_layer(layer)  # never leave a half-filled layer behind
        if hints is not None:
            hints.set_visible(hints_were_visible)
        raise
    finally:
        image.undo_group_end()
    return layer


def load_state(path: str) -> dict:
    """What the plug-in remembers between runs (a JSON file in GIMP's profile); {} if unreadable."""
    try:
        with open(path, encoding="utf-8") as f:
            state = json.load(f)
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def save_state(path: str, state: dict) -> None:
    """Best effort: a profile that cannot be written only means nothing is remembered."""
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(state, f)
    except OSError:
        pass


def first_time(path: str, note: str) -> bool:
    """True the first time ``note`` is asked about (remembered in the state file at ``path``).

    Where the result goes is explained once, not on every run.
    """
    state = load_state(path)
    told = state.get("told") if isinstance(state.get("told"), list) else []
    if note in told:
        return False
    save_state(path, {**state, "told": [*told, note]})
    return True
