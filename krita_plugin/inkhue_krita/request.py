"""The worker's half of a run: layer bytes in, the result layer's bytes out (no Krita, no Qt).

The GUI thread reads the layers' native bytes (fast, Krita API) and adds the finished layer;
everything slow in between happens here, on the worker thread: format conversion, checks, the
engine request, and encoding the result in the layer's format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .pixels import PixelFormat, from_rgba8, has_ink, is_blank, is_opaque, rgb_to_rgba, to_rgba8
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
    hints: Layer  # checked in the dialog: it holds some visible pixel
    area: Rect
    selected: bool
    selection_alpha: bytes | None  # coverage of a non-rectangular selection, else None
    out_fmt: PixelFormat
    options: dict


@dataclass(frozen=True)
class Result:
    data: bytes  # the new layer's pixels in ``Request.out_fmt``, covering ``Request.area``
    lineart_opaque: bool


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
    if not has_ink(line_rgba):
        raise PlanError(rules.no_ink_message(req.lineart.name, is_blank(line_rgba), where(req.selected)))
    hints_rgba = to_rgba8(req.hints.raw, req.hints.fmt)
    url, token = endpoint(report)
    report("Colorizing…")
    a = req.area
    rgb = colorize(url, line_rgba, hints_rgba, a.width, a.height, options=req.options, token=token)
    report("Adding the layer…")
    rgba = rgb_to_rgba(rgb, req.selection_alpha)
    return Result(from_rgba8(rgba, req.out_fmt), is_opaque(line_rgba))
