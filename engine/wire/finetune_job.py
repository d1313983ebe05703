"""The plug-ins' "Fine-tune on My Style": one background fine-tune, its progress, and the models a
picker offers.

STANDARD LIBRARY ONLY, vendored into both plug-ins beside ``local_server.py`` (``installer/vendor.py``).
The job is the managed engine's ``inkhue-train finetune --documents STYLE`` (the ``inkhue-train``
program beside the ``inkhue`` the plug-ins start ``inkhue serve`` from), started detached so it
outlives the dialog, the plug-in's process (GIMP) and the window, at a low priority so the
application stays responsive. One job at a time: its status file in the state folder
(``finetune.json``) names the process running it, and a start while that process lives is refused
with its progress.

The training process writes the status file itself (``--progress FILE``, ``training/progress.py``,
through :func:`write_status`: a temporary file renamed over the old one, so a reader never sees
half a file)::

    {"phase": "draft", "pid": 123, "started": 1.7e9, "updated": 1.7e9, "step": 40,
     "elapsed_s": 62.0, "budget_s": 900.0, "name": "inkhue-finetuned", ...}

``phase`` is one of ``PHASES``; a final one (``FINAL``) adds ``kept``, ``verdict``, ``table`` (the
before/after measurement), ``out_dir``, or ``error``; a job stopped by :func:`cancel` reads
``cancelled`` with ``stopped_in`` (the phase it was in), and no model is written.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, fields

from . import folders
from .local_server import _Lock, _pid_is_ours, _tail
from .schema import DEFAULT_MODEL, OptionsError, check_model_name
from .style_pairs import count_pairs

STATUS_FILE, LOG_FILE, LOCK_FILE = "finetune.json", "finetune.log", "finetune.lock"
# starting: launched, not yet heard from; preparing: reading the pairs; measuring: before or after
# training ("which"); draft, refine: the two stages' training; exporting: writing the model
PHASES = ("starting", "preparing", "measuring", "draft", "refine", "exporting", "done", "failed", "cancelled")
FINAL = ("done", "failed", "cancelled")
DEFAULT_NAME = "inkhue-finetuned"
MIN_PAIRS = 2  # one to learn from, one to measure on
STALE_S = 30 * 60  # Windows: a job silent for this long while not finished is taken for dead
NO_TORCH = (
    "Fine-tuning needs PyTorch in the Inkhue engine, and this engine was installed without it. Run "
    "the Inkhue installer again with --with-training (bash installer/install.sh --with-training; on "
    "Windows: powershell -File installer\\install.ps1 --with-training), then start the fine-tune again."
)
_CHILDREN: dict[int, subprocess.Popen] = {}  # jobs this process started: polled, so none lingers as a zombie


class JobError(Exception):
    """The fine-tune cannot start (or stop); the message says why and what to do."""


@dataclass(frozen=True)
class FinetuneSettings:
    """The job's knobs (the plug-in settings file's ``"finetune"`` object, all optional)."""

    minutes: float = 25.0  # training wall time, both stages together
    steps: int = 0  # 0: as many as the minutes allow; else at most this many per stage (a quick try)
    name: str = DEFAULT_NAME  # the model's name in the user's models folder and the pickers
    keep_anyway: bool = False  # write the model even when it measures worse than the one it started from
    threads: int = 0  # torch threads; 0: torch's default

    @classmethod
    def from_mapping(cls, values: dict | None) -> FinetuneSettings:
        values = dict(values or {})
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise JobError(
                f"unknown fine-tune setting(s) {', '.join(unknown)}; valid: {', '.join(sorted(known))}"
            )
        for key, value in values.items():
            want = {"minutes": (int, float), "steps": int, "threads": int, "name": str, "keep_anyway": bool}[
                key
            ]
            if type(value) is bool and want is not bool:
                raise JobError(f"fine-tune setting {key!r} must be a number, got {value!r}")
            if not isinstance(value, want):
                raise JobError(f"fine-tune setting {key!r} has the wrong type: {value!r}")
        s = cls(**values)
        if not 0 < s.minutes <= 24 * 60:
            raise JobError(f"fine-tune setting 'minutes' must be above 0 and at most 1440, got {s.minutes}")
        if s.steps < 0 or s.threads < 0:
            raise JobError("fine-tune settings 'steps' and 'threads' must be 0 or more")
        try:
            check_model_name(s.name)
        except OptionsError as e:
            raise JobError(f"fine-tune setting 'name': {e}") from e
        return s


def _state(state_dir: str | None) -> str:
    return state_dir or folders.state_dir()


def status_path(state_dir: str | None = None) -> str:
    return os.path.join(_state(state_dir), STATUS_FILE)


def write_status(path: str, status: dict) -> None:
    """Write ``status`` as JSON to ``path`` atomically (a temporary file renamed over it)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".finetune-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(status, f)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def train_program(inkhue_exe: str | None) -> str:
    """The managed engine's ``inkhue-train``: beside its ``inkhue`` program."""
    exe = inkhue_exe if inkhue_exe and os.path.isfile(inkhue_exe) else shutil.which(inkhue_exe or "inkhue")
    if not exe:
        raise JobError(
            "the Inkhue engine is not installed (no 'inkhue' program found); run the Inkhue installer "
            "with --with-training, or set the path of the 'inkhue' program in the plug-in settings"
        )
    folder, name = os.path.split(exe)
    stem, ext = os.path.splitext(name)
    train = os.path.join(folder, stem.replace("inkhue", "inkhue-train", 1) + ext)
    if not os.path.isfile(train):
        raise JobError(f"the Inkhue engine at {folder} has no {os.path.basename(train)}. {NO_TORCH}")
    return train


