"""Filter > AI Colorize: Stop Fine-tune and the docker's Stop button in real Krita
(scripts/finetune_stop.py drives it).

The fine-tune is started with a budget of minutes (plugin.json: 5 minutes, no step limit, kept
whatever it measures: had it finished, it would have written a model) and stopped from the docker
while it trains: the job's process is gone, its status file reads "cancelled", the docker's line
and the canvas say it stopped, the Stop button is disabled again, no model was written and the
user's layers are as they were. Stop with no job running says so, on the canvas, without a box.
"""

from __future__ import annotations

import os
from pathlib import Path

import krita_finetune
import krita_servers
import kritarun
import pytest

pytestmark = pytest.mark.needs_krita
FINETUNE = {"minutes": 5, "keep_anyway": True, "threads": 1}  # plugin.json "finetune": minutes, not steps
STOPPED = "Fine-tune stopped; no new model was written."


@pytest.fixture(scope="module")
def stopped(krita_available, model_dir, tmp_path_factory):
    base = tmp_path_factory.mktemp("krita-finetune-stop")
    inputs, home = krita_finetune.prepare(base, model_dir[0], FINETUNE)
    root = os.environ.get("INKHUE_KRITA_ROOT")
    env = {"INKHUE_KRITA_INPUT": str(inputs)}
    try:
        run = kritarun.run_script(
            kritarun.SCRIPTS / "finetune_stop.py",
            base / "out",
            home,
            env,
            timeout=180,
            root=root and Path(root),
        )
        job = krita_finetune.status(home) if (home / krita_finetune.STATE).is_file() else None
    finally:
        krita_servers.stop_local_engine(home)
        krita_finetune.stop_job(home)
    assert run.ok, run.explain()
    return run.result, home, job


def test_stop_with_no_job_says_so(stopped):
    res, _, _ = stopped
    assert res["stop_text"] == "AI Colorize: Stop Fine-tune"
    assert res["stop_none_message"] == "No fine-tune is running."
    assert res["button_none"] == {"visible": False, "enabled": False}  # no job ever ran: no line, no Stop


def test_the_docker_stops_the_running_job(stopped):
    res, home, job = stopped
    assert res["started_message"].startswith("Fine-tuning on the 2 pictures in ")
    assert res["docker_lines"] and res["docker_lines"][-1].startswith("Fine-tune: training"), res
    assert res["button_running"] == {"visible": True, "enabled": True}
    assert res["click_s"] < 6.0  # SIGTERM ends it at once; a kill would follow after 5 s
    assert not res["alive_after_click"]  # gone (and reaped by Krita, which started it)
    with pytest.raises(ProcessLookupError):
        os.kill(res["pid"], 0)
    assert job is not None and job["phase"] == "cancelled" and job["pid"] == res["pid"]
    assert job["stopped_in"] == res["phase_when_stopped"] == "draft"


def test_the_docker_and_the_canvas_say_it_stopped(stopped):
    res, _, _ = stopped
    assert res["docker_line_at_click"] == STOPPED
    assert res["button_after"] == {"visible": True, "enabled": False}
    assert res["docker_line_after"] == STOPPED
    assert res["end_message"] == STOPPED  # the extension's watch of the job it started
    assert res["stop_again_message"] == f"No fine-tune is running. The last one: {STOPPED}"


def test_no_model_was_written_and_the_users_layers_are_untouched(stopped):
    res, home, _ = stopped
    models = home / krita_finetune.MODELS
    assert not models.exists() or not any(models.iterdir()), list(models.iterdir())
    assert res["users_unchanged"] and res["names_after"] == res["names_before"]
