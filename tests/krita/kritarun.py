"""Run a script inside real Krita (Debian's ``krita`` under Xvfb) with the Inkhue plug-in installed.

Every run gets an isolated Krita profile (``HOME``) holding the plug-in as ``installer/`` installs
it (with its vendored client, its ``.action`` file, enabled in ``kritarc``) and the test harness
plug-in; the harness runs the script in the live window
and quits Krita. The script writes ``result.json`` into its output folder.

    python tests/krita/kritarun.py tests/krita/scripts/SCRIPT.py [OUT_DIR]
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
if str(REPO) not in sys.path:  # run as a script: the installer is imported from this checkout
    sys.path.insert(0, str(REPO))
PLUGIN_NAME = "inkhue_krita"
HARNESS_SRC = HERE / "harness"
HARNESS_NAME = "inkhue_test_harness"
SCRIPTS = HERE / "scripts"
# Krita's embedded Python finds PyQt5 only as the system's python3: a virtualenv's bin/ first on
# PATH makes it adopt the venv's prefix, so Krita runs with system directories only.
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
NEEDED = ("krita", "xvfb-run", "xauth")


def missing_tools() -> list[str]:
    return [t for t in NEEDED if not shutil.which(t, path=SYSTEM_PATH)]


def _copytree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True)


def install_plugin(home: Path) -> Path:
    """Install the plug-in into the Krita profile under ``home`` with the installer's own step
    (``installer.install.install_krita``: no engine venv, no settings file) and the test harness
    next to it; returns the pykrita folder."""
    from installer import kritarc, locations
    from installer.install import install_krita
    from installer.txn import Record, Transaction

    t = locations.targets(
        home / ".local/share/inkhue", home / ".local/share/krita", kritarc=home / ".config/kritarc"
    )
    txn = Transaction()
    install_krita(t, txn, Record(t.record))
    txn.commit()
    _copytree(HARNESS_SRC / HARNESS_NAME, t.pykrita / HARNESS_NAME)
    shutil.copy(HARNESS_SRC / f"{HARNESS_NAME}.desktop", t.pykrita)
    text, _ = kritarc.enable(t.kritarc.read_text(encoding="utf-8"), HARNESS_NAME)
    t.kritarc.write_text(text, encoding="utf-8")
    return t.pykrita


def make_home(home: Path) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    (home / "run").mkdir(mode=0o700, exist_ok=True)
    (home / "tmp").mkdir(exist_ok=True)
    install_plugin(home)
    return home


@dataclass
class KritaRun:
    returncode: int
    harness: str
    result: dict = field(default_factory=dict)
    log: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and "HARNESS-RC 0" in self.harness

    def explain(self) -> str:
        head = f"krita rc={self.returncode} after {self.seconds:.1f} s"
        return f"{head}\n{self.harness}\n--- log tail\n{self.log[-4000:]}"


def run_script(
    script: Path | str,
    out_dir: Path,
    home: Path,
    env: dict | None = None,
    timeout: float = 240.0,
    root: Path | None = None,
) -> KritaRun:
    """Start Krita in ``home`` (see ``make_home``), run ``script`` in it, wait for Krita to quit.

    ``root``: run the Krita installed in that chroot instead (e.g. Krita 5.2 from Debian trixie,
    see setup-chroot.sh); this checkout, this Python and /tmp are bind-mounted at the same paths.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("harness.txt", "result.json"):
        (out_dir / stale).unlink(missing_ok=True)
    e = {
        "PATH": SYSTEM_PATH,
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(home / "run"),
        "TMPDIR": str(home / "tmp"),  # Krita's swap and single-instance files
        "LANG": "C.UTF-8",
        "INKHUE_KRITA_SCRIPT": str(Path(script).resolve()),
        "INKHUE_KRITA_OUT": str(out_dir.resolve()),
        "INKHUE_KRITA_TIMEOUT_S": str(int(timeout) - 30),
    }
    e.update(env or {})
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", "krita", "--nosplash"]
    if root:  # an empty INKHUE_KRITA_ROOT means the system Krita, as in conftest
        cmd = ["chroot", str(root), "env", "-i", *(f"{k}={v}" for k, v in e.items()), *cmd]
    t0 = time.monotonic()
    with chroot_mounts(root, [home, out_dir, Path(script).resolve().parent]):
        returncode, log = _krita(cmd, e, timeout)
        if not (out_dir / "harness.txt").exists() and "could not connect to display" in log:
            # Xvfb lost a start-up race (a display another run was just leaving): once more
            time.sleep(2)
            returncode, log = _krita(cmd, e, timeout)
    harness_file = out_dir / "harness.txt"
    result_file = out_dir / "result.json"
    run = KritaRun(
        returncode=returncode,
        harness=harness_file.read_text(encoding="utf-8") if harness_file.exists() else "",
        result=json.loads(result_file.read_text(encoding="utf-8")) if result_file.exists() else {},
        log=log or "",
        seconds=time.monotonic() - t0,
    )
    (out_dir / "krita.log").write_text(run.log, encoding="utf-8")
    return run


def _krita(cmd: list[str], env: dict, timeout: float) -> tuple[int, str]:
    """Run ``cmd`` (xvfb-run krita) in its own session, so that a hung Krita and its Xvfb are
    killed together; returns its exit status and output."""
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        log, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        log, _ = proc.communicate()
        log += f"\n[kritarun] killed after {timeout:g} s"
    return proc.returncode, log or ""


@contextlib.contextmanager
def chroot_mounts(root: Path | None, paths: list[Path]):
    """Bind-mount what Krita in ``root`` needs to see at the same paths as here: devices, /proc,
    /sys, /tmp, this checkout, this Python (the plug-in's local mode runs the engine with it) and
    ``paths``."""
    if not root:
        yield
        return
    wanted = ["/dev", "/proc", "/sys", "/tmp", str(REPO), sys.prefix, sys.base_prefix]
    wanted += [str(p.resolve()) for p in paths]
    done: list[Path] = []
    try:
        for src in dict.fromkeys(wanted):  # in order, without repeats
            dst = Path(root) / src.lstrip("/")
            if os.path.ismount(dst) or any(src.startswith(str(m)[len(str(root)) :] + "/") for m in done):
                continue  # already visible through an earlier mount
            dst.mkdir(parents=True, exist_ok=True)
            subprocess.run(["mount", "--rbind", src, str(dst)], check=True)
            done.append(dst)
        yield
    finally:
        for dst in reversed(done):
            subprocess.run(["umount", "-l", str(dst)], check=False)  # lazy: with its submounts


def main(argv: list[str]) -> int:
    import tempfile

    script = Path(argv[0])
    out = Path(argv[1]) if len(argv) > 1 else Path(tempfile.mkdtemp(prefix="krita-out-"))
    home = make_home(Path(tempfile.mkdtemp(prefix="krita-home-")))
    run = run_script(script, out, home)
    print(run.explain())
    print(json.dumps(run.result, indent=1)[:6000])
    print("output in", out)
    return 0 if run.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
