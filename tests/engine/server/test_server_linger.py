"""Issue 19.8: an upload refused while the client is still sending gets its answer, not a reset.

Clients without ``Expect: 100-continue`` (urllib, http.client, most libraries) send the whole body
before reading; a server that closed at once would make the kernel reset the connection over the
unread bytes. Loopback only, small limits: each test takes a second or so and a few megabytes.
"""

from __future__ import annotations

import http.client
import socket
import time
from urllib.parse import urlsplit

import pytest

from engine.server import ServerConfig, create_app, limits, protocol, serve_in_thread

INFER = "/v2/models/inkhue/infer"


class EchoColorizer:
    backend_name, device = "echo", "cpu"

    def colorize(self, lineart, hints, options):
        return lineart[..., :3]


@pytest.fixture
def url(monkeypatch):
    monkeypatch.setattr(limits, "DRAIN_LIMIT", 1 << 20)  # bodies past it are not drained first
    monkeypatch.setattr(protocol, "LINGER_S", 1.0)
    with serve_in_thread(create_app(EchoColorizer(), ServerConfig(max_pixels=64 * 64))) as base:
        yield urlsplit(base)


@pytest.mark.parametrize("chunked", [False, True])
def test_an_over_limit_upload_gets_the_413(url, chunked):
    """Announced over the limit (answered before reading), or found over it while reading."""
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=20)
    body = bytes(32 << 20)
    try:
        if chunked:
            chunks = iter([body[i : i + (1 << 20)] for i in range(0, len(body), 1 << 20)])
            conn.request("POST", INFER, body=chunks, encode_chunked=True)
        else:
            conn.request("POST", INFER, body=body)
        response = conn.getresponse()
        assert response.status == 413 and b"larger than this server's limit" in response.read()
        assert response.getheader("connection") == "close"
    finally:
        conn.close()


def test_a_client_still_sending_is_cut_off_after_the_linger(url):
    sock = socket.create_connection((url.hostname, url.port), timeout=10)
    try:
        head = f"POST {INFER} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {1 << 30}\r\n\r\n"
        sock.sendall(head.encode())
        sock.sendall(bytes(1 << 20))
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 413")
        deadline = time.monotonic() + 10
        with pytest.raises(OSError):  # within the linger the bytes are dropped; after it, refused
            while time.monotonic() < deadline:
                sock.sendall(bytes(64 << 10))
                time.sleep(0.01)
        assert time.monotonic() < deadline
    finally:
        sock.close()


def test_the_next_request_is_served_after_a_lingered_close(url):
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=20)
    conn.request("POST", INFER, body=bytes(8 << 20))
    assert conn.getresponse().status == 413
    conn.close()
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=20)
    conn.request("GET", "/v2/health/ready")
    assert conn.getresponse().status == 200
    conn.close()
