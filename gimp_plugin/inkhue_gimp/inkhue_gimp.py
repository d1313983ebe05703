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
    cfg.set_property("lineart-layer", lines)   # None: named like "Line art", else the selected layer
    cfg.set_property("hint-layer", hints)      # None: the layer named like "Hints"
    cfg.set_property("method", "flats")        # "ai" (default) or "flats": exact dab colours, no AI
    cfg.set_property("transparent", True)      # default: alpha 0 where nothing is painted
    cfg.set_property("flats-layers", True)     # with "flats": a group "AI Colorize", a layer per colour
    cfg.set_property("gap", 0)                 # close gaps in the lines up to this many px; 0: automatic
    result = proc.run(cfg)                     # EXECUTION_ERROR + the artist-facing message

Arguments: ``lineart-layer``, ``hint-layer``, ``engine`` ("settings", "local", "remote"),
``server-url``, ``compose-lines`` (draw the lines into the result), ``method`` ("ai": the model's
colours with shading; "flats": each gap-closed region takes the exact colour of the dabs inside
it, no network), ``transparent`` (on by default: the layer is transparent where nothing is
painted, e.g. unhinted background), ``flats-layers`` (with "flats" only: the result is a layer
group "AI Colorize" holding one layer per dab colour, named like "#c83c5a", without lines, placed
like flat colours), and the advanced ``working-size``, ``tile`` and ``gap`` (0 = automatic).

The layer rules (guesses, checks, messages, where the result goes) are shared with the Krita
plug-in: ``vendor/layer_rules.py`` (``engine/layer_rules.py``), applied by ``inkhue_layers.py``.
"""

from __future__ import annotations

import os
import sys
import traceback
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gi  # noqa: E402

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
import inkhue_pixels as px  # noqa: E402
from gi.repository import Gegl, Gimp, GLib, GObject  # noqa: E402
from inkhue_result import add_result, first_time, is_lowest, load_state, save_state  # noqa: E402

try:  # a plug-in folder copied without its vendored files must still load and explain itself
    import inkhue_engine as engine
    import inkhue_layers as lay
    from vendor.layer_rules import has_ink, place_result
except ImportError as e:
    from inkhue_vendorcheck import vendor_problem

    engine = lay = None
    _IMPORT_ERROR = vendor_problem(os.path.dirname(os.path.abspath(__file__)), e)


PROC = "plug-in-inkhue-colorize"
RESULT_NAME = "AI Colorize"  # inkhue_layers.RESULT_NAME, known without the vendored files
STATE_FILE = "inkhue-gimp.json"  # in GIMP's profile: the last hint layer's name, what was told
OPAQUE_SHARE = 0.5  # line art covering more of the canvas than this would hide a layer below it
FMT_RGBA = "R'G'B'A u8"  # 8-bit sRGB-encoded RGBA whatever the image's precision or mode
FMT_MASK = "Y u8"
_METHOD_CHOICES = (
    ("ai", "AI colours (shading, guesses)"),
    ("flats", "Flat colours (exact dab colours, no AI)"),
)
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


@dataclass
class Checked:
    """A choice that can be coloured, with the pixels read to check it."""

    lineart: Gimp.Layer
    hints: Gimp.Layer
    line_rgba: bytes
    hint_rgba: bytes
    mask: bytes | None
    options: dict
    split: bool = False  # flats as a layer group, one layer per colour


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


def insert_result(image: Gimp.Image, checked: Checked, rgba: bytes, placement) -> Gimp.Layer:
    """The new canvas-sized layer beside the line art, with the hint layer hidden: one undo step."""
    width, height = image.get_width(), image.get_height()
    layer_type = _LAYER_TYPES.get(image.get_base_type(), Gimp.ImageType.RGBA_IMAGE)
    mode = Gimp.LayerMode.MULTIPLY if placement.multiply else Gimp.LayerMode.NORMAL

    def make() -> Gimp.Layer:
        return Gimp.Layer.new(image, RESULT_NAME, width, height, layer_type, 100.0, mode)

    def fill(layer: Gimp.Layer) -> None:
        buf = layer.get_buffer()
        buf.set(Gegl.Rectangle.new(0, 0, width, height), FMT_RGBA, bytes(rgba))
        buf.flush()
        layer.update(0, 0, width, height)

    return add_result(image, checked.lineart, checked.hints, make, fill, placement.above)


def insert_flats_group(image: Gimp.Image, checked: Checked, rgba: bytes, placement) -> Gimp.Layer:
    """A layer group "AI Colorize" with one layer per exact colour of the flats: one undo step."""
    width, height = image.get_width(), image.get_height()
    layer_type = _LAYER_TYPES.get(image.get_base_type(), Gimp.ImageType.RGBA_IMAGE)
    parts = px.split_colours(rgba)

    def make() -> Gimp.Layer:
        group = Gimp.GroupLayer.new(image, RESULT_NAME)
        if placement.multiply:
            group.set_mode(Gimp.LayerMode.MULTIPLY)
        return group

    def fill(group: Gimp.Layer) -> None:
        for position, (colour, _count, data) in enumerate(parts):  # largest area on top
            layer = Gimp.Layer.new(
                image, px.colour_name(colour), width, height, layer_type, 100.0, Gimp.LayerMode.NORMAL
            )
            if not image.insert_layer(layer, group, position):
                raise RuntimeError("GIMP did not add a flats layer")
            buf = layer.get_buffer()
            buf.set(Gegl.Rectangle.new(0, 0, width, height), FMT_RGBA, data)
            buf.flush()
            layer.update(0, 0, width, height)

    return add_result(image, checked.lineart, checked.hints, make, fill, placement.above)


# ---------------------------------------------------------------------------------------------
# choosing and checking layers


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


def layer_infos(image: Gimp.Image) -> tuple[list[lay.LayerInfo], dict[int, Gimp.Layer]]:
    """The image's layers for the shared rules (text layers hold paint too), and by item id."""
    layers = all_layers(image)
    infos = [lay.LayerInfo(i.get_id(), i.get_name(), i.is_group(), not i.is_group()) for i in layers]
    return infos, {layer.get_id(): layer for layer in layers}


