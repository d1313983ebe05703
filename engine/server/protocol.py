"""uvicorn's h11 protocol with the limits it lacks: a header deadline, a connection cap, and a
lingering close.

h11 bounds the header block (``h11_max_incomplete_event_size``: a longer one is a 400), but
nothing closes a connection that never finishes its headers, and nothing stops a flood of such
connections from using up the process's file descriptors. Here every connection must deliver
complete request headers within ``header_timeout_s`` of connecting (or of its first byte after
a keep-alive pause), and beyond ``max_connections`` open connections a new one is closed at once.

A connection closed while its client is still sending the request body (a 413 for an upload
announced over the limit, a 408, a 503) is closed the way HTTP/1.1 servers do it (RFC 9112,
9.6): the answer is sent, the sending side shut down, and what still arrives is read and
dropped, for at most ``LINGER_S`` seconds, before the socket closes. Closing at once would make
the kernel answer the unread bytes with a reset, and a client that sends its whole body before
reading (most do without ``Expect: 100-continue``) would see "connection reset", not the answer.
"""

from __future__ import annotations

import asyncio
import logging

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

LINGER_S = 10.0  # reading and dropping the rest of a refused upload, at most


class _LingeringTransport:
    """The connection's transport as uvicorn sees it: ``close()`` lingers (see the module doc)
    when the client is still sending its request body."""

    def __init__(self, transport, protocol) -> None:
        self._transport, self._protocol = transport, protocol
        self.lingering = False
        self._timer: asyncio.TimerHandle | None = None

    def __getattr__(self, name: str):
        return getattr(self._transport, name)

    def is_closing(self) -> bool:
        return self.lingering or self._transport.is_closing()

    def close(self) -> None:
        if self.lingering or self._transport.is_closing():
            return
        if self._protocol.conn.their_state is not h11.SEND_BODY or not self._transport.can_write_eof():
            self._transport.close()
            return
        self.lingering = True
        self._transport.write_eof()  # after the answer still buffered: the client reads it, then EOF
        self._transport.resume_reading()
        self._timer = self._protocol.loop.call_later(LINGER_S, self.abort_linger)

    def abort_linger(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._transport.close()


def protocol_class(header_timeout_s: float, max_connections: int) -> type:
    """An ``H11Protocol`` subclass bound to these limits (uvicorn builds one per connection)."""

    class GuardedH11Protocol(H11Protocol):
        transport: _LingeringTransport  # type: ignore[assignment]  # wrapped in connection_made
        _header_timer: asyncio.TimerHandle | None = None
        _waiting_cycle: object = None

        def connection_made(self, transport) -> None:  # type: ignore[override]
            super().connection_made(_LingeringTransport(transport, self))  # type: ignore[arg-type]
            if len(self.connections) > max_connections:
                log.warning("over %d open connections: closing a new one", max_connections)
                transport.close()
                return
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self.transport.lingering:
                return  # the rest of a refused upload: dropped
            if self._header_timer is None and (self.cycle is None or self.cycle.response_complete):
                self._arm()  # the first byte of the next request on a kept-alive connection
            super().data_received(data)
            if self._header_timer is not None and self.cycle is not self._waiting_cycle:
                self._disarm()  # a new request's headers are complete

        def eof_received(self) -> bool | None:
            if self.transport.lingering:
                self.transport.abort_linger()  # the client sent everything: close now
            return super().eof_received()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            self.transport.abort_linger()  # and no lingering on a connection already gone
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