def command(train_exe: str, settings: FinetuneSettings, style: str, progress_file: str) -> list[str]:
    """The job's command line (without the low-priority wrapper)."""
    cmd = [train_exe, "finetune", "--documents", style, "--progress", progress_file]
    cmd += ["--name", settings.name, "--minutes", f"{settings.minutes:g}"]
    if settings.steps:
        cmd += ["--steps", str(settings.steps)]
    if settings.threads:
        cmd += ["--threads", str(settings.threads)]
    if settings.keep_anyway:
        cmd.append("--keep-anyway")
    return cmd


def _alive(status: dict) -> bool:
    pid = status.get("pid")
    if type(pid) is not int:
        return False
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:  # ours and ended: reaped, no zombie left
        _CHILDREN.pop(pid, None)
        return False
    if sys.platform == "win32":  # no signal-0 check there: a job silent for long is taken for dead
        return time.time() - float(status.get("updated") or status.get("started") or 0) < STALE_S
    return _pid_is_ours(pid)


def _load(state_dir: str | None) -> dict | None:
    """The status file as written (None when missing, unreadable or not a status)."""
    try:
        with open(status_path(state_dir), encoding="utf-8") as f:
            status = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(status, dict) or status.get("phase") not in PHASES:
        return None
    return status


def read(state_dir: str | None = None) -> dict | None:
    """The last job's status (None when none ever ran); ``running`` tells whether it still runs.

    A job that ended without saying so (killed, crashed) reads as ``failed`` with its log's tail.
    """
    status = _load(state_dir)
    if status is None:
        return None
    running = status["phase"] not in FINAL and _alive(status)
    if status["phase"] not in FINAL and not running:
        log = status.get("log") or os.path.join(_state(state_dir), LOG_FILE)
        status = {**status, "phase": "failed", "error": f"it stopped unexpectedly ({_tail(log)}); see {log}"}
    return {**status, "running": running}


