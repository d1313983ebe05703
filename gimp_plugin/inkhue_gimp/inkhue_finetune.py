"""Filters → AI Colorize: Fine-tune on My Style: train a model on the style folder's pairs, in the
background (``vendor/finetune_job.py``, shared with Krita).

The procedure starts the job and returns within seconds: the job is a process of its own, detached
from GIMP and from this plug-in's process, so GIMP stays usable while it trains. Run again while it
trains, the procedure says how far it got instead of starting another (one job at a time); the AI
Colorize dialog shows the last job's state under its Model list, where a kept model appears.

Scripts choose the ``action``: "start" (the menu's: start, or show the progress of the one running),
"progress" (only say how it goes) or "stop"; the return values ``phase`` (``finetune_job.PHASES``)
and ``status`` (the sentence shown) tell them how it stands.
"""

from __future__ import annotations

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp, GLib, GObject  # noqa: E402

PROC = "plug-in-inkhue-finetune"
ACTIONS = (
    ("start", "Start (or show the progress of the one running)"),
    ("progress", "Show the progress"),
    ("stop", "Stop the running fine-tune"),
)
START_WAIT_S = 10.0  # for the job's first word: an engine without torch says so at once


def act(action: str, client, job) -> tuple[dict | None, str]:
    """(status, what to tell the artist) after ``action``; raises ``job.JobError`` or
    ``client.EngineError`` when it cannot be done."""
    if action == "stop":  # the words Krita's Stop says too
        return job.stop()
    current = job.read()
    if action == "progress" or (action == "start" and current is not None and current["running"]):
        return current, job.describe(current)
    config = client.load_plugin_config()
    status = job.start(config.inkhue, job.FinetuneSettings.from_mapping(config.finetune), wait_s=START_WAIT_S)
    if status["phase"] == "failed":
        raise job.JobError(job.describe(status))
    started = (
        f"Fine-tuning on the {status['pairs']} pictures in {status['style']}, in the background: keep "
        "working. Run Filters → AI Colorize: Fine-tune on My Style again to see how far it got; the "
        "new model appears in the AI Colorize dialog's Model list when it is done."
    )
    return status, started


def run(procedure, run_mode, image, drawables, config, _data):
    import os

    def answer(status, message: str | None = None, phase: str = "", text: str = ""):
        error = GLib.Error.new_literal(GLib.quark_from_string("inkhue"), message, 0) if message else None
        values = procedure.new_return_values(status, error or GLib.Error())
        if status == Gimp.PDBStatusType.SUCCESS:
            for index, value in ((1, phase), (2, text)):
                values.remove(index)
                values.insert(index, GObject.Value(GObject.TYPE_STRING, value))
        return values

    try:
        from vendor import client, finetune_job
    except ImportError as e:
        from inkhue_vendorcheck import vendor_problem

        return answer(Gimp.PDBStatusType.EXECUTION_ERROR, vendor_problem(os.path.dirname(__file__), e))
    try:
        action = "start" if run_mode == Gimp.RunMode.INTERACTIVE else config.get_property("action")
        status, text = act(action, client, finetune_job)
    except (finetune_job.JobError, client.EngineError, OSError) as e:
        return answer(Gimp.PDBStatusType.EXECUTION_ERROR, f"AI Colorize: {e}")
    Gimp.message(text)
    return answer(Gimp.PDBStatusType.SUCCESS, phase=status["phase"] if status else "", text=text)


def create_procedure(plugin, name: str):
    procedure = Gimp.ImageProcedure.new(plugin, name, Gimp.PDBProcType.PLUGIN, run, None)
    procedure.set_image_types("*")
    procedure.set_sensitivity_mask(  # trains on saved pairs: no image needed
        Gimp.ProcedureSensitivityMask.DRAWABLE
        | Gimp.ProcedureSensitivityMask.DRAWABLES
        | Gimp.ProcedureSensitivityMask.NO_DRAWABLES
        | Gimp.ProcedureSensitivityMask.NO_IMAGE
    )
    procedure.set_menu_label("AI Colorize: Fine-tune on My Style")
    procedure.add_menu_path("<Image>/Filters")
    procedure.set_documentation(
        "Fine-tune a model on your saved pairs, in the background (Inkhue)",
        "Trains a model on the pairs 'AI Colorize: Learn from This Document' saved in your style "
        "folder, in a process of its own, and returns at once: GIMP stays usable. Run it again to "
        "see its progress. The model is kept when it measures better on pictures it did not train "
        "on, and appears in the AI Colorize dialog's Model list. Needs an engine installed with "
        "--with-training.",
        name,
    )
    procedure.set_attribution("Inkhue", "Inkhue", "2025")
    choice = Gimp.Choice.new()
    for index, (nick, label) in enumerate(ACTIONS):
        choice.add(nick, index, label, "")
    rw = GObject.ParamFlags.READWRITE
    procedure.add_choice_argument("action", "_Action", "What to do", choice, "start", rw)
    procedure.add_string_return_value("phase", "Phase", "The job's phase (finetune_job.PHASES)", "", rw)
    procedure.add_string_return_value("status", "Status", "How the fine-tune stands, in words", "", rw)
    return procedure
