"""What the real-Krita run talks to, and the files it starts from (used by conftest and krita52).

- ``EngineServer``: ``inkhue serve`` of this checkout on a free loopback port, with a token;
- ``stall_server``: accepts connections and never answers (a hung engine);
- ``slow_proxy``: holds each request a while, then forwards it to the engine;
- ``prepare_e2e``: the scenario files, the plug-in's ``plugin.json`` and the ``inkhue`` wrapper
  the plug-in's local mode starts.
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import krita_scenario
import kritarun

REPO = kritarun.REPO
TOKEN = "krita-e2e-token"
SLOW_S = 1.5  # how long the slow proxy holds a request


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/v2/health/ready", timeout=5) as r:
            return r.status == 200
    except OSError:
        return False


def engine_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


@dataclass
class EngineServer:
    url: str
    proc: subprocess.Popen
    log: Path

    @classmethod
    def start(cls, model: Path, state: Path, timeout: float = 90.0) -> EngineServer:
        state.mkdir(parents=True, exist_ok=True)
        port_file, log = state / "port", state / "serve.log"
        cmd = [sys.executable, "-m", "engine.cli", "serve", "--host", "127.0.0.1", "--port", "0"]
        cmd += ["--token", TOKEN, "--model", str(model), "--port-file", str(port_file)]
        with open(log, "wb") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=engine_env(), cwd=REPO)
        deadline = time.monotonic() + timeout
        while not (port_file.exists() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("inkhue serve did not start:\n" + log.read_text()[-3000:])
            time.sleep(0.1)
        server = cls(f"http://127.0.0.1:{int(port_file.read_text())}", proc, log)
        if not healthy(server.url):
            server.stop()
            raise RuntimeError("inkhue serve is not healthy:\n" + log.read_text()[-3000:])
        return server

    def problem(self) -> str:
        """Why requests may have failed, or "" while the server is alive and ready."""
        if self.proc.poll() is None and healthy(self.url):
            return ""
        return f"the engine server (exit code {self.proc.poll()}) died:\n{self.log.read_text()[-2000:]}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@contextlib.contextmanager
def stall_server() -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        sock.close()


@contextlib.contextmanager
def slow_proxy(target_url: str, delay: float = SLOW_S) -> Iterator[str]:
    target = urllib.parse.urlsplit(target_url)

    class Slow(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            time.sleep(delay)
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            skip = {"host", "content-length", "connection"}
            conn.request(
                "POST", self.path, body, {k: v for k, v in self.headers.items() if k.lower() not in skip}
            )
            resp = conn.getresponse()
            data = resp.read()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def dead_url() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there any more
    return f"http://127.0.0.1:{port}"


def stop_local_engine(home: Path) -> None:
    """Stop the engine the plug-in's local mode started (it would idle for 15 minutes)."""
    try:
        state = json.loads((home / ".local/state/inkhue/server.json").read_text())
        os.kill(int(state["pid"]), signal.SIGTERM)
    except (OSError, ValueError, KeyError):
        pass


def prepare_e2e(base: Path, urls: dict, model: Path) -> tuple[dict, Path, Path, Path]:
    """Scenario files, a Krita profile with the plug-in, plugin.json and the ``inkhue`` wrapper
    under ``base``; returns (scenario, inputs, out, home)."""
    inputs, out, home = base / "in", base / "out", base / "home"
    sc = krita_scenario.write(inputs)
    sc.update(urls, token=TOKEN, dead_url=dead_url())
    (inputs / "scenario.json").write_text(json.dumps(sc), encoding="utf-8")
    kritarun.make_home(home)
    wrapper = base / "inkhue"  # local mode: this checkout's engine with the test model
    engine = f"PYTHONPATH='{REPO}' exec '{sys.executable}' -m engine.cli"
    wrapper.write_text(f"#!/bin/sh\n{engine} \"$@\" --model '{model}'\n", encoding="utf-8")
    wrapper.chmod(0o755)
    cfg = home / ".config/inkhue"
    cfg.mkdir(parents=True, exist_ok=True)
    (cfg / "plugin.json").write_text(json.dumps({"inkhue": str(wrapper), "mode": "local"}), encoding="utf-8")
    return sc, inputs, out, home
