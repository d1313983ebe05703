"""The AI Colorize dialog (interactive runs only: it needs a display and GTK).

Colorize checks the choice before the dialog closes: a problem (no lines, the same layer twice,
flat colours without a dab) is shown in the dialog, which stays open with the artist's choices.
Without dabs, or with "Hints: none" checked, the run goes ahead and the AI chooses the colours:
the dialog says so in a plain note under the hint layer while the choice is shown.

GIMP 3.0's layer picker (GimpDrawableChooser) shows only "Browse..." and a thumbnail that it
draws once, when it is made: before the dialog is laid out, at 1×1 pixel, so a preset layer
looks like no layer at all. The picker's button here names the layer, and the thumbnail is
drawn again once the picker has its size.

``INKHUE_DIALOG_TRACE`` (a file path; the real-GIMP tests set it) appends one JSON line each
time the dialog is ready for input: what the pickers show, the problem shown, the labels, and a
screenshot beside it; and one line to ``<path>-preview`` each time the preview changes.

**Preview** (an auxiliary argument, remembered between runs): while it is on, a GLib timer calls
``Preview.step`` (``inkhue_preview.py``), which keeps the temporary layer "AI Colorize (preview)"
showing the engine's draft for the current choice; its state is shown under the toggle. The
dialog removes the preview when it closes, whatever the button.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from collections.abc import Callable

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("GimpUi", "3.0")
gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, Gimp, GimpUi, GLib, GObject, Gtk  # noqa: E402

BINARY = "inkhue_gimp"
LAYER_PROPS = ("lineart-layer", "hint-layer")
NO_LAYER = "(choose a layer)"


def _walk(widget: Gtk.Widget):
    yield widget
    if isinstance(widget, Gtk.Container):
        for child in widget.get_children():
            yield from _walk(child)


def _button_label(chooser: Gtk.Widget) -> Gtk.Label | None:
    """The label inside the picker's button ("Browse..." in GIMP 3.0)."""
    for widget in _walk(chooser):
        if isinstance(widget, Gtk.Button):
            return next((w for w in _walk(widget) if isinstance(w, Gtk.Label)), None)
    return None


def _show_layer_names(chooser: Gtk.Widget) -> None:
    """Name the chosen layer on the picker's button, and draw its thumbnail at the real size."""
    label = _button_label(chooser)

    def name(*_args) -> None:
        layer = chooser.get_drawable()
        if label is not None:
            label.set_text(layer.get_name() if layer is not None and layer.is_valid() else NO_LAYER)

    drawn: dict = {}

    def redraw(_widget, allocation) -> None:
        size = (allocation.width, allocation.height)
        if drawn.get("size") != size:  # the chooser only draws its thumbnail when set
            drawn["size"] = size
            chooser.set_drawable(chooser.get_drawable())

    name()
    chooser.connect("notify::drawable", name)
    chooser.connect_after("size-allocate", redraw)


def _combo_texts(combo: Gtk.ComboBox) -> list[str]:
    """The texts of a drop-down's entries (the choices it offers, shown or not)."""
    model = combo.get_model()
    if model is None:
        return []
    return [v for row in model for v in row if isinstance(v, str) and v]


def _labels(dialog: Gtk.Widget) -> list[str]:
    """Every text the dialog shows: labels, widgets that draw their own (spin scales, expanders),
    and the entries of drop-downs."""
    out = []
    for widget in _walk(dialog):
        if isinstance(widget, Gtk.ComboBox):
            out.extend(_combo_texts(widget))
            continue
        if isinstance(widget, Gtk.Label):
            text = widget.get_text()
        else:
            try:
                text = widget.get_property("label")
            except TypeError:  # no such property
                continue
        if isinstance(text, str) and text:
            out.append(text)
    return out


