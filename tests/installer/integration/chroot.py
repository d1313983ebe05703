"""A throw-away Debian system for installer tests: an overlay over tests/gimp's trixie chroot.

The GIMP helper's chroot (tests/gimp/setup.sh: Debian trixie + GIMP 3, no python3-venv) stays
untouched: every test gets a writable overlay of it with /proc mounted, runs the installer in it
as on a fresh machine, and on exit every process still running inside (the plug-in's managed
``inkhue serve``) is killed and the overlay is removed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _processes_in(root: Path) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/root") == str(root):
                    pids.append(int(entry))
            except OSError:
                continue
    return pids


def _kill_all_in(root: Path) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = _processes_in(root)
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while _processes_in(root) and time.monotonic() < deadline:
            time.sleep(0.1)


@contextmanager
def overlay(base: Path, work: Path, binds: dict[Path, str] | None = None) -> Iterator[Path]:
    """Mount a writable overlay of ``base`` under ``work`` with /proc and ``binds`` (host folder ->
    path inside); yields its root."""
    upper, scratch, merged = work / "upper", work / "work", work / "root"
    for d in (upper, scratch, merged):
        d.mkdir(parents=True)
    opts = f"lowerdir={base},upperdir={upper},workdir={scratch}"
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", opts, str(merged)], check=True)
    mounted = []
    try:
        subprocess.run(["mount", "-t", "proc", "proc", str(merged / "proc")], check=True)
        mounted.append(merged / "proc")
        for host, inside in (binds or {}).items():
            target = merged / inside.lstrip("/")
            target.mkdir(parents=True, exist_ok=True)
            subprocess.run(["mount", "--bind", str(host), str(target)], check=True)
            mounted.append(target)
        yield merged
    finally:
        _kill_all_in(merged)
        for m in reversed(mounted):
            subprocess.run(["umount", "-l", str(m)], check=False)
        subprocess.run(["umount", "-l", str(merged)], check=False)


def run_in(
    root: Path,
    command: list[str],
    env: dict[str, str],
    timeout: float,
    stdin: bytes | None = None,
    user: str | None = None,
) -> subprocess.CompletedProcess:
    """``command`` inside the chroot with exactly ``env`` (plus PATH and LANG), as root or ``user``
    (``uid:gid``)."""
    variables = {"PATH": PATH, "LANG": "C.UTF-8", **env}
    cmd = ["chroot", *([f"--userspec={user}"] if user else []), str(root)]
    cmd += ["env", "-i", *(f"{k}={v}" for k, v in variables.items()), *command]
    return subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout)
