"""``inkhue serve`` and ``inkhue export --triton``: argument parsing only, heavy imports deferred."""

from __future__ import annotations

import argparse
import logging
import os

from engine.wire.schema import LOCAL_HOST, TOKEN_ENV, TOKEN_FILE_ENV

log = logging.getLogger(__name__)


def read_token(token: str | None, token_file: str | None) -> str | None:
    """The bearer token: ``--token``, ``--token-file``, ``$INKHUE_TOKEN``, ``$INKHUE_TOKEN_FILE``, in
    that order. A token file (a mounted secret) holds the token alone; whitespace around it is dropped."""
    from engine.server.run import ServeError

    path = None if token else token_file
    if not token and not path:
        token = os.environ.get(TOKEN_ENV) or None
        path = None if token else os.environ.get(TOKEN_FILE_ENV) or None
    if not path:
        return token
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read().strip()
    except (OSError, UnicodeDecodeError) as e:
        raise ServeError(f"cannot read the token file {path}: {e}") from e
    if not text or len(text.split()) != 1:
        raise ServeError(f"the token file {path} must hold exactly one token (no spaces)")
    return text


def config_from_args(args: argparse.Namespace, token: str | None):
    """The server's limits from ``inkhue serve``'s arguments (``--desktop``: the local profile)."""
    from engine.server import ServerConfig
    from engine.server.run import ServeError

    fields: dict = {"token": token, "max_pixels": args.max_pixels, "timeout_s": args.timeout,
                    "idle_timeout_s": args.idle_timeout}  # fmt: skip
    for name in ("workers", "queue"):  # None: the profile's default
        if getattr(args, name) is not None:
            fields[name] = getattr(args, name)
    try:
        return ServerConfig.desktop(**fields) if args.desktop else ServerConfig(**fields)
    except ValueError as e:
        raise ServeError(str(e)) from e


def _cmd_serve(args: argparse.Namespace) -> int:
    try:
        from engine.server import create_app, serve_app
    except ImportError as e:
        from engine.errors import BackendError

        raise BackendError(f"'inkhue serve' needs: pip install 'inkhue[service]' ({e})") from e
    from engine.pipeline import LocalColorizer
    from engine.server.run import check_binding

    token = read_token(args.token, args.token_file)
    config = config_from_args(args, token)
    check_binding(args.host, token)  # before the model loads: fail fast on an unsafe binding
    colorizer = LocalColorizer(args.model, backend=args.backend, device=args.device)
    log.info("model %s v%s on %s/%s", colorizer.manifest.name, colorizer.manifest.version,
             colorizer.backend_name, colorizer.device)  # fmt: skip

    def load(folder: str) -> LocalColorizer:  # another installed model, asked for by name (catalog.py)
        return LocalColorizer(folder, backend=args.backend, device=args.device)

    serve_app(
        create_app(colorizer, config, load=load),
        args.host,
        args.port,
        config,
        args.port_file,
        args.state_file,
    )
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    if args.python_backend:
        from engine.triton_python import export_python_backend

        folder = export_python_backend(args.triton, args.model, args.device, args.instances)
    else:
        from engine.triton import export_triton

        folder = export_triton(args.triton, args.model)
    print(folder)
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
    from engine.wire.schema import DEFAULT_MAX_PIXELS

    s = sub.add_parser("serve", help="serve the model over the KServe v2 / Open Inference Protocol REST API")
    s.add_argument("--host", default=LOCAL_HOST, help="address to listen on (non-loopback needs --token)")
    s.add_argument("--port", type=_port, default=8000, help="port; 0 picks a free one (see --port-file)")
    s.add_argument("--token", help=f"bearer token clients must send (default: ${TOKEN_ENV})")
    s.add_argument("--token-file", help=f"read the token from this file (or ${TOKEN_FILE_ENV})")
    s.add_argument("--model", help="installed model name or model folder (default: inkhue-default)")
    s.add_argument("--backend", default="onnx", choices=["onnx", "torch"])
    s.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    s.add_argument("--max-pixels", type=int, default=min(DEFAULT_MAX_PIXELS, 8192 * 8192),
                   help="refuse larger images with 413")  # fmt: skip
    s.add_argument("--workers", type=int, help="requests computed at once (default 2; --desktop 1)")
    s.add_argument(
        "--queue", type=int, help="requests waiting beyond --workers, more get 503 (default 8; --desktop 4)"
    )
    s.add_argument(
        "--desktop",
        action="store_true",
        help="limits for a server beside a painting "
        "application: one request computed at a time, fewer held (the plug-ins' local server)",
    )
    s.add_argument("--timeout", type=float, default=300.0, help="seconds per request before 504")
    s.add_argument("--idle-timeout", type=float, default=0.0, help="exit after S idle seconds (0: never)")
    s.add_argument("--port-file", help="write the port actually used to this file once listening")
    s.add_argument("--state-file", help="remove this file on exit if it holds this server's token (plug-ins)")
    s.set_defaults(func=_cmd_serve)

    e = sub.add_parser("export", help="export the model for other servers")
    e.add_argument("--triton", required=True, metavar="DIR", help="write a Triton model repository into DIR")
    e.add_argument("--model", help="installed model name or model folder (default: inkhue-default)")
    e.add_argument(
        "--python-backend",
        action="store_true",
        help="the full engine pipeline in Triton's Python backend (any model, options, tiles) "
        "instead of one ONNX graph",
    )
    e.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                   help="--python-backend: Triton instance kind (auto: Triton's choice)")  # fmt: skip
    e.add_argument("--instances", type=int, default=1, help="--python-backend: model instances (per GPU)")
    e.set_defaults(func=_cmd_export)
