#!/usr/bin/env python3
"""Inkhue for GIMP 3: Filters → AI Colorize… colours line art following colour hints.

GIMP runs this file as a script from ``plug-ins/inkhue_gimp/``. Its helper modules and the
engine's client (``vendor/``, copied in by ``installer/vendor.py``) sit beside it, so the folder
goes on ``sys.path`` first. Only the standard library and GIMP's API are used: GIMP's Python has
no numpy.

Non-interactive use (scripts, batch)::

    proc = Gimp.get_pdb().lookup_procedure("plug-in-inkhue-colorize")
    cfg = proc.create_config()
    cfg.set_property("image", image)
    cfg.set_property("lineart-layer", lines)   # None: the selected layer
    cfg.set_property("hint-layer", hints)      # None: the layer named like "Hints"
    result = proc.run(cfg)
"""

from __future__ import annotations

import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gi  # noqa: E402

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
import inkhue_pixels as px  # noqa: E402
from gi.repository import Gegl, Gimp, GLib, GObject  # noqa: E402
from inkhue_layers import LayerChoiceError, LayerInfo, choose_layers  # noqa: E402

try:  # a plug-in folder copied without its vendored client must still load and explain itself
    import inkhue_engine as engine
except ImportError as e:  # pragma: no cover - exercised by a broken install only
    engine = None
    _IMPORT_ERROR = str(e)


PROC = "plug-in-inkhue-colorize"
RESULT_NAME = "AI Colorize"
FMT_RGBA = "R'G'B'A u8"  # 8-bit sRGB-encoded RGBA whatever the image's precision or mode
FMT_MASK = "Y u8"
_ENGINE_CHOICES = (
    ("settings", "As installed (Inkhue settings)"),
    ("local", "This computer"),
    ("remote", "Remote server"),
)
_MODE_NOTES = {  # the result is converted into the image's mode on write
    Gimp.ImageBaseType.GRAY: "grayscale mode, so the colours were turned into greys",
    Gimp.ImageBaseType.INDEXED: "indexed mode, so the colours were limited to its palette",
}
_LAYER_TYPES = {
    Gimp.ImageBaseType.RGB: Gimp.ImageType.RGBA_IMAGE,
    Gimp.ImageBaseType.GRAY: Gimp.ImageType.GRAYA_IMAGE,
    Gimp.ImageBaseType.INDEXED: Gimp.ImageType.INDEXEDA_IMAGE,
}


class Failure(Exception):
    """Ends the run with EXECUTION_ERROR and this message, before the image was touched."""


class Cancelled(Exception):
    """The artist closed the dialog."""


# ---------------------------------------------------------------------------------------------
# reading and writing pixels


def _rect(r: px.Rect) -> Gegl.Rectangle:
    return Gegl.Rectangle.new(r.x, r.y, r.width, r.height)


def read_on_canvas(layer: Gimp.Layer, canvas_w: int, canvas_h: int) -> bytes | bytearray:
    """The layer's pixels as canvas-sized 8-bit RGBA; transparent where the layer does not reach.

    Gegl converts from any precision and mode (16/32-bit, linear, grayscale, indexed) on read.
    """
    _, ox, oy = layer.get_offsets()
    window = px.layer_window(canvas_w, canvas_h, ox, oy, layer.get_width(), layer.get_height())
    if window is None:
        return bytearray(canvas_w * canvas_h * 4)
    in_layer, on_canvas = window
    data = layer.get_buffer().get(_rect(in_layer), 1.0, FMT_RGBA, Gegl.AbyssPolicy.NONE)
    return px.place(bytes(data), on_canvas, canvas_w, canvas_h)


def selection_mask(image: Gimp.Image, canvas_w: int, canvas_h: int) -> bytes | None:
    """One byte per canvas pixel (255 = selected), or None when nothing is selected."""
    if Gimp.Selection.is_empty(image):
        return None
    buf = image.get_selection().get_buffer()
    mask = bytes(buf.get(Gegl.Rectangle.new(0, 0, canvas_w, canvas_h), 1.0, FMT_MASK, Gegl.AbyssPolicy.NONE))
    return None if px.is_all(mask, 255) else mask


