"""Issue 19's acceptance check on a real ``inkhue serve`` process: refused gzip bombs leave its
resident memory where it started (slow: starts a server and inflates 20 bombs)."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.service_helpers import REPO, model_dir_fixture  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")]


def _rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_twenty_refused_gzip_bombs_leave_rss_flat(model_dir, tmp_path):
    port_file = tmp_path / "port"
    env = {**os.environ, "INKHUE_MODEL_PATH": str(model_dir), "PYTHONPATH": str(REPO)}
    env.pop("INKHUE_TOKEN", None)
    cmd = [sys.executable, "-m", "engine.cli", "serve", "--port", "0", "--port-file", str(port_file),
           "--max-pixels", str(2048 * 2048)]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        url = f"http://127.0.0.1:{int(port_file.read_text())}/v2/models/inkhue/infer"
        bomb = gzip.compress(bytes(8 * 2048 * 2048 + (2 << 20)), 9)  # inflates past max_body_bytes

        def send() -> int:
            req = urllib.request.Request(url, data=bomb, headers={"Content-Encoding": "gzip"}, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=60) as r:
                    return r.status
            except urllib.error.HTTPError as e:
                return e.code

        assert send() == 413  # warm-up: imports, thread pool, allocator arenas
        start = _rss_mb(proc.pid)
        assert [send() for _ in range(20)] == [413] * 20
        assert _rss_mb(proc.pid) - start < 50, f"RSS grew from {start:.0f} MB to {_rss_mb(proc.pid):.0f} MB"
    finally:
        proc.kill()
        proc.wait()
