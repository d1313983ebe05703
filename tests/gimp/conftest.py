"""Fixtures of the real-GIMP tests: the chroot and one ``inkhue serve`` for the whole session."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.gimp import harness, scenes


@pytest.fixture(scope="session")
def gimp_root() -> Path:
    if os.geteuid() != 0:
        pytest.fail("the real-GIMP tests need root (chroot); run as root or set INKHUE_SKIP_GIMP=1")
    root = harness.chroot_root()
    harness.ensure_chroot(root)
    return root


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory):
    """The shipped model when it exists (then ``kind`` "trained"), else the flood-fill model."""
    if (scenes.SHIPPED / "manifest.json").is_file():
        model, kind = scenes.SHIPPED, "trained"
    else:
        from tests.fixtures_models import fill_model

        model, kind = fill_model(tmp_path_factory.mktemp("models") / "fill"), "fill"
    port_file = tmp_path_factory.mktemp("serve") / "port"
    cmd = [sys.executable, "-m", "engine.cli", "serve", "--host", "127.0.0.1", "--port", "0"]
    cmd += ["--port-file", str(port_file), "--token", scenes.TOKEN, "--model", str(model)]
    env = {**os.environ, "PYTHONPATH": str(harness.REPO)}
    log = tmp_path_factory.mktemp("serve-log") / "serve.log"
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(cmd, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not (port_file.is_file() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"inkhue serve did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.05)
        yield {"url": f"http://127.0.0.1:{port_file.read_text().strip()}", "kind": kind, "model": model}
    finally:
        proc.terminate()
        proc.wait(10)
