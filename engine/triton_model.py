"""Triton's Python backend model class: the engine's own pipeline behind Triton.

``inkhue export --triton DIR --python-backend`` writes a model repository whose ``1/model.py``
imports this class. Each model instance loads a ``engine.pipeline.LocalColorizer`` (ONNX Runtime for
the stage graphs, the engine's Python code for every channel, the region analysis included), so
any model the engine runs is served, with the tensors and options of ``inkhue serve``:

* inputs ``LINEART`` UINT8 [H, W, 4], ``HINTS`` UINT8 [H, W, 4] (optional), output ``COLOR``
  UINT8 [H, W, 3] ([H, W, 4] with the option ``transparent``);
* the request's top-level ``parameters`` are ``engine.wire.schema.ColorizeOptions`` fields; an unknown
  or out-of-range one fails that request with ``INVALID_ARG`` (HTTP 400), not the batch.

``triton_python_backend_utils`` exists only inside Triton's Python stub: it is imported when an
instance initializes, never at module import.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

MODEL_SUBDIR = "inkhue-model"  # the model folder inside the version folder (beside model.py)
DEFAULT_MAX_PIXELS = 8192 * 8192  # as 'inkhue serve --max-pixels'
# keys of the protocol or of Triton, never options (Triton strips most of them itself)
RESERVED = {"binary_data_output", "binary_data_size", "sequence_id", "sequence_start", "sequence_end",
            "priority", "timeout", "headers"}  # fmt: skip


def _config_parameter(config: dict, key: str, default: str) -> str:
    value = (config.get("parameters") or {}).get(key) or {}
    return value.get("string_value") or default


def _device(args: dict, config: dict) -> str:
    """``cuda`` for a KIND_GPU instance (on its own GPU), ``cpu`` for KIND_CPU, else the config's."""
    kind = args.get("model_instance_kind", "")
    if kind == "GPU":
        # one stub process per instance: show ONNX Runtime only this instance's GPU
        os.environ["CUDA_VISIBLE_DEVICES"] = str(args.get("model_instance_device_id", "0"))
        return "cuda"
    if kind == "CPU":
        return "cpu"
    return _config_parameter(config, "device", "auto")


def parse_options(parameters_json: str | None, max_pixels: int):
    """``ColorizeOptions`` from a request's parameters (JSON text); raises ``InputError``."""
    from engine.errors import InputError
    from engine.wire.schema import ColorizeOptions, OptionsError

    try:
        params = json.loads(parameters_json or "{}")
    except ValueError as e:
        raise InputError(f"the request's parameters are not JSON ({e})") from None
    if not isinstance(params, dict):
        raise InputError("the request's parameters must be an object")
    params = {k: v for k, v in params.items() if k not in RESERVED and not k.startswith("triton_")}
    try:
        opts = ColorizeOptions.from_mapping(params)
    except (OptionsError, TypeError) as e:
        raise InputError(f"bad 'parameters': {e}") from None
    if opts.max_pixels > max_pixels:
        opts = ColorizeOptions.from_mapping({**opts.to_mapping(), "max_pixels": max_pixels})
    return opts


class TritonPythonModel:
    """The model class Triton's Python backend instantiates once per model instance."""

    def initialize(self, args: dict) -> None:
        import triton_python_backend_utils as pb_utils  # pyright: ignore[reportMissingImports] (in Triton only)

        from engine.pipeline import LocalColorizer
        from engine.wire.schema import INPUT_HINTS, INPUT_LINEART, OUTPUT_COLOR

        self.pb = pb_utils
        self.names = INPUT_LINEART, INPUT_HINTS, OUTPUT_COLOR
        config = json.loads(args["model_config"])
        version_dir = Path(args["model_repository"]) / str(args["model_version"])
        model_dir = _config_parameter(config, "inkhue_model_dir", str(version_dir / MODEL_SUBDIR))
        self.max_pixels = int(_config_parameter(config, "max_pixels", str(DEFAULT_MAX_PIXELS)))
        backend = _config_parameter(config, "backend", "onnx")
        self.colorizer = LocalColorizer(model_dir, backend=backend, device=_device(args, config))
        m = self.colorizer.manifest
        log.info("instance %s: model %s v%s on %s/%s", args.get("model_instance_name"), m.name,
                 m.version, self.colorizer.backend.name, self.colorizer.device)  # fmt: skip

    def execute(self, requests: list) -> list:
        """One response per request, in order; a failing request fails alone."""
        return [self._one(request) for request in requests]

    def _one(self, request):
        from engine.errors import InkhueError, InputError

        pb = self.pb
        try:
            return pb.InferenceResponse(output_tensors=[pb.Tensor(self.names[2], self._colour(request))])
        except InputError as e:
            return pb.InferenceResponse(output_tensors=[], error=self._error(str(e), "INVALID_ARG"))
        except InkhueError as e:
            log.error("inference failed: %s", e)
            return pb.InferenceResponse(output_tensors=[], error=self._error(f"the engine failed: {e}"))
        except Exception:
            log.exception("unexpected error while colouring an image")
            message = "unexpected error in the engine; see the server log"
            return pb.InferenceResponse(output_tensors=[], error=self._error(message))

    def _colour(self, request):
        import numpy as np

        from engine.errors import BackendError, InputError

        pb = self.pb
        lineart_name, hints_name, _ = self.names
        tensor = pb.get_input_tensor_by_name(request, lineart_name)
        if tensor is None:
            raise InputError(f"input {lineart_name!r} (the line art, UINT8 [H, W, 4]) is missing")
        lineart = tensor.as_numpy()
        hints_tensor = pb.get_input_tensor_by_name(request, hints_name)
        hints = None if hints_tensor is None else hints_tensor.as_numpy()
        for name, arr in ((lineart_name, lineart), (hints_name, hints)):
            if arr is not None and (arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 4):
                raise InputError(f"input {name!r} must be UINT8 [height, width, 4] (RGBA)")
        if hints is not None and hints.shape != lineart.shape:
            raise InputError(
                f"input {hints_name!r} has shape {list(hints.shape)} but {lineart_name!r} has "
                f"{list(lineart.shape)}"
            )
        h, w = lineart.shape[:2]
        if h * w > self.max_pixels:
            raise InputError(
                f"input {lineart_name!r} is {w}x{h} = {h * w:,} pixels; this server accepts at most "
                f"{self.max_pixels:,}: crop or downscale the image"
            )
        opts = parse_options(request.parameters(), self.max_pixels)
        if self.colorizer is None:
            raise BackendError("the model was not initialized (Triton calls initialize first)")
        return np.ascontiguousarray(self.colorizer.colorize(lineart, hints, opts))

    def _error(self, message: str, code: str = "INTERNAL"):
        error_type = self.pb.TritonError
        if hasattr(error_type, code):  # error codes: Triton 23.05 and newer
            return error_type(message, getattr(error_type, code))
        return error_type(message)

    def finalize(self) -> None:
        self.colorizer = None
