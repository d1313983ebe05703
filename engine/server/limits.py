"""The server's limits and access control: config, admission (bounded concurrency), bearer tokens."""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import ipaddress
import json
import threading
import time
from dataclasses import dataclass

from engine.server.codec import MAX_HEADER_BYTES
from engine.wire.schema import LOOPBACK_NAMES

# probes (Kubernetes, the plug-ins) and the managed server's identity challenge need no token
OPEN_PATHS = ("/v2/health/live", "/v2/health/ready", "/v2/inkhue/identity")
# A refused request's body is read and dropped up to this size before answering: a client still
# sending would otherwise get a broken pipe instead of the answer (401, 503, 413)
DRAIN_LIMIT = 256 << 20
DRAIN_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class ServerConfig:
    """Everything that bounds one server. Defaults suit a workstation; raise them for a GPU server."""

    token: str | None = None
    max_pixels: int = 8192 * 8192
    workers: int = 2  # requests computed at once (threads); the model itself runs one stage at a time
    queue: int = 8  # requests admitted beyond ``workers``, waiting; more get 503 + Retry-After
    timeout_s: float = 300.0  # per request, queueing included -> 504
    retry_after_s: int = 2
    idle_timeout_s: float = 0.0  # 0: never exit; else exit after this long without requests
    # slow clients: a body must arrive within body_grace_s + its size / min_body_rate (-> 408)
    body_grace_s: float = 30.0
    min_body_rate: int = 256 << 10  # bytes per second
    body_budget_bytes: int = 0  # request bodies held at once; 0: twice max_body_bytes; more -> 503
    # connections: headers must be complete within header_timeout_s and max_header_bytes (HTTP 400
    # beyond), at most max_connections open at once (more are closed at once)
    header_timeout_s: float = 10.0
    max_header_bytes: int = 64 << 10
    max_connections: int = 256

    def __post_init__(self) -> None:
        if self.max_pixels < 1 or self.workers < 1 or self.queue < 0 or self.timeout_s <= 0:
            raise ValueError("max_pixels and workers must be positive, queue >= 0, timeout > 0")
        if min(self.body_grace_s, self.min_body_rate, self.header_timeout_s) <= 0:
            raise ValueError("body_grace_s, min_body_rate and header_timeout_s must be positive")
        if self.max_header_bytes < 1024 or self.max_connections < 1 or self.body_budget_bytes < 0:
            raise ValueError("max_header_bytes >= 1024, max_connections >= 1, body_budget_bytes >= 0")

    @classmethod
    def desktop(cls, **fields: object) -> ServerConfig:
        """Limits for the managed local server, which shares the machine with Krita or GIMP
        (``inkhue serve --desktop``): one image computed at a time and four waiting, request bodies
        held at once bounded by one of the largest (not two), 32 connections. Fields given win."""
        base = cls(**{"workers": 1, "queue": 4, "max_connections": 32, **fields})  # type: ignore[arg-type]
        return dataclasses.replace(base, body_budget_bytes=base.body_budget_bytes or base.max_body_bytes)

    @property
    def max_body_bytes(self) -> int:
        """Two RGBA tensors at the pixel limit, plus the JSON header."""
        return 8 * self.max_pixels + MAX_HEADER_BYTES

    @property
    def body_budget(self) -> int:
        return self.body_budget_bytes or 2 * self.max_body_bytes


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


class Admission:
    """Counts requests in flight (reading, queued or computing); refuses beyond ``capacity``.

    A request leaves only when its computation really ends, even if it timed out earlier, so a
    slow model cannot pile up unbounded threads or memory behind abandoned requests.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self.in_flight = 0
        self.last_active = time.monotonic()

    def try_enter(self) -> bool:
        with self._lock:
            if self.in_flight >= self.capacity:
                return False
            self.in_flight += 1
            self.last_active = time.monotonic()
            return True

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1
            self.last_active = time.monotonic()

    def touch(self) -> None:
        self.last_active = time.monotonic()

    def idle_for(self) -> float:
        """Seconds since the last request ended; 0 while any is in flight."""
        with self._lock:
            return 0.0 if self.in_flight else time.monotonic() - self.last_active


def error_body(message: str) -> bytes:
    """The protocol's error object."""
    return json.dumps({"error": message}).encode()


