"""The procedure's arguments: what scripts pass and what the dialog shows, explained in words.

``preview`` is an auxiliary argument: the dialog's Preview toggle (remembered between runs), not
part of the procedure's signature for scripts.
"""

from __future__ import annotations

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp, GObject  # noqa: E402

NO_HINTS_LABEL = "Hints: _none (AI suggests tones)"  # layer_rules.NO_HINTS_CHOICE, as a check box
_METHOD_CHOICES = (
    ("ai", "AI colours (shading, guesses)"),
    ("flats", "Flat colours (exact dab colours, no AI)"),
)
_INPUT_MODE_CHOICES = (  # the engine's modes (schema.MODES)
    ("lineart", "Line art"),
    ("auto", "Automatic"),
    ("grayscale", "Shaded grayscale (keeps its light and shade)"),
)
_ENGINE_CHOICES = (
    ("settings", "As installed (Inkhue settings)"),
    ("local", "This computer"),
    ("remote", "Remote server"),
)


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
        "hint-layer",
        "_Hints",
        'The layer with your colour dabs (none: a layer named like "Hints"; if there is none, the AI '
        "chooses the colours)",
        True,
        rw,
    )
    procedure.add_boolean_argument(
        "no-hints",
        NO_HINTS_LABEL,
        "On: no hint layer is used, and the AI chooses every colour itself (flat colours need "
        "dabs). Off: the colours follow the dabs on the hint layer, and the AI suggests tones "
        "where there are none",
        False,
        rw,
    )
    choice = Gimp.Choice.new()
    for index, (nick, label) in enumerate(_ENGINE_CHOICES):
        choice.add(nick, index, label, "")
    procedure.add_choice_argument("engine", "_Engine", "Where the colouring runs", choice, "settings", rw)
    procedure.add_string_argument(
        "server-url", "Server _URL", "Remote engine address (empty: the one in the settings)", "", rw
    )
    procedure.add_string_argument(
        "model",
        "_Model",
        "An installed model by name, e.g. one made by Filters → AI Colorize: Fine-tune on My Style "
        "(empty: the engine's own model). The dialog lists them",
        "",
        rw,
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
    input_mode = Gimp.Choice.new()
    for index, (nick, label) in enumerate(_INPUT_MODE_CHOICES):
        input_mode.add(nick, index, label, "")
    procedure.add_choice_argument(
        "input-mode",
        "Layer _holds",
        "Line art: lines on paper. Shaded grayscale: a drawing in gray tones or screentone (manga, "
        "pencil shading), coloured keeping its light and shade. Automatic tells them apart (it reads "
        "a few thick grey line drawings as shaded). AI only",
        input_mode,
        "lineart",
        rw,
    )
    procedure.add_boolean_argument(
        "transparent",
        "_Transparent where nothing is painted",
        "On: the new layer is transparent where no colour goes (background without dabs, and "
        "with flat colours every area no colour reaches), so the layers below show. Off: those parts "
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
    procedure.add_boolean_aux_argument(
        "preview",
        "Pre_view",
        'Show a quick draft in a temporary layer "AI Colorize (preview)" while the dialog is open, '
        "updated when the layers or options change. Colorize makes the full result; Cancel "
        "removes the preview",
        False,
        rw,
    )