def insert_result(image: Gimp.Image, lineart: Gimp.Layer, rgba: bytes, width: int, height: int) -> Gimp.Layer:
    """A new canvas-sized layer directly below ``lineart``, as one undo step; nothing else changes."""
    layer_type = _LAYER_TYPES.get(image.get_base_type(), Gimp.ImageType.RGBA_IMAGE)
    image.undo_group_start()
    inserted = False
    try:
        layer = Gimp.Layer.new(image, RESULT_NAME, width, height, layer_type, 100.0, Gimp.LayerMode.NORMAL)
        inserted = image.insert_layer(layer, lineart.get_parent(), image.get_item_position(lineart) + 1)
        buf = layer.get_buffer()
        buf.set(Gegl.Rectangle.new(0, 0, width, height), FMT_RGBA, bytes(rgba))
        buf.flush()
        layer.update(0, 0, width, height)
    except Exception:
        if inserted:
            image.remove_layer(layer)  # never leave a half-filled layer behind
        raise
    finally:
        image.undo_group_end()
    return layer


# ---------------------------------------------------------------------------------------------
# choosing layers


def all_layers(image: Gimp.Image) -> list[Gimp.Layer]:
    """Every layer top to bottom, group contents right after their group."""
    out: list[Gimp.Layer] = []

    def walk(layers: list) -> None:
        for layer in layers:
            out.append(layer)
            if layer.is_group():
                walk(layer.get_children())

    walk(image.get_layers())
    return out


def pick_layers(
    image: Gimp.Image, drawables: list, lineart: Gimp.Layer | None, hints: Gimp.Layer | None
) -> tuple[Gimp.Layer, Gimp.Layer]:
    layers = all_layers(image)
    by_id = {layer.get_id(): layer for layer in layers}
    infos = [LayerInfo(layer.get_id(), layer.get_name(), layer.is_group()) for layer in layers]
    selected = next((d.get_id() for d in drawables or [] if d.get_id() in by_id), None)

    def own(layer: Gimp.Layer | None, role: str) -> int | None:
        if layer is None:
            return None
        if layer.get_id() not in by_id:
            raise Failure(f"the {role} layer {layer.get_name()!r} is not in this image")
        return layer.get_id()

    try:
        line, hint = choose_layers(infos, selected, own(lineart, "line-art"), own(hints, "hint"))
    except LayerChoiceError as e:
        raise Failure(str(e)) from e
    return by_id[line.key], by_id[hint.key]


def _guesses(image: Gimp.Image, drawables: list) -> tuple[Gimp.Layer | None, Gimp.Layer | None]:
    """The default (line art, hints) pair, or None for a layer the names do not give away."""
    try:
        return pick_layers(image, drawables, None, None)
    except Failure:
        pass
    selected = [d for d in drawables or [] if isinstance(d, Gimp.Layer)]
    return (selected[0] if selected else None), None


# ---------------------------------------------------------------------------------------------
# the procedure


def colorize(procedure, image, drawables, config, interactive: bool) -> None:
    """Everything between the arguments and the new layer; raises Failure with the reason."""
    if interactive:
        import inkhue_dialog

        # preset the dialog with this image's layers (remembered ones may belong to another
        # image); the artist fixes what the guess missed
        ids = {layer.get_id() for layer in all_layers(image)}
        for prop, guess in zip(("lineart-layer", "hint-layer"), _guesses(image, drawables), strict=True):
            current = config.get_property(prop)
            if current is None or current.get_id() not in ids:
                config.set_property(prop, guess)
        if not inkhue_dialog.run(procedure, config):
            raise Cancelled
    lineart, hints = pick_layers(
        image, drawables, config.get_property("lineart-layer"), config.get_property("hint-layer")
    )
    try:
        options = engine.build_options(
            config.get_property("compose-lines"),
            config.get_property("working-size"),
            config.get_property("tile"),
        )
        width, height = image.get_width(), image.get_height()
        engine.check_size(width, height)
    except engine.PluginError as e:
        raise Failure(str(e)) from e

    Gimp.progress_init("AI Colorize: reading layers")
    line_rgba = read_on_canvas(lineart, width, height)
    if not px.has_ink(line_rgba):
        raise Failure(
            f"the line-art layer {lineart.get_name()!r} is empty: draw dark lines on white or on "
            "transparency, or choose the layer that holds them"
        )
    hint_rgba = read_on_canvas(hints, width, height)
    mask = selection_mask(image, width, height)

    Gimp.progress_set_text("AI Colorize: the engine is colouring…")
    try:
        rgb = engine.colorize(
            line_rgba,
            hint_rgba,
            width,
            height,
            options,
            tick=Gimp.progress_pulse,
            mode=config.get_property("engine"),
            url=config.get_property("server-url") or "",
        )
    except engine.PluginError as e:
        raise Failure(str(e)) from e
    Gimp.progress_set_text("AI Colorize: adding the layer")
    insert_result(image, lineart, px.rgb_to_rgba(rgb, mask), width, height)
    Gimp.progress_update(1.0)
    Gimp.progress_end()
    Gimp.displays_flush()
    mode = _MODE_NOTES.get(image.get_base_type())
    if mode:
        # GIMP titles the message with the procedure's name
        Gimp.message(f"the image is in {mode}; Image → Mode → RGB first for full colour")


