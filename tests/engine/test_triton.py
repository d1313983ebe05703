"""``inkhue export --triton``: the one-graph ONNX model takes the protocol's uint8 tensors."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from tests.kserve_python import kserve_python
from tests.service_helpers import colorizer_fixture, drawing, model_dir_fixture  # noqa: F401

pytest.importorskip("torch", reason="exporting needs the train extra (torch)")


@pytest.fixture(scope="module", name="triton_dir")
def triton_dir_fixture(model_dir, tmp_path_factory):
    from engine.cli import main

    out = tmp_path_factory.mktemp("triton")
    assert main(["export", "--triton", str(out), "--model", str(model_dir)]) == 0
    return out / "inkhue"


def test_repository_layout_and_config(triton_dir):
    import onnx

    config = (triton_dir / "config.pbtxt").read_text()
    assert 'name: "inkhue"' in config and 'platform: "onnxruntime_onnx"' in config
    rgba, rgb = "[ -1, -1, 4 ]", "[ -1, -1, 3 ]"
    for tensor, dims in (("LINEART", rgba), ("HINTS", rgba), ("COLOR", rgb)):
        assert f'name: "{tensor}" data_type: TYPE_UINT8 dims: {dims}' in config
    graph = onnx.load(str(triton_dir / "1" / "model.onnx")).graph
    io = [(v.name, v.type.tensor_type.elem_type) for v in (*graph.input, *graph.output)]
    assert io == [("LINEART", onnx.TensorProto.UINT8), ("HINTS", onnx.TensorProto.UINT8),
                  ("COLOR", onnx.TensorProto.UINT8)]  # fmt: skip


def test_graph_matches_the_engine_below_tile_size(triton_dir, colorizer):
    """engine.pipeline's bytes: preprocessing, fill (converged), draft, refine, line composing."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(triton_dir / "1" / "model.onnx"), providers=["CPUExecutionProvider"])
    # odd sizes, one above the working size (512) so the draft is downscaled, one thin strip
    for h, w, seed in ((45, 77, 0), (200, 150, 1), (530, 620, 2), (16, 700, 3)):
        lineart, hints = drawing(h, w, seed)
        (out,) = sess.run(None, {"LINEART": lineart, "HINTS": hints})
        assert out.dtype == np.uint8 and out.shape == (h, w, 3)
        ref = colorizer.colorize(lineart, hints)
        if max(h, w) <= 512:
            np.testing.assert_array_equal(out, ref, err_msg=f"{h}x{w}")
        else:  # the draft's box downscale is a float matmul here, PIL in the engine: rounding only
            diff = np.abs(out.astype(int) - ref)
            assert diff.max() <= 1 and (diff == 0).mean() > 0.999, f"{h}x{w}"


KSERVE_PYTHON = kserve_python()


def _has_kserve() -> bool:
    r = subprocess.run([KSERVE_PYTHON, "-c", "import kserve"], capture_output=True, timeout=120)
    return r.returncode == 0


@pytest.mark.skipif(
    not _has_kserve(),
    reason="interop: KServe is not installed (pip install -e '.[interop]', or point INKHUE_KSERVE_PYTHON "
    "at a Python that has it)",
)
def test_engine_client_against_kserve_model_server(triton_dir, colorizer, tmp_path):
    """An independent implementation of the protocol (KServe's Python model server, serving the
    exported graph with ONNX Runtime) answers the engine's stdlib client and remote backend."""
    from engine.remote import RemoteColorizer
    from engine.wire import client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = Path(__file__).resolve().parents[1] / "kserve_inkhue.py"
    cmd = [
        KSERVE_PYTHON,
        str(script),
        "--onnx",
        str(triton_dir / "1" / "model.onnx"),
        "--http_port",
        str(port),
    ]
    log = open(tmp_path / "kserve.log", "wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while not client.health(url, timeout=1):
            assert proc.poll() is None, (tmp_path / "kserve.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "KServe did not become ready"
            time.sleep(0.2)
        lineart, hints = drawing(120, 90, seed=7)
        ref = colorizer.colorize(lineart, hints)
        rgb = client.colorize(url, lineart.tobytes(), hints.tobytes(), 90, 120)
        assert rgb == ref.tobytes()
        assert RemoteColorizer(url).colorize(lineart, hints).tobytes() == ref.tobytes()
        # KServe refuses gzip request bodies (an optional part of HTTP): the client falls back
        assert client.colorize(url, lineart.tobytes(), hints.tobytes(), 90, 120, compress=True) == rgb
        # a JSON-only answer (no binary output asked for) decodes the same
        head, _ = client.encode_request(lineart.tobytes(), hints.tobytes(), 90, 120, {})
        req = json.loads(head)
        req["outputs"] = [{"name": "COLOR"}]
        head = json.dumps(req).encode()
        status, resp_headers, data = client._request(
            "POST", url + "/v2/models/inkhue/infer", None, 60, head + lineart.tobytes() + hints.tobytes(),
            {"Inference-Header-Content-Length": str(len(head)), "Content-Type": "application/octet-stream"},
        )  # fmt: skip
        assert status == 200 and "inference-header-content-length" not in resp_headers
        assert client.decode_response(resp_headers, data, 90, 120) == ref.tobytes()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_export_refuses_channels_the_graph_cannot_compute(model_copy_factory, tmp_path):
    import json

    from engine.errors import ModelError
    from engine.triton import export_triton

    d = model_copy_factory()
    raw = json.loads((d / "manifest.json").read_text())
    raw["stages"]["draft"]["inputs"][-2:] = ["spread_rgb", "spread_mask"]  # same channel count
    (d / "manifest.json").write_text(json.dumps(raw))
    with pytest.raises(ModelError, match="spread_mask, spread_rgb.*inkhue serve"):
        export_triton(tmp_path / "repo", str(d))
