"""The plug-ins' background fine-tune (engine/wire/finetune_job.py): the engine's training program,
one job at a time, its status file, cancel, the no-torch message, and the models a picker lists.

The jobs here are small stand-in ``inkhue-train`` programs (Python scripts) that write the status
file as the real one does, except the no-torch test, which runs the real ``inkhue-train`` with
torch hidden.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from engine.wire import finetune_job as job
from engine.wire import folders

REPO = Path(__file__).resolve().parent.parent

# A stand-in for ``inkhue-train``: records its command line, then acts as $FAKE_TRAIN says:
# "run" (reports a draft step, then trains until stopped), "done" (finishes at once, model kept),
# "die" (complains on stderr and exits without a word in the status file), "stubborn" (as "run",
# but ignores SIGTERM), "finish-on-term" (as "run", but on SIGTERM writes "done" and exits: a job
# that finished just as it was stopped)
FAKE_TRAIN = f"""#!{sys.executable}
import json, os, signal, sys, time
sys.path.insert(0, {str(REPO)!r})
from engine.wire.finetune_job import write_status
args = sys.argv[1:]
path = args[args.index("--progress") + 1]
with open(os.path.join(os.path.dirname(path), "argv.json"), "w") as f:
    json.dump(args, f)
mode = os.environ.get("FAKE_TRAIN", "run")
if mode == "die":
    print("boom: the fake trainer fell over", file=sys.stderr)
    sys.exit(1)
base = {{"pid": os.getpid(), "started": time.time(), "updated": time.time()}}
base["name"] = args[args.index("--name") + 1]
if mode == "done":
    write_status(path, {{**base, "phase": "done", "kept": True, "verdict": "better: kept"}})
    sys.exit(0)
if mode == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if mode == "finish-on-term":
    def finish(*_):
        write_status(path, {{**base, "phase": "done", "kept": True, "verdict": "better: kept"}})
        sys.exit(0)
    signal.signal(signal.SIGTERM, finish)
