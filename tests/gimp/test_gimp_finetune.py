"""Filters → AI Colorize: Fine-tune on My Style in real GIMP 3 (drive_finetune.py runs it).

Learn from This Document on two pictures, then the fine-tune through the procedure with a tiny
budget (plugin.json: 2 steps per stage, kept whatever it measures): the procedure returns while
the job trains, running it again says how far it got, and it ends done; the dialog's Model list
offers the new model, and colouring with it (the plug-in's managed engine loads it by name) adds
a layer, the user's layers' pixels unchanged. The engine is this checkout's, run inside the GIMP
chroot through ``inkhue`` and ``inkhue-train`` wrappers with this checkout and this Python
bind-mounted at their own paths (``harness.run_batch(binds=...)``). Skipped only with
INKHUE_SKIP_GIMP=1.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
from pathlib import Path

import pytest

from tests.gimp import harness

pytestmark = pytest.mark.skipif(
    os.environ.get("INKHUE_SKIP_GIMP") == "1", reason="INKHUE_SKIP_GIMP=1: real-GIMP tests skipped"
)
FINETUNE = {"minutes": 3, "steps": 2, "keep_anyway": True, "threads": 1}  # plugin.json "finetune"


def _stop(host: Path) -> None:
    """The managed engine and the job run on after GIMP quits: stop them (their pids are the host's)."""
    for name in ("server.json", "finetune.json"):
        try:
            state = json.loads((host / "state" / "inkhue" / name).read_text())
            if state.get("phase") not in ("done", "failed", "cancelled"):  # the server has no phase
                os.kill(int(state["pid"]), signal.SIGTERM)
        except (OSError, ValueError, KeyError):
            pass


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    from tests.training.test_documents import scene

    root = harness.chroot_root()
    harness.ensure_chroot(root)
    out = tmp_path_factory.mktemp("gimp-finetune")
    repo = str(harness.REPO)
    with harness.workdir(root) as (host, inside):
        pictures = []
        for prefix, seed in (("a", 7), ("b", 9)):
            layers = scene(seed)
            for name, rgba in layers.items():
                (host / f"{prefix}_{name}.rgba").write_bytes(rgba.tobytes())
            h, w = layers["Lines"].shape[:2]
            pictures.append(
                {
                    "canvas": [w, h],
                    "layers": [
                        {"name": n, "file": f"{prefix}_{n}.rgba", "visible": n != "Sketch"} for n in layers
                    ],
                }
            )
        (host / "spec.json").write_text(json.dumps({"pictures": pictures}))
        for name, module in (("inkhue", "engine.cli"), ("inkhue-train", "training.cli")):
            exe = host / name  # as in an installed engine's bin/: side by side
            exe.write_text(f"#!/bin/sh\nPYTHONPATH='{repo}' exec '{sys.executable}' -m {module} \"$@\"\n")
            exe.chmod(0o755)
        settings = {"inkhue": f"{inside}/inkhue", "mode": "local", "finetune": FINETUNE}
        (host / "plugin.json").write_text(json.dumps(settings))
        env = {
            "INKHUE_GIMP_DATA": inside,
            "INKHUE_CONFIG": f"{inside}/plugin.json",
            "XDG_DATA_HOME": f"{inside}/data",  # style and models folders: this run's own
            "XDG_STATE_HOME": f"{inside}/state",  # the managed engine's and the job's state
        }
        binds = tuple(dict.fromkeys((repo, sys.prefix, sys.base_prefix)))
        try:
            proc = harness.run_batch(root, harness.HERE / "drive_finetune.py", env, timeout=240, binds=binds)
        finally:
            _stop(host)
        log = (proc.stdout + proc.stderr).decode(errors="replace")
        for kept in ("result.json", "state"):  # for a person to look at afterwards
            if (host / kept).is_file():
                shutil.copy(host / kept, out)
            elif (host / kept).is_dir():
                shutil.copytree(host / kept, out / kept, ignore=shutil.ignore_patterns("*.lock"))
        assert proc.returncode == 0 and (host / "result.json").is_file(), log[-4000:]
        rec = json.loads((host / "result.json").read_text())
        status = json.loads((host / "state" / "inkhue" / "finetune.json").read_text())
        models = sorted(p.name for p in (host / "data" / "inkhue" / "models").iterdir())
        server_log = (host / "state" / "inkhue" / "server.log").read_text(errors="replace")
    return rec, status, models, server_log, log


def test_the_fine_tune_returns_at_once_and_says_how_far_it_got(tuned):
    rec, _, _, _, _ = tuned
    assert all(rec["procs"].values()), rec["procs"]
    assert [r["status"] for r in rec["learn"]] == ["success", "success"], rec["learn"]
    start, again = rec["start"], rec["again"]
    assert start["status"] == "success" and start["text"].startswith("Fine-tuning on the 2 pictures in ")
    assert rec["start_s"] < 15  # GIMP is not held while the model trains
    assert again["status"] == "success" and again["text"].startswith("Fine-tune: "), again  # no second job
    from engine.wire.finetune_job import PHASES

    assert all(p["status"] == "success" and p["phase"] in PHASES for p in rec["progress"]), rec["progress"]


def test_it_ends_done_and_writes_the_model(tuned):
    rec, status, models, _, _ = tuned
    final = rec["progress"][-1]
    assert final["phase"] == "done", rec["progress"]
    assert final["text"].startswith('Fine-tune done: "inkhue-finetuned" is in the Model list')
    assert (
        status["kept"]
        and status["steps"] == {"draft": 2, "refine": 2}
        and "| full | after |" in status["table"]
    )
    assert models == ["inkhue-finetuned"]


def test_the_dialogs_model_list_offers_it_and_colouring_with_it_adds_a_layer(tuned):
    rec, _, _, server_log, _ = tuned
    assert rec["models"] == [
        ["", "inkhue-default (default)"],
        ["inkhue-finetuned", "inkhue-finetuned (fine-tuned)"],
    ]
    assert rec["dialog_note"].startswith("Fine-tune done: ")
    assert rec["colorize"]["status"] == "success", rec["colorize"]
    assert "model inkhue-finetuned loaded" in server_log  # the engine coloured with the new model
    names_after = [layer["name"] for layer in rec["after"]]
    assert names_after.count("AI Colorize") == 1
    assert [layer for layer in rec["after"] if layer["name"] != "AI Colorize"] == rec["before"]  # pixels too
