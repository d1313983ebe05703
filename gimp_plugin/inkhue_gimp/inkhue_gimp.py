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
    cfg.set_property("hint-layer", hints)      # None: the layer named like "Hints" (if none: no hints)
    cfg.set_property("no-hints", True)         # no hint layer: the AI chooses every colour
    cfg.set_property("method", "flats")        # "ai" (default) or "flats": exact dab colours, no AI
    cfg.set_property("transparent", True)      # default: alpha 0 where nothing is painted
    cfg.set_property("flats-layers", True)     # with "flats": a group "AI Colorize", a layer per colour
    cfg.set_property("gap", 0)                 # close gaps in the lines up to this many px; 0: automatic
    cfg.set_property("input-mode", "lineart")  # "auto", "grayscale" (shaded, keeps its lightness)
    cfg.set_property("model", "inkhue-finetuned")  # an installed model by name; "": the engine's own
    result = proc.run(cfg)                     # EXECUTION_ERROR + the artist-facing message

Arguments: ``lineart-layer``, ``hint-layer``, ``no-hints`` (no hint layer: the engine gets fully
transparent hints and the AI chooses the colours; an empty hint layer does the same), ``engine``
("settings", "local", "remote"), ``server-url``, ``compose-lines`` (draw the lines into the result),
``method`` ("ai": the model's colours with shading; "flats": each gap-closed region takes the exact
colour of the dabs inside it, no network), ``transparent`` (on by default: the layer is transparent
where nothing is painted, e.g. unhinted background), ``flats-layers`` (with "flats" only: the result
is a layer group "AI Colorize" holding one layer per dab colour, named like "#c83c5a", without
lines, placed like flat colours), ``input-mode`` ("lineart", "auto", or "grayscale": a shaded grayscale
drawing coloured keeping its lightness; AI only), ``model`` (an installed model by name, e.g. the one
Filters → AI Colorize: Fine-tune on My Style made, ``inkhue_finetune.py``; "" for the engine's own)
and the advanced ``working-size``, ``tile`` and ``gap`` (0 = automatic).

The layer rules (guesses, checks, messages, where the result goes) are shared with the Krita
plug-in: ``vendor/layer_rules.py`` (``engine/wire/layer_rules.py``), applied by ``inkhue_layers.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import traceback
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gi  # noqa: E402

gi.require_version("Gimp", "3.0")
import inkhue_finetune as finetune  # noqa: E402
import inkhue_gimpio as io  # noqa: E402
import inkhue_learn as learn  # noqa: E402
import inkhue_pixels as px  # noqa: E402
from gi.repository import Gimp, GLib  # noqa: E402
from inkhue_arguments import add_arguments  # noqa: E402
from inkhue_preview import Preview, PreviewLayer, Problem  # noqa: E402
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
_MODE_NOTES = {  # the result is converted into the image's mode on write
    Gimp.ImageBaseType.GRAY: "grayscale mode, so the colours were turned into greys",
    Gimp.ImageBaseType.INDEXED: "indexed mode, so the colours were limited to its palette",
}


class Failure(Exception):
    """Ends the run with EXECUTION_ERROR and this message, before the image was touched."""


class Cancelled(Exception):
    """The artist closed the dialog."""


@dataclass
class Checked:
    """A choice that can be coloured, with the pixels read to check it."""

    lineart: Gimp.Layer
    hints: Gimp.Layer | None  # None: no hint layer (``hint_rgba`` is fully transparent)
    line_rgba: bytes
    hint_rgba: bytes
    mask: bytes | None
    options: dict
    split: bool = False  # flats as a layer group, one layer per colour
    note: str = ""  # the shared note when there is no dab: the AI chooses the colours


# ---------------------------------------------------------------------------------------------
# writing the result


def insert_result(image: Gimp.Image, checked: Checked, rgba: bytes, placement) -> Gimp.Layer:
    """The new canvas-sized layer beside the line art, with the hint layer hidden: one undo step."""
    return add_result(
        image,
        checked.lineart,
        checked.hints,
        lambda: io.new_layer(image, RESULT_NAME, placement.multiply),
        lambda layer: io.fill(layer, rgba),
        placement.above,
    )


def insert_flats_group(image: Gimp.Image, checked: Checked, rgba: bytes, placement) -> Gimp.Layer:
    """A layer group "AI Colorize" with one layer per exact colour of the flats: one undo step."""
    return add_result(
        image,
        checked.lineart,
        checked.hints,
        lambda: io.new_group(image, RESULT_NAME, placement.multiply),
        lambda group: io.fill_group(image, group, rgba),
        placement.above,
    )


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
    layers = [i for i in all_layers(image) if i.get_name() != lay.PREVIEW_LAYER_NAME]
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
    # the hint layer is the default choice when there is one; else none (the AI suggests tones)
    config.set_property("no-hints", config.get_property("hint-layer") is None)


def check(image: Gimp.Image, drawables: list, config) -> Checked:
    """The chosen (or guessed) layers, checked by the shared rules; raises Failure with the words."""
    infos, by_id = layer_infos(image)

    def key(prop: str) -> int | None:
        layer = config.get_property(prop)
        return layer.get_id() if layer is not None else None

    try:
        line, hint = lay.resolve(
            infos,
            _selected_id(drawables, by_id),
            key("lineart-layer"),
            key("hint-layer"),
            config.get_property("no-hints"),
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
            mode=config.get_property("input-mode"),
        )
        width, height = image.get_width(), image.get_height()
        engine.check_size(width, height)
    except engine.PluginError as e:
        raise Failure(str(e)) from e
    lineart, hints = by_id[line.key], by_id[hint.key] if hint is not None else None
    line_rgba = io.read_on_canvas(lineart, width, height)
    # no hint layer: fully transparent hints of the canvas size
    hint_rgba = io.read_on_canvas(hints, width, height) if hints is not None else bytes(4 * width * height)
    mask = io.selection_mask(image, width, height)
    dabs = hints is not None and px.has_paint(hint_rgba, mask)
    method = options.get("method", "ai")
    message = lay.problem(
        line,
        hint,
        lambda: (px.has_paint(line_rgba), has_ink(line_rgba)),
        lambda: dabs,
        mask is not None,
        method,
    )
    if message:
        raise Failure(message)
    note = lay.hints_note(hint, dabs, mask is not None, method)
    split = engine.split_into_layers(options, flats_layers)
    return Checked(lineart, hints, line_rgba, hint_rgba, mask, options, split, note)


def hints_note(image: Gimp.Image, drawables: list, config) -> str:
    """What the dialog says about the chosen hints while it is open: the shared note when the AI
    will choose the colours (no dab, or no hint layer), the refusal for flat colours without
    dabs, else "". Reads only the hint layer; other problems are shown when Colorize is pressed."""
    infos, by_id = layer_infos(image)

    def key(prop: str) -> int | None:
        layer = config.get_property(prop)
        return layer.get_id() if layer is not None else None

    try:
        _, hint = lay.resolve(
            infos,
            _selected_id(drawables, by_id),
            key("lineart-layer"),
            key("hint-layer"),
            config.get_property("no-hints"),
        )
    except lay.LayerRuleError:
        return ""
    width, height = image.get_width(), image.get_height()
    mask = io.selection_mask(image, width, height)
    dabs = hint is not None and px.has_paint(io.read_on_canvas(by_id[hint.key], width, height), mask)
    try:
        return lay.hints_note(hint, dabs, mask is not None, config.get_property("method"))
    except lay.LayerRuleError as e:
        return str(e)


# ---------------------------------------------------------------------------------------------
# the dialog's preview


def _digest(data: bytes | None) -> str | None:
    return None if data is None else hashlib.blake2b(data, digest_size=16).hexdigest()


def start_preview(image: Gimp.Image, drawables: list, config) -> Preview:
    """The dialog's Preview for this image and choice (``inkhue_preview``): the engine's draft in
    a temporary layer, placed like the result. The real-GIMP test drives it without the dialog."""

    def read():
        try:
            checked = check(image, drawables, config)
        except Failure as e:
            raise Problem(str(e)) from e
        size = (image.get_width(), image.get_height())
        target = (
            config.get_property("engine"),
            config.get_property("server-url") or "",
            config.get_property("model") or "",
        )
        pixels = (checked.line_rgba, checked.hint_rgba, checked.mask)
        ids = (checked.lineart.get_id(), checked.hints and checked.hints.get_id())
        options = json.dumps(checked.options, sort_keys=True)
        return (*ids, options, size, target, *map(_digest, pixels)), (checked, size, target)

    def request(payload) -> bytes:  # on the preview's worker thread: no GIMP calls
        checked, (width, height), (mode, url, model) = payload
        options = engine.preview_options(checked.options)
        return engine.request(checked.line_rgba, checked.hint_rgba, width, height, options, mode, url, model)

    def draw(payload, answer: bytes) -> None:
        checked, (width, height), _ = payload
        rgba = px.result_to_rgba(answer, width * height, checked.mask)
        opaque = px.opaque_share(checked.line_rgba) >= OPAQUE_SHARE
        drawn_in = checked.options["compose_lines"]
        lines = checked.lineart

        def build():
            placement = place_result(opaque, is_lowest(image, lines), drawn_in)
            position = image.get_item_position(lines) + (0 if placement.above else 1)
            new = io.new_layer(image, lay.PREVIEW_LAYER_NAME, placement.multiply)
            return new, lines.get_parent(), position

        layer.draw((lines.get_id(), opaque, drawn_in, width, height), build, lambda new: io.fill(new, rgba))
        Gimp.displays_flush()

    layer = PreviewLayer(image)
    return Preview(layer, read, request, draw)


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

        preview = start_preview(image, drawables, config)
        note = lambda: hints_note(image, drawables, config)  # noqa: E731
        models, tuned = engine.model_entries(), engine.finetune_note()
        if not inkhue_dialog.run(procedure, config, problem, preview, note, models, tuned):
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
            model=config.get_property("model") or "",
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
    if checked.hints is not None:
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


class InkhueColorize(Gimp.PlugIn):
    def do_set_i18n(self, _name):
        return False

    def do_query_procedures(self):
        return [PROC, learn.PROC, finetune.PROC]

    def do_create_procedure(self, name):
        if name == learn.PROC:  # Filters → AI Colorize: Learn from This Document (inkhue_learn.py)
            return learn.create_procedure(self, name)
        if name == finetune.PROC:  # Filters → AI Colorize: Fine-tune on My Style (inkhue_finetune.py)
            return finetune.create_procedure(self, name)
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
            "white) or a lowest layer, in Multiply mode when the lines are not drawn in. Without "
            "dabs (or with no hint layer) the AI chooses the colours itself; flat colours need at "
            "least one dab (inside the selection, when there is one). Pixels of "
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
