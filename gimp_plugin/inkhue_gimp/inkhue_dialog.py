"""The AI Colorize dialog (interactive runs only: it needs a display and GTK)."""

from __future__ import annotations

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("GimpUi", "3.0")
from gi.repository import Gimp, GimpUi, GObject  # noqa: E402

BINARY = "inkhue_gimp"


def run(procedure: Gimp.Procedure, config: Gimp.ProcedureConfig) -> bool:
    """Show the dialog; True when the artist pressed Colorize (the config then holds the choices)."""
    GimpUi.init(BINARY)
    dialog = GimpUi.ProcedureDialog.new(procedure, config, "AI Colorize")
    dialog.set_ok_label("C_olorize")  # "_C" is Cancel's
    if config.get_property("server-url") is None:
        config.set_property("server-url", "")  # GTK's entry refuses a NULL text
    dialog.get_label("advanced-title", "Advanced", False, False)
    dialog.fill_box("advanced-box", ["working-size", "tile"])
    dialog.fill_expander("advanced", "advanced-title", False, "advanced-box")
    dialog.fill(["lineart-layer", "hint-layer", "engine", "server-url", "compose-lines", "advanced"])
    # the server address only matters for a remote engine (needs the widget: after fill)
    remote = Gimp.ValueArray.new(1)
    remote.append(GObject.Value(GObject.TYPE_STRING, "remote"))
    dialog.set_sensitive_if_in("server-url", None, "engine", remote, True)
    try:
        return bool(dialog.run())
    finally:
        dialog.destroy()
