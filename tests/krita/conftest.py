"""Fixtures for the real-Krita tests: an engine server, a server that never answers, and one
Krita run of scripts/e2e.py shared by all checks (each Krita start costs ~10 s).

Krita is required: without it these tests fail with the command that installs it
(``tests/krita/setup.sh``). Set INKHUE_SKIP_KRITA=1 to skip them explicitly.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import krita_scenario  # noqa: E402
import kritarun  # noqa: E402

REPO = kritarun.REPO
TOKEN = "krita-e2e-token"


def pytest_collection_modifyitems(config, items):
    if os.environ.get("INKHUE_SKIP_KRITA") == "1":
        skip = pytest.mark.skip(reason="INKHUE_SKIP_KRITA=1")
        for item in items:
            if "needs_krita" in item.keywords:
                item.add_marker(skip)


def pytest_configure(config):
    config.addinivalue_line("markers", "needs_krita: runs real Krita under Xvfb (INKHUE_SKIP_KRITA=1 skips)")


@pytest.fixture(scope="session")
def krita_available():
    missing = kritarun.missing_tools()
    if missing:
        pytest.fail(
            f"real-Krita tests need {', '.join(missing)}: run 'bash tests/krita/setup.sh' "
            "(or set INKHUE_SKIP_KRITA=1 to skip them)",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> tuple[Path, bool]:
    """(model folder, is_fixture): the shipped trained model when present, else the fill model."""
    import fill_model  # onnx and the training package: only when Krita tests really run

    shipped = fill_model.shipped_model()
    if shipped is not None:
        return shipped, False
    return fill_model.build(tmp_path_factory.mktemp("fill-model")), True


def _engine_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


@dataclass
class Server:
    url: str
    proc: subprocess.Popen
    log: Path

    def problem(self) -> str:
        """Why requests may have failed, or ""."""
        if self.proc.poll() is None and _healthy(self.url):
            return ""
        return f"the engine server (exit code {self.proc.poll()}) died:\n{self.log.read_text()[-2000:]}"


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/v2/health/ready", timeout=5) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def engine_server(model_dir, tmp_path_factory):
    """``inkhue serve`` on a free loopback port with a token; yields its URL."""
    state = tmp_path_factory.mktemp("serve")
    port_file = state / "port"
    log = open(state / "serve.log", "wb")
    cmd = [sys.executable, "-m", "engine.cli", "serve", "--host", "127.0.0.1", "--port", "0"]
    cmd += ["--token", TOKEN, "--model", str(model_dir[0]), "--port-file", str(port_file)]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=_engine_env(), cwd=REPO)
    deadline = time.monotonic() + 90
    while not (port_file.exists() and port_file.read_text().strip()):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("inkhue serve did not start:\n" + (state / "serve.log").read_text()[-3000:])
        time.sleep(0.1)
    url = f"http://127.0.0.1:{int(port_file.read_text())}"
    if not _healthy(url):
        proc.kill()
        pytest.fail("inkhue serve is not healthy:\n" + (state / "serve.log").read_text()[-3000:])
    yield Server(url, proc, state / "serve.log")
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def stall_server():
    """A server that accepts connections and never answers (a hung or very slow engine)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    stop.set()
    t.join(2)
    for c in held:
        c.close()
    sock.close()


def _dead_url() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there any more
    return f"http://127.0.0.1:{port}"


def _write_inkhue_wrapper(path: Path, model: Path) -> Path:
    """An ``inkhue`` executable for the plug-in's local mode: this checkout's engine, test model."""
    path.write_text(
        f"#!/bin/sh\nPYTHONPATH='{REPO}' exec '{sys.executable}' -m engine.cli \"$@\" --model '{model}'\n",
        encoding="utf-8",
    )
    path.chmod(0o755)
    return path


def _stop_local_engine(home: Path) -> None:
    state = home / ".local/state/inkhue/server.json"
    try:
        pid = int(json.loads(state.read_text())["pid"])
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError, KeyError):
        pass


@pytest.fixture(scope="session")
def e2e(krita_available, engine_server, stall_server, model_dir, tmp_path_factory):
    """One real-Krita run of scripts/e2e.py; returns (run, out_dir, scenario)."""
    base = tmp_path_factory.mktemp("krita-e2e")
    inputs, out, home = base / "in", base / "out", base / "home"
    sc = krita_scenario.write(inputs)
    sc.update(url=engine_server.url, token=TOKEN, stall_url=stall_server, dead_url=_dead_url())
    (inputs / "scenario.json").write_text(json.dumps(sc), encoding="utf-8")
    kritarun.make_home(home)
    wrapper = _write_inkhue_wrapper(base / "inkhue", model_dir[0])
    cfg = home / ".config/inkhue"
    cfg.mkdir(parents=True, exist_ok=True)
    (cfg / "plugin.json").write_text(json.dumps({"inkhue": str(wrapper), "mode": "local"}), encoding="utf-8")
    try:
        run = kritarun.run_script(
            kritarun.SCRIPTS / "e2e.py", out, home, env={"INKHUE_KRITA_INPUT": str(inputs)}
        )
    finally:
        _stop_local_engine(home)
    assert run.ok, run.explain()
    problem = engine_server.problem()
    assert not problem, problem
    return run, out, sc
