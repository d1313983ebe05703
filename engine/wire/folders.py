"""The user's Inkhue folders: one rule for the engine, ``inkhue-train`` and both plug-ins.

Standard library only: ``installer/vendor.py`` copies this file into the Krita and the GIMP plug-in.
The user data folder (``~/.local/share/inkhue`` on Linux, ``%LOCALAPPDATA%\\inkhue`` on Windows,
``~/Library/Application Support/inkhue`` on macOS) holds the models the user made (``models/``)
and the style pairs the plug-ins save (``style/``); the state folder holds the managed server's
and the fine-tune job's files.
"""

from __future__ import annotations

import os
import sys

STYLE_ENV = "INKHUE_STYLE_DIR"  # overrides the style folder (tests, shared folders)
MODEL_PATH_ENV = "INKHUE_MODEL_PATH"  # more model folders, searched before the user's own


def data_dir() -> str:
    """``<user data>/inkhue``: the folder platformdirs' ``user_data_dir("inkhue")`` names."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~")
    elif sys.platform == "darwin":
        base = os.path.expanduser("~/Library/Application Support")
    else:
        base = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return os.path.join(base, "inkhue")


def style_dir() -> str:
    """The user's style folder: $INKHUE_STYLE_DIR, else ``<user data>/inkhue/style``."""
    return os.environ.get(STYLE_ENV) or os.path.join(data_dir(), "style")


def models_dir() -> str:
    """The user's models folder, where ``inkhue-train finetune`` writes: ``<user data>/inkhue/models``."""
    return os.path.join(data_dir(), "models")


def model_path_dirs() -> list[str]:
    """The folders named in $INKHUE_MODEL_PATH (``os.pathsep``-separated), in order."""
    return [p for p in os.environ.get(MODEL_PATH_ENV, "").split(os.pathsep) if p]


def state_dir() -> str:
    """Where the managed server and the fine-tune job keep their state: ``~/.local/state/inkhue``
    ($XDG_STATE_HOME), ``%LOCALAPPDATA%\\inkhue`` on Windows."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~")
    elif sys.platform == "darwin":
        base = os.path.join(os.path.expanduser("~"), "Library", "Application Support")
    else:
        base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "inkhue")
