"""The ASGI app: the Open Inference Protocol (KServe v2) REST endpoints around one colorizer.

The model runs in a bounded thread pool, never on the event loop, so health checks and 503s stay
instant while images are being coloured. Every request either succeeds or gets a JSON
``{"error": ...}`` with a 4xx/5xx status; nothing a client sends can stop the server.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from engine.colorizer import Colorizer
from engine.errors import InkhueError, InputError
from engine.server import codec
from engine.server.body import BodyBudget, read_body
from engine.server.catalog import Catalog
from engine.server.codec import ProtocolError
from engine.server.limits import Admission, Guard, ServerConfig, error_body
from engine.wire import schema
from engine.wire.local_server import IDENTITY_PATH, identity_proof

log = logging.getLogger(__name__)

DTYPE = "UINT8"


def _error(status: int, message: str, headers: dict | None = None) -> Response:
    return Response(error_body(message), status, headers=headers, media_type="application/json")


class InferenceService:
    """The endpoints' state: the colorizer, the limits, the thread pool."""

    def __init__(
        self, colorizer: Colorizer, config: ServerConfig, version: str | None = None, load=None
    ) -> None:
        self.colorizer, self.config = colorizer, config
        manifest = getattr(colorizer, "manifest", None)  # a local colorizer's model
        self.version = version or str(getattr(manifest, "version", "1"))
        self.models = Catalog(colorizer, self.version, load)
        self.platform = f"inkhue_{colorizer.backend_name}"
        self.admission = Admission(config.workers + config.queue)
        self.budget = BodyBudget(config.body_budget)
        self.pool = ThreadPoolExecutor(config.workers, thread_name_prefix="inkhue-infer")

    # -- metadata -----------------------------------------------------------------------------

    async def server_metadata(self, request: Request) -> Response:
        from engine import __version__

        return JSONResponse({"name": "inkhue", "version": __version__, "extensions": ["binary_tensor_data"]})

    async def live(self, request: Request) -> Response:
        return JSONResponse({"live": True})

    async def ready(self, request: Request) -> Response:
        return JSONResponse({"ready": True})

    async def identity(self, request: Request) -> Response:
        """Prove this server holds its token without revealing it (engine/wire/local_server.py)."""
        nonce = request.query_params.get("nonce", "")
        if not self.config.token:
            return _error(404, "this server has no token to prove")
        if not 16 <= len(nonce) <= 128 or not nonce.isalnum():
            return _error(400, "'nonce' must be 16 to 128 letters or digits")
        return JSONResponse({"proof": identity_proof(self.config.token, nonce)})

    def _check_model(self, request: Request) -> tuple[str, str]:
        """(model name, version) of the request's URL; ``ProtocolError`` 404 for unknown ones."""
        name = request.path_params["model"]
        return name, self.models.version_of(name, request.path_params.get("version"))

    async def model_metadata(self, request: Request) -> Response:
        try:
            name, version = self._check_model(request)
        except ProtocolError as e:
            return _error(e.status, str(e))
        rgba, rgb = [-1, -1, 4], [-1, -1, -1]  # COLOR: 3 channels, 4 with option "transparent"
        return JSONResponse(
            {
                "name": name,
                "versions": [version],
                "platform": self.platform,
                "inputs": [
                    {"name": schema.INPUT_LINEART, "datatype": DTYPE, "shape": rgba},
                    {"name": schema.INPUT_HINTS, "datatype": DTYPE, "shape": rgba},
                ],
                "outputs": [{"name": schema.OUTPUT_COLOR, "datatype": DTYPE, "shape": rgb}],
                "parameters": {
                    "options": schema.ColorizeOptions().to_mapping(),
                    "max_pixels": self.config.max_pixels,
                },
            }
        )

    async def model_ready(self, request: Request) -> Response:
        try:
            name, _ = self._check_model(request)
        except ProtocolError as e:
            return _error(e.status, str(e))
        return JSONResponse({"name": name, "ready": True})

    # -- inference ----------------------------------------------------------------------------

    async def infer(self, request: Request) -> Response:
        """Read the body (deadline, byte budget), then take a compute slot, then colour in a thread.

        Nothing here raises with a request body on the stack: the worker returns its errors as
        values, so a refused body is freed at once, not when the cyclic garbage collector runs.
        """
        try:
            name, _ = self._check_model(request)
        except ProtocolError as e:
            return _error(e.status, str(e))
        limit = self.config.max_body_bytes
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return _error(
                413,
                f"the request is larger than this server's limit of {limit:,} bytes: "
                "crop or downscale the image",
            )
        retry = str(self.config.retry_after_s)
        body, taken, refused = await read_body(
            request.receive,
            limit=limit,
            budget=self.budget,
            grace_s=self.config.body_grace_s,
            min_rate=self.config.min_body_rate,
            retry_after=self.config.retry_after_s,
        )
        if refused is not None:
            headers = {"connection": "close"} if refused.close else {}
            if refused.status == 503:
                headers["Retry-After"] = retry
            return _error(refused.status, refused.message, headers)
        assert body is not None  # read_body returns the body whenever it refuses nothing
        if not self.admission.try_enter():
            del body
            self.budget.give(taken)
            return _error(
                503,
                f"the server is busy with {self.admission.capacity} requests; retry in {retry} s",
                {"Retry-After": retry},
            )
        future = self.pool.submit(
            self._compute,
            body,
            request.headers.get("content-encoding"),
            request.headers.get(codec.HEADER_LENGTH),
            codec.accepts_gzip(request.headers.get("accept-encoding")),
            name,
        )
        del body  # the worker holds it until its computation ends
        future.add_done_callback(lambda _: self._release(taken))
        wrapped = asyncio.wrap_future(future)
        try:
            status, data, headers = await asyncio.wait_for(asyncio.shield(wrapped), self.config.timeout_s)
        except asyncio.TimeoutError:
            wrapped.add_done_callback(_retrieve)  # its late result is nobody's: no warning
            future.cancel()  # only stops it if still queued; a running one finishes, then frees its slot
            return _error(
                504, f"the request took longer than this server's limit of {self.config.timeout_s:g} s"
            )
        return Response(data, status, headers=headers)

    def _release(self, taken: int) -> None:
        self.admission.leave()
        self.budget.give(taken)

    def _compute(
        self,
        body: bytearray,
        encoding: str | None,
        header_length: str | None,
        gzip_ok: bool,
        name: str = schema.MODEL_NAME,
    ) -> tuple[int, bytes, dict]:
        """In a worker thread: decode, colour, encode (all CPU-bound). Errors are returned as an
        error status and body: no exception (nor its traceback, nor the body) outlives this call."""
        try:
            return self._colour(self.models.get(name), body, encoding, header_length, gzip_ok)
        except ProtocolError as e:
            status, message = e.status, str(e)
        except (InputError, schema.OptionsError) as e:
            status, message = 400, str(e)
        except InkhueError as e:
            log.error("inference failed: %s", e)
            status, message = 500, f"the engine failed: {e}"
        except Exception:
            log.exception("unexpected error while colouring an image")
            status, message = 500, "unexpected error in the engine; see the server log"
        return status, error_body(message), {"content-type": "application/json"}

    def _colour(
        self, colorizer, body: bytearray, encoding: str | None, header_length: str | None, gzip_ok: bool
    ) -> tuple[int, bytes, dict]:
        limit = self.config.max_body_bytes
        req = codec.read_request(body, encoding, header_length, self.config.max_pixels, limit)
        opts = codec.options_from(req.parameters)
        lineart = req.inputs[schema.INPUT_LINEART]
        t0 = time.perf_counter()
        rgb_u8 = colorizer.colorize(lineart, req.inputs.get(schema.INPUT_HINTS), opts)
        model_ms = (time.perf_counter() - t0) * 1000
        version = self.version
        if colorizer is not self.colorizer:  # an installed model asked for by name
            version = str(getattr(getattr(colorizer, "manifest", None), "version", version))
        data, headers = codec.encode_response(req, rgb_u8, version)
        headers["server-timing"] = f"model;dur={model_ms:.2f}"  # lets clients and bench/ split the time
        if gzip_ok and len(data) > 4096:
            data, headers = codec.gzip_bytes(data), {**headers, "content-encoding": "gzip"}
        return 200, data, headers

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def _retrieve(done: asyncio.Future) -> None:
    if not done.cancelled():
        done.exception()


