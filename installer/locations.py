"""Where one installation goes: the paths it touches, the venv's programs, the editors' programs.

Standard library only (the installer runs with whatever Python the system has). The user's folders
(the engine's, Krita's and GIMP's, the plug-in settings) follow ``engine.wire.folders``, the rule
the engine and the plug-ins use too.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from engine.wire import folders

KRITA_PLUGIN = "inkhue_krita"
GIMP_PLUGIN = "inkhue_gimp"
RECORD_NAME = "install-record.json"


def _platform() -> str:
    return folders.os_name()


def venv_bin(venv: Path) -> Path:
    return venv / ("Scripts" if _platform() == "windows" else "bin")


def venv_python(venv: Path) -> Path:
    return venv_bin(venv) / ("python.exe" if _platform() == "windows" else "python")


def venv_inkhue(venv: Path) -> Path:
    return venv_bin(venv) / ("inkhue.exe" if _platform() == "windows" else "inkhue")


# ----------------------------------------------------------------------------------------------
# editors


def _found_program(names: tuple[str, ...], paths: tuple[Path, ...]) -> str | None:
    for name in names:
        hit = shutil.which(name)
        if hit:
            return hit
    for p in paths:
        if p.exists():
            return str(p)
    return None


def find_krita() -> str | None:
    """Where Krita is installed, or None."""
    program_files = Path(os.environ.get("ProgramFiles", r"C:\Program Files"))
    return _found_program(
        ("krita",),
        (
            Path("/Applications/krita.app"),
            program_files / "Krita (x64)" / "bin" / "krita.exe",
        ),
    )


def find_gimp() -> str | None:
    """Where GIMP 3 is installed, or None (GIMP 2 has no Python 3 plug-ins and does not count)."""
    program_files = Path(os.environ.get("ProgramFiles", r"C:\Program Files"))
    return _found_program(
        ("gimp-3.0", "gimp-3", "gimp-console-3.0"),
        (
            Path("/Applications/GIMP.app"),
            program_files / "GIMP 3" / "bin" / "gimp-3.0.exe",
        ),
    )


@dataclass(frozen=True)
class Targets:
    """Every path one installation touches."""

    prefix: Path
    venv: Path
    record: Path
    config: Path
    krita_dir: Path
    kritarc: Path
    gimp_dir: Path

    @property
    def pykrita(self) -> Path:
        return self.krita_dir / "pykrita"

    @property
    def krita_actions(self) -> Path:
        return self.krita_dir / "actions"

    @property
    def gimp_plugins(self) -> Path:
        return self.gimp_dir / "plug-ins"


def targets(
    prefix: Path | None = None,
    krita: Path | None = None,
    gimp: Path | None = None,
    kritarc: Path | None = None,
    venv: Path | None = None,
) -> Targets:
    """Resolve the defaults; ``krita``/``gimp`` may also name the ``pykrita``/``plug-ins`` folder."""
    prefix = Path(prefix).expanduser().absolute() if prefix else Path(folders.data_dir())
    kdir = Path(krita).expanduser().absolute() if krita else Path(folders.krita_dir())
    if kdir.name == "pykrita":  # the folder people are told to look for; its parent is meant
        kdir = kdir.parent
    gdir = Path(gimp).expanduser().absolute() if gimp else Path(folders.gimp_dir())
    if gdir.name == "plug-ins":
        gdir = gdir.parent
    return Targets(
        prefix=prefix,
        venv=Path(venv).absolute() if venv else prefix / "venv",
        record=prefix / RECORD_NAME,
        config=Path(folders.config_file()),
        krita_dir=kdir,
        kritarc=Path(kritarc).expanduser().absolute() if kritarc else Path(folders.kritarc()),
        gimp_dir=gdir,
    )