def _selected_id(drawables: list, by_id: dict) -> int | None:
    return next((d.get_id() for d in drawables or [] if d.get_id() in by_id), None)


def preset_dialog(image: Gimp.Image, drawables: list, config) -> None:
    """Pre-select the guessed layers (remembered ones from another image give way to them)."""
    infos, by_id = layer_infos(image)
    remembered = load_state(state_path()).get("hint-layer", "")
    guesses = lay.guess(
        infos, _selected_id(drawables, by_id), remembered if isinstance(remembered, str) else ""
    )
    for prop, info in zip(("lineart-layer", "hint-layer"), guesses, strict=True):
        current = config.get_property(prop)
        if current is None or current.get_id() not in by_id:
            config.set_property(prop, by_id[info.key] if info else None)


def check(image: Gimp.Image, drawables: list, config) -> Checked:
    """The chosen (or guessed) layers, checked by the shared rules; raises Failure with the words."""
    infos, by_id = layer_infos(image)

    def key(prop: str) -> int | None:
        layer = config.get_property(prop)
        return layer.get_id() if layer is not None else None

    try:
        line, hint = lay.resolve(
            infos, _selected_id(drawables, by_id), key("lineart-layer"), key("hint-layer")
        )
    except lay.LayerRuleError as e:
        raise Failure(str(e)) from e
    try:
        flats_layers = config.get_property("flats-layers")
        options = engine.build_options(
            config.get_property("compose-lines"),
            config.get_property("working-size"),
            config.get_property("tile"),
            method=config.get_property("method"),
            transparent=config.get_property("transparent"),
            gap=config.get_property("gap"),
            flats_layers=flats_layers,
        )
        width, height = image.get_width(), image.get_height()
        engine.check_size(width, height)
    except engine.PluginError as e:
        raise Failure(str(e)) from e
    lineart, hints = by_id[line.key], by_id[hint.key]
    line_rgba = read_on_canvas(lineart, width, height)
    hint_rgba = read_on_canvas(hints, width, height)
    mask = selection_mask(image, width, height)
    message = lay.problem(
        line,
        hint,
        lambda: (px.has_paint(line_rgba), has_ink(line_rgba)),
        lambda: px.has_paint(hint_rgba, mask),
        mask is not None,
    )
    if message:
        raise Failure(message)
    split = engine.split_into_layers(options, flats_layers)
    return Checked(lineart, hints, line_rgba, hint_rgba, mask, options, split)


# ---------------------------------------------------------------------------------------------
# the procedure


def state_path() -> str:
    return os.path.join(Gimp.directory(), STATE_FILE)


def tell_once(message: str) -> None:
    """Say why the result sits where it does, the first time only (GIMP's message, titled AI Colorize)."""
    if first_time(state_path(), message):
        Gimp.message(message)


def remember_hints(name: str) -> None:
    """The next guess prefers a hint layer of this name (the artist's own name for it)."""
    save_state(state_path(), {**load_state(state_path()), "hint-layer": name})