def _trace(dialog, config, problem_label: Gtk.Label, showing: int, note_label: Gtk.Label) -> None:
    path = os.environ.get("INKHUE_DIALOG_TRACE")
    if not path:
        return
    pickers = {}
    for prop in LAYER_PROPS:
        label = _button_label(dialog.get_widget(prop, GObject.TYPE_NONE))
        pickers[prop] = label.get_text() if label is not None else None
    layers = {p: (v.get_name() if (v := config.get_property(p)) is not None else None) for p in LAYER_PROPS}
    record = {
        "showing": showing,
        "pickers": pickers,
        "config": layers,
        "problem": problem_label.get_text() if problem_label.get_visible() else "",
        "note": note_label.get_text() if note_label.get_visible() else "",
        "no-hints": bool(config.get_property("no-hints")),
        "hint-layer-sensitive": dialog.get_widget("hint-layer", GObject.TYPE_NONE).get_sensitive(),
        "labels": _labels(dialog),
    }
    try:  # a picture of the dialog beside the trace, for a person to look at
        window = dialog.get_window()
        shot = Gdk.pixbuf_get_from_window(window, 0, 0, window.get_width(), window.get_height())
        record["screenshot"] = f"{os.path.basename(path)}-{time.monotonic_ns()}.png"
        shot.savev(os.path.join(os.path.dirname(path), record["screenshot"]), "png", [], [])
    except Exception as e:  # noqa: BLE001 - the trace is a test aid: never fail the dialog for it
        record["screenshot_error"] = repr(e)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def _trace_preview(config, preview) -> None:
    path = os.environ.get("INKHUE_DIALOG_TRACE")
    if not path:
        return
    layer = preview.layer.layer
    record = {
        "dialog": f"{os.getpid()}-{id(preview)}",  # which showing of the dialog
        "on": bool(config.get_property("preview")),
        "updates": preview.updates,
        "message": preview.message,
        "layer": layer.get_name() if layer is not None and layer.is_valid() else None,
        "dropped": preview.requests.dropped,
    }
    with open(path + "-preview", "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def _run_preview(config, preview, label: Gtk.Label) -> Callable[[], bool]:
    """The preview's timer callback: one step, then its state under the toggle."""
    seen: dict = {}

    def tick() -> bool:
        on = bool(config.get_property("preview"))
        try:
            preview.step(on)
        except Exception as e:  # noqa: BLE001 - a bug: say it in the dialog, keep the dialog usable
            traceback.print_exc()
            preview.message = f"Preview failed unexpectedly: {e!r}"
        label.set_text(preview.message)
        label.set_visible(bool(preview.message))
        state = (on, preview.updates, preview.message, preview.layer.layer is not None)
        if state != seen.get("state"):
            seen["state"] = state
            _trace_preview(config, preview)
        return True

    return tick


def _model_picker(dialog, config, models: list, finetune_note: str) -> Gtk.ComboBoxText:
    """The Model row (installed models by name, the engine's own first), placed above the engine's
    rows, with the last fine-tune's state under it; the choice goes to the ``model`` argument, which
    GIMP remembers like the others. A model no longer installed falls back to the default."""
    combo = Gtk.ComboBoxText()
    for value, label in models or [("", "Default model")]:
        combo.append(value, label)
    if not combo.set_active_id(config.get_property("model") or ""):
        combo.set_active_id("")
    config.set_property("model", combo.get_active_id() or "")
    combo.connect("changed", lambda c: config.set_property("model", c.get_active_id() or ""))
    row = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=6)
    row.pack_start(Gtk.Label(label="Model", xalign=0.0), False, False, 0)
    row.pack_start(combo, True, True, 0)
    rows = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=2)
    rows.pack_start(row, False, False, 0)
    if finetune_note:
        note = Gtk.Label(label=finetune_note, xalign=0.0)
        note.set_line_wrap(True)
        note.set_max_width_chars(56)
        rows.pack_start(note, False, False, 0)
    area = dialog.get_content_area()
    area.pack_start(rows, False, False, 0)
    anchor = dialog.get_widget("engine", GObject.TYPE_NONE)
    while anchor is not None and anchor.get_parent() is not area:  # the engine row's box in the area
        anchor = anchor.get_parent()
    if anchor is not None:  # just above the engine's rows
        area.reorder_child(rows, area.get_children().index(anchor))
    rows.show_all()
    return combo