write_status(path, {{**base, "phase": "draft", "step": 7, "elapsed_s": 90.0, "budget_s": 600.0}})
time.sleep(60)
"""


@pytest.fixture
def engine_bin(tmp_path: Path) -> Path:
    """A folder with an ``inkhue`` (never run here) and the stand-in ``inkhue-train`` beside it."""
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "inkhue").write_text("#!/bin/sh\nexit 1\n")
    (bin_dir / "inkhue-train").write_text(FAKE_TRAIN)
    for exe in bin_dir.iterdir():
        exe.chmod(0o755)
    return bin_dir


@pytest.fixture
def style(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "style"
    folder.mkdir()
    for stem in ("a", "b"):
        (folder / f"{stem}.lines.png").write_bytes(b"")
        (folder / f"{stem}.colour.png").write_bytes(b"")
    monkeypatch.setenv(folders.STYLE_ENV, str(folder))
    return folder


def _stop(state: Path) -> None:
    """Never leave a stand-in running, whatever the test did."""
    status = job.read(str(state))
    if status is not None and status["running"]:
        job.cancel(str(state))


def _wait(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_settings_are_checked_with_clear_words():
    s = job.FinetuneSettings.from_mapping({"minutes": 2, "steps": 3, "keep_anyway": True})
    assert (s.minutes, s.steps, s.keep_anyway, s.name) == (2, 3, True, "inkhue-finetuned")
    with pytest.raises(job.JobError, match=r"unknown fine-tune setting\(s\) minuts; valid: keep_anyway"):
        job.FinetuneSettings.from_mapping({"minuts": 2})
    with pytest.raises(job.JobError, match="'minutes' must be above 0"):
        job.FinetuneSettings.from_mapping({"minutes": 0})
    with pytest.raises(job.JobError, match="'steps' has the wrong type"):
        job.FinetuneSettings.from_mapping({"steps": "3"})
    with pytest.raises(job.JobError, match="'minutes' must be a number, got True"):
        job.FinetuneSettings.from_mapping({"minutes": True})
    with pytest.raises(job.JobError, match="'name'.*letters, digits"):
        job.FinetuneSettings.from_mapping({"name": "../escape"})


def test_the_training_program_is_the_one_beside_the_engine(engine_bin: Path, tmp_path: Path):
    assert job.train_program(str(engine_bin / "inkhue")) == str(engine_bin / "inkhue-train")
    with pytest.raises(job.JobError, match="not installed"):
        job.train_program(str(tmp_path / "nowhere" / "inkhue"))
    (engine_bin / "inkhue-train").unlink()
    with pytest.raises(job.JobError, match="no inkhue-train.*--with-training"):
        job.train_program(str(engine_bin / "inkhue"))


def test_too_few_pairs_is_refused_before_anything_starts(engine_bin, style, tmp_path):
    (style / "b.lines.png").unlink()
    with pytest.raises(job.JobError, match=r"at least 2 pictures in your style folder .*found 1.*Learn from"):
        job.start(str(engine_bin / "inkhue"), state_dir=str(tmp_path / "state"))
    assert job.read(str(tmp_path / "state")) is None


def test_one_job_at_a_time_detached_with_progress_then_cancel(engine_bin, style, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_TRAIN", "run")
    state = tmp_path / "state"
    settings = job.FinetuneSettings(minutes=10, steps=5, keep_anyway=True, name="my-style")
    try:
        first = job.start(str(engine_bin / "inkhue"), settings, state_dir=str(state))
        assert first["running"] and first["name"] == "my-style" and first["pairs"] == 2
        assert os.getsid(first["pid"]) != os.getsid(0)  # its own session: outlives the application
        status = _wait(lambda: (s := job.read(str(state))) and s["phase"] == "draft" and s)
        assert status["running"] and status["step"] == 7
        assert job.describe(status) == "Fine-tune: training the first pass, step 7 (1.5 of 10.0 min)"
        argv = json.loads((state / "argv.json").read_text())
        assert argv == [
            "finetune", "--documents", str(style), "--progress", str(state / job.STATUS_FILE),
            "--name", "my-style", "--minutes", "10", "--steps", "5", "--keep-anyway",
        ]  # fmt: skip

        with pytest.raises(job.JobError, match="already running. Fine-tune: training the first pass"):
            job.start(str(engine_bin / "inkhue"), state_dir=str(state))

        stopped = job.cancel(str(state))
        assert stopped is not None and stopped["phase"] == "cancelled" and not stopped["running"]
        assert stopped["stopped_in"] == "draft" and stopped["step"] == 7
        assert job.read(str(state)) == stopped  # what the plug-ins show from now on
        with pytest.raises(ProcessLookupError):
            os.kill(status["pid"], 0)  # gone, and reaped
        assert job.describe(job.read(str(state))) == "Fine-tune stopped; no new model was written."
        assert job.cancel(str(state)) == stopped  # stopping again: nothing runs, nothing changes
        # what both plug-ins say when asked to stop again: none runs, and how the last one ended
        assert job.stop(str(state)) == (
            stopped,
            "No fine-tune is running. The last one: Fine-tune stopped; no new model was written.",
        )

        monkeypatch.setenv("FAKE_TRAIN", "done")  # the next start is allowed, and finishes
        again = job.start(str(engine_bin / "inkhue"), state_dir=str(state), wait_s=20)
        assert again["phase"] == "done" and again["pairs"] == 2  # the job's word, with what start knew
        done = _wait(lambda: (s := job.read(str(state))) and s["phase"] == "done" and s)
        assert not done["running"] and done["kept"]
        assert job.describe(done).startswith('Fine-tune done: "inkhue-finetuned" is in the Model list')
    finally:
        _stop(state)


def _running(engine_bin: Path, state: Path) -> dict:
    job.start(str(engine_bin / "inkhue"), state_dir=str(state))
    return _wait(lambda: (s := job.read(str(state))) and s["phase"] == "draft" and s)


def test_a_job_that_ignores_sigterm_is_killed_before_it_reads_as_stopped(
    engine_bin, style, tmp_path, monkeypatch
):
    monkeypatch.setenv("FAKE_TRAIN", "stubborn")
    state = tmp_path / "state"
    try:
        status = _running(engine_bin, state)
        t0 = time.monotonic()
        stopped = job.cancel(str(state), wait_s=1.0)
        assert time.monotonic() - t0 < 4.0
        assert stopped is not None and stopped["phase"] == "cancelled" and not stopped["running"]
        with pytest.raises(ProcessLookupError):
            os.kill(status["pid"], 0)  # killed: a second job may start without two training at once
    finally:
        _stop(state)


def test_a_job_that_finishes_as_it_is_stopped_keeps_its_own_end(engine_bin, style, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_TRAIN", "finish-on-term")
    state = tmp_path / "state"
    try:
        _running(engine_bin, state)
        ended, said = job.stop(str(state))
        assert ended is not None and ended["phase"] == "done" and ended["kept"] and not ended["running"]
        assert said.startswith("The fine-tune ended before it could be stopped. Fine-tune done:")
        assert job.read(str(state))["phase"] == "done"  # its model was written: not "stopped"
    finally:
        _stop(state)


def test_stopping_when_no_job_ever_ran_says_none(tmp_path):
    assert job.cancel(str(tmp_path / "state")) is None
    assert job.stop(str(tmp_path / "state")) == (None, "No fine-tune is running.")
    assert job.describe(None) == "No fine-tune has run yet."


def test_a_job_that_dies_silently_reads_as_failed_with_its_log(engine_bin, style, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_TRAIN", "die")
    state = tmp_path / "state"
    job.start(str(engine_bin / "inkhue"), state_dir=str(state))
    status = _wait(lambda: (s := job.read(str(state))) and not s["running"] and s)
    assert status["phase"] == "failed"
    assert "stopped unexpectedly" in status["error"] and "boom: the fake trainer fell over" in status["error"]
    assert job.describe(status).startswith("Fine-tune failed: it stopped unexpectedly")


def test_without_torch_the_job_says_exactly_what_to_run(style, tmp_path):
    """The real ``inkhue-train`` with torch hidden: the status says to re-run the installer."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "inkhue").write_text("")
    (bin_dir / "inkhue-train").write_text(
        f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(REPO)!r})\n"
        "sys.modules['torch'] = None  # as in an engine installed without --with-training\n"
        "from training.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    )
    (bin_dir / "inkhue-train").chmod(0o755)
    state = tmp_path / "state"
    job.start(str(bin_dir / "inkhue"), state_dir=str(state), wait_s=60)
    status = _wait(lambda: (s := job.read(str(state))) and not s["running"] and s, timeout=60)
    assert status["phase"] == "failed" and status["error"] == job.NO_TORCH
    assert "bash installer/install.sh --with-training" in job.describe(status)


