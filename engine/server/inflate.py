"""Inflating a gzip/deflate request body on demand, a step at a time.

The caller asks for exactly the bytes it expects (the JSON header, then the tensors that header
announces), so a small body that inflates to gigabytes costs no more memory than the request it
claims to be: the excess is found one step past the announced end and refused.
"""

from __future__ import annotations

import zlib

from engine.server.errors import ProtocolError

STEP = 1 << 20  # compressed bytes fed, and inflated bytes asked for, per zlib call
GZIP_MAGIC = b"\x1f\x8b"


class Inflater:
    """The inflated bytes of ``data`` (``gzip``, ``x-gzip`` or ``deflate``).

    A gzip body may hold several members (RFC 1952), concatenated; anything else after the end of
    the compressed data is refused, as is a truncated stream. ``deflate`` is a zlib stream, or in
    the wild sometimes raw deflate: that is tried when the zlib header is refused.
    """

    def __init__(self, data, encoding: str) -> None:
        self.encoding = encoding
        self._data = memoryview(data).cast("B")
        self._start(47)  # 47: a gzip or a zlib stream

    def _start(self, wbits: int) -> None:
        self._wbits, self._pos, self._tail, self._produced = wbits, 0, b"", 0
        self._inflater = zlib.decompressobj(wbits)

    def _left(self) -> int:
        return len(self._tail) + len(self._data) - self._pos

    def step(self, room: int) -> bytes:
        """At most ``room`` more inflated bytes; ``b""`` once the compressed data has ended."""
        while True:
            if self._inflater.eof:
                if not self._left():
                    return b""
                head = (self._tail + bytes(self._data[self._pos : self._pos + 2]))[:2]
                if self._wbits != 47 or head != GZIP_MAGIC:
                    raise ProtocolError(
                        f"the request body has {self._left():,} bytes after its {self.encoding} data"
                    )
                self._inflater = zlib.decompressobj(47)  # the next gzip member
            data = self._tail
            if not data:
                data = self._data[self._pos : self._pos + STEP]
                self._pos += len(data)
            try:
                out = self._inflater.decompress(data, room)
            except zlib.error as e:
                if self.encoding == "deflate" and self._wbits == 47 and not self._produced:
                    self._start(-15)  # raw deflate
                    continue
                raise ProtocolError(f"the request body is not valid {self.encoding} data ({e})") from None
            inflater = self._inflater
            self._tail = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
            if out:
                self._produced += len(out)
                return out
            if not inflater.eof and not data:
                raise ProtocolError(f"the {self.encoding} request body is truncated")

    def fill(self, out: memoryview) -> int:
        """Inflate into ``out``: the number of bytes written, fewer only where the data ended."""
        n = 0
        while n < len(out):
            chunk = self.step(min(STEP, len(out) - n))
            if not chunk:
                break
            out[n : n + len(chunk)] = chunk
            n += len(chunk)
        return n

    def at_end(self) -> bool:
        """Has the compressed data ended (nothing inflates beyond what was read)?"""
        return not self.step(1)

    def read_all(self, limit: int) -> bytearray:
        """Everything, refused (413) as soon as it passes ``limit`` bytes."""
        out = bytearray()
        while chunk := self.step(min(STEP, limit + 1 - len(out))):
            out += chunk
            if len(out) > limit:
                raise ProtocolError(f"the request body inflates to more than {limit:,} bytes", 413)
        return out
