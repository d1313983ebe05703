"""The external-data files an ONNX graph refers to, read without the ``onnx`` package.

An ONNX tensor may keep its values in another file (``data_location: EXTERNAL``, the file named by
its ``external_data`` entry ``location``, relative to the graph's folder); ONNX Runtime opens that
file as it loads the graph. ``modelspec.load_manifest`` confines and checksums those files like the
graphs themselves, so it needs their names: this walks the protobuf wire format through the messages
that can hold tensors (graphs, nodes' attributes, functions, training info), skipping the tensors'
data by length over a memory map.
"""

from __future__ import annotations

import mmap
from pathlib import Path

from engine.errors import ModelError

MAX_DEPTH = 64  # nested graphs (If/Loop bodies); a deeper file is refused, not a RecursionError

# message -> {field number: child message}, for the fields on a path to a TensorProto
_CHILDREN = {
    "model": {7: "graph", 20: "training", 25: "function"},
    "training": {1: "graph", 2: "graph"},
    "graph": {1: "node", 5: "tensor", 15: "sparse"},
    "function": {7: "node", 11: "attribute"},
    "node": {5: "attribute"},
    "attribute": {5: "tensor", 6: "graph", 10: "tensor", 11: "graph", 22: "sparse", 23: "sparse"},
    "sparse": {1: "tensor", 2: "tensor"},
}
_EXTERNAL_DATA, _DATA_LOCATION, _EXTERNAL = 13, 14, 1  # TensorProto fields, DataLocation.EXTERNAL


def _varint(buf: memoryview, pos: int, end: int) -> tuple[int, int]:
    value = shift = 0
    while pos < end and shift < 70:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
    raise ValueError("a truncated or overlong varint")


def _fields(buf: memoryview, start: int, end: int):
    """``(field, value)`` of one message: an int (varint) or a ``(start, end)`` span (bytes)."""
    pos = start
    while pos < end:
        key, pos = _varint(buf, pos, end)
        wire = key & 7
        if wire == 0:
            value, pos = _varint(buf, pos, end)
        elif wire == 2:
            n, pos = _varint(buf, pos, end)
            value, pos = (pos, pos + n), pos + n
        elif wire in (1, 5):
            value, pos = None, pos + (8 if wire == 1 else 4)
        else:
            raise ValueError(f"wire type {wire} (groups) is not ONNX")
        if pos > end:
            raise ValueError("a field runs past the end of its message")
        yield key >> 3, value


def _tensor_location(buf: memoryview, start: int, end: int) -> str | None:
    external, location = False, None
    for field, value in _fields(buf, start, end):
        if field == _DATA_LOCATION and value == _EXTERNAL:
            external = True
        elif field == _EXTERNAL_DATA and isinstance(value, tuple):
            entry = dict(_fields(buf, *value))
            key, text = entry.get(1), entry.get(2)
            if isinstance(key, tuple) and bytes(buf[slice(*key)]) == b"location" and isinstance(text, tuple):
                location = bytes(buf[slice(*text)]).decode("utf-8", "replace")
    if external and location is None:
        raise ValueError("a tensor is EXTERNAL but names no location")
    return location


def _walk(buf: memoryview, kind: str, start: int, end: int, depth: int, found: set[str]) -> None:
    if depth > MAX_DEPTH:
        raise ValueError(f"graphs nested more than {MAX_DEPTH} deep")
    children = _CHILDREN[kind]
    for field, value in _fields(buf, start, end):
        child = children.get(field)
        if child is None or not isinstance(value, tuple):
            continue
        if child == "tensor":
            location = _tensor_location(buf, *value)
            if location is not None:
                found.add(location)
        else:
            _walk(buf, child, *value, depth + 1, found)


def external_data_files(path: Path | str) -> set[str]:
    """The ``location`` of every tensor of the ONNX file ``path`` kept outside it, as written."""
    try:
        with open(path, "rb") as f:
            if Path(path).stat().st_size == 0:
                return set()
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                buf = memoryview(mapped)
                try:
                    found: set[str] = set()
                    _walk(buf, "model", 0, len(buf), 0, found)
                    return found
                finally:
                    buf.release()
    except (ValueError, IndexError) as e:
        raise ModelError(f"{path} is not a valid ONNX file ({e})") from e
    except OSError as e:
        raise ModelError(f"cannot read {path}: {e.strerror or e}") from e
