"""Fuzzing malformed requests against the ASGI app in-process: never a 5xx, always a JSON error.

Thousands of cases in total, fast because the app runs in-process (no sockets) on tiny images.
"""

from __future__ import annotations

import gzip
import json
import zlib
from urllib.parse import quote

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.server import ServerConfig, create_app
from tests.service_helpers import (  # noqa: F401
    TOKEN,
    colorizer_fixture,
    drawing,
    infer_body,
    model_dir_fixture,
    server_url_fixture,
    test_client,
)

INFER = "/v2/models/inkhue/infer"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FUZZ = settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


statuses: dict[str, int] = {}


@pytest.fixture(scope="module")
def http(colorizer):
    config = ServerConfig(token=TOKEN, max_pixels=48 * 48, workers=2, queue=4)
    with test_client(create_app(colorizer, config)) as c:
        yield c


def check(r) -> None:
    assert r.status_code < 500, (r.status_code, r.text[:300])
    if r.status_code >= 400:
        assert isinstance(r.json()["error"], str) and r.json()["error"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
dims = st.integers(-2, 70) | st.sampled_from([0, 16, 4, 3, 2**31, 2**63 - 1]) | json_values


@st.composite
def tensor_specs(draw):
    """An input entry near the valid one: each field valid, mutated, or missing."""
    spec = {
        "name": draw(st.sampled_from(["LINEART", "HINTS", "COLOR", "lineart", ""]) | json_values),
        "shape": draw(st.lists(dims, max_size=4) | json_values | st.just([16, 16, 4])),
        "datatype": draw(st.sampled_from(["UINT8", "FP32", "BYTES", "uint8"]) | json_values),
    }
    if draw(st.booleans()):
        spec["parameters"] = {"binary_data_size": draw(dims)} if draw(st.booleans()) else draw(json_values)
    if draw(st.booleans()):
        spec["data"] = draw(st.lists(st.integers(-5, 300), max_size=40) | json_values)
    return {k: v for k, v in spec.items() if draw(st.integers(0, 9)) > 0}  # drop fields now and then


@st.composite
def requests(draw):
    head = {
        "inputs": draw(st.lists(tensor_specs(), max_size=3) | json_values),
        "parameters": draw(
            st.dictionaries(
                st.sampled_from(
                    ["compose_lines", "tile", "working_size", "max_pixels", "binary_data_output", "x"]
                ),
                json_values,
                max_size=3,
            )
            | json_values
        ),
    }
    if draw(st.booleans()):
        head["outputs"] = draw(
            st.lists(st.fixed_dictionaries({"name": json_values}), max_size=2) | json_values
        )
    if draw(st.booleans()):
        head["id"] = draw(json_values)
    raw = json.dumps(head).encode()
    tail = draw(st.binary(max_size=64) | st.just(bytes(16 * 16 * 4)) | st.just(bytes(2 * 16 * 16 * 4)))
    length = draw(st.sampled_from([str(len(raw)), None, "0", "-1", "abc", str(len(raw) + len(tail) + 1)]))
    headers = {**AUTH}
    if length is not None:
        headers["Inference-Header-Content-Length"] = length
    return raw + tail, headers


@given(requests())
@FUZZ
def test_fuzz_structured_requests(http, req):
    body, headers = req
    check(http.post(INFER, content=body, headers=headers))


@given(
    st.binary(max_size=300),
    st.sampled_from([None, "gzip", "deflate", "br", "identity", "GZIP", ""]),
    st.sampled_from([None, "0", "1", "5", "99999999999999999999", "-3", " 7"]),
)
@FUZZ
def test_fuzz_raw_bodies_and_headers(http, body, encoding, length):
    headers = {**AUTH}
    if encoding is not None:
        headers["Content-Encoding"] = encoding
        if encoding.lower() == "gzip" and body[:1] == b"\x00":  # sometimes a valid stream of junk
            body = gzip.compress(body)
    if length is not None:
        headers["Inference-Header-Content-Length"] = length
    check(http.post(INFER, content=body, headers=headers))


@given(
    h=st.integers(1, 50),
    w=st.integers(1, 50),
    params=st.dictionaries(
        st.sampled_from(["compose_lines", "tile", "working_size", "max_pixels"]),
        st.sampled_from([0, 64, 128, 256, 4096, 10**6]) | st.integers(-10, 5000) | st.booleans(),
        max_size=3,
    ),
    seed=st.integers(0, 2**16),
    hints=st.booleans(),
    pack=st.sampled_from([None, "gzip", "deflate"]),
)
@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_fuzz_valid_tensors_odd_sizes_and_options(http, h, w, params, seed, hints, pack):
    """Well-formed tensors of any size with any option values: 200, 400 or 413, never 5xx."""
    rng = np.random.default_rng(seed)
    lineart = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    body, headers = infer_body(
        lineart, rng.integers(0, 256, (h, w, 4), dtype=np.uint8) if hints else None, params
    )
    if pack:
        body = gzip.compress(body) if pack == "gzip" else zlib.compress(body)
        headers["Content-Encoding"] = pack
    r = http.post(INFER, content=body, headers={**headers, **AUTH})
    check(r)
    if r.status_code == 200:
        statuses["ok"] = statuses.get("ok", 0) + 1
        n = int(r.headers["inference-header-content-length"])
        assert len(r.content) == n + h * w * 3


@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]),
    path=st.sampled_from(
        [
            "/v2",
            "/v2/health/live",
            "/v2/models/inkhue",
            INFER,
            "/v2/models/inkhue/ready",
            "/v2/models/inkhue/versions/0.0.0/infer",
            "/v2/models/x/infer",
        ]
    )  # fmt: skip
    | st.text(max_size=20).map(lambda s: "/v2/" + quote(s)),
    auth=st.sampled_from([AUTH, {}, {"Authorization": "Bearer "}, {"Authorization": "Bearer \u00e9"}]),
)
@FUZZ
def test_fuzz_paths_methods_auth(http, method, path, auth):
    headers = {k: v.encode("utf-8") for k, v in auth.items()}  # raw bytes: non-ASCII reaches the server
    r = http.request(method, path, headers=headers)
    check(r)


def test_still_alive_and_correct_after_fuzzing(http, colorizer):
    assert statuses.get("ok", 0) >= 20  # the valid-tensor fuzz really reached the model
    assert http.get("/v2/health/ready").status_code == 200
    lineart, hints = drawing(40, 40)
    body, headers = infer_body(lineart, hints)
    r = http.post(INFER, content=body, headers={**headers, **AUTH})
    n = int(r.headers["inference-header-content-length"])
    out = np.frombuffer(r.content[n:], np.uint8).reshape(40, 40, 3)
    np.testing.assert_array_equal(out, colorizer.colorize(lineart, hints))