class Guard:
    """Outermost ASGI middleware: bearer token check, activity for the idle exit, body draining.

    Every path but the health probes needs ``Authorization: Bearer <token>`` when a token is set.
    Without a token (a loopback server) the Host must be a loopback name and browsers' cross-origin
    requests (an ``Origin`` header) are refused: a web page, even through DNS rebinding, cannot
    use the engine. Any answer given before the request body was read (401, 404, 413, 503, ...)
    first reads and drops the rest of the body, within ``DRAIN_LIMIT`` and ``DRAIN_TIMEOUT_S``:
    clients such as urllib send ``Connection: close``, so the server closes after answering, and
    a client still uploading would see a broken pipe, not the answer. It does not when the client
    waits for ``100 Continue`` (it has sent nothing yet), when the body is announced larger than
    the limit, or when the answer closes the connection anyway.
    """

    def __init__(self, app, token: str | None, admission: Admission) -> None:
        self.app, self.admission = app, admission
        self.token = token.encode() if token else None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_done = False
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"0")
        skip_drain = headers.get(b"expect", b"").lower() == b"100-continue" or (
            not length.isdigit() or int(length) > DRAIN_LIMIT
        )

        async def tracked_receive():
            nonlocal body_done
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        async def draining_send(message) -> None:
            if message["type"] == "http.response.start" and not body_done:
                closing = (b"connection", b"close") in message.get("headers", [])
                if skip_drain or closing:
                    if not closing:
                        message = {
                            **message,
                            "headers": [*message.get("headers", []), (b"connection", b"close")],
                        }
                else:
                    await drain(tracked_receive, DRAIN_LIMIT, DRAIN_TIMEOUT_S)
            await send(message)

        if scope["path"] not in OPEN_PATHS:
            if self.token is not None and not self._authorized(headers):
                await _send(draining_send, 401, "a valid 'Authorization: Bearer <token>' header is required",
                            [(b"www-authenticate", b'Bearer realm="inkhue"')])  # fmt: skip
                return
            if self.token is None and (b"origin" in headers or not _loopback_host(headers.get(b"host"))):
                await _send(draining_send, 403, "this server (no token, loopback only) refuses requests "
                            "from web pages and for other host names")  # fmt: skip
                return
            self.admission.touch()  # only accepted requests keep an idle local server alive
        await self.app(scope, tracked_receive, draining_send)

    def _authorized(self, headers: dict) -> bool:
        value = headers.get(b"authorization", b"")
        scheme, _, given = value.partition(b" ")
        token = self.token
        return token is not None and scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), token)


def _loopback_host(host: bytes | None) -> bool:
    """Is a Host header a loopback name (``localhost``, ``127.0.0.1:8000``, ``[::1]:8000``)?"""
    if not host:
        return True  # HTTP/1.0 without Host: no browser sends that
    name = host.decode("latin-1").lower()
    name = name[1 : name.index("]")] if name.startswith("[") and "]" in name else name.rsplit(":", 1)[0]
    return is_loopback(name)


async def drain(receive, limit: int, timeout_s: float = float("inf")) -> None:
    """Read and discard the request body, up to ``limit`` bytes and ``timeout_s`` seconds (beyond,
    the connection closes)."""
    total, deadline = 0, time.monotonic() + timeout_s
    while total <= limit:
        try:
            message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            return
        if message["type"] != "http.request":
            return
        total += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


async def _send(send, status: int, message: str, headers: list | None = None) -> None:
    body = error_body(message)
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": head + (headers or [])})
    await send({"type": "http.response.body", "body": body})