async def _http_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    detail = getattr(exc, "detail", "") or "error"
    if status == 404:
        detail = f"no such endpoint {request.url.path}; see GET /v2/models/{schema.MODEL_NAME}"
    return _error(status, str(detail), getattr(exc, "headers", None))


def create_app(
    colorizer: Colorizer, config: ServerConfig | None = None, version: str | None = None, load=None
) -> Starlette:
    """The ASGI app serving ``colorizer`` (a local one, or even a remote one: a relay) as
    ``schema.MODEL_NAME``; with ``load`` (a model folder -> its colorizer), installed models by name
    too (``catalog.Catalog``)."""
    config = config or ServerConfig()
    svc = InferenceService(colorizer, config, version, load)
    model = "/v2/models/{model}"
    routes = [
        Route("/v2", svc.server_metadata),
        Route("/v2/health/live", svc.live),
        Route("/v2/health/ready", svc.ready),
        Route(IDENTITY_PATH, svc.identity),
        Route(model, svc.model_metadata),
        Route(model + "/ready", svc.model_ready),
        Route(model + "/infer", svc.infer, methods=["POST"]),
        Route(model + "/versions/{version}", svc.model_metadata),
        Route(model + "/versions/{version}/ready", svc.model_ready),
        Route(model + "/versions/{version}/infer", svc.infer, methods=["POST"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.service = svc
    app.add_middleware(Guard, token=config.token, admission=svc.admission)
    return app
