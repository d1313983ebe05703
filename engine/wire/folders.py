"""The user's folders, per operating system: written once for the engine, installer and plug-ins.

STANDARD LIBRARY ONLY: vendored into the plug-ins (``installer/vendor.py``) like the rest of the wire.
Every answer is a function of a :class:`System` (the OS, the environment, the home folder), the
running one by default, so a test can ask what Windows or macOS would answer.

    folder   Linux (XDG variables honoured)     macOS                           Windows
    data     $XDG_DATA_HOME or ~/.local/share   ~/Library/Application Support   %LOCALAPPDATA%
    config   $XDG_CONFIG_HOME or ~/.config      ~/Library/Preferences           %APPDATA%
    state    $XDG_STATE_HOME or ~/.local/state  ~/Library/Application Support   %LOCALAPPDATA%

Inkhue's own: the engine (venv, install record) in ``<data>/inkhue``, installed models in
``<data>/inkhue/models``, the style pairs in ``<data>/inkhue/style`` ($INKHUE_STYLE_DIR), the managed
server's state in ``<state>/inkhue``, the plug-in settings ``plugin.json`` in
``$XDG_CONFIG_HOME/inkhue`` on Linux and macOS and ``%APPDATA%\\inkhue`` on Windows ($INKHUE_CONFIG),
extra model folders in $INKHUE_MODEL_PATH. The hosts': Krita's resource folder (``pykrita/``) and
``kritarc``, GIMP 3's user folder (``plug-ins/``, $GIMP3_DIRECTORY).

Robust to what a real environment holds: an empty or blank variable counts as unset, a relative
XDG path is ignored (the XDG specification says so), a missing ``%APPDATA%``/``%LOCALAPPDATA%``
falls back to the folder Windows would name, and a leading ``~`` in an override is the home folder.
"""

from __future__ import annotations

import ntpath
import os
import posixpath
import sys
from collections.abc import Mapping
from dataclasses import dataclass

APP = "inkhue"
CONFIG_ENV = "INKHUE_CONFIG"  # the plug-in settings file
STYLE_ENV = "INKHUE_STYLE_DIR"  # the style folder (tests, shared folders)
MODEL_PATH_ENV = "INKHUE_MODEL_PATH"  # model folders searched before the user's and the bundled ones
GIMP_ENV = "GIMP3_DIRECTORY"  # GIMP 3's own override of its user folder
CONFIG_FILE = "plugin.json"

LINUX, MACOS, WINDOWS = "linux", "macos", "windows"


def os_name(platform: str | None = None) -> str:
    """``sys.platform`` (or ``platform``) as one of LINUX, MACOS, WINDOWS (other Unixes: LINUX)."""
    platform = sys.platform if platform is None else platform
    if platform == "win32":
        return WINDOWS
    if platform == "darwin":
        return MACOS
    return LINUX


@dataclass(frozen=True)
class System:
    """What the folders depend on. ``current()`` is the running one."""

    os: str  # LINUX, MACOS or WINDOWS
    env: Mapping[str, str]
    home: str

    def join(self, *parts: str) -> str:
        return (ntpath if self.os == WINDOWS else posixpath).join(*parts)

    def var(self, name: str) -> str | None:
        """The variable's value, None when unset, empty or blank."""
        value = (self.env.get(name) or "").strip()
        return value or None

    def override(self, name: str) -> str | None:
        """An Inkhue or host override: the variable with a leading ``~`` meaning the home folder."""
        value = self.var(name)
        if value and (value == "~" or value[:2] in ("~/", "~\\")):
            return self.join(self.home, value[2:]) if len(value) > 1 else self.home
        return value

    def xdg(self, name: str, *fallback: str) -> str:
        """An XDG base folder: the variable when it holds an absolute path, else ``~/fallback``."""
        value = self.var(name)
        if value and posixpath.isabs(value):
            return value
        return self.join(self.home, *fallback)

    def windows(self, name: str, *fallback: str) -> str:
        """A Windows known folder's variable (APPDATA, LOCALAPPDATA), else ``~\\fallback``."""
        value = self.var(name)
        return value if value and ntpath.isabs(value) else self.join(self.home, *fallback)


