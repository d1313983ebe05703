"""Shared fixtures and helpers of the service tests (test_client, test_server, test_remote, test_fuzz)."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the service extra (starlette, uvicorn) is not installed")
pytest.importorskip("uvicorn", reason="the service extra (starlette, uvicorn) is not installed")

REPO = Path(__file__).resolve().parent.parent
TOKEN = "test-token-0123456789"


@pytest.fixture(scope="session", name="model_dir")
def model_dir_fixture(tmp_path_factory) -> Path:
    """A random-weight model named like the default one, so ``inkhue serve`` finds it by default."""
    from training.export import random_model

    return random_model(tmp_path_factory.mktemp("models") / "inkhue-default", name="inkhue-default")


@pytest.fixture(scope="session", name="colorizer")
def colorizer_fixture(model_dir):
    from engine.pipeline import LocalColorizer

    return LocalColorizer(model_dir)


@pytest.fixture(scope="session", name="server_url")
def server_url_fixture(colorizer):
    """Our server on a free loopback port, token required, for the whole session."""
    from engine.server import ServerConfig, create_app, serve_in_thread

    with serve_in_thread(create_app(colorizer, ServerConfig(token=TOKEN))) as url:
        yield url


def test_client(app):
    """starlette's in-process TestClient (no sockets): fast enough for thousands of fuzz cases."""
    from starlette.testclient import TestClient

    return TestClient(app)


test_client.__test__ = False  # a helper, not a test


def drawing(h: int = 96, w: int = 128, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Line art (closed boxes, RGBA) and a few hint dabs: exercises the regions and hint channels."""
    rng = np.random.default_rng(seed)
    lineart = np.full((h, w, 4), 255, np.uint8)
    for _ in range(6):
        y0, x0 = rng.integers(0, h - 8), rng.integers(0, w - 8)
        y1, x1 = rng.integers(y0 + 4, h), rng.integers(x0 + 4, w)
        lineart[y0:y1, [x0, x1 - 1], :3] = 0
        lineart[[y0, y1 - 1], x0:x1, :3] = 0
    hints = np.zeros((h, w, 4), np.uint8)
    for _ in range(4):
        y, x = rng.integers(0, h - 3), rng.integers(0, w - 3)
        hints[y : y + 3, x : x + 3] = [*rng.integers(0, 256, 3), 255]
    return lineart, hints


def infer_body(
    lineart: np.ndarray, hints: np.ndarray | None = None, parameters: dict | None = None, binary: bool = True
) -> tuple[bytes, dict]:
    """A binary-extension infer request built independently of engine.wire.client (numpy side)."""
    tensors = [("LINEART", lineart)] + ([("HINTS", hints)] if hints is not None else [])
    inputs = [
        {"name": n, "shape": list(a.shape), "datatype": "UINT8", "parameters": {"binary_data_size": a.nbytes}}
        for n, a in tensors
    ]
    head = {"inputs": inputs, "outputs": [{"name": "COLOR", "parameters": {"binary_data": binary}}]}
    if parameters:
        head["parameters"] = parameters
    raw = json.dumps(head).encode()
    body = raw + b"".join(a.tobytes() for _, a in tensors)
    headers = {"Inference-Header-Content-Length": str(len(raw)), "Content-Type": "application/octet-stream"}
    return body, headers


def color_from(response_body: bytes, header_length: str | None) -> np.ndarray:
    """The COLOR tensor of a binary or JSON infer response."""
    n = int(header_length) if header_length else len(response_body)
    head = json.loads(response_body[:n])
    (out,) = head["outputs"]
    assert out["name"] == "COLOR" and out["datatype"] == "UINT8"
    if "data" in out:
        return np.asarray(out["data"], np.uint8).reshape(out["shape"])
    return np.frombuffer(response_body[n:], np.uint8).reshape(out["shape"])


class GatedColorizer:
    """Wraps a colorizer; each call blocks until ``gate`` is set (tests of 503, 504, the event loop)."""

    def __init__(self, inner) -> None:
        self.inner, self.gate, self.entered = inner, threading.Event(), threading.Semaphore(0)
        self.backend_name, self.device = inner.backend_name, inner.device

    def colorize(self, lineart, hints=None, options=None):
        self.entered.release()
        self.gate.wait(30)
        return self.inner.colorize(lineart, hints, options)


def inkhue_exe(tmp_path: Path) -> str:
    """An ``inkhue`` launcher running this checkout with this interpreter (no install needed)."""
    exe = tmp_path / "inkhue"
    exe.write_text(
        f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(REPO)!r})\n"
        "from engine.cli import main\nsys.exit(main())\n"
    )
    exe.chmod(0o755)
    return str(exe)
