"""Tensor codec for the Open Inference Protocol (KServe v2) REST API and its binary data extension.

Pure functions, no I/O: the request body in, numpy arrays out, and back. Tensors travel as raw
bytes (``numpy.frombuffer`` / ``tobytes``) so a 1024² canvas costs a few copies, not a JSON list.
Every malformed request raises ``ProtocolError`` with the HTTP status and a message naming the
field at fault.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field

import numpy as np

from engine.server.errors import ProtocolError
from engine.server.inflate import Inflater
from engine.wire import schema

HEADER_LENGTH = "inference-header-content-length"
DTYPES = {
    "BOOL": np.bool_, "UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32, "UINT64": np.uint64,
    "INT8": np.int8, "INT16": np.int16, "INT32": np.int32, "INT64": np.int64,
    "FP16": np.float16, "FP32": np.float32, "FP64": np.float64,
}  # fmt: skip
MAX_HEADER_BYTES = 1 << 20  # the JSON part of a binary request: a few hundred bytes in practice
MAX_DIM = 1 << 20  # one side of a tensor: beyond any canvas, small enough that sizes fit int64
MAX_JSON_BYTES = 64 << 20  # an all-JSON request (number lists): parsing costs ~30x its size in memory
Bytes = bytes | bytearray | memoryview  # a request body: read into a bytearray, sliced as a view
_DIGITS = np.array([str(i) for i in range(256)], dtype=object)  # uint8 -> JSON text, no Python loop


@dataclass
class InferRequest:
    inputs: dict[str, np.ndarray]
    parameters: dict = field(default_factory=dict)  # the request's options, protocol keys removed
    binary_outputs: bool = False
    outputs: list[str] | None = None  # names asked for; None = all
    request_id: str | None = None


def _encoding(encoding: str | None) -> str:
    encoding = (encoding or "identity").strip().lower()
    if encoding not in ("identity", "gzip", "deflate", "x-gzip"):
        raise ProtocolError(f"unsupported Content-Encoding {encoding!r}; use gzip, deflate or none", 415)
    return encoding


def decompress(body: Bytes, encoding: str | None, limit: int) -> Bytes:
    """Undo a gzip/deflate Content-Encoding, refusing output over ``limit`` bytes (zip bombs).

    A gzip body may hold several members (RFC 1952), concatenated; anything else after the end of
    the compressed data is refused, as is a truncated stream.
    """
    encoding = _encoding(encoding)
    return body if encoding == "identity" else Inflater(body, encoding).read_all(limit)


def read_request(
    body: Bytes, encoding: str | None, header_length: str | None, max_pixels: int, limit: int
) -> InferRequest:
    """Inflate (when compressed) and decode an infer request body.

    A compressed binary request is inflated only as far as it claims to go: its JSON header first
    (Inference-Header-Content-Length bytes), then exactly the tensor bytes that header announces
    (``binary_data_size``, at most ``limit`` in all); one byte more is refused. A body that inflates
    to gigabytes costs no more memory than the request it pretends to be. An all-JSON request
    inflates up to ``MAX_JSON_BYTES``.
    """
    encoding = _encoding(encoding)
    if encoding == "identity":
        return decode_request(body, header_length, max_pixels)
    src = Inflater(body, encoding)
    if header_length is None:
        return decode_request(src.read_all(min(limit, MAX_JSON_BYTES)), None, max_pixels)
    n = _header_bytes(header_length, limit)
    head = bytearray(n)
    got = src.fill(memoryview(head))
    if got < n:
        raise ProtocolError(f"Inference-Header-Content-Length is {n} but the body inflates to {got} bytes")
    need = n + _announced(head)
    if need > limit:
        raise ProtocolError(
            f"the request announces {need:,} bytes; this server's limit is {limit:,}: "
            "crop or downscale the image",
            413,
        )
    data = bytearray(need)
    data[:n] = head
    got = n + src.fill(memoryview(data)[n:])
    if got == need and not src.at_end():
        raise ProtocolError(
            f"the {encoding} body inflates to more than the {need:,} bytes its header announces"
        )
    return decode_request(memoryview(data)[:got], str(n), max_pixels)


def _header_bytes(header_length: str, body_length: int) -> int:
    """The Inference-Header-Content-Length as a number, within ``body_length`` and the JSON limit."""
    try:
        n = int(header_length)
    except ValueError:
        raise ProtocolError(f"Inference-Header-Content-Length {header_length!r} is not a number") from None
    if not 0 < n <= body_length:
        raise ProtocolError(f"Inference-Header-Content-Length is {n} but the body has {body_length} bytes")
    if n > MAX_HEADER_BYTES:
        raise ProtocolError(f"the JSON header is {n:,} bytes; the limit is {MAX_HEADER_BYTES:,}", 413)
    return n


def _announced(head: Bytes) -> int:
    """Bytes of binary tensor data a JSON header announces (``binary_data_size`` of its inputs)."""
    try:
        obj = json.loads(bytes(head))
    except (ValueError, RecursionError) as e:
        raise ProtocolError(f"the request is not valid JSON ({e})") from None
    inputs = obj.get("inputs") if isinstance(obj, dict) else None  # else decode_request says why
    total = 0
    for item in inputs if isinstance(inputs, list) else ():
        params = item.get("parameters") if isinstance(item, dict) else None
        size = params.get("binary_data_size") if isinstance(params, dict) else None
        total += size if type(size) is int and size > 0 else 0
    return total


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Does an Accept-Encoding header allow gzip (``gzip;q=0`` or ``*;q=0`` refuse it)?"""
    allowed: dict[str, bool] = {}
    for item in (accept_encoding or "").lower().split(","):
        name, _, params = item.partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        allowed[name.strip()] = q > 0
    return allowed.get("gzip", allowed.get("x-gzip", allowed.get("*", False)))


