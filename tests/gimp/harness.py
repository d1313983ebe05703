"""Run scripts inside real GIMP 3 (gimp-console-3.0) in the Debian trixie chroot of setup.sh.

The chroot shares the host's network, so a server the test starts on 127.0.0.1 is reachable
from the plug-in. GIMP's profile (GIMP3_DIRECTORY) lives inside the chroot and is kept between
runs: the first start queries every bundled plug-in (~15 s), later starts take ~3 s. Each run
installs the working tree's plug-in afresh, with its vendored client.

Manual use (as root)::

    python -m tests.gimp.harness DRIVER.py DATA_DIR   # runs DRIVER with $INKHUE_GIMP_DATA=DATA_DIR
"""

from __future__ import annotations

import fcntl
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
PLUGIN_SRC = REPO / "gimp_plugin" / "inkhue_gimp"
DEFAULT_ROOT = "/var/cache/inkhue-gimp-root"
PROFILE = "var/lib/inkhue-gimp-profile"  # inside the chroot
GIMP = "gimp-console-3.0"
STATE_FILE = "inkhue-gimp.json"  # inkhue_gimp.STATE_FILE, in the profile


def chroot_root() -> Path:
    return Path(os.environ.get("INKHUE_GIMP_ROOT", DEFAULT_ROOT))


def ensure_chroot(root: Path, timeout: float = 900) -> None:
    """Build the chroot with setup.sh unless it is there; raises with setup.sh's output if that fails."""
    proc = subprocess.run(
        ["bash", str(HERE / "setup.sh"), str(root)], capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        raise RuntimeError(f"tests/gimp/setup.sh failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


def install_plugin(root: Path) -> Path:
    """Copy the plug-in into the chroot's GIMP profile with its vendored client; returns the folder."""
    sys.path.insert(0, str(REPO))
    from installer.vendor import vendor_into

    dest = root / PROFILE / "plug-ins" / PLUGIN_SRC.name
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(PLUGIN_SRC, dest, ignore=shutil.ignore_patterns("__pycache__", "vendor"))
    vendor_into(dest)
    main = dest / f"{PLUGIN_SRC.name}.py"
    main.chmod(0o755)  # GIMP silently skips a plug-in without its run bit
    # what the plug-in remembers (last hint layer, notes told once): each run starts afresh
    (root / PROFILE / STATE_FILE).unlink(missing_ok=True)
    return dest


@contextmanager
def workdir(root: Path) -> Iterator[tuple[Path, str]]:
    """A fresh folder inside the chroot: (host path, path as GIMP sees it)."""
    host = Path(tempfile.mkdtemp(prefix="inkhue-gimp-", dir=root / "tmp"))
    try:
        yield host, "/" + str(host.relative_to(root))
    finally:
        shutil.rmtree(host, ignore_errors=True)


@contextmanager
def _profile_lock(root: Path) -> Iterator[None]:
    (root / PROFILE).mkdir(parents=True, exist_ok=True)
    with open(root / PROFILE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one GIMP at a time per profile
        yield


def run_batch(
    root: Path,
    script: Path,
    env: dict[str, str],
    timeout: int = 300,
    during: Callable[[], None] | None = None,
    binds: tuple[str, ...] = (),
) -> subprocess.CompletedProcess:
    """Install the plug-in, then run ``script`` in python-fu-eval; a raised exception there exits 64.

    ``during`` is called while GIMP runs (e.g. to answer a dialog); if it raises, GIMP is stopped.
    ``binds``: host folders GIMP sees at the same paths (e.g. this checkout and this Python, so the
    plug-in's local mode runs this engine), mounted in a mount namespace of GIMP's own: nobody
    else sees them, and they go away with the last process using them.
    """
    variables = {
        "PATH": "/usr/bin:/bin",
        "HOME": f"/{PROFILE}/home",
        "GIMP3_DIRECTORY": f"/{PROFILE}",
        "LANG": "C.UTF-8",
        **env,
    }
    cmd = ["chroot", str(root), "env", "-i", *(f"{k}={v}" for k, v in variables.items())]
    # -i: no UI; -f: no fonts (the plug-in draws no text, and font loading dominates start-up)
    cmd += ["timeout", str(timeout), GIMP, "-i", "-f", "--batch-interpreter", "python-fu-eval"]
    cmd += ["-b", "-", "--quit"]
    if binds:
        mounts = []
        for src in binds:
            (root / src.lstrip("/")).mkdir(parents=True, exist_ok=True)
            mounts.append(f"mount --bind {shlex.quote(src)} {shlex.quote(str(root / src.lstrip('/')))}")
        script_text = " && ".join([*mounts, 'exec "$@"'])
        cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script_text, "sh", *cmd]
    with _profile_lock(root):
        install_plugin(root)
        (root / PROFILE / "home").mkdir(exist_ok=True)
        # files, not pipes: nobody drains a pipe while ``during`` runs
        with open(script, "rb") as stdin, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(cmd, stdin=stdin, stdout=out, stderr=err, start_new_session=True)
            try:
                if during is not None:
                    during()
                proc.wait(timeout + 30)
            finally:
                if proc.poll() is None:  # GIMP and its plug-ins are in this session's group
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(cmd, proc.returncode, out.read(), err.read())


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    root = chroot_root()
    ensure_chroot(root)
    data = Path(argv[1]).resolve()
    with workdir(root) as (host, inside):
        shutil.copytree(data, host, dirs_exist_ok=True)
        proc = run_batch(root, Path(argv[0]), {"INKHUE_GIMP_DATA": inside})
        shutil.copytree(host, data, dirs_exist_ok=True)
    sys.stdout.buffer.write(proc.stdout + proc.stderr)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
