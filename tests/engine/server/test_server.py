"""The KServe v2 server: endpoints, tensor codec, auth, limits, the serve command."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
import urllib.request
import zlib

import numpy as np
import pytest

from engine.server import ServeError, ServerConfig, create_app, serve_in_thread
from engine.server.run import check_binding
from tests.service_helpers import (  # noqa: F401
    REPO,
    TOKEN,
    GatedColorizer,
    color_from,
    colorizer_fixture,
    drawing,
    infer_body,
    model_dir_fixture,
    server_url_fixture,
    test_client,
)

INFER = "/v2/models/inkhue/infer"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def client(colorizer):
    with test_client(create_app(colorizer, ServerConfig(token=TOKEN, max_pixels=256 * 256))) as c:
        yield c


def test_health_and_metadata(client):
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").status_code == 200  # probes need no token
    server = client.get("/v2", headers=AUTH).json()
    assert "binary_tensor_data" in server["extensions"]
    meta = client.get("/v2/models/inkhue", headers=AUTH).json()
    assert meta["name"] == "inkhue" and meta["versions"] == ["0.0.0"]
    assert [(t["name"], t["datatype"], t["shape"]) for t in meta["inputs"]] == [
        ("LINEART", "UINT8", [-1, -1, 4]),
        ("HINTS", "UINT8", [-1, -1, 4]),
    ]
    # 3 channels (RGB), 4 with the option "transparent"
    assert meta["outputs"] == [{"name": "COLOR", "datatype": "UINT8", "shape": [-1, -1, -1]}]
    assert client.get("/v2/models/inkhue/ready", headers=AUTH).json()["ready"] is True
    assert client.get("/v2/models/inkhue/versions/0.0.0", headers=AUTH).status_code == 200
    for path in ("/v2/models/other", "/v2/models/inkhue/versions/9", "/nowhere"):
        r = client.get(path, headers=AUTH)
        assert r.status_code == 404 and "error" in r.json()


def test_infer_binary_json_and_compressed_bodies_agree_with_local(client, colorizer):
    lineart, hints = drawing(40, 56)
    ref = colorizer.colorize(lineart, hints)
    body, headers = infer_body(lineart, hints)
    r = client.post(INFER, content=body, headers={**headers, **AUTH})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/octet-stream"
    assert float(r.headers["server-timing"].removeprefix("model;dur=")) > 0
    np.testing.assert_array_equal(color_from(r.content, r.headers["inference-header-content-length"]), ref)

    as_json = {  # the protocol's plain JSON form, both ways
        "id": "req-7",
        "inputs": [
            {"name": "LINEART", "shape": [40, 56, 4], "datatype": "UINT8", "data": lineart.ravel().tolist()},
            {"name": "HINTS", "shape": [40, 56, 4], "datatype": "UINT8", "data": hints.tolist()},
        ],
    }
    r = client.post(INFER, json=as_json, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == "req-7"
    np.testing.assert_array_equal(color_from(r.content, None), ref)

    for encoding, pack in (("gzip", gzip.compress), ("deflate", zlib.compress)):
        r = client.post(INFER, content=pack(body), headers={**headers, **AUTH, "Content-Encoding": encoding})
        assert r.status_code == 200, (encoding, r.text)
        np.testing.assert_array_equal(
            color_from(r.content, r.headers["inference-header-content-length"]), ref
        )

    # binary output asked for with the request-level parameter, options next to it
    flat = colorizer.colorize(lineart, hints, compose_lines=False)
    body, headers = infer_body(lineart, hints, {"binary_data_output": True, "compose_lines": False}, False)
    r = client.post("/v2/models/inkhue/versions/0.0.0/infer", content=body, headers={**headers, **AUTH})
    np.testing.assert_array_equal(color_from(r.content, r.headers["inference-header-content-length"]), flat)
    assert not np.array_equal(flat, ref)


def test_auth(client):
    lineart, hints = drawing(32, 32)
    body, headers = infer_body(lineart, hints)
    for bad in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": TOKEN},
        {"Authorization": "Basic x"},
    ):
        for method, path in (("POST", INFER), ("GET", "/v2/models/inkhue"), ("GET", "/v2")):
            r = client.request(method, path, content=body, headers={**headers, **bad})
            assert r.status_code == 401, (bad, path)
            assert r.headers["www-authenticate"].startswith("Bearer") and "token" in r.json()["error"]
    assert client.post(INFER, content=body, headers={**headers, **AUTH}).status_code == 200


def test_bad_requests_get_clear_400s(client):
    lineart, hints = drawing(32, 32)
    body, headers = infer_body(lineart, hints)
    cases = {
        "not valid JSON": (b"{nope", {}),
        "Inference-Header-Content-Length": (body, {"Inference-Header-Content-Length": "999999"}),
        "unknown option": infer_body(lineart, hints, {"sharpness": 3}),
        "'tile' must be": infer_body(lineart, hints, {"tile": 7}),
        "must be int": infer_body(lineart, hints, {"working_size": "512"}),
        "shape [height, width, 4]": infer_body(lineart[..., :3].copy(), None),
        "'HINTS' has shape": infer_body(lineart, hints[:16].copy()),
        "bytes after the last": (body + b"x", headers),
        "at least 16 pixels": infer_body(lineart[:8], hints[:8]),
        "not valid gzip": (b"garbage", {"Content-Encoding": "gzip"}),
    }
    for expect, (data, extra) in cases.items():
        r = client.post(INFER, content=data, headers={**extra, **AUTH})
        assert r.status_code == 400, (expect, r.status_code, r.text)
        assert expect in r.json()["error"], (expect, r.json())
    r = client.post(INFER, content=body, headers={**headers, **AUTH, "Content-Encoding": "br"})
    assert r.status_code == 415


def test_size_limits_413(client):
    big = np.zeros((300, 300, 4), np.uint8)  # 90,000 px > 256² limit of this client's server
    body, headers = infer_body(big, big)
    r = client.post(INFER, content=body, headers={**headers, **AUTH})
    assert r.status_code == 413 and "at most 65,536" in r.json()["error"]
    # declared body size over the limit: refused before reading it
    r = client.post(INFER, content=b"x" * (9 * 256 * 256 + (1 << 20)), headers=AUTH)
    assert r.status_code == 413
    # a small gzip bomb must not inflate past the limit
    bomb = gzip.compress(bytes(9 * 256 * 256 + (1 << 20)), 9)
    assert len(bomb) < 1 << 20
    r = client.post(INFER, content=bomb, headers={**AUTH, "Content-Encoding": "gzip"})
    assert r.status_code == 413 and "inflates" in r.json()["error"]


def test_overload_503_timeout_504_and_the_event_loop_stays_free(colorizer):
    import httpx

    gated = GatedColorizer(colorizer)
    config = ServerConfig(workers=1, queue=0, timeout_s=1.5, retry_after_s=3)
    lineart, hints = drawing(32, 32)
    body, headers = infer_body(lineart, hints)
    with serve_in_thread(create_app(gated, config)) as url, httpx.Client(base_url=url, timeout=20) as http:
        import concurrent.futures as cf

        with cf.ThreadPoolExecutor(1) as pool:
            first = pool.submit(http.post, INFER, content=body, headers=headers)
            assert gated.entered.acquire(timeout=10)  # the model is now busy with the first request
            t0 = time.perf_counter()
            assert http.get("/v2/health/ready").status_code == 200
            busy = http.post(INFER, content=body, headers=headers)
            assert time.perf_counter() - t0 < 1.0  # answered while the model is busy
            assert busy.status_code == 503 and busy.headers["retry-after"] == "3"
            assert first.result().status_code == 504  # the gate stays shut past timeout_s
        gated.gate.set()  # the abandoned computation ends and frees its slot
        for _ in range(100):
            if gated_done(http, body, headers):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the slot of the timed-out request was never freed")


def gated_done(http, body, headers) -> bool:
    r = http.post(INFER, content=body, headers=headers)
    return r.status_code == 200


def test_token_required_off_loopback():
    check_binding("127.0.0.1", None)
    check_binding("::1", None)
    check_binding("0.0.0.0", "t")
    for host in ("0.0.0.0", "192.168.1.5", "::", "example.org"):
        with pytest.raises(ServeError, match="without a token"):
            check_binding(host, None)


def _env(model_dir) -> dict:
    env = {**os.environ, "INKHUE_MODEL_PATH": str(model_dir), "PYTHONPATH": str(REPO)}
    env.pop("INKHUE_TOKEN", None)
    return env


def test_serve_refuses_open_binding_without_token(model_dir):
    r = subprocess.run(
        [sys.executable, "-m", "engine.cli", "serve", "--host", "0.0.0.0", "--port", "0"],
        env=_env(model_dir), capture_output=True, text=True, timeout=60, cwd=REPO,
    )  # fmt: skip
    assert r.returncode == 5 and "without a token" in r.stderr


def test_serve_command_port_file_token_env_and_idle_exit(model_dir, tmp_path):
    port_file = tmp_path / "port"
    cmd = [sys.executable, "-m", "engine.cli", "serve", "--port", "0", "--port-file", str(port_file),
           "--idle-timeout", "1.5"]  # fmt: skip
    proc = subprocess.Popen(cmd, env={**_env(model_dir), "INKHUE_TOKEN": TOKEN}, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists():
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.monotonic() < deadline, "no port file"
            time.sleep(0.05)
        url = f"http://127.0.0.1:{int(port_file.read_text())}"
        with urllib.request.urlopen(url + "/v2/health/ready", timeout=5) as r:
            assert r.status == 200
        req = urllib.request.Request(url + "/v2/models/inkhue", headers=AUTH)
        with urllib.request.urlopen(req, timeout=5) as r:
            assert json.load(r)["name"] == "inkhue"
        assert proc.wait(timeout=30) == 0  # idle: exits by itself
        assert not port_file.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_all_json_requests_are_capped(monkeypatch):
    """Number lists cost ~30x their size to parse: big images must use the binary extension."""
    from engine.server import codec

    monkeypatch.setattr(codec, "MAX_JSON_BYTES", 1000)
    with pytest.raises(codec.ProtocolError, match="binary tensor data extension") as info:
        codec.decode_request(b'{"inputs": []}' + b" " * 1000, None, 10**6)
    assert info.value.status == 413
