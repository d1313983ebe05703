"""Run the app with uvicorn: socket binding (``--port 0``), the port file, the idle exit, threads."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

from engine.errors import InkhueError
from engine.server.limits import ServerConfig, is_loopback
from engine.wire.schema import LOCAL_HOST

log = logging.getLogger(__name__)


class ServeError(InkhueError):
    """The server cannot start as asked (unsafe binding, port in use)."""

    kind = "serve"


def check_binding(host: str, token: str | None) -> None:
    """Refuse to expose the engine to the network without a token."""
    if not token and not is_loopback(host):
        raise ServeError(
            f"refusing to listen on {host} without a token: anyone on the network could use this "
            "machine's engine. Pass --token (or set INKHUE_TOKEN), or listen on 127.0.0.1"
        )


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; ``port`` 0 picks a free one (read it back with ``getsockname``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(128)  # connections queue here until uvicorn accepts: no race with the port file
    except (OSError, OverflowError) as e:  # OverflowError: a port outside 0-65535
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port} ({getattr(e, 'strerror', None) or e})") from e
    sock.set_inheritable(True)
    return sock


def write_port_file(path: str | os.PathLike, port: int) -> None:
    """Write atomically, so a reader never sees a half-written number."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{port}\n")
    os.replace(tmp, path)


def _uvicorn_server(app, config: ServerConfig):
    import uvicorn

    from engine.server.protocol import protocol_class

    uv = uvicorn.Config(
        app,
        # h11, not httptools: it bounds the header block (h11_max_incomplete_event_size)
        http=protocol_class(config.header_timeout_s, config.max_connections),
        h11_max_incomplete_event_size=config.max_header_bytes,
        log_level="warning",
        access_log=False,
        timeout_keep_alive=30,
        limit_concurrency=None,  # the app's Admission answers 503 itself, with a JSON body
        server_header=False,
    )
    server = uvicorn.Server(uv)
    if config.idle_timeout_s > 0:
        watch = threading.Thread(target=_idle_watch, args=(app, server, config.idle_timeout_s), daemon=True)
        watch.start()
    return server


def _idle_watch(app, server, idle_timeout_s: float) -> None:
    """Ask uvicorn to stop once no request arrived for ``idle_timeout_s`` (managed local server)."""
    admission = app.state.service.admission
    stop = threading.Event()
    while not server.should_exit and not stop.wait(min(1.0, idle_timeout_s / 4)):
        if admission.idle_for() >= idle_timeout_s:
            log.info("no request for %g s: stopping", idle_timeout_s)
            server.should_exit = True


def remove_state_file(path: str | os.PathLike, token: str | None) -> None:
    """Remove the managed server's state file (``engine/wire/local_server.py``) if it names this server
    (by its token): a stale file would send the next client to a port anyone may have taken."""
    try:
        with open(path, encoding="utf-8") as f:
            state = json.load(f)
        if token and isinstance(state, dict) and state.get("token") == token:
            os.unlink(path)
    except (OSError, ValueError):
        pass


def serve_app(
    app,
    host: str,
    port: int,
    config: ServerConfig,
    port_file: str | None = None,
    state_file: str | None = None,
) -> None:
    """Serve ``app`` until interrupted or idle; blocks. On exit the port file goes, and the state
    file if it is this server's."""
    check_binding(host, config.token)
    sock = bind(host, port)
    actual = sock.getsockname()[1]
    if port_file:
        write_port_file(port_file, actual)
    log.info(
        "serving model %r on http://%s:%d (token %s)",
        "inkhue",
        host,
        actual,
        "required" if config.token else "not required",
    )
    try:
        _uvicorn_server(app, config).run(sockets=[sock])
    finally:
        sock.close()
        app.state.service.close()
        if port_file:
            with contextlib.suppress(OSError):
                os.unlink(port_file)
        if state_file:
            remove_state_file(state_file, config.token)


@contextlib.contextmanager
def serve_in_thread(app, config: ServerConfig | None = None, host: str = LOCAL_HOST) -> Iterator[str]:
    """Run ``app`` on a free loopback port in a background thread; yields its URL (tests, bench).

    ``config`` defaults to the one the app was created with."""
    service = getattr(getattr(app, "state", None), "service", None)
    served: ServerConfig | None = getattr(service, "config", None)
    config = config or served or ServerConfig()
    check_binding(host, config.token)
    sock = bind(host, 0)
    server = _uvicorn_server(app, config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="inkhue-serve")
    thread.start()
    try:
        while not server.started and thread.is_alive():
            thread.join(0.01)
        if not server.started:
            raise ServeError("the server thread stopped while starting")
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
