"""PyTorch backend: the same generator class that training uses, weights from safetensors."""

from __future__ import annotations

import logging

import numpy as np

from engine.errors import BackendError, ModelError
from engine.modelspec import ModelManifest

log = logging.getLogger(__name__)


class TorchBackend:
    name = "torch"

    def __init__(self, manifest: ModelManifest, device: str = "auto") -> None:
        try:
            import torch
            from safetensors.torch import load_file
        except ImportError as e:
            raise BackendError(
                "the torch backend needs PyTorch: pip install 'inkhue[train]', or use --backend onnx"
            ) from e
        from engine.generator import UNetGenerator

        has_cuda = torch.cuda.is_available()
        if device == "cuda" and not has_cuda:
            raise BackendError(
                "--device cuda was asked for but PyTorch sees no CUDA device; use --device cpu"
            )
        self.device = "cuda" if device in ("auto", "cuda") and has_cuda else "cpu"
        self._torch = torch
        self.nets = {}
        for stage, spec in manifest.stages.items():
            if not spec.weights:
                raise ModelError(
                    f"model {manifest.name!r} ships no safetensors weights for stage {stage!r}; "
                    "the torch backend needs them: use --backend onnx"
                )
            net = UNetGenerator(spec.generator)
            # safetensors: plain tensors, never pickle; a garbage or pickled file is a model error
            try:
                state = load_file(str(manifest.path(spec.weights)), device="cpu")
            except Exception as e:  # safetensors raises its own SafetensorError, or OSError
                raise ModelError(
                    f"weights {spec.weights} of stage {stage!r} are not a valid safetensors file ({e}); "
                    "reinstall the model"
                ) from e
            try:
                net.load_state_dict(state)
            except RuntimeError as e:
                raise ModelError(f"weights {spec.weights} do not fit stage {stage!r}: {e}") from e
            self.nets[stage] = net.eval().to(self.device)
        log.info("torch backend on %s", self.device)

    def run(self, stage: str, x_nchw_f32: np.ndarray) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(x_nchw_f32, dtype=np.float32)).to(self.device)
            return self.nets[stage](x).float().cpu().numpy()
