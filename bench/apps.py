"""The artists' own tools as baselines, driven headlessly in the real applications.

- ``krita``: Krita's Colorize Mask (lazy brush), one key stroke per hint colour, through Krita's
  Python API (``Document.createColorizeMask``, ``ColorizeMask.setKeyStrokePixelData``,
  ``updateMask``). That API arrived with Krita 5.2; Debian 12 ships 5.1, so Krita runs in the
  Debian trixie chroot of ``tests/krita/setup-chroot.sh`` under Xvfb, through ``tests/krita``'s
  ``kritarun`` and harness plug-in, which execute ``bench/app_scripts/krita_colorize.py`` in the
  live window. The script uses the Qt binding Krita loaded, so ``INKHUE_KRITA_ROOT`` may also
  name the Krita 6 chroot (PyQt6).
- ``gimp``: GIMP 3's bucket fill (``gimp-drawable-edit-bucket-fill``), one fill per hint mark,
  in the trixie chroot of ``tests/gimp`` via its batch harness. GIMP 3.0's PDB has no line-art
  ("fill by line art detection") mode, so this is the line-bounded "fill similar colors" fill.

Each application starts once for all cases; outputs are composed like every other method's
(colour × line plane) and keep the in-app seconds.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage

from engine.arrays import line_from_rgba, to_rgb_u8
from engine.errors import unknown_name

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SCRIPTS = HERE / "app_scripts"
KRITA_ROOT_DEFAULT = "/var/cache/inkhue-krita52-root"  # tests/krita/setup-chroot.sh


@dataclass(frozen=True)
class Case:
    key: str  # unique, file-name safe
    lineart_rgba_u8: np.ndarray
    hints_rgba_u8: np.ndarray


@dataclass
class AppRun:
    app: str
    outputs: dict[str, tuple[np.ndarray, float]] = field(default_factory=dict)  # key: (rgb, seconds)
    version: str = ""
    reason: str = ""  # why it did not run (or why some cases failed)
    wall_s: float = 0.0

    def status(self) -> dict:
        return {
            "ran": bool(self.outputs),
            "cases": len(self.outputs),
            "version": self.version,
            "reason": self.reason,
            "wall_s": round(self.wall_s, 1),
        }


def hint_colours(hints_rgba_u8: np.ndarray) -> list[tuple[int, int, int]]:
    """The distinct hint colours, sorted (one Colorize Mask key each)."""
    rgb = hints_rgba_u8[hints_rgba_u8[..., 3] > 0][:, :3]
    return sorted({(int(r), int(g), int(b)) for r, g, b in rgb})


def hint_marks(hints_rgba_u8: np.ndarray) -> list[tuple[int, int, tuple[int, int, int]]]:
    """(x, y, rgb) per hint mark: the mark's pixel nearest its centroid and its median colour."""
    labels, n = ndimage.label(hints_rgba_u8[..., 3] > 0)
    out = []
    for i, sl in enumerate(ndimage.find_objects(labels), start=1):
        ys, xs = np.nonzero(labels[sl] == i)
        ys, xs = ys + sl[0].start, xs + sl[1].start
        k = int(np.argmin((ys - ys.mean()) ** 2 + (xs - xs.mean()) ** 2))
        rgb = np.median(hints_rgba_u8[ys, xs, :3], axis=0).round().astype(int)
        out.append((int(xs[k]), int(ys[k]), (int(rgb[0]), int(rgb[1]), int(rgb[2]))))
    return out


def _write(folder: Path, name: str, data: np.ndarray) -> str:
    (folder / name).write_bytes(np.ascontiguousarray(data).tobytes())
    return name


def _read_rgba(folder: Path, name: str, h: int, w: int) -> np.ndarray:
    return np.frombuffer((folder / name).read_bytes(), np.uint8).reshape(h, w, 4)


def _over_white(rgba_u8: np.ndarray) -> np.ndarray:
    a = rgba_u8[..., 3:].astype(np.float32) / 255.0
    return rgba_u8[..., :3].astype(np.float32) / 255.0 * a + (1.0 - a)


def _collect(run: AppRun, folder: Path, cases: list[Case], compose: Callable) -> None:
    result_file = folder / "result.json"
    if not result_file.exists():
        run.reason = run.reason or "the application wrote no result.json"
        return
    result = json.loads(result_file.read_text(encoding="utf-8"))
    run.version = result.get("version", "")
    for c in cases:
        if c.key in result.get("seconds", {}):
            h, w = c.lineart_rgba_u8.shape[:2]
            rgba = _read_rgba(folder, f"{c.key}-out.rgba", h, w)
            run.outputs[c.key] = (compose(rgba, c), float(result["seconds"][c.key]))
    if result.get("errors"):
        run.reason = f"{len(result['errors'])} case(s) failed, first: {next(iter(result['errors'].values()))}"


# ---------------------------------------------------------------- Krita
def krita_root() -> Path:
    """The chroot with Krita ≥ 5.2 (tests/krita/setup-chroot.sh builds it at the default path)."""
    return Path(os.environ.get("INKHUE_KRITA_ROOT") or KRITA_ROOT_DEFAULT)


