"""The server's limits and access control: config, admission (bounded concurrency), bearer tokens."""

from __future__ import annotations

import hmac
import ipaddress
import json
import threading
import time
from dataclasses import dataclass

from engine.server.codec import MAX_HEADER_BYTES

LOOPBACK_NAMES = ("localhost",)
OPEN_PATHS = ("/v2/health/live", "/v2/health/ready")  # probes (Kubernetes, the plug-ins) need no token
# A refused request's body is read and dropped up to this size before answering: a client still
# sending would otherwise get a broken pipe instead of the answer (401, 503, 413)
DRAIN_LIMIT = 256 << 20


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

    def __post_init__(self) -> None:
        if self.max_pixels < 1 or self.workers < 1 or self.queue < 0 or self.timeout_s <= 0:
            raise ValueError("max_pixels and workers must be positive, queue >= 0, timeout > 0")

    @property
    def max_body_bytes(self) -> int:
        """Two RGBA tensors at the pixel limit, plus the JSON header."""
        return 8 * self.max_pixels + MAX_HEADER_BYTES


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
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
    Any answer given before the request body was read (401, 404, 413, 503, ...) first reads and
    drops the rest of the body: clients such as urllib send ``Connection: close``, so the server
    closes after answering, and a client still uploading would see a broken pipe, not the answer.
    """

    def __init__(self, app, token: str | None, admission: Admission) -> None:
        self.app, self.admission = app, admission
        self.token = token.encode() if token else None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_done = False

        async def tracked_receive():
            nonlocal body_done
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        async def draining_send(message) -> None:
            if message["type"] == "http.response.start" and not body_done:
                await drain(tracked_receive, DRAIN_LIMIT)
            await send(message)

        if scope["path"] not in OPEN_PATHS:
            self.admission.touch()  # probes do not keep an idle local server alive
            if self.token is not None and not self._authorized(scope):
                await _send(draining_send, 401, "a valid 'Authorization: Bearer <token>' header is required",
                            [(b"www-authenticate", b'Bearer realm="inkhue"')])  # fmt: skip
                return
        await self.app(scope, tracked_receive, draining_send)

    def _authorized(self, scope) -> bool:
        for key, value in scope["headers"]:
            if key == b"authorization":
                scheme, _, given = value.partition(b" ")
                return scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), self.token)
        return False


async def drain(receive, limit: int) -> None:
    """Read and discard the request body, up to ``limit`` bytes (beyond, the connection closes)."""
    total = 0
    while total <= limit:
        message = await receive()
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
