"""Region finding: what counts as a line, and what counts as background."""

from __future__ import annotations

import numpy as np
import pytest

from engine.arrays import line_from_rgba
from engine.flats import flats
from engine.regions import _ridges, find_regions


def _faint_box(level: float) -> np.ndarray:
    """A box whose 1 px outline falls between two pixel rows / columns: each of the two pixels it
    covers gets half its ink (``level`` each, so neither reaches the ink threshold on its own)."""
    line = np.ones((200, 300), np.float32)
    line[50:52, 60:240] = line[150:152, 60:240] = level
    line[50:152, 60:62] = line[50:152, 238:240] = level
    return line


def test_a_faint_thin_line_between_two_pixel_columns_closes_its_region():
    line = _faint_box(0.8)
    r = find_regions(line)
    inside, outside = r.labels_hw_i32[100, 150], r.labels_hw_i32[10, 10]
    assert inside != outside and r.background[outside] and not r.background[inside]
    hints = np.zeros((200, 300, 4), np.uint8)
    hints[98:103, 148:153] = (30, 120, 200, 255)
    f = flats(r, line, hints)
    assert (f.rgb_u8()[53:149, 63:237] == (30, 120, 200)).all()
    assert not f.painted_hw_bool[:48].any() and not f.painted_hw_bool[:, :58].any()
    # lighter still (0.1 darkness per pixel, 0.2 in all): paper texture, not a line
    assert not _ridges(_faint_box(0.9)).any()


def test_grey_fills_and_the_soft_edges_of_thick_lines_are_no_ridges():
    line = np.ones((100, 100), np.float32)
    line[20:80, 20:50] = 0.6  # a grey fill: no ridge across it, whatever its width
    line[:, 60:64] = 0.0  # a thick line ...
    line[:, 59] = line[:, 64] = 0.7  # ... with anti-aliased edges
    assert not _ridges(line).any()
    line[40, 20:50] = 0.2  # a thin dark line drawn across the grey fill is one
    assert _ridges(line)[40, 20:50].all()


def _c_shape(line: np.ndarray, cy: int, cx: int, inner: int, opening: int) -> tuple[slice, slice]:
    """Draw a letter C (a 6 px ring open to the right by ``opening`` px); returns its counter's box."""
    yy, xx = np.mgrid[: line.shape[0], : line.shape[1]]
    rr = np.hypot(yy - cy, xx - cx)
    ring = (rr >= inner) & (rr < inner + 6) & ~((np.abs(yy - cy) <= opening / 2) & (xx > cx))
    line[ring, :3] = 0
    half = int(inner / 1.5)
    return slice(cy - half, cy + half), slice(cx - half, cx + half)


def test_the_ai_result_leaves_a_pocket_gap_closing_cut_off_the_background_empty(tmp_path):
    pytest.importorskip("onnx")
    from engine.colorizer import make_colorizer
    from tests.fixtures_models import flats_model

    ai = make_colorizer(flats_model(tmp_path / "m", -0.3))  # paints grey where the flats are empty
    line = np.full((256, 256, 4), 255, np.uint8)
    small = _c_shape(line, 64, 64, 8, 2)  # a letter's counter: under 16 gap-size squares
    large = _c_shape(line, 160, 160, 40, 2)  # a figure with an open outline
    hints = np.zeros((256, 256, 4), np.uint8)
    r = find_regions(line_from_rgba(line))
    assert r.labels_hw_i32[small].min() == r.labels_hw_i32[small].max() != r.labels_hw_i32[0, 0]
    rgba = ai.colorize(line, hints, transparent=True, working_size=256)
    assert (rgba[small][..., 3] == 0).all()
    assert (rgba[large][..., 3] == 255).all() and (rgba[large][..., :3] < 200).all()  # its guess
    hints[62:67, 62:67] = (255, 0, 0, 255)  # a dab in the pocket: painted like any region
    rgba = ai.colorize(line, hints, transparent=True, working_size=256)
    assert (rgba[small][..., 3] == 255).all()
