"""Filters → AI Colorize: Learn from This Document: the image's line art and the colour under it
saved as a training pair in the user's style folder (``vendor/style_pairs.py``, shared with Krita).

GIMP composites the colour itself: in a duplicate of the image, every layer but the line art and
the colour layers under it is removed, the duplicate is scaled down to the pair's size and its
visible layers are merged. The artist's image and its undo history are untouched.
"""

from __future__ import annotations

import gi

gi.require_version("Gimp", "3.0")
import inkhue_gimpio as io  # noqa: E402
from gi.repository import Gimp, GLib  # noqa: E402

PROC = "plug-in-inkhue-learn"


def _walk(layers: list, out: list, shown: bool) -> None:
    for layer in layers:
        visible = shown and layer.get_visible()
        out.append((layer, visible))
        if layer.is_group():
            _walk(layer.get_children(), out, visible)


def learn(image: Gimp.Image, rules, pairs, folder: str | None = None) -> tuple[str, str]:
    """Save ``image``'s pair; returns (lines path, colour path). Raises ``rules.LayerRuleError``."""
    dup = image.duplicate()
    try:
        layers: list = []
        _walk(dup.get_layers(), layers, True)
        infos = [
            rules.LayerInfo(lay.get_id(), lay.get_name(), lay.is_group(), not lay.is_group())
            for lay, _ in layers
        ]
        visible = {lay.get_id(): shown for lay, shown in layers}
        line, colour = pairs.choose(infos, visible)
        keep = {line.key, *(i.key for i in colour)}
        line_layer = next(lay for lay, _ in layers if lay.get_id() == line.key)
        for lay, _ in reversed(layers):  # children before their groups
            if not lay.is_group() and lay.get_id() not in keep:
                dup.remove_layer(lay)
        w, h = pairs.scaled_size(dup.get_width(), dup.get_height())
        if (w, h) != (dup.get_width(), dup.get_height()):
            dup.scale(w, h)
        lines_rgba = bytes(io.read_on_canvas(line_layer, w, h))
        merged = dup.merge_visible_layers(Gimp.MergeType.CLIP_TO_IMAGE)
        colour_rgba = bytes(io.read_on_canvas(merged, w, h))
    finally:
        dup.delete()
    folder = folder or pairs.style_dir()
    file = image.get_file()
    title = file.get_basename() if file is not None else image.get_name()
    return pairs.save_pair(folder, title, w, h, lines_rgba, colour_rgba)


def run(procedure, run_mode, image, drawables, config, _data):
    import os

    def answer(status, message: str | None = None):
        error = GLib.Error.new_literal(GLib.quark_from_string("inkhue"), message, 0) if message else None
        return procedure.new_return_values(status, error or GLib.Error())

    try:
        from vendor import layer_rules, style_pairs
    except ImportError as e:
        from inkhue_vendorcheck import vendor_problem

        return answer(Gimp.PDBStatusType.EXECUTION_ERROR, vendor_problem(os.path.dirname(__file__), e))
    try:
        lines_path, _ = learn(image, layer_rules, style_pairs)
    except (layer_rules.LayerRuleError, OSError) as e:
        return answer(Gimp.PDBStatusType.EXECUTION_ERROR, f"AI Colorize: {e}")
    folder = os.path.dirname(lines_path)
    Gimp.message(style_pairs.saved_message(folder, style_pairs.count_pairs(folder)))
    return answer(Gimp.PDBStatusType.SUCCESS)


def create_procedure(plugin, name: str):
    procedure = Gimp.ImageProcedure.new(plugin, name, Gimp.PDBProcType.PLUGIN, run, None)
    procedure.set_image_types("*")
    procedure.set_sensitivity_mask(
        Gimp.ProcedureSensitivityMask.DRAWABLE
        | Gimp.ProcedureSensitivityMask.DRAWABLES
        | Gimp.ProcedureSensitivityMask.NO_DRAWABLES
    )
    procedure.set_menu_label("AI Colorize: Learn from This Document")
    procedure.add_menu_path("<Image>/Filters")
    procedure.set_documentation(
        "Save line art and colour as a training pair (Inkhue)",
        "Saves the line-art layer and the colour layers under it (hint layers left out) as a pair "
        "of PNG files in your style folder, for 'inkhue-train finetune --documents'. The image is "
        "not changed.",
        name,
    )
    procedure.set_attribution("Inkhue", "Inkhue", "2025")
    return procedure
