"""``inkhue serve`` and ``inkhue export --triton``: argument parsing only, heavy imports deferred."""

from __future__ import annotations

import argparse
import logging
import os

log = logging.getLogger(__name__)

TOKEN_ENV = "INKHUE_TOKEN"


def _cmd_serve(args: argparse.Namespace) -> int:
    try:
        from engine.server import ServerConfig, create_app, serve_app
    except ImportError as e:
        from engine.errors import BackendError

        raise BackendError(f"'inkhue serve' needs: pip install 'inkhue[service]' ({e})") from e
    from engine.pipeline import Colorizer
    from engine.server.run import ServeError, check_binding

    token = args.token or os.environ.get(TOKEN_ENV) or None
    try:
        config = ServerConfig(
            token=token,
            max_pixels=args.max_pixels,
            workers=args.workers,
            queue=args.queue,
            timeout_s=args.timeout,
            idle_timeout_s=args.idle_timeout,
        )
    except ValueError as e:
        raise ServeError(str(e)) from e

    check_binding(args.host, token)  # before the model loads: fail fast on an unsafe binding
    colorizer = Colorizer(args.model, backend=args.backend, device=args.device)
    log.info("model %s v%s on %s/%s", colorizer.manifest.name, colorizer.manifest.version,
             colorizer.backend.name, colorizer.device)  # fmt: skip
    serve_app(create_app(colorizer, config), args.host, args.port, config, args.port_file, args.state_file)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from engine.triton import export_triton

    print(export_triton(args.triton, args.model))
    return 0


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: use 1 to 65535, or 0 for a free one")
    return port


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``serve`` and ``export`` on the ``inkhue`` parser."""
    from engine.schema import DEFAULT_MAX_PIXELS

    s = sub.add_parser("serve", help="serve the model over the KServe v2 / Open Inference Protocol REST API")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (non-loopback needs --token)")
    s.add_argument("--port", type=_port, default=8000, help="port; 0 picks a free one (see --port-file)")
    s.add_argument("--token", help=f"bearer token clients must send (default: ${TOKEN_ENV})")
    s.add_argument("--model", help="installed model name or model folder (default: inkhue-default)")
    s.add_argument("--backend", default="onnx", choices=["onnx", "torch"])
    s.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    s.add_argument("--max-pixels", type=int, default=min(DEFAULT_MAX_PIXELS, 8192 * 8192),
                   help="refuse larger images with 413")  # fmt: skip
    s.add_argument("--workers", type=int, default=2, help="requests computed at once")
    s.add_argument("--queue", type=int, default=8, help="requests waiting beyond --workers; more get 503")
    s.add_argument("--timeout", type=float, default=300.0, help="seconds per request before 504")
    s.add_argument("--idle-timeout", type=float, default=0.0, help="exit after S idle seconds (0: never)")
    s.add_argument("--port-file", help="write the port actually used to this file once listening")
    s.add_argument("--state-file", help="remove this file on exit if it holds this server's token (plug-ins)")
    s.set_defaults(func=_cmd_serve)

    e = sub.add_parser("export", help="export the model for other servers")
    e.add_argument("--triton", required=True, metavar="DIR", help="write a Triton model repository into DIR")
    e.add_argument("--model", help="installed model name or model folder (default: inkhue-default)")
    e.set_defaults(func=_cmd_export)
