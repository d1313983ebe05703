"""The Krita plug-in as installed (the repository's folder plus its ``vendor/``), for the unit tests
that import its modules outside Krita: its modules read the engine's schema from the vendored copy."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from pathlib import Path

from installer.plugins import build_package, krita_source

ROOT = Path(__file__).resolve().parent.parent


@cache
def krita_plugin_root() -> Path:
    """A folder holding ``inkhue_krita/`` with its ``vendor/``, built once per process, removed at exit."""
    root = Path(tempfile.mkdtemp(prefix="inkhue-krita-plugin-"))
    atexit.register(shutil.rmtree, root, True)
    build_package(krita_source(ROOT).package, root / "inkhue_krita")
    return root
