"""The engine as a service: the Open Inference Protocol (KServe v2) REST API over one colorizer.

    inkhue serve --host 127.0.0.1 --port 8000

``app`` builds the ASGI app, ``codec`` turns request bodies into arrays and back, ``limits`` holds
the bounds and the token check, ``run`` binds sockets and runs uvicorn, ``command`` is the CLI.
Needs the ``service`` extra (starlette, uvicorn).
"""

from __future__ import annotations

from engine.server.app import create_app
from engine.server.limits import ServerConfig
from engine.server.run import ServeError, serve_app, serve_in_thread

__all__ = ["ServeError", "ServerConfig", "create_app", "serve_app", "serve_in_thread"]
