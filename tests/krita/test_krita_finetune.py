"""Filter > AI Colorize: Fine-tune on My Style in real Krita (scripts/finetune.py drives it).

Learn from This Document on two pictures, then the fine-tune from the menu with a tiny budget
(plugin.json: 2 steps per stage, kept whatever it measures): it runs in the background, a second
start is refused, the docker shows its progress and the canvas its end; the new model is offered
in the docker's and the dialog's pickers, and colouring with it (the managed engine loads it by
name) adds a layer while the user's layers stay as they were. The engine is this checkout's, with
the shipped model (or the fill model), through ``inkhue`` and ``inkhue-train`` wrappers.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import krita_servers
import kritarun
import pytest

pytestmark = pytest.mark.needs_krita
REPO = Path(__file__).resolve().parent.parent.parent
FINETUNE = {"minutes": 3, "steps": 2, "keep_anyway": True, "threads": 1}  # plugin.json "finetune"


def _wrappers(base: Path, model: Path) -> Path:
    """``inkhue`` and ``inkhue-train`` side by side, as in an installed engine's bin/."""
    base.mkdir(parents=True, exist_ok=True)
    for name, module in (("inkhue", "engine.cli"), ("inkhue-train", "training.cli")):
        exe = base / name
        run = f"PYTHONPATH='{REPO}' exec '{sys.executable}' -m {module}"
        exe.write_text(f"#!/bin/sh\n{run} \"$@\" --model '{model}'\n", encoding="utf-8")
        exe.chmod(0o755)
    return base / "inkhue"


def _stop_job(home: Path) -> None:
    """Never leave a fine-tune behind (it would train for minutes)."""
    try:
        status = json.loads((home / ".local/state/inkhue/finetune.json").read_text())
        if status.get("phase") not in ("done", "failed", "cancelled"):
            os.kill(int(status["pid"]), signal.SIGTERM)
    except (OSError, ValueError, KeyError):
        pass


@pytest.fixture(scope="module")
def tuned(krita_available, model_dir, tmp_path_factory):
    from tests.training.test_documents import scene

    base = tmp_path_factory.mktemp("krita-finetune")
    inputs, out, home = base / "in", base / "out", base / "home"
    inputs.mkdir()
    for prefix, seed in (("a", 7), ("b", 9)):
        layers = scene(seed)
        for name, rgba in layers.items():
            (inputs / f"{prefix}_{name}.rgba").write_bytes(rgba.tobytes())
    h, w = layers["Lines"].shape[:2]
    (inputs / "scenario.json").write_text(json.dumps({"width": w, "height": h}), encoding="utf-8")
    kritarun.make_home(home)
    inkhue = _wrappers(base / "bin", model_dir[0])
    cfg = home / ".config/inkhue"
    cfg.mkdir(parents=True, exist_ok=True)
    settings = {"inkhue": str(inkhue), "mode": "local", "finetune": FINETUNE}
    (cfg / "plugin.json").write_text(json.dumps(settings), encoding="utf-8")
    root = os.environ.get("INKHUE_KRITA_ROOT")
    env = {"INKHUE_KRITA_INPUT": str(inputs)}
    try:
        run = kritarun.run_script(
            kritarun.SCRIPTS / "finetune.py", out, home, env, timeout=300, root=root and Path(root)
        )
    finally:
        krita_servers.stop_local_engine(home)
        _stop_job(home)
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
    status = json.loads((home / ".local/state/inkhue/finetune.json").read_text())
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