def run(procedure, run_mode, image, drawables, config, _data):
    def answer(status, message: str | None = None):
        error = GLib.Error.new_literal(GLib.quark_from_string("inkhue"), message, 0) if message else None
        return procedure.new_return_values(status, error or GLib.Error())

    if engine is None:
        return answer(
            Gimp.PDBStatusType.EXECUTION_ERROR,
            f"the Inkhue plug-in is incomplete ({_IMPORT_ERROR}); reinstall it with the Inkhue installer",
        )
    try:
        colorize(procedure, image, drawables, config, run_mode == Gimp.RunMode.INTERACTIVE)
    except Cancelled:
        return answer(Gimp.PDBStatusType.CANCEL)
    except Failure as e:
        return answer(Gimp.PDBStatusType.EXECUTION_ERROR, f"AI Colorize: {e}")
    except Exception as e:  # a bug: report it instead of letting GIMP show a bare crash
        traceback.print_exc()
        return answer(Gimp.PDBStatusType.EXECUTION_ERROR, f"AI Colorize failed unexpectedly: {e!r}")
    return answer(Gimp.PDBStatusType.SUCCESS)


def add_arguments(procedure: Gimp.ImageProcedure) -> None:
    rw = GObject.ParamFlags.READWRITE
    procedure.add_layer_argument(
        "lineart-layer", "Line _art", "Layer with the lines (none: the selected layer)", True, rw
    )
    procedure.add_layer_argument(
        "hint-layer", "_Hints", 'Layer with colour dabs (none: the layer named like "Hints")', True, rw
    )
    choice = Gimp.Choice.new()
    for index, (nick, label) in enumerate(_ENGINE_CHOICES):
        choice.add(nick, index, label, "")
    procedure.add_choice_argument("engine", "_Engine", "Where the colouring runs", choice, "settings", rw)
    procedure.add_string_argument(
        "server-url", "Server _URL", "Remote engine address (empty: the one in the settings)", "", rw
    )
    procedure.add_boolean_argument(
        "compose-lines", "_Keep lines on the colours", "Multiply the line art onto the result", True, rw
    )
    procedure.add_int_argument(
        "working-size", "_Working size", "Draft resolution, longest side (0: the model's own)", 0, 4096, 0, rw
    )
    procedure.add_int_argument("tile", "_Tile", "Refinement tile side (0: the model's own)", 0, 8192, 0, rw)


class InkhueColorize(Gimp.PlugIn):
    def do_set_i18n(self, _name):
        return False

    def do_query_procedures(self):
        return [PROC]

    def do_create_procedure(self, name):
        procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, run, None)
        procedure.set_image_types("*")
        # any image, whatever is selected: the layers can be found by name; never without an image
        procedure.set_sensitivity_mask(
            Gimp.ProcedureSensitivityMask.DRAWABLE
            | Gimp.ProcedureSensitivityMask.DRAWABLES
            | Gimp.ProcedureSensitivityMask.NO_DRAWABLES
        )
        procedure.set_menu_label("AI Colorize…")
        procedure.add_menu_path("<Image>/Filters")
        procedure.set_documentation(
            "Colour line art following colour hints (Inkhue)",
            'Adds a layer named "AI Colorize" under the line art, coloured by the Inkhue engine '
            "after the dabs on the hint layer. Existing layers are not changed; with a selection "
            "only the selected part is coloured.",
            name,
        )
        procedure.set_attribution("Inkhue", "Inkhue", "2025")
        add_arguments(procedure)
        return procedure


if __name__ == "__main__":
    Gimp.main(InkhueColorize.__gtype__, sys.argv)