def _object(value: object, what: str) -> dict:
    if not isinstance(value, dict):
        raise ProtocolError(f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def _shape(value: object, name: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(type(d) is int and 0 <= d <= MAX_DIM for d in value):
        raise ProtocolError(
            f"input {name!r}: 'shape' must be a list of integers 0 to {MAX_DIM:,}, got {value!r}"
        )
    if len(value) > 8:
        raise ProtocolError(f"input {name!r}: 'shape' has {len(value)} dimensions")
    return tuple(value)


def _from_json(data: object, shape: tuple[int, ...], dtype: np.dtype, name: str) -> np.ndarray:
    try:
        arr = np.asarray(data)
    except (ValueError, TypeError) as e:
        raise ProtocolError(f"input {name!r}: 'data' is not a regular list of numbers ({e})") from e
    if arr.dtype.kind not in "iub" or (arr.dtype.kind == "b") != (dtype == np.bool_):
        raise ProtocolError(f"input {name!r}: 'data' must hold {np.dtype(dtype).name} numbers")
    if (
        arr.size
        and (dtype != np.bool_)
        and (arr.min() < np.iinfo(dtype).min or arr.max() > np.iinfo(dtype).max)
    ):
        raise ProtocolError(f"input {name!r}: 'data' has values outside the {np.dtype(dtype).name} range")
    if arr.size != int(np.prod(shape)):
        raise ProtocolError(
            f"input {name!r}: 'data' has {arr.size} values but shape {list(shape)} needs "
            f"{int(np.prod(shape))}"
        )
    return arr.astype(dtype).reshape(shape)


def decode_request(body: Bytes, header_length: str | None, max_pixels: int) -> InferRequest:
    """Parse an infer request body (JSON, or JSON header + binary tensors)."""
    head, n = _head(body, header_length)
    params = dict(_object(head.get("parameters") or {}, "'parameters'"))
    binary_outputs = params.pop("binary_data_output", False) is True
    params.pop("binary_data_size", None)
    outputs, binary_asked = _outputs(head.get("outputs"))
    request_id = head.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise ProtocolError("'id' must be a string")

    raw = head.get("inputs")
    if not isinstance(raw, list) or not raw:
        raise ProtocolError("'inputs' must be a non-empty list of tensors")
    inputs: dict[str, np.ndarray] = {}
    offset = n
    for item in raw:
        item = _object(item, "an entry of 'inputs'")
        name, arr, offset = _input(item, inputs, body, offset, header_length is not None, max_pixels)
        inputs[name] = arr
    if offset != len(body):
        raise ProtocolError(f"the body has {len(body) - offset:,} bytes after the last binary tensor")
    _check_pair(inputs)
    return InferRequest(inputs, params, binary_outputs or binary_asked, outputs, request_id)


def _head(body: Bytes, header_length: str | None) -> tuple[dict, int]:
    """The request's JSON object and its length in bytes (the whole body when all-JSON)."""
    if header_length is None:
        n = len(body)
        if n > MAX_JSON_BYTES:
            raise ProtocolError(
                f"a JSON request of {n:,} bytes is over the limit of {MAX_JSON_BYTES:,}: send the "
                "tensors with the binary tensor data extension (Inference-Header-Content-Length)",
                413,
            )
    else:
        n = _header_bytes(header_length, len(body))
    try:
        return _object(json.loads(bytes(body[:n])), "the request"), n
    except (ValueError, RecursionError) as e:  # UnicodeDecodeError is a ValueError
        raise ProtocolError(f"the request is not valid JSON ({e})") from None


def _outputs(value: object) -> tuple[list[str] | None, bool]:
    """The outputs asked for (None: all) and whether one of them asks for binary data."""
    if value is None:
        return None, False
    if not isinstance(value, list):
        raise ProtocolError("'outputs' must be a list")
    outputs, binary = [], False
    for out in value:
        out = _object(out, "an entry of 'outputs'")
        if out.get("name") != schema.OUTPUT_COLOR:
            raise ProtocolError(f"unknown output {out.get('name')!r}; this model has {schema.OUTPUT_COLOR!r}")
        if _object(out.get("parameters") or {}, "output 'parameters'").get("binary_data") is True:
            binary = True
        outputs.append(out["name"])
    return outputs, binary


def _input_shape(item: dict, seen: dict, max_pixels: int) -> tuple[str, tuple[int, ...]]:
    """An input's name and shape: a known name given once, UINT8 [H, W, 4] within ``max_pixels``."""
    name = item.get("name")
    if name not in (schema.INPUT_LINEART, schema.INPUT_HINTS):
        raise ProtocolError(
            f"unknown input {name!r}; this model takes {schema.INPUT_LINEART!r} and {schema.INPUT_HINTS!r}"
        )
    if name in seen:
        raise ProtocolError(f"input {name!r} is given twice")
    if item.get("datatype") != "UINT8":
        raise ProtocolError(f"input {name!r} must have datatype UINT8, got {item.get('datatype')!r}")
    shape = _shape(item.get("shape"), name)
    if len(shape) != 3 or shape[2] != 4:
        raise ProtocolError(f"input {name!r} must have shape [height, width, 4] (RGBA), got {list(shape)}")
    if shape[0] * shape[1] > max_pixels:
        raise ProtocolError(
            f"input {name!r} is {shape[1]}x{shape[0]} = {shape[0] * shape[1]:,} pixels; this server "
            f"accepts at most {max_pixels:,}: crop or downscale the image",
            413,
        )
    return name, shape


def _input(
    item: dict, seen: dict, body: Bytes, offset: int, binary: bool, max_pixels: int
) -> tuple[str, np.ndarray, int]:
    """One input tensor: (name, array, offset of the next binary tensor). Binary data is read at
    ``offset`` of ``body`` (a view, not a copy) when the body has any (``binary``: a JSON header's
    length was given)."""
    name, shape = _input_shape(item, seen, max_pixels)
    size = int(np.prod(shape))
    iparams = _object(item.get("parameters") or {}, f"input {name!r} 'parameters'")
    if "binary_data_size" in iparams:
        bsize = iparams["binary_data_size"]
        if type(bsize) is not int or bsize != size:
            raise ProtocolError(
                f"input {name!r}: binary_data_size is {bsize!r} but shape {list(shape)} of UINT8 needs {size}"
            )
        if not binary:
            raise ProtocolError("binary tensor data needs the Inference-Header-Content-Length header")
        if offset + size > len(body):
            raise ProtocolError(f"input {name!r}: the body ends before its {size:,} bytes of binary data")
        return name, np.frombuffer(body, np.uint8, size, offset).reshape(shape), offset + size
    if "data" in item:
        return name, _from_json(item["data"], shape, np.dtype(np.uint8), name), offset
    raise ProtocolError(f"input {name!r} has neither 'data' nor parameters.binary_data_size")


def _check_pair(inputs: dict[str, np.ndarray]) -> None:
    """The line art is there, and the hints (when given) have its shape."""
    if schema.INPUT_LINEART not in inputs:
        raise ProtocolError(f"input {schema.INPUT_LINEART!r} (the line art, UINT8 [H, W, 4]) is missing")
    hints = inputs.get(schema.INPUT_HINTS)
    if hints is not None and hints.shape != inputs[schema.INPUT_LINEART].shape:
        raise ProtocolError(
            f"input {schema.INPUT_HINTS!r} has shape {list(hints.shape)} but "
            f"{schema.INPUT_LINEART!r} has {list(inputs[schema.INPUT_LINEART].shape)}"
        )


def options_from(params: dict) -> schema.ColorizeOptions:
    try:
        return schema.ColorizeOptions.from_mapping(params)
    except (schema.OptionsError, TypeError) as e:
        raise ProtocolError(f"bad 'parameters': {e}") from None


def encode_response(
    req: InferRequest, color_hwc_u8: np.ndarray, model_version: str
) -> tuple[bytes, dict[str, str]]:
    """Body and extra headers of the infer response: binary when asked for, JSON otherwise."""
    out: dict = {"name": schema.OUTPUT_COLOR, "datatype": "UINT8", "shape": list(color_hwc_u8.shape)}
    answer: dict = {"model_name": schema.MODEL_NAME, "model_version": model_version}
    if req.request_id is not None:
        answer["id"] = req.request_id
    if req.binary_outputs:
        data = np.ascontiguousarray(color_hwc_u8).tobytes()
        out["parameters"] = {"binary_data_size": len(data)}
        answer["outputs"] = [out]
        head = json.dumps(answer, separators=(",", ":")).encode()
        headers = {"content-type": "application/octet-stream", HEADER_LENGTH: str(len(head))}
        return head + data, headers
    # JSON: the flat row-major list the protocol allows, built by str.join over a lookup table
    # (a Python loop or json.dumps of a 3-million-item list takes seconds)
    digits = ",".join(_DIGITS[color_hwc_u8.ravel()])
    outputs = json.dumps(out, separators=(",", ":"))[:-1] + ',"data":[' + digits + "]}"
    text = json.dumps(answer, separators=(",", ":"))[:-1] + ',"outputs":[' + outputs + "]}"
    return text.encode(), {"content-type": "application/json"}


def gzip_bytes(data: bytes) -> bytes:
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)
    return packer.compress(data) + packer.flush()
