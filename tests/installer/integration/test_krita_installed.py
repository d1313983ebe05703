"""Real Krita started on an installation made by installer/install.py, with no other set-up.

The installer runs into a fresh home (Krita is found on PATH, so its plug-in is installed and
enabled in kritarc); then Krita starts in that home under Xvfb with tests/krita's harness (the
test's own driver plug-in, added next to ours) and picks Filter > AI Colorize... on a two-layer
document. The plug-in reads the installer's settings (local mode) and starts the installed
engine's ``inkhue serve`` itself. The engine's venv comes from the fast path (``--deps-from``:
inkhue installed from the repository, dependencies from the test venv); the full download
install is covered by test_installer.py and test_gimp_installed.py.

Needs krita, xvfb-run and xauth (``bash tests/krita/setup.sh``); INKHUE_SKIP_KRITA=1 skips;
INKHUE_KRITA_ROOT=<chroot> runs the Krita of tests/krita/setup-chroot.sh (e.g. 5.2) instead.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from installer import kritarc
from tests.installer.integration.common import (
    DEPS,
    REPO,
    SYSTEM_PATH,
    H,
    W,
    box_errors,
    copy_checkout,
    home_env,
    run_installer,
    two_layers,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("INKHUE_SKIP_KRITA") == "1", reason="INKHUE_SKIP_KRITA=1"),
]

SCRIPT = Path(__file__).resolve().parent / "krita_scripts" / "colorize_installed.py"
HARNESS = REPO / "tests" / "krita" / "harness"
HARNESS_NAME = "inkhue_test_harness"


def _kritarun():
    """tests/krita/kritarun.py (a plain script folder, not a package)."""
    if "kritarun" not in sys.modules:  # tests/krita's conftest may have imported it already
        spec = importlib.util.spec_from_file_location("kritarun", REPO / "tests" / "krita" / "kritarun.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["kritarun"] = module  # its dataclasses look their module up by name
        spec.loader.exec_module(module)
    return sys.modules["kritarun"]


def _add_test_harness(home: Path) -> None:
    """The driver plug-in that runs SCRIPT inside Krita: test equipment, not part of the install."""
    pykrita = home / ".local/share/krita/pykrita"
    shutil.copytree(HARNESS / HARNESS_NAME, pykrita / HARNESS_NAME)
    shutil.copy(HARNESS / f"{HARNESS_NAME}.desktop", pykrita)
    rc = home / ".config/kritarc"
    text, _ = kritarc.enable(rc.read_text(encoding="utf-8", errors="surrogateescape"), HARNESS_NAME)
    rc.write_text(text, encoding="utf-8", errors="surrogateescape")


def _stop_managed_server(home: Path) -> None:
    state = home / ".local/state/inkhue/server.json"
    if state.is_file():
        try:
            os.kill(int(json.loads(state.read_text())["pid"]), signal.SIGTERM)
        except (ProcessLookupError, ValueError, KeyError):
            pass


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent counts as stopped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def test_krita_colorizes_through_the_installed_plugin(tmp_path: Path) -> None:
    kritarun = _kritarun()
    root = Path(os.environ["INKHUE_KRITA_ROOT"]) if os.environ.get("INKHUE_KRITA_ROOT") else None
    missing = kritarun.missing_tools() if root is None else []
    if missing:
        pytest.fail(f"needs {', '.join(missing)}: run 'bash tests/krita/setup.sh' (or INKHUE_SKIP_KRITA=1)")
    src = copy_checkout(tmp_path / "src")  # the known-answer flood-fill model as the bundled one
    home = tmp_path / "home"
    for d in (home / "run", home / "tmp"):  # Krita's runtime and temporary folders (kritarun)
        d.mkdir(parents=True, mode=0o700)
    env = home_env(home, path=SYSTEM_PATH)
    # Krita in another root (tests/krita/setup-chroot.sh) is not on this PATH: name its folder
    where = [] if root is None else ["--krita-dir", str(home / ".local/share/krita")]
    proc = run_installer(src, env, "--deps-from", str(DEPS), "--no-gimp", *where)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Krita     ~/.local/share/krita/pykrita/inkhue_krita, enabled in ~/.config/kritarc" in proc.stdout
    _add_test_harness(home)

    inputs = tmp_path / "in"
    inputs.mkdir()
    line, hints = two_layers()
    (inputs / "lineart.rgba").write_bytes(line.tobytes())
    (inputs / "hints.rgba").write_bytes(hints.tobytes())
    (inputs / "scenario.json").write_text(json.dumps({"width": W, "height": H}))
    try:
        kenv = {"INKHUE_KRITA_INPUT": str(inputs)}
        run = kritarun.run_script(SCRIPT, tmp_path / "out", home, env=kenv, root=root)
        if not run.harness and "could not connect to display" in run.log:  # Xvfb lost a start-up race
            run = kritarun.run_script(SCRIPT, tmp_path / "out", home, env=kenv, root=root)
    finally:
        _stop_managed_server(home)
    assert run.ok, run.explain()
    res = run.result
    assert res["outcome"]["state"] == "done", (res["outcome"], res["messages"])
    assert res["dialogs"][0]["mode"] == "local"  # from the installer's plugin.json
    assert res["layers_before"] == ["Line art", "Hints"]
    assert sorted(res["layers_after"]) == ["AI Colorize", "Hints", "Line art"]
    bgra = np.frombuffer((tmp_path / "out" / res["pixels"]).read_bytes(), np.uint8).reshape(H, W, 4)
    errors = box_errors(bgra[..., [2, 1, 0]])
    assert max(errors.values()) <= 2, errors

    state = json.loads((home / ".local/state/inkhue/server.json").read_text())
    assert state["exe"] == str(home / ".local/share/inkhue/venv/bin/inkhue")
    assert Path(f"/proc/{state['pid']}").exists()  # still serving, for the next AI Colorize

    proc = run_installer(src, env, "--uninstall")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    deadline = time.monotonic() + 15  # uninstall stops the server that ran from the removed venv
    while _alive(state["pid"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(state["pid"])
    assert not (home / ".local/state/inkhue").exists()
    assert not (home / ".local/share/krita/pykrita/inkhue_krita").exists()
    assert "enable_inkhue_krita" not in (home / ".config/kritarc").read_text(errors="replace")
