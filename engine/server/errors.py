"""The server's refusal of a request, shared by the body decoders (``codec``, ``inflate``)."""

from __future__ import annotations


class ProtocolError(Exception):
    """A request the server refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status