def _krita_case(c: Case, out: Path) -> dict:
    """Write a case's line layer (black ink on transparent: the mask fills behind it) and one
    alpha-8 key stroke per distinct hint colour; returns its entry of cases.json."""
    line = line_from_rgba(c.lineart_rgba_u8)
    h, w = line.shape
    ink = np.zeros((h, w, 4), np.uint8)
    ink[..., 3] = np.round((1.0 - line) * 255.0).astype(np.uint8)
    alpha = c.hints_rgba_u8[..., 3] > 0
    strokes = []
    for i, rgb in enumerate(hint_colours(c.hints_rgba_u8)):
        m = alpha & np.all(c.hints_rgba_u8[..., :3] == rgb, axis=-1)
        strokes.append(
            {"rgb": list(rgb), "file": _write(out, f"{c.key}-stroke{i}.a8", (m * 255).astype(np.uint8))}
        )
    line_file = _write(out, f"{c.key}-line.rgba", ink)
    return {"key": c.key, "w": w, "h": h, "line": line_file, "strokes": strokes, "out": f"{c.key}-out.rgba"}


def run_krita(cases: list[Case], timeout: float = 900.0) -> AppRun:
    run = AppRun("krita")
    root = krita_root()
    if not (root / "usr/bin/krita").exists():
        run.reason = (
            f"no Krita chroot at {root}: the Colorize Mask's Python API needs Krita 5.2 (Debian 12 has "
            "5.1); build it with tests/krita/setup-chroot.sh (needs root)"
        )
        return run
    import sys

    sys.path.insert(0, str(REPO))
    from tests.krita import kritarun  # harness plug-in, profile, chroot mounts

    with tempfile.TemporaryDirectory(prefix="inkhue-bench-krita-") as tmp:
        out = Path(tmp) / "out"
        out.mkdir()
        spec = [_krita_case(c, out) for c in cases]
        (out / "cases.json").write_text(json.dumps({"cases": spec}), encoding="utf-8")
        home = kritarun.make_home(Path(tmp) / "home")
        t0 = time.perf_counter()
        kr = kritarun.run_script(SCRIPTS / "krita_colorize.py", out, home, timeout=timeout, root=root)
        run.wall_s = time.perf_counter() - t0
        if not kr.ok:
            run.reason = kr.explain()[-800:]
        # the projection is the lines over the colours: composed already
        _collect(run, out, cases, lambda rgba, c: to_rgb_u8(_over_white(rgba)))
    return run


# ---------------------------------------------------------------- GIMP
def run_gimp(cases: list[Case], timeout: float = 900.0) -> AppRun:
    run = AppRun("gimp")
    import sys

    sys.path.insert(0, str(REPO))
    from tests.gimp import harness

    root = harness.chroot_root()
    if not (root / "usr/bin" / harness.GIMP).exists():
        run.reason = f"no GIMP 3 chroot at {root}: build it with tests/gimp/setup.sh (needs root)"
        return run
    with harness.workdir(root) as (host, inside):
        spec = []
        for c in cases:
            h, w = c.lineart_rgba_u8.shape[:2]
            line = _write(host, f"{c.key}-line.rgba", c.lineart_rgba_u8)
            seeds = [[x, y, *rgb] for x, y, rgb in hint_marks(c.hints_rgba_u8)]
            spec.append(
                {"key": c.key, "w": w, "h": h, "line": line, "seeds": seeds, "out": f"{c.key}-out.rgba"}
            )
        (host / "cases.json").write_text(json.dumps({"cases": spec}), encoding="utf-8")
        t0 = time.perf_counter()
        proc = harness.run_batch(
            root, SCRIPTS / "gimp_fill.py", {"INKHUE_GIMP_DATA": inside}, timeout=int(timeout)
        )
        run.wall_s = time.perf_counter() - t0
        if proc.returncode != 0:
            run.reason = f"gimp rc={proc.returncode}: {proc.stderr.decode(errors='replace').strip()[-600:]}"

        def compose(rgba: np.ndarray, c: Case) -> np.ndarray:
            line = line_from_rgba(c.lineart_rgba_u8)
            return to_rgb_u8(_over_white(rgba) * line[..., None])

        _collect(run, host, cases, compose)
    return run


# (cases, timeout in seconds) -> the application's outputs
APPS: dict[str, Callable[[list[Case], float], AppRun]] = {"krita": run_krita, "gimp": run_gimp}


def run_app(name: str, cases: list[Case]) -> AppRun:
    """Run application ``name`` on ``cases``; never raises for a missing app (see ``reason``)."""
    if name not in APPS:
        raise ValueError(unknown_name("application", name, APPS))
    try:
        # one application process for all cases: its time limit grows with them (Krita's
        # Colorize Mask takes ~12 s a case on 2 shared cores)
        run = APPS[name](cases, max(900.0, 60.0 + 30.0 * len(cases)))
    except Exception as e:  # an application that cannot be driven is a finding, not a crash
        log.exception("%s could not be driven", name)
        run = AppRun(name, reason=f"{type(e).__name__}: {e}")
    log.info("%s: %s", name, run.status())
    return run