def colorize(procedure, image, drawables, config, interactive: bool) -> None:
    """Everything between the arguments and the new layer; raises Failure with the reason."""
    if interactive:
        import inkhue_dialog

        preset_dialog(image, drawables, config)
        done: list[Checked] = []

        def problem() -> str | None:  # asked when Colorize is pressed: the dialog stays open
            try:
                done[:] = [check(image, drawables, config)]
            except Failure as e:
                return str(e)
            return None

        if not inkhue_dialog.run(procedure, config, problem):
            raise Cancelled
        checked = done[0]
    else:
        checked = check(image, drawables, config)
    width, height = image.get_width(), image.get_height()

    Gimp.progress_init("AI Colorize: the engine is colouring…")
    try:
        answer = engine.colorize(
            checked.line_rgba,
            checked.hint_rgba,
            width,
            height,
            checked.options,
            tick=Gimp.progress_pulse,
            mode=config.get_property("engine"),
            url=config.get_property("server-url") or "",
        )
    except engine.PluginError as e:
        raise Failure(str(e)) from e
    Gimp.progress_set_text("AI Colorize: adding the " + ("layers" if checked.split else "layer"))
    placement = place_result(
        px.opaque_share(checked.line_rgba) >= OPAQUE_SHARE,
        is_lowest(image, checked.lineart),
        checked.options["compose_lines"],
    )
    rgba = px.result_to_rgba(answer, width * height, checked.mask)
    if checked.split:
        insert_flats_group(image, checked, rgba, placement)
    else:
        insert_result(image, checked, rgba, placement)
    Gimp.progress_update(1.0)
    Gimp.progress_end()
    Gimp.displays_flush()
    remember_hints(checked.hints.get_name())
    if placement.reason:
        tell_once(placement.reason)
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
            _IMPORT_ERROR,
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
        "lineart-layer",
        "Line _art",
        'The layer with your lines (none: a layer named like "Line art", else the selected layer)',
        True,
        rw,
    )
    procedure.add_layer_argument(
        "hint-layer", "_Hints", 'The layer with your colour dabs (none: a layer named like "Hints")', True, rw
    )
    choice = Gimp.Choice.new()
    for index, (nick, label) in enumerate(_ENGINE_CHOICES):
        choice.add(nick, index, label, "")
    procedure.add_choice_argument("engine", "_Engine", "Where the colouring runs", choice, "settings", rw)
    procedure.add_string_argument(
        "server-url", "Server _URL", "Remote engine address (empty: the one in the settings)", "", rw
    )
    procedure.add_boolean_argument(
        "compose-lines",
        "_Draw the lines into the result",
        "On: the result shows your lines on the colours. Off: flat colours only; the result is then "
        "put in Multiply mode wherever it would hide the lines",
        True,
        rw,
    )
    method = Gimp.Choice.new()
    for index, (nick, label) in enumerate(_METHOD_CHOICES):
        method.add(nick, index, label, "")
    procedure.add_choice_argument(
        "method",
        "_Colours",
        "AI colours: the model paints each area after its dabs, with shading, and guesses where "
        "there is none. Flat colours: each closed area takes the exact colour of the dabs inside "
        "it, without AI",
        method,
        "ai",
        rw,
    )
    procedure.add_boolean_argument(
        "transparent",
        "_Transparent where nothing is painted",
        "On: the new layer is transparent where no colour goes (background without dabs, and "
        "with flat colours every area without a dab), so the layers below show. Off: those parts "
        "are filled (white with flat colours)",
        True,
        rw,
    )
    procedure.add_boolean_argument(
        "flats-layers",
        "One _layer per colour",
        'With flat colours: the result is a layer group "AI Colorize" with one layer per dab colour '
        '(named like "#c83c5a"), without the lines, transparent elsewhere, easy to select and '
        "repaint. Ignored with AI colours",
        False,
        rw,
    )
    procedure.add_int_argument(
        "working-size",
        "First-pass _detail (pixels, 0 = automatic)",
        "The AI first colours a small copy of the picture, this many pixels on its longest side, "
        "then refines it at full size. 0 lets the model choose; larger (64-4096) follows small "
        "areas more closely but is slower",
        0,
        4096,
        0,
        rw,
    )
    procedure.add_int_argument(
        "tile",
        "Refinement _piece size (pixels, 0 = automatic)",
        "The full-size pass works on square pieces this many pixels wide, blended together. "
        "0 lets the model choose; change it (128-8192) only to use less memory",
        0,
        8192,
        0,
        rw,
    )
    procedure.add_int_argument(
        "gap",
        "Close _gaps in the lines up to (pixels, 0 = automatic)",
        "Colour stops at the lines; a gap in a line up to this wide is treated as closed, so "
        "colour does not leak through it. 0 scales it to the picture (1/64 of its longest side); "
        "raise it when colour leaks out of an area, lower it when small areas merge",
        0,
        256,
        0,
        rw,
    )


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
            'Adds a layer named "AI Colorize" beside the line art, coloured by the Inkhue engine '
            "after the dabs on the hint layer, and hides the hint layer (one Undo brings both back). "
            "The result goes under line art on transparency, but above opaque line art (lines on "
            "white) or a lowest layer, in Multiply mode when the lines are not drawn in. The hint "
            "layer needs at least one dab (inside the selection, when there is one). Pixels of "
            "existing layers are not changed; with a selection only the selected part is coloured. "
            "The layer is transparent where nothing is painted (unless turned off); with flat "
            "colours it can be a layer group with one layer per dab colour.",
            name,
        )
        procedure.set_attribution("Inkhue", "Inkhue", "2025")
        add_arguments(procedure)
        return procedure


if __name__ == "__main__":
    Gimp.main(InkhueColorize.__gtype__, sys.argv)
