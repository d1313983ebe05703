"""The worker's half of a run: layer bytes in, the result layer's bytes out (no Krita, no Qt).

The GUI thread reads the layers' native bytes (fast, Krita API) and adds the finished layer;
everything slow in between happens here, on the worker thread: format conversion, checks, the
engine request, and encoding the result in the layer's format.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from .pixels import (
    PixelFormat,
    colour_layer,
    colour_name,
    from_rgba8,
    is_blank,
    is_opaque,
    limit_alpha,
    rgb_to_rgba,
    split_colours,
    to_rgba8,
)
from .planning import PlanError, Rect

Endpoint = Callable[[Callable[[str], None]], tuple[str, "str | None"]]  # (report) -> (url, token)


@dataclass(frozen=True)
class Layer:
    name: str
    raw: bytes
    fmt: PixelFormat


@dataclass(frozen=True)
class Request:
    lineart: Layer
    hints: Layer | None  # None: no hint layer (fully transparent hints: the AI suggests tones)
    area: Rect
    selected: bool
    selection_alpha: bytes | None  # coverage of a non-rectangular selection, else None
    out_fmt: PixelFormat
    options: dict
    split: bool = False  # one layer per colour (the options ask for transparent flats)
    model: str = ""  # an installed model by name (finetune_job.list_models); "": the engine's own


@dataclass(frozen=True)
class Piece:
    """One colour's layer of a split result: its name, the rows it paints, its pixels."""

    name: str  # the colour, "#c83c5a"
    area: Rect  # canvas coordinates: the work area's rows that hold the colour
    data: bytes  # in ``Request.out_fmt``


@dataclass(frozen=True)
class Result:
    data: bytes  # the new layer's pixels in ``Request.out_fmt``, covering ``Request.area``
    lineart_opaque: bool
    pieces: tuple[Piece, ...] = ()  # a split result: one per colour, largest area first
    split_seconds: float = 0.0  # time spent splitting and encoding the pieces


def split(rgba: bytes, area: Rect, coverage: bytes | None, fmt: PixelFormat) -> tuple[Piece, ...]:
    """The flats apart, one ``Piece`` per colour, each cropped to the rows it paints."""
    w = area.width
    pieces = []
    for rgb, mask in split_colours(rgba):
        first, last = mask.find(255) // w, mask.rfind(255) // w
        rows = slice(first * w, (last + 1) * w)
        part = colour_layer(rgb, mask[rows], coverage[rows] if coverage is not None else None)
        rect = Rect(area.x, area.y + first, w, last - first + 1)
        pieces.append(Piece(colour_name(rgb), rect, from_rgba8(part, fmt)))
    return tuple(pieces)


def where(selected: bool) -> str:
    """The area to colour, as the shared messages name it."""
    return "inside the selection" if selected else "on the canvas"


def run(
    req: Request,
    endpoint: Endpoint,
    colorize: Callable[..., bytes],
    report: Callable[[str], None],
    rules,
) -> Result:
    """Check and convert the layers, ask the engine, encode its answer.

    ``colorize`` has the signature of ``client.colorize``; ``endpoint(report)`` returns the url
    and token to use (it may start the local engine, which takes a while the first time);
    ``rules`` is the vendored ``layer_rules`` module (its messages are shared with GIMP).
    """
    report("Reading the layers…")
    line_rgba = to_rgba8(req.lineart.raw, req.lineart.fmt)
    if not rules.has_ink(line_rgba):
        raise PlanError(rules.no_ink_message(req.lineart.name, is_blank(line_rgba), where(req.selected)))
    a = req.area
    if req.hints is None:  # the canvas size (or the selection's box), fully transparent
        hints_rgba = bytes(4 * a.width * a.height)
    else:
        hints_rgba = to_rgba8(req.hints.raw, req.hints.fmt)
    url, token = endpoint(report)
    report("Colorizing…")
    chosen = {"model": req.model} if req.model else {}  # the engine's own model needs no name
    out = colorize(url, line_rgba, hints_rgba, a.width, a.height, options=req.options, token=token, **chosen)
    opaque = is_opaque(line_rgba)
    if req.split:
        report("Making one layer per colour…")
        t0 = time.monotonic()
        pieces = split(out, a, req.selection_alpha, req.out_fmt)
        return Result(b"", opaque, pieces, time.monotonic() - t0)
    report("Adding the layer…")
    if req.options.get("transparent"):  # RGBA: alpha 0 where nothing is painted
        rgba = limit_alpha(out, req.selection_alpha)
    else:
        rgba = rgb_to_rgba(out, req.selection_alpha)
    return Result(from_rgba8(rgba, req.out_fmt), opaque)
