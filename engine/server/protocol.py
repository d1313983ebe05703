"""uvicorn's h11 protocol with the limits it lacks: a header deadline and a connection cap.

h11 bounds the header block (``h11_max_incomplete_event_size``: a longer one is a 400), but
nothing closes a connection that never finishes its headers, and nothing stops a flood of such
connections from using up the process's file descriptors. Here every connection must deliver
complete request headers within ``header_timeout_s`` of connecting (or of its first byte after
a keep-alive pause), and beyond ``max_connections`` open connections a new one is closed at once.
"""

from __future__ import annotations

import asyncio
import logging

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)


def protocol_class(header_timeout_s: float, max_connections: int) -> type:
    """An ``H11Protocol`` subclass bound to these limits (uvicorn builds one per connection)."""

    class GuardedH11Protocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None
        _waiting_cycle: object = None

        def connection_made(self, transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > max_connections:
                log.warning("over %d open connections: closing a new one", max_connections)
                transport.close()
                return
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._header_timer is None and (self.cycle is None or self.cycle.response_complete):
                self._arm()  # the first byte of the next request on a kept-alive connection
            super().data_received(data)
            if self._header_timer is not None and self.cycle is not self._waiting_cycle:
                self._disarm()  # a new request's headers are complete

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._waiting_cycle = self.cycle
            self._header_timer = self.loop.call_later(header_timeout_s, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if self.cycle is self._waiting_cycle and not self.transport.is_closing():
                try:
                    self.conn.send(h11.ConnectionClosed())
                except h11.LocalProtocolError:
                    pass
                self.transport.close()

    return GuardedH11Protocol
