"""The managed local server's state: identity checked before the token is sent, the lock, cleanup."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import time

import pytest

from engine.wire import local_server
from engine.wire.client import EngineError
from tests.service_helpers import TOKEN, colorizer_fixture, model_dir_fixture, test_client  # noqa: F401

SECRET = "a-secret-token-0123456789-abcdefghijklmnop"


class _Impostor(http.server.BaseHTTPRequestHandler):
    """Another user's server on the port the state file names: says yes to everything."""

    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        _Impostor.seen.append(str(self.headers) + self.path)
        body = json.dumps({"ready": True, "proof": "0" * 64}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args) -> None:
        pass


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX launcher script")
def test_an_impostor_on_the_recorded_port_never_gets_the_token(tmp_path):
    """Issue 19.4: the recorded pid is alive (this test's), the port answers, but the token is
    not sent before the server proves it holds it, so a fresh server is started instead."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Impostor)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    (state / "server.json").write_text(json.dumps({"pid": os.getpid(), "url": url, "token": SECRET}))
    exe = tmp_path / "inkhue"
    exe.write_text("#!/bin/sh\nexit 7\n")  # the fresh server fails at once: the test stays short
    exe.chmod(0o755)
    try:
        with pytest.raises(EngineError, match="exit code 7"):
            local_server.ensure_local_server(str(exe), str(state), start_timeout=20)
    finally:
        server.shutdown()
    assert _Impostor.seen, "the recorded server was not even asked"
    assert not any(SECRET in request for request in _Impostor.seen)


def test_a_dead_pid_is_not_ours(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert not local_server._pid_is_ours(proc.pid) or sys.platform == "win32"
    assert local_server._pid_is_ours(os.getpid())
    assert not local_server._pid_is_ours("12") and not local_server._pid_is_ours(None)
    assert not local_server._is_ours({"pid": proc.pid, "url": "http://127.0.0.1:9", "token": "t"}) or (
        sys.platform == "win32"
    )


@pytest.mark.skipif(sys.platform == "win32", reason="pids of the lock owner are not checked on Windows")
def test_a_crashed_owners_lock_is_broken_at_once(tmp_path):
    """Issue 19.13: the lock holds its owner's pid; a dead owner's lock does not cost 2 minutes."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    lock = tmp_path / "server.lock"
    lock.write_text(str(proc.pid))
    old = time.time() - 5
    os.utime(lock, (old, old))
    t0 = time.monotonic()
    with local_server._Lock(str(lock), stale_after=120):
        assert lock.read_text() == str(os.getpid())
    assert time.monotonic() - t0 < 3 and not lock.exists()
    lock.write_text(str(os.getpid()))  # a live owner's lock is respected until stale_after
    os.utime(lock, (old, old))
    assert not local_server._Lock(str(lock), stale_after=120)._stale()


def test_the_server_proves_its_identity_without_the_token(colorizer):
    from engine.server import ServerConfig, create_app

    with test_client(create_app(colorizer, ServerConfig(token=TOKEN))) as http:
        r = http.get(local_server.IDENTITY_PATH, params={"nonce": "ab" * 16})  # no Authorization
        assert r.status_code == 200
        assert r.json()["proof"] == local_server.identity_proof(TOKEN, "ab" * 16)
        assert r.json()["proof"] != local_server.identity_proof("other", "ab" * 16)
        for nonce in ("", "short", "x" * 200, "ab/" * 10):
            assert http.get(local_server.IDENTITY_PATH, params={"nonce": nonce}).status_code == 400
    with test_client(create_app(colorizer, ServerConfig())) as http:
        assert http.get(local_server.IDENTITY_PATH, params={"nonce": "ab" * 16}).status_code == 404


def test_the_state_file_goes_with_its_server(tmp_path):
    from engine.server.run import remove_state_file

    path = tmp_path / "server.json"
    path.write_text(json.dumps({"pid": 1, "url": "http://127.0.0.1:1", "token": "theirs"}))
    remove_state_file(path, "ours")
    assert path.exists()  # another server's state: kept
    remove_state_file(path, "theirs")
    assert not path.exists()
    remove_state_file(path, "theirs")  # already gone: no error


def test_the_managed_server_runs_with_the_desktop_limits(tmp_path, monkeypatch):
    """Issue 19.7: the server the plug-ins start beside Krita or GIMP computes one image at a time
    and holds at most one largest body; a studio ``inkhue serve`` keeps its larger defaults."""
    from engine.cli import build_parser
    from engine.server.command import config_from_args

    seen: list[list[str]] = []

    class _Exited:
        pid, returncode = 1, 1

        def poll(self) -> int:
            return 1

    monkeypatch.setattr(local_server.subprocess, "Popen", lambda cmd, **kw: seen.append(cmd) or _Exited())
    with pytest.raises(EngineError, match="stopped while starting"):
        local_server._start_server("inkhue", str(tmp_path), 900, 5)
    args = build_parser().parse_args(seen[0][1:])
    local = config_from_args(args, SECRET)
    assert (local.workers, local.queue, local.max_connections) == (1, 4, 32)
    assert local.body_budget == local.max_body_bytes and local.idle_timeout_s == 900
    studio = config_from_args(build_parser().parse_args(["serve"]), None)
    assert (studio.workers, studio.queue, studio.body_budget) == (2, 8, 2 * studio.max_body_bytes)
    mixed = config_from_args(build_parser().parse_args(["serve", "--desktop", "--workers", "3"]), None)
    assert (mixed.workers, mixed.queue) == (3, 4)
