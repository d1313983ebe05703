"""Ink extraction from vector artwork (training/ink.py), on hand-made SVGs rendered with cairosvg."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from training.ink import InkError, ink_only

cairosvg = pytest.importorskip("cairosvg", reason="the train extra (cairosvg) renders SVGs")

HEAD = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
    'width="100" height="100">'
)


def render(svg: bytes) -> np.ndarray:
    """The render over white paper, as the line art is used."""
    rgba = Image.open(io.BytesIO(cairosvg.svg2png(bytestring=svg))).convert("RGBA")
    paper = Image.new("RGBA", rgba.size, "white")
    paper.alpha_composite(rgba)
    return np.asarray(paper.convert("RGB"))


def ink(body: str) -> tuple[np.ndarray, int]:
    svg, kept = ink_only((HEAD + body + "</svg>").encode())
    return render(svg), kept


def painted(rgb: np.ndarray, y: int, x: int) -> bool:
    """Ink at (y, x): dark over white."""
    return int(rgb[y, x].max()) < 128


def test_black_stroke_is_kept_and_colour_fill_removed():
    rgba, kept = ink(
        '<rect x="20" y="20" width="60" height="60" fill="#e03030" stroke="black" stroke-width="4"/>'
    )
    assert kept == 1
    assert painted(rgba, 20, 50) and tuple(rgba[20, 50]) == (0, 0, 0)  # the outline
    assert not painted(rgba, 50, 50)  # the red fill is gone


def test_style_declarations_override_attributes():
    body = (
        '<rect x="20" y="20" width="60" height="60" fill="black" '
        'style="fill:#3060e0;stroke:#222;stroke-width:6"/>'
    )
    rgba, _ = ink(body)
    assert not painted(rgba, 50, 50) and painted(rgba, 20, 50)


def test_dark_outline_shape_fill_is_ink_and_default_fill_is_black():
    rgba, kept = ink('<circle cx="50" cy="50" r="30"/><circle cx="50" cy="50" r="20" fill="yellow"/>')
    assert kept == 1
    assert painted(rgba, 50, 22)  # the rim of the black disc behind: an outline shape
    assert not painted(rgba, 50, 50)  # the yellow disc on top turns paper white and still hides it


def test_groups_pass_paint_and_current_color_down():
    body = (
        '<g style="color:#101010" stroke="currentColor" stroke-width="5" fill="orange">'
        '<g><line x1="10" y1="50" x2="90" y2="50"/></g>'
        '<rect x="30" y="70" width="40" height="20"/></g>'
        '<g color="#ff0000" stroke="currentColor"><line x1="50" y1="5" x2="50" y2="40" stroke-width="5"/></g>'
    )
    rgba, _ = ink(body)
    assert painted(rgba, 50, 20)  # a near-black currentColor stroke, inherited through two groups
    assert not painted(rgba, 80, 50) and painted(rgba, 70, 50)  # orange fill gone, its outline kept
    assert not painted(rgba, 20, 50)  # a red currentColor stroke is colour, not ink


def test_gradients_are_ink_only_when_every_stop_is_dark():
    body = (
        '<defs><linearGradient id="dark"><stop offset="0" stop-color="#000"/>'
        '<stop offset="1" stop-color="#333"/></linearGradient>'
        '<linearGradient id="sky"><stop offset="0" stop-color="#000"/>'
        '<stop offset="1" stop-color="#8af"/></linearGradient>'
        '<linearGradient id="alias" xlink:href="#dark"/></defs>'
        '<rect x="0" y="0" width="100" height="30" fill="url(#dark)"/>'
        '<rect x="0" y="35" width="100" height="30" fill="url(#sky)"/>'
        '<rect x="0" y="70" width="100" height="30" style="fill:url(#alias)"/>'
    )
    rgba, kept = ink(body)
    assert kept == 2 and painted(rgba, 15, 50) and not painted(rgba, 50, 50) and painted(rgba, 85, 50)


def test_faint_paint_raster_images_and_style_sheets():
    body = (
        '<rect x="0" y="0" width="100" height="40" fill="black" fill-opacity="0.3"/>'
        '<g opacity="0.5"><rect x="0" y="45" width="100" height="10" fill="black"/></g>'
        '<image x="0" y="60" width="100" height="40" xlink:href="data:image/png;base64,iVBORw0KGgo="/>'
    )
    rgba, kept = ink(body)
    assert kept == 0 and rgba.min() >= 250  # a drop shadow and a glaze are shading, not ink
    with pytest.raises(InkError, match="style sheet"):
        ink_only((HEAD + "<style>.a{fill:red}</style><rect class='a' width='9' height='9'/></svg>").encode())
    with pytest.raises(InkError, match="unreadable"):
        ink_only(b"<svg><rect></svg>")


def test_entities_are_refused_not_expanded():
    bomb = b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>'
    with pytest.raises(InkError):
        ink_only(bomb)
