"""Reading request bodies: a deadline, a minimum rate and a byte budget shared by every body in flight.

A body is read *before* the request asks for a compute slot (``limits.Admission``), so clients that
upload slowly hold only their own bytes, never the slots normal requests need. Errors come back as
values (:class:`BodyError`), not exceptions: an exception's traceback would keep the frame, and with
it the partly read body, alive until the cyclic garbage collector runs.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class BodyError:
    """Why a body was refused: the HTTP status and message; ``close`` ends the connection."""

    status: int
    message: str
    close: bool = False


class BodyBudget:
    """Bytes of request bodies held at once (being read, queued or computing); refuses beyond."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self.used = 0

    def take(self, n: int) -> bool:
        with self._lock:
            if self.used + n > self.capacity:
                return False
            self.used += n
            return True

    def give(self, n: int) -> None:
        with self._lock:
            self.used -= n


async def read_body(
    receive, *, limit: int, budget: BodyBudget, grace_s: float, min_rate: float, retry_after: int
) -> tuple[bytearray | None, int, BodyError | None]:
    """Read the whole body: ``(body, bytes taken from budget, None)`` or ``(None, 0, error)``.

    The body must have arrived ``grace_s + received / min_rate`` seconds after the start (408
    otherwise): a client trickling a byte now and then is cut off after ``grace_s``, one
    uploading a large image at a reasonable speed never is. On success the caller gives the
    taken bytes back to ``budget`` once the body is no longer needed.
    """
    start = time.monotonic()
    body, taken = bytearray(), 0
    error = None
    while True:
        remaining = start + grace_s + len(body) / min_rate - time.monotonic()
        message = None
        if remaining > 0:
            try:
                message = await asyncio.wait_for(receive(), remaining)
            except asyncio.TimeoutError:
                pass
        if message is None:
            error = BodyError(
                408,
                f"the request body arrived too slowly (under {min_rate / 1024:,.0f} KiB/s after "
                f"{grace_s:g} s); check the network, or send a smaller image",
                close=True,
            )
            break
        if message["type"] != "http.request":
            error = BodyError(400, "the client disconnected before sending the whole request", close=True)
            break
        chunk = message.get("body", b"")
        if len(body) + len(chunk) > limit:
            error = BodyError(413, f"the request is larger than this server's limit of {limit:,} bytes", True)
            break
        if chunk:
            if not budget.take(len(chunk)):
                error = BodyError(
                    503, f"the server is busy receiving other images; retry in {retry_after} s", True
                )
                break
            taken += len(chunk)
            body += chunk
        if not message.get("more_body", False):
            return body, taken, None
    budget.give(taken)
    return None, 0, error
