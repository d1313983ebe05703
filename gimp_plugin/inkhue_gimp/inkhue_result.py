"""Adding the result layer as one undo step (pure Python: GIMP's objects are passed in).

Kept apart from the GIMP calls that make and fill the layer so the order of the steps, all of
them inside one undo group, can be tested without GIMP (tests/test_gimp_units.py).
"""

from __future__ import annotations

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
    """
    position = image.get_item_position(lineart) + (0 if above else 1)
    hints_were_visible = hints.get_visible()
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
        hints.set_visible(hints_were_visible)
        raise
    finally:
        image.undo_group_end()
    return layer


def first_time(path: str, note: str) -> bool:
    """True the first time ``note`` is asked about (remembered in the file at ``path``).

    Where the result goes is explained once, not on every run; a file that cannot be read or
    written only means the note is shown again.
    """
    try:
        with open(path, encoding="utf-8") as f:
            if note in f.read().splitlines():
                return False
    except OSError:
        pass
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write(note.replace("\n", " ") + "\n")
    except OSError:
        pass
    return True