def describe(status: dict | None) -> str:
    """One line for the artist: what the job is doing, or how it ended."""
    if status is None:
        return "No fine-tune has run yet."
    phase = status.get("phase")
    minutes = float(status.get("elapsed_s") or 0) / 60
    if phase in ("starting", "preparing"):
        return "Fine-tune: reading your pairs…"
    if phase == "measuring":
        which = "the fine-tuned model" if status.get("which") == "after" else "the model before training"
        return f"Fine-tune: measuring {which}…"
    if phase in ("draft", "refine"):
        stage = "first pass" if phase == "draft" else "refinement"
        budget = float(status.get("budget_s") or 0) / 60
        step = status.get("step", 0)
        return f"Fine-tune: training the {stage}, step {step} ({minutes:.1f} of {budget:.1f} min)"
    if phase == "exporting":
        return "Fine-tune: writing the model…"
    if phase == "done" and status.get("kept"):
        return f'Fine-tune done: "{status.get("name")}" is in the Model list ({status.get("verdict", "")})'
    if phase == "done":
        return f"Fine-tune done, model not kept: {status.get('verdict', '')}"
    if phase == "cancelled":
        return "Fine-tune stopped; no new model was written."
    return f"Fine-tune failed: {status.get('error') or 'see the log'}"


def start(
    inkhue_exe: str | None,
    settings: FinetuneSettings | None = None,
    state_dir: str | None = None,
    style: str | None = None,
    wait_s: float = 0.0,
) -> dict:
    """Start the fine-tune in the background; returns its status (after up to ``wait_s`` seconds
    for the job's first word, e.g. that this engine cannot train). Raises ``JobError`` when a job
    already runs, the style folder has too few pairs, or the engine is missing."""
    settings = settings or FinetuneSettings()
    state, style = _state(state_dir), style or folders.style_dir()
    os.makedirs(state, mode=0o700, exist_ok=True)
    train = train_program(inkhue_exe)
    pairs = count_pairs(style)
    if pairs < MIN_PAIRS:
        raise JobError(
            f"Fine-tuning needs at least {MIN_PAIRS} pictures in your style folder {style} (found "
            f"{pairs}): colour your line art, then use 'AI Colorize: Learn from This Document' on each."
        )
    with _Lock(os.path.join(state, LOCK_FILE), stale_after=30.0):
        current = read(state)
        if current is not None and current["running"]:
            raise JobError(f"A fine-tune is already running. {describe(current)}")
        path, log = status_path(state), os.path.join(state, LOG_FILE)
        cmd = command(train, settings, style, path)
        kwargs: dict = {}
        if sys.platform == "win32":  # detached, no console, below-normal priority
            kwargs["creationflags"] = 0x00000008 | 0x00000200 | 0x08000000 | 0x00004000
        else:
            kwargs["start_new_session"] = True  # outlives the application and its plug-in process
            nice = shutil.which("nice")
            cmd = [nice, "-n", "10", *cmd] if nice else cmd
        with open(log, "wb") as log_file:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file, close_fds=True, **kwargs
            )
        _CHILDREN[proc.pid] = proc
        now = time.time()
        status = {"phase": "starting", "pid": proc.pid, "started": now, "updated": now, "name": settings.name}
        status.update(style=style, pairs=pairs, log=log, budget_s=settings.minutes * 60)
        write_status(path, status)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        seen = read(state)
        if seen is None or seen["phase"] != "starting" or not seen["running"]:
            break
        time.sleep(0.1)
    return {**status, "running": True, **(read(state) or {})}  # the starter's facts, the job's news


def cancel(state_dir: str | None = None, wait_s: float = 10.0) -> dict | None:
    """Stop the running job (its model is not written); returns the status, None if none ever ran.

    The job's process group gets SIGTERM (Windows: the process is terminated), then SIGKILL if it
    still lives after ``wait_s``; the file then reads ``cancelled`` (with ``stopped_in``, the phase
    it was stopped in), unless the job wrote an end of its own meanwhile (it finished just then):
    that end stands. A job that already ended is left as it is (``running`` False)."""
    status = read(state_dir)
    if status is None or not status["running"]:
        return status
    pid = status["pid"]
    try:
        _signal(pid, kill=False)
    except OSError as e:
        raise JobError(f"cannot stop the fine-tune (process {pid}): {e}") from e
    if not _gone(status, wait_s) and sys.platform != "win32":
        _signal(pid, kill=True)  # it ignored SIGTERM: never leave it training behind a "stopped"
        if not _gone(status, 5.0):
            raise JobError(f"cannot stop the fine-tune: process {pid} still runs after SIGKILL")
    now = _load(state_dir) or status
    if now.get("phase") in FINAL:  # the job's own last word (done just as it was stopped)
        return {**now, "running": False}
    stopped = {**now, "phase": "cancelled", "stopped_in": now["phase"], "updated": time.time()}
    stopped.pop("running", None)
    write_status(status_path(state_dir), stopped)
    return {**stopped, "running": False}


