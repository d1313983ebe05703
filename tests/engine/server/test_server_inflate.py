"""Issue 19.7: a compressed request body is inflated only as far as its header announces.

The worker path (``InferenceService._compute``) is called directly under ``tracemalloc``: a gzip body
of a few hundred kilobytes that inflates to 256 MiB after a small tensor must be refused without
ever holding more than the tensor it announces.
"""

from __future__ import annotations

import gzip
import time
import tracemalloc
import zlib

import numpy as np
import pytest

from engine.server import ServerConfig, codec, create_app
from tests.service_helpers import color_from, drawing, infer_body

BOMB = 256 << 20  # inflated bytes appended after the announced tensors


class EchoColorizer:
    """Answers the line art's RGB: enough to see the request decoded whole."""

    backend_name, device = "echo", "cpu"

    def colorize(self, lineart, hints, options):
        return np.ascontiguousarray(lineart[..., :3])


def _service(max_pixels: int = 8192 * 8192):
    return create_app(EchoColorizer(), ServerConfig(max_pixels=max_pixels)).state.service


def _gzip_then_zeros(data: bytes, zeros: int) -> bytes:
    """``data`` and ``zeros`` zero bytes in one gzip stream, compressed a MiB at a time."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [packer.compress(data)]
    block = bytes(1 << 20)
    for _ in range(zeros >> 20):
        out.append(packer.compress(block))
    out.append(packer.flush())
    return b"".join(out)


def _compute_peak(svc, body: bytes, encoding: str, header_length: str | None):
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        status, data, headers = svc._compute(bytearray(body), encoding, header_length, False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return status, data, headers, peak, time.perf_counter() - t0


def test_a_gzip_bomb_behind_a_small_tensor_is_refused_at_the_announced_size():
    lineart, _ = drawing(64, 64)
    body, headers = infer_body(lineart)
    n = headers["Inference-Header-Content-Length"]
    svc = _service()  # max_body_bytes ~513 MiB: the old inflate-to-the-limit would take 256 MiB
    bomb = _gzip_then_zeros(body, BOMB)
    assert len(bomb) < 1 << 20
    status, data, _, peak, seconds = _compute_peak(svc, bomb, "gzip", n)
    assert status == 400 and b"more than the" in data and b"announces" in data
    assert peak < 4 << 20, f"peak {peak / 2**20:.0f} MiB while refusing"
    assert seconds < 5


def test_an_announcement_over_the_limit_is_a_413_before_inflating():
    lineart, _ = drawing(64, 64)
    body, headers = infer_body(lineart)
    head = body[: int(headers["Inference-Header-Content-Length"])]
    lie = head.replace(b'"binary_data_size": 16384', b'"binary_data_size": 9000000000')
    bomb = _gzip_then_zeros(lie, 64 << 20)
    status, data, _, peak, _ = _compute_peak(_service(), bomb, "gzip", str(len(lie)))
    assert status == 413 and b"announces" in data and peak < 4 << 20


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate", "two-members"])
def test_compressed_requests_decode_as_the_plain_ones(encoding):
    lineart, hints = drawing(48, 80, seed=3)
    body, headers = infer_body(lineart, hints)
    n = headers["Inference-Header-Content-Length"]
    if encoding == "gzip":
        packed = gzip.compress(body)
    elif encoding == "deflate":
        packed = zlib.compress(body)
    elif encoding == "raw-deflate":
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        packed = packer.compress(body) + packer.flush()
    else:  # the member boundary inside the first tensor
        packed = gzip.compress(body[: int(n) + 1000]) + gzip.compress(body[int(n) + 1000 :])
    wire = "gzip" if encoding in ("gzip", "two-members") else "deflate"
    status, data, out_headers, _, _ = _compute_peak(_service(), packed, wire, n)
    assert status == 200, data
    assert np.array_equal(color_from(data, out_headers.get(codec.HEADER_LENGTH)), lineart[..., :3])
    short = gzip.compress(body[:-1])  # one tensor byte missing: the body ends early
    status, data, *_ = _compute_peak(_service(), short, "gzip", n)
    assert status == 400 and b"ends before" in data


def test_all_json_requests_inflate_at_most_the_json_limit(monkeypatch):
    monkeypatch.setattr(codec, "MAX_JSON_BYTES", 1 << 20)
    bomb = _gzip_then_zeros(b"{", 8 << 20)
    status, data, _, peak, _ = _compute_peak(_service(), bomb, "gzip", None)
    assert status == 413 and peak < 4 << 20