def current() -> System:
    return System(os_name(), os.environ, os.path.expanduser("~"))


# ----------------------------------------------------------------------------------------------
# the base folders


def data_home(s: System | None = None) -> str:
    s = s or current()
    if s.os == WINDOWS:
        return s.windows("LOCALAPPDATA", "AppData", "Local")
    if s.os == MACOS:
        return s.join(s.home, "Library", "Application Support")
    return s.xdg("XDG_DATA_HOME", ".local", "share")


def config_home(s: System | None = None) -> str:
    s = s or current()
    if s.os == WINDOWS:
        return s.windows("APPDATA", "AppData", "Roaming")
    if s.os == MACOS:
        return s.join(s.home, "Library", "Preferences")
    return s.xdg("XDG_CONFIG_HOME", ".config")


def state_home(s: System | None = None) -> str:
    s = s or current()
    if s.os == LINUX:
        return s.xdg("XDG_STATE_HOME", ".local", "state")
    return data_home(s)


# ----------------------------------------------------------------------------------------------
# Inkhue's folders


def data_dir(s: System | None = None) -> str:
    """``<data>/inkhue``: the engine's virtual environment and install record, ``models/``, ``style/``."""
    s = s or current()
    return s.join(data_home(s), APP)


def models_dir(s: System | None = None) -> str:
    """The user's installed models (fine-tuned ones are exported here)."""
    s = s or current()
    return s.join(data_dir(s), "models")


def model_path_dirs(s: System | None = None) -> list[str]:
    """The folders in $INKHUE_MODEL_PATH (the OS's path separator), searched before ``models_dir``."""
    s = s or current()
    sep = ";" if s.os == WINDOWS else ":"
    return [p.strip() for p in (s.var(MODEL_PATH_ENV) or "").split(sep) if p.strip()]


def style_dir(s: System | None = None) -> str:
    """The style folder the plug-ins save pairs to and fine-tuning reads: $INKHUE_STYLE_DIR or
    ``<data>/inkhue/style``, beside the models."""
    s = s or current()
    return s.override(STYLE_ENV) or s.join(data_dir(s), "style")


def state_dir(s: System | None = None) -> str:
    """The managed local server's state (``server.json``, its log)."""
    s = s or current()
    return s.join(state_home(s), APP)


def config_file(s: System | None = None) -> str:
    """The plug-in settings the installer writes and the plug-ins read: $INKHUE_CONFIG, else
    ``plugin.json`` in the XDG config folder (also on macOS, where it has always been) or %APPDATA%."""
    s = s or current()
    folder = config_home(s) if s.os == WINDOWS else s.xdg("XDG_CONFIG_HOME", ".config")
    return s.override(CONFIG_ENV) or s.join(folder, APP, CONFIG_FILE)


# ----------------------------------------------------------------------------------------------
# the hosts' folders


def krita_dir(s: System | None = None) -> str:
    """Krita's resource folder (holds ``pykrita/`` and ``actions/``)."""
    s = s or current()
    base = config_home(s) if s.os == WINDOWS else data_home(s)
    return s.join(base, "krita")


def kritarc(s: System | None = None) -> str:
    """Krita's settings file."""
    s = s or current()
    base = data_home(s) if s.os == WINDOWS else config_home(s)
    return s.join(base, "kritarc")


def gimp_dir(s: System | None = None) -> str:
    """GIMP 3's user folder (holds ``plug-ins/``): $GIMP3_DIRECTORY, else the OS's."""
    s = s or current()
    base = data_home(s) if s.os == MACOS else config_home(s)
    return s.override(GIMP_ENV) or s.join(base, "GIMP", "3.0")
