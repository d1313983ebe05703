"""Where everything goes, per platform: the engine's folder, the editors' user folders, the config.

Standard library only (the installer runs with whatever Python the system has). Every default
follows the same rules the programs themselves use: XDG variables on Linux, ``~/Library`` on
macOS, ``%LOCALAPPDATA%``/``%APPDATA%`` on Windows; ``GIMP3_DIRECTORY`` and ``INKHUE_CONFIG``
when set.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

KRITA_PLUGIN = "inkhue_krita"
GIMP_PLUGIN = "inkhue_gimp"
RECORD_NAME = "install-record.json"


def _platform() -> str:
    if sys.platform == "win32":
        return "windows"
    if sys.platform == "darwin":
        return "macos"
    return "linux"


def _home() -> Path:
    return Path(os.path.expanduser("~"))


def _env_dir(name: str, fallback: Path) -> Path:
    value = os.environ.get(name)
    return Path(value) if value else fallback


def data_home() -> Path:
    """The user's data folder (what Krita's resources and the engine's venv live under on Linux)."""
    plat = _platform()
    if plat == "windows":
        return _env_dir("LOCALAPPDATA", _home() / "AppData" / "Local")
    if plat == "macos":
        return _home() / "Library" / "Application Support"
    return _env_dir("XDG_DATA_HOME", _home() / ".local" / "share")


def config_home() -> Path:
    plat = _platform()
    if plat == "windows":
        return _env_dir("APPDATA", _home() / "AppData" / "Roaming")
    if plat == "macos":
        return _home() / "Library" / "Preferences"
    return _env_dir("XDG_CONFIG_HOME", _home() / ".config")


def default_prefix() -> Path:
    """The engine's own folder: ``~/.local/share/inkhue`` (``%LOCALAPPDATA%\\inkhue`` on Windows)."""
    return data_home() / "inkhue"


def plugin_config_path() -> Path:
    """Same rule as ``engine.wire.client.default_config_path`` (a test keeps the two in step)."""
    env = os.environ.get("INKHUE_CONFIG")
    if env:
        return Path(env)
    if _platform() == "windows":
        return _env_dir("APPDATA", _home()) / "inkhue" / "plugin.json"
    return _env_dir("XDG_CONFIG_HOME", _home() / ".config") / "inkhue" / "plugin.json"


def server_state_dir() -> Path:
    """Where the plug-ins' managed ``inkhue serve`` keeps its state (``local_server.default_state_dir``)."""
    plat = _platform()
    if plat == "windows":
        return _env_dir("LOCALAPPDATA", _home()) / "inkhue"
    if plat == "macos":
        return _home() / "Library" / "Application Support" / "inkhue"
    return _env_dir("XDG_STATE_HOME", _home() / ".local" / "state") / "inkhue"


def venv_bin(venv: Path) -> Path:
    return venv / ("Scripts" if _platform() == "windows" else "bin")


def venv_python(venv: Path) -> Path:
    return venv_bin(venv) / ("python.exe" if _platform() == "windows" else "python")


def venv_inkhue(venv: Path) -> Path:
    return venv_bin(venv) / ("inkhue.exe" if _platform() == "windows" else "inkhue")


# ----------------------------------------------------------------------------------------------
# editors


def krita_resource_dir() -> Path:
    """Krita's resource folder (holds ``pykrita/`` and ``actions/``)."""
    if _platform() == "windows":
        return _env_dir("APPDATA", _home() / "AppData" / "Roaming") / "krita"
    return data_home() / "krita"


def kritarc_path() -> Path:
    if _platform() == "windows":
        return _env_dir("LOCALAPPDATA", _home() / "AppData" / "Local") / "kritarc"
    return config_home() / "kritarc"


def gimp_dir() -> Path:
    """GIMP 3's user folder (holds ``plug-ins/``)."""
    env = os.environ.get("GIMP3_DIRECTORY")
    if env:
        return Path(env)
    plat = _platform()
    if plat == "windows":
        return _env_dir("APPDATA", _home() / "AppData" / "Roaming") / "GIMP" / "3.0"
    if plat == "macos":
        return _home() / "Library" / "Application Support" / "GIMP" / "3.0"
    return config_home() / "GIMP" / "3.0"


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
    prefix = Path(prefix).expanduser().absolute() if prefix else default_prefix()
    kdir = Path(krita).expanduser().absolute() if krita else krita_resource_dir()
    if kdir.name == "pykrita":  # the folder people are told to look for; its parent is meant
        kdir = kdir.parent
    gdir = Path(gimp).expanduser().absolute() if gimp else gimp_dir()
    if gdir.name == "plug-ins":
        gdir = gdir.parent
    return Targets(
        prefix=prefix,
        venv=Path(venv).absolute() if venv else prefix / "venv",
        record=prefix / RECORD_NAME,
        config=plugin_config_path(),
        krita_dir=kdir,
        kritarc=Path(kritarc).expanduser().absolute() if kritarc else kritarc_path(),
        gimp_dir=gdir,
    )