def run(
    procedure: Gimp.Procedure,
    config: Gimp.ProcedureConfig,
    problem: Callable[[], str | None],
    preview=None,
    about_hints: Callable[[], str] | None = None,
    models: list | None = None,
    finetune_note: str = "",
) -> bool:
    """Show the dialog until Colorize is pressed with a usable choice (True) or it is cancelled.

    ``problem()`` checks the config's current choice: None, or the message to show. ``preview``:
    an ``inkhue_preview.Preview`` run while the toggle is on, and closed when the dialog ends.
    ``about_hints()``: what to say about the chosen hints (asked again when the layers, "Hints: none"
    or the colour method change), shown plainly under the hint layer. ``models``: (name, label) of
    the installed models for the Model picker; ``finetune_note``: the last fine-tune's state.
    """
    GimpUi.init(BINARY)
    dialog = GimpUi.ProcedureDialog.new(procedure, config, "AI Colorize")
    dialog.set_ok_label("C_olorize")  # "_C" is Cancel's
    if config.get_property("server-url") is None:
        config.set_property("server-url", "")  # GTK's entry refuses a NULL text
    for prop in LAYER_PROPS:
        _show_layer_names(dialog.get_widget(prop, GObject.TYPE_NONE))
    hints_label = dialog.get_label("hints-note", "", False, False)
    note = dialog.get_label("problem", "", False, False)
    status = dialog.get_label("preview-status", "", False, False)
    dialog.get_label("advanced-title", "Advanced (0 = automatic; rarely needed)", False, False)
    dialog.fill_box("advanced-box", ["working-size", "tile", "gap"])
    dialog.fill_expander("advanced", "advanced-title", False, "advanced-box")
    dialog.fill(
        [
            "lineart-layer",
            "hint-layer",
            "no-hints",
            "hints-note",
            "problem",
            "engine",
            "server-url",
            "method",
            "input-mode",
            "compose-lines",
            "transparent",
            "flats-layers",
            "preview",
            "preview-status",
            "advanced",
        ]
    )
    _model_picker(dialog, config, models or [], finetune_note)
    status.set_line_wrap(True)
    status.set_max_width_chars(56)
    status.set_xalign(0.0)
    status.set_visible(False)
    for label in (note, hints_label):
        label.set_line_wrap(True)
        label.set_max_width_chars(56)
        label.set_xalign(0.0)
        label.set_visible(False)
    # "Hints: none" leaves the hint layer unused
    dialog.set_sensitive("hint-layer", True, config, "no-hints", True)

    def show_note(*_args) -> None:
        text = about_hints() if about_hints is not None else ""
        hints_label.set_text(text)
        hints_label.set_visible(bool(text))

    handlers = [
        config.connect(f"notify::{prop}", show_note)
        for prop in ("hint-layer", "lineart-layer", "no-hints", "method")
    ]
    show_note()
    # the server address only matters for a remote engine (needs the widget: after fill)
    remote = Gimp.ValueArray.new(1)
    remote.append(GObject.Value(GObject.TYPE_STRING, "remote"))
    dialog.set_sensitive_if_in("server-url", None, "engine", remote, True)
    # one layer per colour only means something with flat colours
    flats = Gimp.ValueArray.new(1)
    flats.append(GObject.Value(GObject.TYPE_STRING, "flats"))
    dialog.set_sensitive_if_in("flats-layers", None, "method", flats, True)
    # what the layer holds matters to the AI only (flat colours read line art)
    dialog.set_sensitive_if_in("input-mode", None, "method", flats, False)
    showing = {"n": 0}

    def ready(*_args) -> bool:  # traced once the dialog is drawn and takes input
        showing["n"] += 1
        _trace(dialog, config, note, showing["n"], hints_label)
        return False

    dialog.connect("map-event", lambda *_a: GLib.timeout_add(300, ready) and False)
    timer = None
    if preview is not None:
        from inkhue_preview import POLL_MS

        timer = GLib.timeout_add(POLL_MS, _run_preview(config, preview, status))
    try:
        while dialog.run():
            message = problem()
            if message is None:
                return True
            note.set_markup(f"<b>{GLib.markup_escape_text(message)}</b>")
            note.set_visible(True)
            GLib.timeout_add(300, ready)  # the dialog stays up: trace the message shown
        return False
    finally:
        for handler in handlers:
            config.disconnect(handler)
        if timer is not None:
            GLib.source_remove(timer)
        if preview is not None:
            preview.close()  # before anything is made: the image as it was
        dialog.destroy()
