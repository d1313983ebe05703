"""A stand-in for Triton's ``triton_python_backend_utils`` (the Python backend's stub module).

Only what exists inside Triton's Python stub is here, with the same names, signatures and
behaviour as python_backend's ``pb_utils`` (the pybind ``c_python_backend_utils`` types plus the
Python helpers), so a model class that runs against it runs in Triton. Stricter than Triton
where Triton would fail later: tensors must be numpy arrays of a Triton data type.
"""

from __future__ import annotations

import json

import numpy as np

# Triton's data types as numpy dtypes (python_backend triton_to_numpy_type)
_TRITON_TO_NUMPY = {
    "TYPE_BOOL": np.bool_, "TYPE_UINT8": np.uint8, "TYPE_UINT16": np.uint16, "TYPE_UINT32": np.uint32,
    "TYPE_UINT64": np.uint64, "TYPE_INT8": np.int8, "TYPE_INT16": np.int16, "TYPE_INT32": np.int32,
    "TYPE_INT64": np.int64, "TYPE_FP16": np.float16, "TYPE_FP32": np.float32, "TYPE_FP64": np.float64,
    "TYPE_STRING": np.object_,
}  # fmt: skip


class TritonModelException(Exception):
    """Raised by the stub's own functions on misuse."""


class TritonError:
    """An error a response carries: ``TritonError(message, code=TritonError.INTERNAL)``."""

    UNKNOWN, INTERNAL, NOT_FOUND, INVALID_ARG, UNAVAILABLE, UNSUPPORTED, ALREADY_EXISTS, CANCELLED = range(8)

    def __init__(self, message: str, code: int = 1) -> None:
        if not isinstance(message, str):
            raise TypeError("TritonError(): message must be a str")
        if code not in range(8):
            raise TypeError("TritonError(): unknown error code")
        self._message, self._code = message, code

    def message(self) -> str:
        return self._message

    def code(self) -> int:
        return self._code


class Tensor:
    """``Tensor(name, numpy_array)``: a named tensor; ``as_numpy()`` gives the array back."""

    def __init__(self, name: str, array: np.ndarray) -> None:
        if not isinstance(name, str):
            raise TypeError("Tensor(): name must be a str")
        if not isinstance(array, np.ndarray):
            raise TritonModelException("Tensor(): the data must be a numpy array")
        if array.dtype.type not in _TRITON_TO_NUMPY.values():
            raise TritonModelException(f"Tensor(): numpy dtype {array.dtype} has no Triton data type")
        # Triton copies the array into shared memory: later changes to it are not seen
        self._name, self._array = name, np.array(array, copy=True, order="C")
        self._array.setflags(write=False)

    def name(self) -> str:
        return self._name

    def as_numpy(self) -> np.ndarray:
        return self._array

    def shape(self) -> list[int]:
        return list(self._array.shape)

    def is_cpu(self) -> bool:
        return True


class InferenceRequest:
    """A request as the backend sees it in ``execute`` (built by the harness, as Triton does)."""

    def __init__(
        self,
        inputs: list[Tensor],
        requested_output_names: list[str] | None = None,
        request_id: str = "",
        parameters: dict | str | None = None,
        model_name: str = "",
    ) -> None:
        self._inputs = list(inputs)
        self._outputs = list(requested_output_names or [])
        self._id, self._model_name = request_id, model_name
        if isinstance(parameters, dict):
            parameters = json.dumps(parameters)
        self._parameters = parameters or "{}"

    def inputs(self) -> list[Tensor]:
        return list(self._inputs)

    def requested_output_names(self) -> list[str]:
        return list(self._outputs)

    def request_id(self) -> str:
        return self._id

    def parameters(self) -> str:
        """The request's parameters as JSON text (Triton 23.xx and newer)."""
        return self._parameters

    def correlation_id(self) -> int:
        return 0

    def flags(self) -> int:
        return 0

    def is_cancelled(self) -> bool:
        return False


class InferenceResponse:
    """``InferenceResponse(output_tensors, error=None)``."""

    def __init__(self, output_tensors: list[Tensor], error: TritonError | None = None) -> None:
        if not all(isinstance(t, Tensor) for t in output_tensors):
            raise TypeError("InferenceResponse(): output_tensors must be a list of Tensor")
        if error is not None and not isinstance(error, TritonError):
            raise TypeError("InferenceResponse(): error must be a TritonError")
        self._outputs, self._error = list(output_tensors), error

    def output_tensors(self) -> list[Tensor]:
        return list(self._outputs)

    def has_error(self) -> bool:
        return self._error is not None

    def error(self) -> TritonError | None:
        return self._error


def get_input_tensor_by_name(inference_request: InferenceRequest, name: str) -> Tensor | None:
    for tensor in inference_request.inputs():
        if tensor.name() == name:
            return tensor
    return None


def get_output_tensor_by_name(inference_response: InferenceResponse, name: str) -> Tensor | None:
    for tensor in inference_response.output_tensors():
        if tensor.name() == name:
            return tensor
    return None


def get_input_config_by_name(model_config: dict, name: str) -> dict | None:
    return next((i for i in model_config.get("input", []) if i["name"] == name), None)


def get_output_config_by_name(model_config: dict, name: str) -> dict | None:
    return next((o for o in model_config.get("output", []) if o["name"] == name), None)


def triton_string_to_numpy(triton_type_string: str):
    return _TRITON_TO_NUMPY[triton_type_string]
