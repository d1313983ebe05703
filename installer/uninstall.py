"""``--uninstall``: undo what the install record lists, and nothing else.

Owned paths (the venv, the plug-in folders, files the installer created) are deleted; files that
existed before the first install get their old content back; kritarc gets its one line back;
folders the installer created are removed only when nothing else is left in them. The plug-ins'
managed ``inkhue serve`` is stopped and its state folder (url, token, log) removed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from engine.wire import folders
from installer import engine_env, kritarc, locations
from installer.locations import KRITA_PLUGIN, Targets
from installer.txn import Record, remove_path


def _restore_kritarc(info: dict) -> None:
    rc = Path(info["path"])
    if not rc.is_file():
        return
    raw = rc.read_bytes()
    text = raw.decode("utf-8", "surrogateescape")
    new = kritarc.disable(text, KRITA_PLUGIN, info.get("undo") or {})
    if info.get("created_file") and not new.strip():
        rc.unlink()
    elif new != text:
        rc.write_bytes(new.encode("utf-8", "surrogateescape"))


def uninstall(t: Targets, say: Callable[[str], None]) -> int:
    record = Record.load(t.record)
    if record is None:
        say(f"nothing to uninstall: no install record at {t.record}")
        return 0
    problems: list[str] = []

    def attempt(what: str, fn: Callable[[], object]) -> None:
        try:
            fn()
        except OSError as e:
            problems.append(f"{what}: {e}")

    venv = record.info.get("venv")
    if venv and not record.info.get("dev"):
        engine_env.stop_managed_server(locations.venv_inkhue(Path(venv)), Path(folders.state_dir()))
    state = Path(folders.state_dir())
    if state.is_dir():  # the managed server's runtime state (url, token, log), made by using the engine
        attempt(f"removing {state}", lambda: remove_path(state))
    if record.kritarc:
        attempt(f"restoring {record.kritarc['path']}", lambda: _restore_kritarc(record.kritarc or {}))
    for p in reversed(record.owned):
        path = Path(p)
        if path.exists() or path.is_symlink():
            say(f"removing {path}")
            attempt(f"removing {path}", lambda path=path: remove_path(path))
    for p in record.originals:
        say(f"restoring {p}")
        attempt(f"restoring {p}", lambda p=p: Path(p).write_bytes(record.original_bytes(p)))
    if problems:  # keep the record so a second run can finish the job
        for msg in problems:
            say(f"could not finish: {msg}")
        return 1
    record.path.unlink()
    for d in sorted(record.dirs, key=lambda s: len(Path(s).parts), reverse=True):
        try:
            Path(d).rmdir()  # only when empty: whatever else the user put there stays
        except OSError:
            pass
    say("Inkhue is uninstalled (restart Krita/GIMP if they are running)")
    return 0
