"""Which colorizer answers ``/v2/models/{name}``: the server's own model, or an installed one by name.

The server's own model (``--model``, default ``inkhue-default``) answers as ``inkhue``
(``schema.MODEL_NAME``) and under its manifest name. With a ``load`` function, any other installed
line-art model (``engine.models.available``: $INKHUE_MODEL_PATH, the user's models folder, the
bundled ones) answers under its manifest name too, loaded on its first request; at most ``keep``
of them stay loaded (the least recently used goes first), so memory stays bounded. An unknown name
is a 404 that lists the names this server answers to.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from engine.server.codec import ProtocolError
from engine.wire import schema

log = logging.getLogger(__name__)

SCAN_SECONDS = 2.0  # installed models are listed again after this long, or on an unknown name


def _installed() -> dict[str, tuple[Path, str]]:
    """Installed line-art models: name -> (folder, version)."""
    from engine import models
    from engine.errors import ModelError
    from engine.modelspec import load_manifest

    out = {}
    for name, folder in models.available().items():
        try:
            manifest = load_manifest(folder, verify=False)
        except ModelError:
            continue
        if manifest.kind == "lineart":  # grayscale models are reached through the option "mode"
            out[name] = (folder, manifest.version)
    return out


class Catalog:
    """The colorizers of one server, by the name a request's URL gives."""

    def __init__(
        self,
        default,
        version: str,
        load: Callable[[str], object] | None = None,  # a model folder -> its colorizer
        keep: int = 1,
        installed: Callable[[], dict[str, tuple[Path, str]]] = _installed,
    ) -> None:
        self.default, self.version, self.load, self.keep = default, version, load, keep
        manifest = getattr(default, "manifest", None)
        self.default_name = getattr(manifest, "name", None)
        self._installed, self._scanned, self._seen = installed, -1e9, {}
        self._loaded: OrderedDict[str, object] = OrderedDict()
        self._lock = threading.Lock()  # one load at a time; loads run on the worker threads

    def _others(self, name: str | None = None) -> dict[str, tuple[Path, str]]:
        """Installed models besides the server's own; listed again when old, or when ``name``
        is not among them (a fine-tune may have just written it)."""
        if self.load is None:
            return {}
        now = time.monotonic()
        if now - self._scanned > SCAN_SECONDS or (name is not None and name not in self._seen):
            self._seen, self._scanned = self._installed(), now
        return self._seen

    def names(self) -> list[str]:
        own = [schema.MODEL_NAME, *([self.default_name] if self.default_name else [])]
        return own + sorted(set(self._others()) - set(own))

    def _is_default(self, name: str) -> bool:
        return name == schema.MODEL_NAME or (self.default_name is not None and name == self.default_name)

    def version_of(self, name: str, version: str | None = None) -> str:
        """The version ``name`` is served at; raises ``ProtocolError`` (404) for an unknown name or
        version, naming what this server has."""
        if self._is_default(name):
            own = self.version
        elif name in self._others(name):
            own = self._others()[name][1]
        else:
            raise ProtocolError(f"unknown model {name!r}; this server has: {', '.join(self.names())}", 404)
        if version is not None and version != own:
            raise ProtocolError(f"unknown version {version!r} of {name!r}; this server has {own!r}", 404)
        return own

    def get(self, name: str):
        """The colorizer for ``name`` (loaded now if need be: call it off the event loop)."""
        if self._is_default(name):
            return self.default
        with self._lock:
            if name in self._loaded:
                self._loaded.move_to_end(name)
                return self._loaded[name]
            found = self._others(name).get(name)
            if found is None or self.load is None:
                raise ProtocolError(
                    f"unknown model {name!r}; this server has: {', '.join(self.names())}", 404
                )
            while len(self._loaded) >= max(1, self.keep):
                old, _ = self._loaded.popitem(last=False)
                log.info("model %s unloaded (at most %d besides the server's own)", old, self.keep)
            t0 = time.perf_counter()
            colorizer = self.load(str(found[0]))
            log.info("model %s loaded in %.1f s", name, time.perf_counter() - t0)
            self._loaded[name] = colorizer
            return colorizer