def _model(folder: Path, name: str, version: str = "1.0.0", kind: str | None = None) -> None:
    folder.mkdir(parents=True)
    manifest = {"format": 1, "name": name, "version": version, "stages": {}}
    if kind:
        manifest["kind"] = kind
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_the_picker_lists_the_default_first_then_the_users_and_bundled_models(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    mine = Path(folders.models_dir())
    _model(mine / "inkhue-finetuned", "inkhue-finetuned", "1.0.0+ft")
    _model(mine / "shades", "shades", kind="grayscale")  # reached through the mode, not picked
    (mine / "broken").mkdir()
    (mine / "broken" / "manifest.json").write_text("{not json")
    _model(tmp_path / "studio" / "studio-look", "studio-look")
    monkeypatch.setenv(folders.MODEL_PATH_ENV, str(tmp_path / "studio"))
    bundled = tmp_path / "venv" / "lib" / "python3.11" / "site-packages" / "engine" / "models"
    _model(bundled / "inkhue-default", "inkhue-default")
    _model(bundled / "inkhue-grayscale", "inkhue-grayscale", kind="grayscale")
    _model(bundled / "inkhue-lite", "inkhue-lite")
    entries = job.list_models(str(tmp_path / "venv" / "bin" / "inkhue"))
    assert entries == [
        ("", "inkhue-default (default)"),
        ("studio-look", "studio-look"),
        ("inkhue-finetuned", "inkhue-finetuned (fine-tuned)"),
        ("inkhue-lite", "inkhue-lite"),
    ]
    assert job.list_models(None)[:1] == [("", "inkhue-default (default)")]
