"""The remote colorizer: the whole request runs on an ``inkhue serve`` (or any KServe v2 server).

Unlike the stage backends (``engine.backends``) it is a whole ``engine.colorizer.Colorizer``, like
the local one, so the CLI and ``engine.colorize`` use a GPU server by changing one argument
(``backend="remote"``).
"""

from __future__ import annotations

import numpy as np

from engine.arrays import check_hints, check_lineart
from engine.errors import BackendError, InputError
from engine.options import merge_options
from engine.wire import client
from engine.wire.schema import ColorizeOptions

_INPUT_KINDS = ("bad_request", "too_large")


class RemoteColorizer:
    """The ``Colorizer`` whose ``colorize`` is answered by the server at ``url``."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 300.0) -> None:
        if not url or not url.startswith(("http://", "https://")):
            raise BackendError(f"the remote backend needs an http:// or https:// URL, got {url!r}")
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout

    @property
    def backend_name(self) -> str:
        return "remote"

    @property
    def device(self) -> str:
        return self.url

    def colorize(
        self,
        lineart: np.ndarray,
        hints: np.ndarray | None = None,
        options: ColorizeOptions | None = None,
        **overrides: object,
    ) -> np.ndarray:
        opts = merge_options(options, overrides)
        lineart_rgba_u8 = np.ascontiguousarray(check_lineart(lineart, opts.max_pixels))
        h, w = lineart_rgba_u8.shape[:2]
        hints_rgba_u8 = check_hints(hints, (h, w))
        hints_bytes = None if hints_rgba_u8 is None else np.ascontiguousarray(hints_rgba_u8).tobytes()
        try:
            rgb = client.colorize(
                self.url, lineart_rgba_u8.tobytes(), hints_bytes, w, h,
                options=opts.to_mapping(), token=self.token, timeout=self.timeout,
            )  # fmt: skip
        except client.EngineError as e:
            if e.kind in _INPUT_KINDS:
                raise InputError(str(e)) from e
            raise BackendError(str(e)) from e
        return (
            np.frombuffer(rgb, np.uint8).reshape(h, w, opts.channels).copy()
        )  # writable, like the local one's
