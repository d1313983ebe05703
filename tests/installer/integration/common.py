"""Shared by the installer tests: a copy of this checkout to install from, a clean HOME, snapshots.

The installer installs "this repository", so tests run the installer *of a copy*: the copy can
carry a test model (and be damaged) without touching the working tree.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[3]
# the test venv's site-packages: the fast install path takes the engine's dependencies from it
DEPS = Path(sysconfig.get_paths()["purelib"])
# pip's cache stays the real user's (outside the test HOME), so repeated runs do not re-download
PIP_CACHE = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


def copy_checkout(dest: Path, model: str = "fill") -> Path:
    """Copy the tracked and untracked-but-not-ignored files of this checkout to ``dest``.

    ``model="fill"``: the bundled model is replaced by the known-answer flood-fill model (named
    inkhue-default); ``"as-is"``: whatever the checkout ships (a fill model only if none).
    """
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout
    for rel in filter(None, listing.decode().split("\0")):
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    models = dest / "engine" / "models"
    if model == "fill" and models.is_dir():
        for d in models.iterdir():
            if (d / "manifest.json").is_file():
                shutil.rmtree(d)
    if not any(models.glob("*/manifest.json")):
        from tests.fixtures_models import fill_model

        fill_model(models / "inkhue-default", name="inkhue-default")
    return dest


def home_env(home: Path, path: str = SYSTEM_PATH, **extra: str) -> dict[str, str]:
    """The environment of a user whose home is ``home``: every per-user location derives from it."""
    drop = ("XDG_", "INKHUE_", "GIMP3_", "PYTHON", "VIRTUAL_ENV", "KRITA")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    # PATH without ~/.cargo/bin: rustup's shims (probed during pip builds) write ~/.rustup
    env.update(HOME=str(home), PATH=path, PIP_CACHE_DIR=PIP_CACHE, LANG="C.UTF-8")
    env.update(extra)
    return env


def run_installer(
    repo: Path, env: dict[str, str], *args: str, timeout: float = 600
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(repo / "installer" / "install.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def snapshot(root: Path, skip: tuple[str, ...] = ()) -> dict[str, tuple]:
    """Every path under ``root`` -> (kind, permission bits, sha256 or link target)."""
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = [d for d in dirnames if os.path.normpath(os.path.join(rel_dir, d)) not in skip]
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = os.path.normpath(os.path.join(rel_dir, name))
            st = p.lstat()
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", 0, os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode), "")
            else:
                out[rel] = ("file", stat.S_IMODE(st.st_mode), hashlib.sha256(p.read_bytes()).hexdigest())
    return out


def tree_paths(root: Path) -> set[str]:
    return {os.path.relpath(os.path.join(d, n), root) for d, ds, fs in os.walk(root) for n in ds + fs}


# ---------------------------------------------------------------------------------------------
# the two-layer picture both editor tests colour (with the flood-fill model: exact answer)

W, H = 96, 64
BOXES = {"A": (6, 6, 44, 58), "B": (52, 6, 90, 58)}  # x0, y0, x1, y1: two closed boxes
HINTS = {"A": (230, 40, 40), "B": (40, 60, 220)}


def two_layers() -> tuple[np.ndarray, np.ndarray]:
    """(line art: two closed boxes in black on white, hints: one dab per box), RGBA u8."""
    line = np.full((H, W, 4), 255, np.uint8)
    for x0, y0, x1, y1 in BOXES.values():
        line[y0 : y0 + 2, x0:x1, :3] = 0
        line[y1 - 2 : y1, x0:x1, :3] = 0
        line[y0:y1, x0 : x0 + 2, :3] = 0
        line[y0:y1, x1 - 2 : x1, :3] = 0
    hints = np.zeros((H, W, 4), np.uint8)
    for box, rgb in HINTS.items():
        x0, y0, x1, y1 = BOXES[box]
        cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
        hints[cy - 3 : cy + 3, cx - 3 : cx + 3] = (*rgb, 255)
    return line, hints


def box_errors(rgb_u8: np.ndarray, margin: int = 6) -> dict[str, int]:
    """Per box, the largest difference between its interior's pixels and its hint colour."""
    out = {}
    for box, want in HINTS.items():
        x0, y0, x1, y1 = BOXES[box]
        inside = rgb_u8[y0 + margin : y1 - margin, x0 + margin : x1 - margin, :3].astype(int)
        out[box] = int(np.abs(inside - np.array(want)).max())
    return out
