"""Colour under the lines (engine/underlines.py): the pixels a line covers take the colour of the
paper beside them, in the flats, the AI result, its alpha and the preview."""

from __future__ import annotations

import numpy as np
import pytest

from engine import colorize
from engine.arrays import line_from_rgba
from engine.underlines import PAPER_LEVEL, under_lines
from tests.service_helpers import colorizer_fixture, model_dir_fixture  # noqa: F401

RED, BLUE = (220, 30, 40), (30, 60, 210)


def split_square(h: int = 97, w: int = 131) -> tuple[np.ndarray, np.ndarray]:
    """A closed frame split by an anti-aliased vertical line (grey edges beside a black core), a red
    dab on its left and a blue dab on its right. Odd sizes on purpose."""
    line = np.full((h, w, 4), 255, np.uint8)
    line[8:10, 8 : w - 8, :3] = 0
    line[h - 10 : h - 8, 8 : w - 8, :3] = 0
    line[8 : h - 8, 8:10, :3] = 0
    line[8 : h - 8, w - 10 : w - 8, :3] = 0
    mid = w // 2
    line[8 : h - 8, mid - 1 : mid + 2, :3] = 0  # the core
    line[8 : h - 8, mid - 3, :3] = 200  # its anti-aliased edges
    line[8 : h - 8, mid - 2, :3] = 110
    line[8 : h - 8, mid + 2, :3] = 110
    line[8 : h - 8, mid + 3, :3] = 200
    hints = np.zeros((h, w, 4), np.uint8)
    hints[40:46, 25:31] = (*RED, 255)
    hints[40:46, w - 31 : w - 25] = (*BLUE, 255)
    return line, hints


def test_each_pixel_under_a_line_points_at_the_nearest_paper_on_its_side():
    line, _ = split_square()
    plane = line_from_rgba(line)
    u = under_lines(plane)
    assert u is not None
    assert set(u.under_i64.tolist()) == set(np.flatnonzero(plane < PAPER_LEVEL).tolist())
    w = plane.shape[1]
    assert (plane.ravel()[u.source_i64] >= PAPER_LEVEL).all()
    ys, xs = np.divmod(u.under_i64, w)
    sy, sx = np.divmod(u.source_i64, w)
    mid = w // 2
    inner = (ys > 20) & (ys < plane.shape[0] - 20) & (np.abs(xs - mid) <= 3) & (xs != mid)
    assert ((sx[inner] < mid) == (xs[inner] < mid)).all()  # left of the centre: the left paper
    assert (np.maximum(np.abs(sy - ys), np.abs(sx - xs)) <= 6).all()  # the nearest, not any
    grey = u.fill(plane)  # a plane (H×W) and an image (H×W×C) alike
    assert grey.shape == plane.shape and (grey >= PAPER_LEVEL).all()


def test_no_lines_or_no_paper_leaves_nothing_to_do():
    assert under_lines(np.ones((5, 7), np.float32)) is None
    assert under_lines(np.zeros((5, 7), np.float32)) is None


def test_flats_meet_at_the_middle_of_the_line():
    line, hints = split_square()
    h, w = line.shape[:2]
    mid = w // 2
    out = colorize(line, hints, method="flats", compose_lines=False)
    rows = slice(20, h - 20)
    assert (out[rows, mid - 3 : mid] == RED).all()  # the left edge and half the core
    assert (out[rows, mid + 1 : mid + 4] == BLUE).all()
    composed = colorize(line, hints, method="flats")  # lines multiplied on: edges tinted by their side
    edge = line_from_rgba(line)[30, mid - 3]
    assert np.abs(composed[30, mid - 3].astype(float) - np.array(RED) * edge).max() <= 1
    edge = line_from_rgba(line)[30, mid + 3]
    assert np.abs(composed[30, mid + 3].astype(float) - np.array(BLUE) * edge).max() <= 1


def test_flats_layers_and_transparent_flats_reach_under_the_lines():
    from engine.flats import flats_layers

    line, hints = split_square()
    mid = line.shape[1] // 2
    layers = dict(flats_layers(line, hints))
    assert layers[RED][30, mid - 3 : mid].all() and layers[BLUE][30, mid + 1 : mid + 4].all()
    assert not (layers[RED] & layers[BLUE]).any()
    rgba = colorize(line, hints, method="flats", transparent=True, compose_lines=False)
    assert (rgba[30, mid - 3 : mid + 4, 3] == 255).all()  # no transparent slit under the line


@pytest.mark.parametrize("preview", [False, True])
@pytest.mark.parametrize("transparent", [False, True])
def test_ai_result_under_the_lines_is_the_paper_beside_them(colorizer, preview, transparent):
    line, hints = split_square()
    out = colorizer.colorize(line, hints, compose_lines=False, transparent=transparent, preview=preview)
    u = under_lines(line_from_rgba(line))
    assert u is not None
    flat = out.reshape(-1, out.shape[-1])
    np.testing.assert_array_equal(flat[u.under_i64], flat[u.source_i64])  # colour and alpha


def test_ai_lines_multiplied_on_over_the_colour_under_them(colorizer):
    line, hints = split_square()
    bare = colorizer.colorize(line, hints, compose_lines=False).astype(np.float32)
    composed = colorizer.colorize(line, hints).astype(np.float32)
    expected = bare * line_from_rgba(line)[..., None]
    assert np.abs(composed - expected).max() <= 1.0  # rounding of the two u8 results only
