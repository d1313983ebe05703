"""Filter > AI Colorize: Fine-tune on My Style in real Krita (scripts/finetune.py drives it).

Learn from This Document on two pictures, then the fine-tune from the menu with a tiny budget
(plugin.json: 2 steps per stage, kept whatever it measures): it runs in the background, a second
start is refused, the docker shows its progress and the canvas its end; the new model is offered
in the docker's and the dialog's pickers, and colouring with it (the managed engine loads it by
name) adds a layer while the user's layers stay as they were. The engine is this checkout's, with
the shipped model (or the fill model), through ``inkhue`` and ``inkhue-train`` wrappers.
"""

from __future__ import annotations

import os
from pathlib import Path

import krita_finetune
import krita_servers
import kritarun
import pytest

pytestmark = pytest.mark.needs_krita
FINETUNE = {"minutes": 3, "steps": 2, "keep_anyway": True, "threads": 1}  # plugin.json "finetune"


@pytest.fixture(scope="module")
def tuned(krita_available, model_dir, tmp_path_factory):
    base = tmp_path_factory.mktemp("krita-finetune")
    inputs, home = krita_finetune.prepare(base, model_dir[0], FINETUNE)
    root = os.environ.get("INKHUE_KRITA_ROOT")
    env = {"INKHUE_KRITA_INPUT": str(inputs)}
    try:
        run = kritarun.run_script(
            kritarun.SCRIPTS / "finetune.py", base / "out", home, env, timeout=300, root=root and Path(root)
        )
    finally:
        krita_servers.stop_local_engine(home)
        krita_finetune.stop_job(home)
    assert run.ok, run.explain()
    return run.result, home


def test_the_fine_tune_starts_in_the_background_once(tuned):
    res, _ = tuned
    assert "(2 there)" in res["learn_message"]
    assert res["finetune_text"] == "AI Colorize: Fine-tune on My Style"
    assert res["trigger_s"] < 3.0  # Krita is not held while the model trains
    assert res["started_message"].startswith("Fine-tuning on the 2 pictures in ")
    assert res["second_message"].startswith("A fine-tune is already running. Fine-tune: ")


def test_progress_in_the_docker_and_the_end_on_the_canvas(tuned):
    res, home = tuned
    lines = res["docker_lines"]
    assert lines and lines[0].startswith("Fine-tune: "), lines  # seen while it ran
    assert res["end_message"].startswith('Fine-tune done: "inkhue-finetuned" is in the Model list'), res
    assert res["docker_line_after"] == res["end_message"]
    status = krita_finetune.status(home)
    assert status["phase"] == "done" and status["kept"] and status["steps"] == {"draft": 2, "refine": 2}
    assert "| sparse | before |" in status["table"]
    model = home / ".local/share/inkhue/models/inkhue-finetuned"
    assert status["out_dir"] == str(model) and (model / "manifest.json").is_file()


def test_the_new_model_is_offered_and_colours_a_new_layer(tuned):
    res, home = tuned
    default = ["", "inkhue-default (default)"]
    assert res["docker_models_before"] == [default]
    assert res["docker_models_after"] == [default, ["inkhue-finetuned", "inkhue-finetuned (fine-tuned)"]]
    assert res["dialog"]["models"] == ["inkhue-default (default)", "inkhue-finetuned (fine-tuned)"]
    assert res["outcome"]["state"] == "done" and res["outcome"]["layer"] == "AI Colorize", res["outcome"]
    assert res["remembered_model"] == "inkhue-finetuned"  # like the dialog's other settings
    log = (home / ".local/state/inkhue/server.log").read_text(errors="replace")
    assert "model inkhue-finetuned loaded" in log  # the engine coloured with the new model


def test_the_users_layers_are_untouched(tuned):
    res, _ = tuned
    assert res["users_unchanged"]  # names, pixels, visibility, opacity, blending, order
    assert res["names_after"].count("AI Colorize") == 1
    assert [n for n in res["names_after"] if n != "AI Colorize"] == res["names_before"]
