"""The server under hostile or careless clients: refused bodies freed, slow uploads, header floods.

Every test runs a real uvicorn on a loopback port in this process, with small limits so each
finishes in seconds and a few megabytes.
"""

from __future__ import annotations

import concurrent.futures as cf
import gc
import gzip
import socket
import time
from urllib.parse import urlsplit

import numpy as np
import pytest

from engine.server import ServerConfig, create_app, serve_in_thread
from tests.service_helpers import (  # noqa: F401
    GatedColorizer,
    colorizer_fixture,
    drawing,
    infer_body,
    model_dir_fixture,
)

INFER = "/v2/models/inkhue/infer"
BIG = 512 << 10  # a buffer this large left for the cycle collector is a refused body


def _big_buffers(objects) -> list:
    found = []
    for obj in objects:
        for o in [obj, *gc.get_referents(obj)]:
            if isinstance(o, (bytes, bytearray)) and len(o) > BIG:
                found.append(type(o).__name__ + f"[{len(o)}]")
            elif isinstance(o, (memoryview, np.ndarray)) and o.nbytes > BIG:
                found.append(type(o).__name__ + f"[{o.nbytes}]")
    return found


def _raw(url: str, head: bytes, timeout: float = 10.0) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    sock.sendall(head)
    return sock


def _status(sock: socket.socket) -> int:
    data = b""
    while b"\r\n" not in data:
        try:
            chunk = sock.recv(4096)
        except ConnectionResetError:
            return 0
        if not chunk:
            return 0  # closed without an answer
        data += chunk
    return int(data.split(b" ", 2)[1])


def _post(url: str, data: bytes, headers: dict) -> int:
    """POST over a raw socket: no client-side object keeps ``data`` (the test inspects the heap)."""
    head = "".join(f"{k}: {v}\r\n" for k, v in {**headers, "Content-Length": len(data)}.items())
    sock = _raw(url, f"POST {INFER} HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}\r\n".encode() + data)
    try:
        return _status(sock)
    finally:
        sock.close()


