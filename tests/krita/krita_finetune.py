"""What the real-Krita fine-tune tests share: the engine's ``inkhue`` and ``inkhue-train`` as
wrappers around this checkout, two pictures' raw layers to learn from, a Krita profile whose
``plugin.json`` names them, and the rule that no fine-tune outlives a test."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import kritarun

REPO = Path(__file__).resolve().parent.parent.parent
STATE = ".local/state/inkhue/finetune.json"  # the job's status file in a test profile's home
MODELS = ".local/share/inkhue/models"  # where the fine-tune writes its model


def wrappers(base: Path, model: Path) -> Path:
    """``inkhue`` and ``inkhue-train`` side by side, as in an installed engine's bin/."""
    base.mkdir(parents=True, exist_ok=True)
    for name, module in (("inkhue", "engine.cli"), ("inkhue-train", "training.cli")):
        exe = base / name
        run = f"PYTHONPATH='{REPO}' exec '{sys.executable}' -m {module}"
        exe.write_text(f"#!/bin/sh\n{run} \"$@\" --model '{model}'\n", encoding="utf-8")
        exe.chmod(0o755)
    return base / "inkhue"


def prepare(base: Path, model: Path, finetune: dict) -> tuple[Path, Path]:
    """(inputs, home): pictures a and b (``kritahelp.style_picture`` builds them in Krita) and a
    profile whose plugin.json runs this checkout's engine with the ``finetune`` settings."""
    from tests.training.test_documents import scene

    inputs, home = base / "in", base / "home"
    inputs.mkdir(parents=True)
    for prefix, seed in (("a", 7), ("b", 9)):
        layers = scene(seed)
        for name, rgba in layers.items():
            (inputs / f"{prefix}_{name}.rgba").write_bytes(rgba.tobytes())
    h, w = layers["Lines"].shape[:2]
    (inputs / "scenario.json").write_text(json.dumps({"width": w, "height": h}), encoding="utf-8")
    kritarun.make_home(home)
    cfg = home / ".config/inkhue"
    cfg.mkdir(parents=True, exist_ok=True)
    settings = {"inkhue": str(wrappers(base / "bin", model)), "mode": "local", "finetune": finetune}
    (cfg / "plugin.json").write_text(json.dumps(settings), encoding="utf-8")
    return inputs, home


def status(home: Path) -> dict:
    return json.loads((home / STATE).read_text(encoding="utf-8"))


def stop_job(home: Path) -> None:
    """Never leave a fine-tune behind (it would train for minutes)."""
    try:
        last = status(home)
        if last.get("phase") not in ("done", "failed", "cancelled"):
            os.kill(int(last["pid"]), signal.SIGTERM)
    except (OSError, ValueError, KeyError):
        pass
