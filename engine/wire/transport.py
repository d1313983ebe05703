"""One HTTP exchange with an Inkhue engine, and what its answers mean (errors, readiness).

STANDARD LIBRARY ONLY, vendored into the plug-ins with ``client.py`` (see ``installer/vendor.py``).
The layer under both ``client.py`` (the inference request, settings, endpoint choice) and
``local_server.py`` (the managed server), so neither imports the other to talk HTTP.
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.parse
import urllib.request

from . import schema

TOKEN_ENV = schema.TOKEN_ENV  # re-exported: how the managed server gets its token
KINDS = ("unreachable", "auth", "too_large", "busy", "bad_request", "timeout", "server", "not_installed")
_STATUS_KINDS = {
    400: "bad_request",
    401: "auth",
    403: "auth",
    408: "timeout",
    413: "too_large",
    422: "bad_request",
    429: "busy",
    503: "busy",
    504: "timeout",
}


class EngineError(Exception):
    """The engine could not colour the image; ``str(e)`` tells the artist what to do."""

    def __init__(self, message: str, kind: str = "server") -> None:
        super().__init__(message)
        self.kind = kind if kind in KINDS else "server"


# ----------------------------------------------------------------------------------------------
# HTTP


def _is_loopback(url: str) -> bool:
    return (urllib.parse.urlsplit(url).hostname or "") in schema.LOOPBACK_NAMES


def _request(
    method: str,
    url: str,
    token: str | None,
    timeout: float,
    body: bytes | tuple[bytes, ...] | None = None,
    headers: dict | None = None,
) -> tuple[int, dict, bytes]:
    """One HTTP exchange; returns (status, lower-cased headers, body). HTTP errors are returned."""
    req = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        # no proxies: a loopback engine must not be sent through an HTTP(S)_PROXY of the system
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=timeout) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as e:
        try:
            data = e.read()
        except OSError:
            data = b""
        return e.code, {k.lower(): v for k, v in (e.headers or {}).items()}, data
    except urllib.error.URLError as e:
        if isinstance(e.reason, (socket.timeout, TimeoutError)):
            raise _timeout(url, timeout) from e
        if isinstance(e.reason, (BrokenPipeError, ConnectionResetError)) and body is not None:
            raise _cut_off(url, e.reason) from e
        raise EngineError(
            f"cannot reach the Inkhue engine at {url} ({e.reason}); check the server address in "
            "the plug-in settings, or that the engine is running",
            "unreachable",
        ) from e
    except TimeoutError as e:
        raise _timeout(url, timeout) from e
    except (ConnectionError, http.client.HTTPException, OSError) as e:
        raise _cut_off(url, e) from e


def _cut_off(url: str, e: Exception) -> EngineError:
    return EngineError(
        f"the Inkhue engine at {url} closed the connection ({e}); it may be restarting, or refuse "
        "images this large: try again, and check the server if it keeps happening",
        "unreachable",
    )


def _timeout(url: str, timeout: float) -> EngineError:
    return EngineError(
        f"the Inkhue engine at {url} did not answer within {timeout:g} s; try a smaller image, "
        "or a faster server (GPU)",
        "timeout",
    )


def _error_from(status: int, headers: dict, body: bytes, url: str) -> EngineError:
    """An EngineError from a non-200 answer, using the protocol's ``{"error": message}`` body."""
    detail = ""
    try:
        detail = str(json.loads(body.decode("utf-8")).get("error", ""))
    except (ValueError, AttributeError, UnicodeDecodeError):
        detail = body[:200].decode("utf-8", "replace").strip()
    kind = _STATUS_KINDS.get(status, "server")
    if kind == "auth":
        msg = "the Inkhue engine refused the access token; check the token in the plug-in settings"
    elif kind == "busy":
        retry = headers.get("retry-after")
        msg = "the Inkhue engine is busy with other images; try again" + (
            f" in {retry} s" if retry else " in a moment"
        )
    elif kind == "too_large":
        msg = "the image is too large for this Inkhue engine; crop or downscale it"
    elif kind == "timeout":
        msg = "the Inkhue engine took too long on this image; try a smaller image or a faster server"
    elif status == 404:
        msg = f"no Inkhue model is served at {url}; check the server address in the plug-in settings"
    elif kind == "bad_request":
        msg = "the Inkhue engine rejected the request"
    else:
        msg = f"the Inkhue engine failed (HTTP {status}); see the server's log"
    return EngineError(f"{msg}: {detail}" if detail else msg, kind)


def health(url: str, token: str | None = None, timeout: float = 5.0) -> bool:
    """True when the server at ``url`` answers ready (``GET /v2/health/ready``)."""
    try:
        status, _, _ = _request("GET", url.rstrip("/") + "/v2/health/ready", token, timeout)
    except EngineError:
        return False
    return status == 200


def model_ready(url: str, token: str | None = None, timeout: float = 5.0) -> bool:
    """True when the model answers ready to ``token``: health endpoints are open, model ready is not."""
    try:
        status, _, _ = _request("GET", f"{url}/v2/models/{schema.MODEL_NAME}/ready", token, timeout)
    except EngineError:
        return False
    return status == 200
