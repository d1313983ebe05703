"""Talk to an Inkhue engine over the KServe v2 / Open Inference Protocol REST API.

STANDARD LIBRARY ONLY: the Krita and GIMP plug-ins carry a copy of this file, ``schema.py``,
``transport.py`` (one HTTP exchange, ``EngineError``) and ``local_server.py`` (see
``installer/vendor.py``) into Python interpreters that have no numpy.
Images travel as raw bytes with the protocol's binary tensor data extension, never as JSON number
lists. The managed local server (started on first use in local mode) is ``local_server.py``.

    url, token = endpoint_for(load_plugin_config())
    rgb = colorize(url, lineart_rgba, hints_rgba, width, height, token=token)
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import zlib
from dataclasses import dataclass

from . import folders, schema
from .local_server import ensure_local_server
from .transport import KINDS as KINDS  # re-exported: the plug-ins and tests use client.X
from .transport import TOKEN_ENV as TOKEN_ENV
from .transport import EngineError, _error_from, _is_loopback, _request
from .transport import health as health
from .transport import model_ready as model_ready

log = logging.getLogger(__name__)

HEADER_LENGTH = "Inference-Header-Content-Length"  # the binary tensor data extension's header
_NO_GZIP: set[str] = set()  # servers that refused a gzip body but took a plain one


# ----------------------------------------------------------------------------------------------
# the inference request


def encode_request(
    lineart_rgba: bytes, hints_rgba: bytes, width: int, height: int, options: dict
) -> tuple[bytes, tuple[bytes, ...]]:
    """JSON header and body parts (header, then both tensors as binary data) of an infer request.

    The parts are sent one after the other, so the megabytes of pixels are never copied into
    one buffer.
    """
    inputs = []
    for name, data in ((schema.INPUT_LINEART, lineart_rgba), (schema.INPUT_HINTS, hints_rgba)):
        inputs.append(
            {
                "name": name,
                "shape": [height, width, 4],
                "datatype": "UINT8",
                "parameters": {"binary_data_size": len(data)},
            }
        )
    header = {
        "inputs": inputs,
        "outputs": [{"name": schema.OUTPUT_COLOR, "parameters": {"binary_data": True}}],
    }
    if options:
        header["parameters"] = dict(options)
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    return head, (head, lineart_rgba, hints_rgba)


def decode_response(headers: dict, body: bytes, width: int, height: int, channels: int = 3) -> bytes:
    """The COLOR tensor's bytes from an infer response, binary or JSON (``channels`` 4: RGBA)."""
    if headers.get("content-encoding", "").lower() in ("gzip", "deflate"):
        body = zlib.decompress(body, 47)  # 47: accept a zlib or a gzip stream
    try:
        n = int(headers.get(HEADER_LENGTH.lower(), len(body)))
        answer = json.loads(body[:n].decode("utf-8"))
        outputs = answer["outputs"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise EngineError(f"the Inkhue engine sent an unreadable answer ({e})", "server") from e
    expected = width * height * channels
    offset = n
    for out in outputs:
        size = int((out.get("parameters") or {}).get("binary_data_size", -1))
        if out.get("name") != schema.OUTPUT_COLOR:
            offset += max(size, 0)
            continue
        if out.get("datatype") != "UINT8" or list(out.get("shape", [])) != [height, width, channels]:
            raise EngineError(
                f"the Inkhue engine answered {out.get('datatype')} {out.get('shape')}, "
                f"expected UINT8 {[height, width, channels]}",
                "server",
            )
        data = body[offset : offset + size] if size >= 0 else bytes(out.get("data") or [])
        if len(data) != expected:
            raise EngineError(f"the Inkhue engine answered {len(data)} bytes, expected {expected}", "server")
        return data
    raise EngineError(f"the Inkhue engine's answer has no {schema.OUTPUT_COLOR} output", "server")


def colorize(
    url: str,
    lineart_rgba: bytes,
    hints_rgba: bytes | None,
    width: int,
    height: int,
    options: dict | None = None,
    token: str | None = None,
    timeout: float = 300.0,
    *,
    compress: bool | None = None,
    model: str | None = None,
) -> bytes:
    """Colour ``width``×``height`` RGBA line art; returns width*height*3 RGB bytes, row-major
    (width*height*4 RGBA with the option ``transparent``).

    ``hints_rgba`` is RGBA of the same size (alpha marks hint pixels) or None. ``compress``: gzip
    the request body; None gzips except on loopback, where it would only cost time. A server that
    refuses gzip bodies (the protocol leaves them optional) gets the plain body instead. ``model``:
    an installed model's name (``finetune_job.list_models``); None or "" for the server's own.
    """
    size = width * height * 4
    if width < 1 or height < 1:
        raise EngineError(f"the image is {width}x{height} pixels; it must not be empty", "bad_request")
    if len(lineart_rgba) != size:
        raise EngineError(
            f"line art has {len(lineart_rgba)} bytes, expected {size} for {width}x{height} RGBA",
            "bad_request",
        )
    if hints_rgba is None:
        hints_rgba = bytes(size)
    elif len(hints_rgba) != size:
        raise EngineError(
            f"hints have {len(hints_rgba)} bytes, expected {size} for {width}x{height} RGBA",
            "bad_request",
        )
    try:
        opts = schema.ColorizeOptions.from_mapping(options).to_mapping() if options else {}
    except (schema.OptionsError, TypeError) as e:
        raise EngineError(f"invalid option: {e}", "bad_request") from e
    try:
        served = schema.check_model_name(model) if model else schema.MODEL_NAME
    except schema.OptionsError as e:
        raise EngineError(str(e), "bad_request") from e
    channels = 4 if opts.get("transparent") else 3
    opts = {k: v for k, v in opts.items() if k in (options or {})}  # send only what was asked
    head, parts = encode_request(bytes(lineart_rgba), bytes(hints_rgba), width, height, opts)
    headers = {
        "Content-Type": "application/octet-stream",
        "Content-Length": str(sum(map(len, parts))),
        HEADER_LENGTH: str(len(head)),
    }
    base = url.rstrip("/")
    if compress is None:
        compress = not _is_loopback(url) and base not in _NO_GZIP
    infer_url = f"{base}/v2/models/{served}/infer"
    if compress:
        packer = zlib.compressobj(1, zlib.DEFLATED, 31)  # level 1: line art compresses well anyway
        packed = b"".join([*map(packer.compress, parts), packer.flush()])
        gz = {
            **headers,
            "Content-Length": str(len(packed)),
            "Content-Encoding": "gzip",
            "Accept-Encoding": "gzip",
        }
        status, resp_headers, resp = _request("POST", infer_url, token, timeout, packed, gz)
        if status in (400, 415, 422):  # servers without gzip request bodies (KServe's): plain retry
            plain = _request("POST", infer_url, token, timeout, parts, headers)
            if plain[0] == 200:
                _NO_GZIP.add(base)
            status, resp_headers, resp = plain
    else:
        status, resp_headers, resp = _request("POST", infer_url, token, timeout, parts, headers)
    if status == 404 and model:  # the server has no such model: its answer lists the ones it has
        try:
            detail = str(json.loads(resp.decode("utf-8")).get("error", ""))
        except (ValueError, AttributeError, UnicodeDecodeError):
            detail = ""
        raise EngineError(
            f"the Inkhue engine at {url} has no model {model!r}" + (f" ({detail})" if detail else ""),
            "bad_request",
        )
    if status != 200:
        raise _error_from(status, resp_headers, resp, url)
    return decode_response(resp_headers, resp, width, height, channels)


# ----------------------------------------------------------------------------------------------
# plug-in settings


@dataclass
class PluginConfig:
    inkhue: str | None = None  # the installed ``inkhue`` executable (local mode)
    mode: str = "local"  # "local": managed server on this machine; "remote": ``url`` + ``token``
    url: str | None = None
    token: str | None = None
    finetune: dict | None = None  # "Fine-tune on My Style" settings (finetune_job.FinetuneSettings)


def load_plugin_config(path: str | None = None) -> PluginConfig:
    """The plug-ins' settings; a missing file gives defaults (local mode, ``inkhue`` from PATH)."""
    path = path or folders.config_file()
    values: dict = {}
    if os.path.isfile(path):
        try:
            with open(path, encoding="utf-8") as f:
                values = json.load(f)
        except (OSError, ValueError) as e:
            raise EngineError(f"cannot read the Inkhue settings file {path}: {e}", "bad_request") from e
        if not isinstance(values, dict):
            raise EngineError(f"the Inkhue settings file {path} must hold a JSON object", "bad_request")
    known = {"inkhue", "mode", "url", "token", "finetune"}
    for key in sorted(set(values) - known):
        log.warning("ignoring unknown setting %r in %s", key, path)
    cfg = PluginConfig(**{k: values[k] for k in known if values.get(k) not in (None, "")})
    if cfg.mode not in ("local", "remote"):
        raise EngineError(
            f'setting \'mode\' in {path} is {cfg.mode!r}; use "local" or "remote"', "bad_request"
        )
    if cfg.finetune is not None and not isinstance(cfg.finetune, dict):
        raise EngineError(f"setting 'finetune' in {path} must be a JSON object", "bad_request")
    if cfg.mode == "remote" and not cfg.url:
        raise EngineError(f"remote mode needs a server 'url' in {path}", "bad_request")
    if cfg.inkhue is None:
        cfg.inkhue = shutil.which("inkhue")
    return cfg


def endpoint_for(config: PluginConfig) -> tuple[str, str | None]:
    """(url, token) to send requests to: the remote server, or the managed local one."""
    if config.mode == "remote":
        return str(config.url).rstrip("/"), config.token
    if not config.inkhue:
        raise EngineError(
            "the Inkhue engine is not installed (no 'inkhue' program found); run the installer, "
            "or set its path in the plug-in settings",
            "not_installed",
        )
    return ensure_local_server(config.inkhue)
