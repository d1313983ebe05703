"""Backends run one stage's network on a C×H×W float batch; the pipeline does the rest.

``BACKENDS`` is the explicit registry. The remote backend runs the whole request elsewhere and so
is a whole ``engine.colorizer.Colorizer`` instead (``engine.remote``).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from engine.errors import BackendError, unknown_name
from engine.modelspec import ModelManifest

DEVICES = ("auto", "cpu", "cuda")


class StageBackend(Protocol):
    name: str
    device: str  # the device actually used: "cpu" or "cuda"

    def run(self, stage: str, x_nchw_f32: np.ndarray) -> np.ndarray:
        """Run ``stage`` on N×C×H×W float32 in 0..1; returns N×3×H×W float32 in 0..1."""
        ...


def _onnx(manifest: ModelManifest, device: str) -> StageBackend:
    from engine.backends.onnx import OnnxBackend

    return OnnxBackend(manifest, device)


def _torch(manifest: ModelManifest, device: str) -> StageBackend:
    from engine.backends.torch import TorchBackend

    return TorchBackend(manifest, device)


BACKENDS = {"onnx": _onnx, "torch": _torch}


def make_backend(name: str, manifest: ModelManifest, device: str = "auto") -> StageBackend:
    if name not in BACKENDS:
        raise BackendError(unknown_name("backend", name, [*BACKENDS, "remote"]))
    if device not in DEVICES:
        raise BackendError(unknown_name("device", device, DEVICES))
    return BACKENDS[name](manifest, device)
