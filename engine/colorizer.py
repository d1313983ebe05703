"""One ``Colorizer`` protocol for every way a request is coloured, and the choice between them.

A colorizer is either ``engine.pipeline.LocalColorizer`` (this machine's model, through a stage
backend) or ``engine.remote.RemoteColorizer`` (the same call sent to an ``inkhue serve`` or any
KServe v2 server). The CLI and ``engine.colorize`` get one from ``make_colorizer``; the server
(``engine.server``) serves any ``Colorizer``.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from engine.errors import BackendError
from engine.options import merge_options

if TYPE_CHECKING:
    import numpy as np

    from engine.wire.schema import ColorizeOptions


@runtime_checkable
class Colorizer(Protocol):
    """``colorize(lineart, hints, options | **overrides) -> H×W×3 (H×W×4 transparent) uint8``."""

    @property
    def backend_name(self) -> str:
        """What runs the model: ``onnx``, ``torch``, ``remote``."""
        ...

    @property
    def device(self) -> str:
        """Where it runs: ``cpu``, ``cuda``, or the server's URL."""
        ...

    def colorize(
        self,
        lineart: np.ndarray,
        hints: np.ndarray | None = None,
        options: ColorizeOptions | None = None,
        **overrides: object,
    ) -> np.ndarray:
        """Colour ``lineart`` (H×W, H×W×3 or H×W×4 uint8) following ``hints`` (H×W×4 RGBA uint8).

        Returns uint8 of exactly the input's size: RGB, or RGBA with ``transparent=True``.
        Keyword overrides are ``ColorizeOptions`` fields. Raises ``engine.InkhueError``s.
        """
        ...


def make_colorizer(
    model: str | os.PathLike | None = None,
    backend: str = "onnx",
    device: str = "auto",
    url: str | None = None,
    token: str | None = None,
) -> Colorizer:
    """A ``LocalColorizer``, or for ``backend="remote"`` a ``RemoteColorizer`` for the server at ``url``."""
    if backend == "remote":
        from engine.remote import RemoteColorizer

        if model is not None:
            raise BackendError("the remote backend runs the server's own model (see 'inkhue serve --model')")
        if not url:
            raise BackendError("the remote backend needs the server's address: --url http://HOST:PORT")
        return RemoteColorizer(url, token)
    if url:
        raise BackendError(f"--url is for the remote backend; use --backend remote, not {backend!r}")
    from engine.pipeline import LocalColorizer

    return LocalColorizer(model, backend, device)


_default: dict[tuple, Colorizer] = {}
_default_lock = threading.Lock()


def colorize(
    lineart: np.ndarray,
    hints: np.ndarray | None = None,
    *,
    model: str | None = None,
    backend: str = "onnx",
    device: str = "auto",
    url: str | None = None,
    token: str | None = None,
    **options: object,
) -> np.ndarray:
    """Stateless entry point: ``colorize(lineart, hints) -> H×W×3 uint8 RGB``.

    The model is loaded on first use and cached per (model, backend, device); ``backend="remote"``
    with ``url`` (and ``token``) sends the request to an ``inkhue serve`` instead.
    """
    if options.get("method") == "flats" and backend != "remote":
        from engine.pipeline import flats_only

        return flats_only(lineart, hints, merge_options(None, options))  # no model is loaded
    key = (model, backend, device, url, token)
    with _default_lock:
        if key not in _default:
            _default[key] = make_colorizer(model, backend, device, url, token)
        col = _default[key]
    return col.colorize(lineart, hints, None, **options)
