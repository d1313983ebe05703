"""An independent Open Inference Protocol server for the interop test: KServe's model server.

Runs in its own process (and, here, possibly its own virtual environment) and imports nothing from
Inkhue: it serves the ``inkhue export --triton`` ONNX graph with ONNX Runtime, so the engine's
client must speak the protocol exactly as KServe implements it.

    python tests/kserve_inkhue.py --onnx DIR/inkhue/1/model.onnx --http_port 8080
"""

from __future__ import annotations

import argparse
import uuid

import kserve
import kserve.protocol.rest.server as kserve_rest
import onnxruntime as ort
from kserve import InferOutput, InferRequest, InferResponse


class _LoopbackConfig(kserve_rest.uvicorn.Config):
    """KServe always listens on 0.0.0.0; tests stay on loopback (this process only)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs["host"] = "127.0.0.1"
        super().__init__(*args, **kwargs)


kserve_rest.uvicorn.Config = _LoopbackConfig


class InkhueOnnx(kserve.Model):
    def __init__(self, name: str, onnx_path: str) -> None:
        super().__init__(name)
        self.session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
        self.ready = True

    def predict(self, payload: InferRequest, headers=None, response_headers=None) -> InferResponse:
        feeds = {i.name: i.as_numpy() for i in payload.inputs}
        (color,) = self.session.run(["COLOR"], feeds)
        out = InferOutput("COLOR", list(color.shape), "UINT8")
        out.set_data_from_numpy(color, binary_data=True)
        return InferResponse(
            payload.id or str(uuid.uuid4()), self.name, [out],  # KServe's JSON answer needs an id
            use_binary_outputs=payload.use_binary_outputs, requested_outputs=payload.request_outputs,
        )  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--onnx", required=True)
    args, _ = parser.parse_known_args()  # --http_port and the rest are KServe's own arguments
    kserve.ModelServer(enable_grpc=False, workers=1).start([InkhueOnnx("inkhue", args.onnx)])
