"""From the plug-in's choices to the engine's answer: settings, endpoint, options and waiting.

Uses the engine's own client (``vendor/client.py``, copied in by ``installer/vendor.py``), which
speaks the KServe v2 protocol with nothing but the standard library.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from vendor import client, finetune_job, schema

MODES = ("settings", "local", "remote")  # "settings": whatever the installer wrote (plugin.json)
MIN_SIDE = schema.MIN_SIDE  # the engine refuses smaller images
TICK_SECONDS = 0.1  # how often the progress bar moves while the engine works


class PluginError(Exception):
    """The colorization cannot go ahead; ``str(e)`` tells the artist what to do."""


def build_options(
    compose_lines: bool = True,
    working_size: int = 0,
    tile: int = 0,
    method: str = "ai",
    transparent: bool = False,
    gap: int = 0,
    flats_layers: bool = False,
    mode: str = "lineart",
) -> dict:
    """Request options, checked by the same schema the server uses.

    ``gap`` is sent only when set (0: the engine scales it to the canvas). ``flats_layers`` (one
    layer per colour, with the ``flats`` method only) asks for what splitting needs: transparent
    flats without the lines drawn in. ``mode`` (what the layer holds: line art or shaded
    grayscale) goes with the AI only.
    """
    if flats_layers and method == "flats":
        compose_lines, transparent = False, True
    values = {
        "compose_lines": bool(compose_lines),
        "working_size": int(working_size),
        "tile": int(tile),
        "method": str(method),
        "transparent": bool(transparent),
    }
    if gap:
        values["gap"] = int(gap)
    if mode != "lineart" and method == "ai":  # sent only when chosen: older engines lack it
        values["mode"] = str(mode)
    try:
        schema.ColorizeOptions.from_mapping(values)
        return values
    except schema.OptionsError as e:
        raise PluginError(f"invalid option: {e}") from e


def split_into_layers(options: dict, flats_layers: bool) -> bool:
    """True when the result becomes a group with one layer per colour (flats only)."""
    return bool(flats_layers) and options.get("method") == "flats"


def check_size(width: int, height: int, max_pixels: int = schema.DEFAULT_MAX_PIXELS) -> None:
    if width < MIN_SIDE or height < MIN_SIDE:
        raise PluginError(
            f"the image is {width}x{height} pixels; AI Colorize needs at least {MIN_SIDE}x{MIN_SIDE}"
        )
    if width * height > max_pixels:
        raise PluginError(
            f"the image is {width}x{height} = {width * height:,} pixels, over the engine's limit of "
            f"{max_pixels:,}; scale it down (Image → Scale Image) or colour a cropped copy"
        )


def endpoint(mode: str = "settings", url: str = "", config_path: str | None = None) -> tuple[str, str | None]:
    """(url, token) to send the request to; may start the managed local server (slow: run in a thread).

    ``mode`` "settings" follows the installed settings file; "local" and "remote" override its
    mode, and a non-empty ``url`` overrides its server address.
    """
    if mode not in MODES:
        raise PluginError(f"unknown engine mode {mode!r}; valid: {', '.join(MODES)}")
    cfg = client.load_plugin_config(config_path)
    url = url.strip()
    if mode == "local":
        cfg.mode = "local"
    elif mode == "remote" or url:
        if url and url.rstrip("/") != (cfg.url or "").rstrip("/"):
            # the token in the settings belongs to the configured server: never send it elsewhere
            cfg.url, cfg.token = url, None
        cfg.mode = "remote"
        if not cfg.url:
            raise PluginError(
                "remote mode needs a server address: enter the engine's URL (e.g. "
                "http://studio-gpu:8000) or set it in the Inkhue settings"
            )
    return client.endpoint_for(cfg)


def wait_for(work: Callable[[], object], tick: Callable[[], None], interval: float = TICK_SECONDS):
    """Run ``work`` in a worker thread and call ``tick`` on this thread until it ends.

    GIMP's progress calls must come from the plug-in's main thread, while the request blocks for
    up to minutes; the result (or the exception) of ``work`` is handed back here.
    """
    box: dict = {}

    def runner() -> None:
        try:
            box["value"] = work()
        except BaseException as e:  # re-raised on the caller's thread below
            box["error"] = e

    worker = threading.Thread(target=runner, name="inkhue-request", daemon=True)
    worker.start()
    while True:
        worker.join(interval)
        if not worker.is_alive():
            break
        tick()
    if "error" in box:
        raise box["error"]
    return box["value"]


def request(
    lineart_rgba: bytes,
    hints_rgba: bytes | None,
    width: int,
    height: int,
    options: dict,
    mode: str = "settings",
    url: str = "",
    model: str = "",
) -> bytes:
    """The engine's answer, blocking (call it on a worker thread); failures become PluginError.
    ``model``: an installed model's name (the Model picker), "" for the engine's own."""
    check_size(width, height, int(options.get("max_pixels", schema.DEFAULT_MAX_PIXELS)))
    try:
        target, token = endpoint(mode, url)
        chosen = {"model": model} if model else {}
        return client.colorize(
            target, lineart_rgba, hints_rgba, width, height, options, token=token, **chosen
        )
    except client.EngineError as e:
        raise PluginError(str(e)) from e


def model_entries() -> list[tuple[str, str]]:
    """(value, label) of the installed models a picker offers, the engine's own first (value "")."""
    try:
        inkhue = client.load_plugin_config().inkhue
    except client.EngineError:
        inkhue = None  # the settings' own problem is reported when colouring
    return finetune_job.list_models(inkhue)


def finetune_note() -> str:
    """How the last fine-tune stands, for the dialog ("" when none ever ran)."""
    status = finetune_job.read()
    return finetune_job.describe(status) if status is not None else ""


def preview_options(options: dict) -> dict:
    """The same request as the draft alone: the engine's fast path (``preview``)."""
    return {**options, "preview": True}


def colorize(
    lineart_rgba: bytes,
    hints_rgba: bytes | None,
    width: int,
    height: int,
    options: dict,
    tick: Callable[[], None] = lambda: None,
    mode: str = "settings",
    url: str = "",
    model: str = "",
) -> bytes:
    """width*height*3 RGB bytes from the engine (width*height*4 RGBA with the option
    ``transparent``); every failure becomes a PluginError."""
    check_size(width, height, int(options.get("max_pixels", schema.DEFAULT_MAX_PIXELS)))
    return wait_for(lambda: request(lineart_rgba, hints_rgba, width, height, options, mode, url, model), tick)
