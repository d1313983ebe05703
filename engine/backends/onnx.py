"""ONNX Runtime backend: CUDA execution provider when present, else CPU."""

from __future__ import annotations

import logging
import os

import numpy as np

from engine.errors import BackendError
from engine.modelspec import ModelManifest

log = logging.getLogger(__name__)

CUDA_EP = "CUDAExecutionProvider"
CPU_EP = "CPUExecutionProvider"


def _import_ort():
    # ORT otherwise writes a device database under the user's home on every machine it runs on
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    try:
        import onnxruntime as ort
    except ImportError as e:  # pragma: no cover - onnxruntime is a core dependency
        raise BackendError("onnxruntime is not installed: pip install onnxruntime") from e
    return ort


class OnnxBackend:
    name = "onnx"

    def __init__(self, manifest: ModelManifest, device: str = "auto") -> None:
        ort = _import_ort()
        available = ort.get_available_providers()
        want_cuda = device in ("auto", "cuda")
        if device == "cuda" and CUDA_EP not in available:
            raise BackendError(
                "--device cuda was asked for but ONNX Runtime has no CUDA provider "
                f"(available: {', '.join(available)}); install onnxruntime-gpu with a working "
                "NVIDIA driver, or use --device cpu"
            )
        providers = [CUDA_EP, CPU_EP] if want_cuda and CUDA_EP in available else [CPU_EP]
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        # idle worker threads would otherwise spin after each run, starving the server and the
        # GUI that share the machine with us
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.sessions = {}
        for stage, spec in manifest.stages.items():
            path = str(manifest.path(spec.onnx))
            try:
                sess = ort.InferenceSession(path, sess_options=opts, providers=providers)
            except Exception as e:  # ORT raises its own exception types
                raise BackendError(f"ONNX Runtime could not load {path}: {e}") from e
            used = sess.get_providers()
            if CUDA_EP in providers and CUDA_EP not in used:
                if device == "cuda":
                    raise BackendError(f"CUDA provider failed to start for {path}; see the log above")
                log.warning("CUDA is unavailable to ONNX Runtime; running on the CPU")
            self.sessions[stage] = sess
        first = next(iter(self.sessions.values()))
        self.device = "cuda" if CUDA_EP in first.get_providers() else "cpu"
        log.info("onnx backend on %s", self.device)

    def run(self, stage: str, x_nchw_f32: np.ndarray) -> np.ndarray:
        sess = self.sessions[stage]
        name = sess.get_inputs()[0].name
        (y,) = sess.run(None, {name: np.ascontiguousarray(x_nchw_f32, dtype=np.float32)})
        return y
