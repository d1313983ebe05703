"""The stdlib client the plug-ins carry: requests, error kinds, settings, the managed local server."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from engine.server import ServerConfig, create_app, serve_in_thread
from engine.wire import client, local_server
from tests.service_helpers import (  # noqa: F401
    TOKEN,
    GatedColorizer,
    colorizer_fixture,
    drawing,
    inkhue_exe,
    model_dir_fixture,
    server_url_fixture,
)


def _rgb(data: bytes, h: int, w: int) -> np.ndarray:
    return np.frombuffer(data, np.uint8).reshape(h, w, 3)


def test_client_is_stdlib_only_and_vendorable(tmp_path):
    """The plug-ins import it as ``from .vendor import client`` in an interpreter without numpy."""
    from installer.vendor import vendor_into

    vendor_into(tmp_path / "plugin")
    (tmp_path / "plugin" / "__init__.py").write_text("from .vendor import client\n")
    code = (
        "import sys; sys.modules['numpy'] = None\n"  # any numpy import would fail
        "import plugin; c = plugin.client\n"
        "from plugin.vendor import local_server as s\n"  # the managed server, carried beside it
        "print(c.schema.MODEL_NAME, c.EngineError('x', 'busy').kind, s.EngineError is c.EngineError)"
    )
    r = subprocess.run(
        [sys.executable, "-E", "-s", "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["inkhue", "busy", "True"]


def test_colorize_matches_local_with_and_without_gzip(server_url, colorizer):
    lineart, hints = drawing(72, 100, seed=3)
    ref = colorizer.colorize(lineart, hints)
    for compress in (None, False, True):
        out = client.colorize(
            server_url, lineart.tobytes(), hints.tobytes(), 100, 72, token=TOKEN, compress=compress
        )
        np.testing.assert_array_equal(_rgb(out, 72, 100), ref)
    flat = client.colorize(server_url, lineart.tobytes(), None, 100, 72, {"compose_lines": False}, TOKEN)
    np.testing.assert_array_equal(_rgb(flat, 72, 100), colorizer.colorize(lineart, None, compose_lines=False))
    assert client.health(server_url) and client.health(server_url + "/")


def _kind(fn, *args, **kwargs) -> client.EngineError:
    with pytest.raises(client.EngineError) as info:
        fn(*args, **kwargs)
    assert str(info.value)  # always a message for the artist
    return info.value


def test_error_kinds(server_url, colorizer):
    lineart, _ = drawing(32, 32)
    px = lineart.tobytes()
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    assert _kind(client.colorize, closed, px, None, 32, 32).kind == "unreachable"
    assert not client.health(closed, timeout=1)
    assert _kind(client.colorize, server_url, px, None, 32, 32, token="nope").kind == "auth"
    big = bytes(1024 * 1024 * 4)  # refused before its 8 MB are read: still an answer, not a broken pipe
    assert _kind(client.colorize, server_url, big, None, 1024, 1024, token="nope").kind == "auth"
    assert _kind(client.colorize, server_url, px, None, 32, 32).kind == "auth"
    e = _kind(client.colorize, server_url, px, None, 32, 32, {"bogus": 1}, TOKEN)
    assert e.kind == "bad_request" and "bogus" in str(e)
    assert _kind(client.colorize, server_url, px[:-1], None, 32, 32, token=TOKEN).kind == "bad_request"
    assert _kind(client.colorize, server_url, px, px[:5], 32, 32, token=TOKEN).kind == "bad_request"
    tiny = bytes(8 * 8 * 4)
    e = _kind(client.colorize, server_url, tiny, None, 8, 8, token=TOKEN)  # server-side 400
    assert e.kind == "bad_request" and "16 pixels" in str(e)
    assert _kind(client.colorize, server_url + "/x", px, None, 32, 32, token=TOKEN).kind == "server"

    gated = GatedColorizer(colorizer)
    with serve_in_thread(create_app(gated, ServerConfig(max_pixels=40 * 40, workers=1, queue=0))) as url:
        big = bytes(64 * 64 * 4)
        e = _kind(client.colorize, url, big, None, 64, 64)
        assert e.kind == "too_large" and "1,600" in str(e)
        huge = bytes(1024 * 1024 * 4)  # over the body limit by its Content-Length
        assert _kind(client.colorize, url, huge, None, 1024, 1024).kind == "too_large"
        assert _kind(client.colorize, url, px, None, 32, 32, timeout=0.5).kind == "timeout"
        assert gated.entered.acquire(timeout=10)  # that request still holds the only slot
        e = _kind(client.colorize, url, px, None, 32, 32)
        assert e.kind == "busy" and "try again in 2 s" in str(e)
        assert _kind(client.colorize, url, bytes(256 * 256 * 4), None, 256, 256).kind == "busy"  # 0.5 MB
        gated.gate.set()


def test_decode_json_response_and_wrong_answers():
    rgb = bytes(range(48))
    answer = {"outputs": [{"name": "COLOR", "datatype": "UINT8", "shape": [4, 4, 3], "data": list(rgb)}]}
    assert client.decode_response({}, json.dumps(answer).encode(), 4, 4) == rgb
    answer["outputs"][0]["shape"] = [4, 5, 3]
    assert _kind(client.decode_response, {}, json.dumps(answer).encode(), 4, 4).kind == "server"
    assert _kind(client.decode_response, {}, b"<html>", 4, 4).kind == "server"


def test_plugin_config(tmp_path, monkeypatch):
    monkeypatch.delenv("INKHUE_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert client.load_plugin_config() == client.PluginConfig()  # no file, no inkhue on PATH
    (tmp_path / "bin").mkdir()
    exe = inkhue_exe(tmp_path / "bin")
    assert client.load_plugin_config().inkhue == exe

    path = tmp_path / "plugin.json"
    path.write_text(json.dumps({"mode": "remote", "url": "http://gpu:8000/", "token": "t", "extra": 1}))
    monkeypatch.setenv("INKHUE_CONFIG", str(path))
    cfg = client.load_plugin_config()
    assert (cfg.mode, cfg.url, cfg.token) == ("remote", "http://gpu:8000/", "t")
    assert client.endpoint_for(cfg) == ("http://gpu:8000", "t")
    for bad, words in (("{", "cannot read"), ("[]", "JSON object"), ('{"mode": "cloud"}', "mode"),
                       ('{"mode": "remote"}', "url")):  # fmt: skip
        path.write_text(bad)
        assert words in str(_kind(client.load_plugin_config, str(path)))
    e = _kind(client.endpoint_for, client.PluginConfig(inkhue=None))
    assert e.kind == "not_installed"
    assert _kind(local_server.ensure_local_server, str(tmp_path / "missing")).kind == "not_installed"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited child of ours) counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX launcher script")
def test_managed_local_server_starts_once_is_reused_and_stops_when_idle(model_dir, tmp_path, colorizer):
    exe = inkhue_exe(tmp_path)
    state = tmp_path / "state"
    os.environ["INKHUE_MODEL_PATH"] = str(model_dir)  # inherited by the server process
    try:
        url, token = local_server.ensure_local_server(exe, str(state), idle_timeout=2)
        info = json.loads((state / "server.json").read_text())
        assert stat.S_IMODE((state / "server.json").stat().st_mode) == 0o600  # it holds the token
        assert url.startswith("http://127.0.0.1:") and len(token) >= 32 and info["url"] == url
        lineart, hints = drawing(48, 48, seed=5)
        out = client.colorize(url, lineart.tobytes(), hints.tobytes(), 48, 48, token=token)
        np.testing.assert_array_equal(_rgb(out, 48, 48), colorizer.colorize(lineart, hints))
        assert _kind(client.colorize, url, lineart.tobytes(), None, 48, 48).kind == "auth"
        assert local_server.ensure_local_server(exe, str(state), idle_timeout=2) == (url, token)  # reused
        deadline = time.monotonic() + 30
        while _alive(info["pid"]):
            assert time.monotonic() < deadline, "the idle server did not stop"
            time.sleep(0.1)
        assert not (state / "server.json").exists()  # removed on exit: nothing points at the port
        url2, token2 = local_server.ensure_local_server(exe, str(state), idle_timeout=2)  # a fresh one
        assert token2 != token and client.health(url2)
    finally:
        os.environ.pop("INKHUE_MODEL_PATH", None)
        info = json.loads((state / "server.json").read_text())
        if _alive(info["pid"]):
            os.kill(info["pid"], 15)