def test_refused_bodies_are_freed_without_the_cycle_collector(colorizer):
    """Issue 19.1: a 400/413 after the body was read must not leave it in a reference cycle."""
    config = ServerConfig(max_pixels=512 * 512, body_grace_s=1.0, min_body_rate=1 << 20)
    lineart, hints = drawing(400, 400)
    body, headers = infer_body(lineart, hints)
    bomb = gzip.compress(bytes(config.max_body_bytes + (2 << 20)), 9)
    del lineart, hints
    cases = [
        (body + b"x", headers, 400),  # one byte too many: read whole, refused by the codec
        (b"[" + body[1:], headers, 400),  # not JSON
        (bomb, {"Content-Encoding": "gzip"}, 413),  # inflates past the limit
    ]
    gc.collect()
    gc.disable()
    try:
        with serve_in_thread(create_app(colorizer, config)) as url:
            assert [_post(url, data, extra) for data, extra, _ in cases * 2] == [s for *_, s in cases * 2]
            slow = _raw(
                url,
                f"POST {INFER} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n\r\n".encode(),
            )
            slow.sendall(body[: len(body) - 10])  # most of it, then nothing: 408
            assert _status(slow) == 408
            slow.close()
            gc.set_debug(gc.DEBUG_SAVEALL)
            gc.collect()
            pinned = _big_buffers(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert not pinned, f"refused bodies waited for the cycle collector: {pinned}"


def test_trickling_clients_do_not_take_the_compute_slots(colorizer):
    """Issue 19.2: bodies are read before admission, with a deadline (408)."""
    import httpx

    config = ServerConfig(workers=1, queue=0, body_grace_s=1.5, min_body_rate=1000)
    lineart, hints = drawing(32, 32)
    body, headers = infer_body(lineart, hints)
    with (
        serve_in_thread(create_app(colorizer, config)) as url,
        httpx.Client(base_url=url, timeout=20) as http,
    ):
        head = f"POST {INFER} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n".encode()
        slow = [_raw(url, head) for _ in range(10)]
        t0 = time.monotonic()
        for _ in range(3):
            for s in slow:
                s.sendall(b"{")
            r = http.post(INFER, content=body, headers=headers)
            assert r.status_code == 200, r.text  # not 503: the tricklers hold no compute slot
        with cf.ThreadPoolExecutor(10) as pool:
            statuses = list(pool.map(_status, slow))
        assert statuses == [408] * 10
        assert time.monotonic() - t0 < 6
        for s in slow:
            s.close()


def test_body_budget_refuses_beyond_its_bytes(colorizer):
    """Bodies in flight are bounded by their own byte budget: more get 503 + Retry-After."""
    import httpx

    lineart, hints = drawing(64, 64)
    body, headers = infer_body(lineart, hints)
    config = ServerConfig(body_budget_bytes=len(body) + 100, body_grace_s=5, retry_after_s=4)
    with (
        serve_in_thread(create_app(colorizer, config)) as url,
        httpx.Client(base_url=url, timeout=20) as http,
    ):
        ihcl = headers["Inference-Header-Content-Length"]
        holder = _raw(
            url,
            f"POST {INFER} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
            f"Inference-Header-Content-Length: {ihcl}\r\n\r\n".encode(),
        )
        holder.sendall(body[:-10])
        time.sleep(0.3)
        r = http.post(INFER, content=body, headers=headers)
        assert r.status_code == 503 and r.headers["retry-after"] == "4"
        holder.sendall(body[-10:])
        assert _status(holder) == 200
        holder.close()
        assert http.post(INFER, content=body, headers=headers).status_code == 200  # budget given back


@pytest.mark.parametrize(
    "head",
    [
        b"GET /v2/health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * (200 << 10) + b"\r\n\r\n",
        b"GET /v2/health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-A: b\r\n" * 20000 + b"\r\n",
    ],
    ids=["one-huge-header", "many-headers"],
)
def test_oversized_headers_are_refused(colorizer, head):
    """Issue 19.3: headers beyond max_header_bytes get a 400 and the connection closes."""
    with serve_in_thread(create_app(colorizer, ServerConfig(max_header_bytes=16 << 10))) as url:
        sock = _raw(url, b"")
        try:
            sock.sendall(head)
        except OSError:
            pass  # closed while sending: refused as well
        assert _status(sock) in (400, 431, 0)
        sock.close()


def test_unfinished_headers_time_out_and_connections_are_capped(colorizer):
    """Issue 19.3: a connection that never finishes its headers is closed after header_timeout_s;
    beyond max_connections new connections are closed at once; health answers again afterwards."""
    import httpx

    config = ServerConfig(header_timeout_s=1.0, max_connections=8)
    with serve_in_thread(create_app(colorizer, config)) as url:
        hung = [_raw(url, b"GET /v2/health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\nX-") for _ in range(8)]
        extra = _raw(url, b"GET /v2/health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert _status(extra) == 0  # over the cap: closed without an answer
        extra.close()
        t0 = time.monotonic()
        for sock in hung:
            assert sock.recv(100) == b""  # closed by the server
            sock.close()
        assert time.monotonic() - t0 < 5
        assert httpx.get(url + "/v2/health/ready", timeout=5).status_code == 200


def test_refusals_before_the_body_skip_100_continue(colorizer):
    """Issue 19.8: a client waiting for ``100 Continue`` gets the 401 or 413 at once instead."""
    config = ServerConfig(token="secret-token", max_pixels=64 * 64)
    with serve_in_thread(create_app(colorizer, config)) as url:
        for auth, length, status in (("wrong", 1000, 401), ("secret-token", 10**9, 413)):
            sock = _raw(
                url,
                f"POST {INFER} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {auth}\r\n"
                f"Content-Length: {length}\r\nExpect: 100-continue\r\n\r\n".encode(),
            )
            assert _status(sock) == status  # the first line is the refusal, not "100 Continue"
            assert sock.recv(65536) is not None
            sock.close()


def test_unauthenticated_requests_do_not_keep_the_server_awake(colorizer):
    """Issue 19.12: a 401 is not activity for the managed server's idle exit."""
    from tests.service_helpers import test_client

    app = create_app(colorizer, ServerConfig(token="secret-token", idle_timeout_s=60))
    admission = app.state.service.admission
    with test_client(app) as http:
        before = admission.last_active
        time.sleep(0.01)
        assert http.get("/v2/models/inkhue").status_code == 401
        assert admission.last_active == before
        assert (
            http.get("/v2/models/inkhue", headers={"Authorization": "Bearer secret-token"}).status_code == 200
        )
        assert admission.last_active > before


def test_tokenless_server_refuses_web_pages_and_other_host_names(colorizer):
    """Issue 19.17: without a token only loopback Host names, and no cross-origin requests."""
    from tests.service_helpers import test_client

    with test_client(create_app(colorizer, ServerConfig())) as http:
        for host in ("127.0.0.1:8000", "localhost", "[::1]:8000", "LOCALHOST:1"):
            assert http.get("/v2/models/inkhue", headers={"Host": host}).status_code == 200, host
        for headers in (
            {"Host": "evil.example"},
            {"Host": "evil.example:8000"},
            {"Host": "127.0.0.1.evil.example"},
            {"Host": "127.0.0.1:8000", "Origin": "http://evil.example"},
            {"Host": "localhost", "Origin": "null"},
        ):
            r = http.get("/v2/models/inkhue", headers=headers)
            assert r.status_code == 403 and "web pages" in r.json()["error"], headers
        assert http.get("/v2/health/ready", headers={"Host": "evil.example"}).status_code == 200  # probes
    with test_client(create_app(colorizer, ServerConfig(token="t"))) as http:  # a token decides alone
        auth = {"Authorization": "Bearer t", "Host": "gpu-box", "Origin": "https://studio.example"}
        assert http.get("/v2/models/inkhue", headers=auth).status_code == 200


def test_gzip_members_trailing_bytes_and_accept_encoding():
    """Issue 19.11: several gzip members are one body; bytes after the data are refused; q=0 is no."""
    from engine.server import codec

    assert codec.decompress(gzip.compress(b"ab") + gzip.compress(b"cd"), "gzip", 100) == b"abcd"
    for tail in (b"x", b"\x1f\x8b"):
        with pytest.raises(codec.ProtocolError, match="after its gzip data|not valid|truncated"):
            codec.decompress(gzip.compress(b"ab") + tail, "gzip", 100)
    with pytest.raises(codec.ProtocolError, match="inflates") as info:
        codec.decompress(gzip.compress(bytes(60)) + gzip.compress(bytes(60)), "gzip", 100)
    assert info.value.status == 413
    import zlib

    with pytest.raises(codec.ProtocolError, match="after its deflate data"):
        codec.decompress(zlib.compress(b"ab") + b"junk", "deflate", 100)
    cases = {"gzip": True, "gzip, br": True, "br;q=1, gzip;q=0.5": True, "gzip;q=0": False,
             "gzip; q=0.0": False, "*": True, "*;q=0": False, "identity": False, None: False,
             "*, gzip;q=0": False}  # fmt: skip
    for header, ok in cases.items():
        assert codec.accepts_gzip(header) is ok, header


def test_huge_dimensions_are_a_400_not_a_500():
    """Issue 19.10: ``[0, 2**70, 4]`` with an empty payload is refused as a bad shape."""
    import json

    from engine.server import codec

    head = {"inputs": [{"name": "LINEART", "datatype": "UINT8", "shape": [0, 2**70, 4],
                        "parameters": {"binary_data_size": 0}}]}  # fmt: skip
    raw = json.dumps(head).encode()
    with pytest.raises(codec.ProtocolError, match="'shape' must be a list of integers") as info:
        codec.decode_request(raw, str(len(raw)), 10**6)
    assert info.value.status == 400
