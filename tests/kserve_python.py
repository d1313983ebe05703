"""The Python that runs KServe's own model server for the interop tests.

KServe pins its own protobuf, so it lives in a venv of its own: ``INKHUE_KSERVE_PYTHON`` when set,
else the venv ``tests/setup.sh`` makes (``INKHUE_KSERVE_VENV``, default
``~/.cache/inkhue-ci/kserve-venv``) when it exists, else this Python.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def kserve_python() -> str:
    env = os.environ.get("INKHUE_KSERVE_PYTHON")
    if env:
        return env
    venv = Path(os.environ.get("INKHUE_KSERVE_VENV") or Path.home() / ".cache" / "inkhue-ci" / "kserve-venv")
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    return str(python) if python.is_file() else sys.executable