def stop(state_dir: str | None = None, wait_s: float = 10.0) -> tuple[dict | None, str]:
    """``cancel`` with what to tell the artist, as both plug-ins say it: the stopped job, or that
    none runs (and how the last one ended), or that it ended by itself just then."""
    status = read(state_dir)
    if status is None or not status["running"]:
        last = f" The last one: {describe(status)}" if status is not None else ""
        return status, f"No fine-tune is running.{last}"
    ended = cancel(state_dir, wait_s)
    if ended is None or ended.get("phase") != "cancelled":
        return ended, f"The fine-tune ended before it could be stopped. {describe(ended)}"
    return ended, describe(ended)


def _signal(pid: int, kill: bool) -> None:
    """SIGTERM (``kill``: SIGKILL) to the job: to its process group where it leads one (``start``
    gives it a session of its own, so helpers it started stop with it)."""
    if sys.platform == "win32":
        os.kill(pid, signal.SIGTERM)  # TerminateProcess
        return
    sig = signal.SIGKILL if kill else signal.SIGTERM
    try:
        leads = os.getpgid(pid) == pid
    except OSError:
        leads = False
    if leads:
        os.killpg(pid, sig)
    else:
        os.kill(pid, sig)


def _gone(status: dict, wait_s: float) -> bool:
    deadline = time.monotonic() + wait_s
    while _alive(status):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _bundled_dirs(inkhue_exe: str | None) -> list[str]:
    """The models folder of the engine package installed beside ``inkhue_exe`` (a venv's bin/)."""
    if not inkhue_exe:
        return []
    venv = os.path.dirname(os.path.dirname(os.path.abspath(inkhue_exe)))
    patterns = (
        os.path.join(venv, "lib", "python3*", "site-packages", "engine", "models"),
        os.path.join(venv, "Lib", "site-packages", "engine", "models"),
    )
    return sorted(d for p in patterns for d in glob.glob(p))


def _manifests(folder: str) -> list[dict]:
    """The readable model manifests in ``folder`` (or of ``folder`` itself)."""
    own = os.path.join(folder, "manifest.json")
    try:
        dirs = (
            [folder] if os.path.isfile(own) else sorted(os.path.join(folder, n) for n in os.listdir(folder))
        )
    except OSError:
        return []
    out = []
    for d in dirs:
        try:
            with open(os.path.join(d, "manifest.json"), encoding="utf-8") as f:
                manifest = json.load(f)
        except (OSError, ValueError):
            continue
        if isinstance(manifest, dict) and isinstance(manifest.get("name"), str):
            out.append(manifest)
    return out


def list_models(inkhue_exe: str | None = None) -> list[tuple[str, str]]:
    """(value, label) of the line-art models a picker offers, the server's own model first (value
    "": requests go to ``schema.MODEL_NAME``), then $INKHUE_MODEL_PATH's, the user's models folder's
    (where the fine-tune writes) and the engine's bundled ones, as the server finds them by name."""
    entries = [("", f"{DEFAULT_MODEL} (default)")]
    seen = {DEFAULT_MODEL}
    roots = [*folders.model_path_dirs(), folders.models_dir(), *_bundled_dirs(inkhue_exe)]
    for root in roots:
        for manifest in _manifests(root):
            name = manifest["name"]
            if manifest.get("kind", "lineart") != "lineart" or name in seen:
                continue
            try:
                check_model_name(name)
            except OptionsError:
                continue  # a URL could not name it
            seen.add(name)
            fine_tuned = str(manifest.get("version", "")).endswith("+ft")
            entries.append((name, f"{name} (fine-tuned)" if fine_tuned else name))
    return entries
