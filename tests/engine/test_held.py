"""A dabbed area keeps its colour (engine.held): the network may move it to another colour dabbed in
its region, not to one nobody dabbed; shallow dabs and open background hold nothing."""

from __future__ import annotations

import numpy as np
import pytest

from engine.held import HELD_DEPTH_PX, Dabs
from engine.snap import snap_canvas

pytest.importorskip("onnx")

from tests.fixtures_models import flats_model  # noqa: E402

GREY, YELLOW, SLATE = (90, 90, 90), (250, 210, 20), (60, 60, 160)  # slate: nearest the grey


def _code(rgb: tuple[int, int, int]) -> int:
    return rgb[0] * 65536 + rgb[1] * 256 + rgb[2]


def _two_areas(net_left: tuple[int, int, int], background: bool = False, depth_ok: bool = True):
    """One region split into a grey area (left) and a yellow one (right), a dab of each colour in
    its area; the network paints the left area ``net_left`` and leaves the right alone."""
    h, w = 20, 40
    flat = np.zeros((h, w, 3), np.float32)
    flat[:, :20] = np.array(GREY) / 255
    flat[:, 20:] = np.array(YELLOW) / 255
    code = np.full((h, w), -1, np.int64)
    code[9:11, 9:11] = _code(GREY)
    code[9:11, 29:31] = _code(YELLOW)
    idx = np.flatnonzero(code >= 0)
    dabs = Dabs(
        idx, code.ravel()[idx], np.ones(idx.size, np.int64), np.full(idx.size, depth_ok and not background)
    )
    rgb = flat.copy()
    rgb[:, :20] = np.array(net_left) / 255
    return rgb, flat, dabs


def test_an_area_repainted_in_a_colour_nobody_dabbed_takes_its_flat_exactly():
    rgb, flat, dabs = _two_areas(SLATE)
    out = snap_canvas(rgb.copy(), flat, np.ones(flat.shape[:2], np.float32), dabs=dabs)
    np.testing.assert_array_equal(out, flat)
    # without the dabs the repaint is kept, as any departure beyond SNAP_FAR is
    kept = snap_canvas(rgb.copy(), flat, np.ones(flat.shape[:2], np.float32))
    np.testing.assert_allclose(kept[:, :20], rgb[:, :20], atol=1e-7)


def test_an_area_moved_to_another_colour_dabbed_in_its_region_stays_moved():
    rgb, flat, dabs = _two_areas(YELLOW)
    out = snap_canvas(rgb.copy(), flat, np.ones(flat.shape[:2], np.float32), dabs=dabs)
    np.testing.assert_allclose(out, rgb, atol=1e-7)  # the split drew the boundary wrong: fixed


@pytest.mark.parametrize("background, depth_ok", [(True, True), (False, False)])
def test_open_background_and_dabs_against_the_lines_hold_nothing(background, depth_ok):
    rgb, flat, dabs = _two_areas(SLATE, background, depth_ok)
    out = snap_canvas(rgb.copy(), flat, np.ones(flat.shape[:2], np.float32), dabs=dabs)
    np.testing.assert_allclose(out[:, :20], rgb[:, :20], atol=1e-7)


def _box(h: int, w: int) -> np.ndarray:
    lineart = np.full((h, w, 4), 255, np.uint8)
    lineart[10:-10, 10:-10, :3] = 0
    lineart[12:-12, 12:-12, :3] = 255  # a closed box, clear of the canvas border
    return lineart


@pytest.mark.parametrize("shape, preview", [((97, 131), False), ((64, 64), False), ((97, 131), True)])
def test_a_closed_box_the_network_repaints_keeps_the_dabbed_colour(tmp_path, shape, preview):
    from engine.colorizer import make_colorizer

    h, w = shape
    lineart = _box(h, w)
    brown = (130, 60, 20)
    col = make_colorizer(flats_model(tmp_path / "m", 60 / 255))  # 104 levels off: a repaint
    hints = np.zeros((h, w, 4), np.uint8)
    hints[h // 2 - 2 : h // 2 + 2, w // 2 - 2 : w // 2 + 2] = (*brown, 255)
    out = col.colorize(lineart, hints, compose_lines=False, working_size=64, preview=preview)
    inside = out[14:-14, 14:-14].reshape(-1, 3)
    assert (inside == brown).all()
    # the same dab squeezed against the box's wall (a shading band's colour, maybe) holds nothing
    near = int(HELD_DEPTH_PX) - 1
    hints = np.zeros((h, w, 4), np.uint8)
    hints[h // 2 - 1 : h // 2 + 1, 12 : 12 + near] = (*brown, 255)
    out = col.colorize(lineart, hints, compose_lines=False, working_size=64, preview=preview)
    assert tuple(out[h // 2, w // 2]) == (190, 120, 80)


def test_a_dab_holds_only_clear_of_the_ink_and_off_the_open_background():
    h, w = 20, 30
    line = np.ones((h, w), np.float32)
    line[:, 15] = 0.0  # ink down the middle
    hint_mask = np.zeros((h, w), np.float32)
    d = int(HELD_DEPTH_PX)
    for x in (15 - d + 1, 15 - d, 25):
        hint_mask[10, x] = 1.0
    background = np.zeros((h, w), np.float32)
    background[:, 20:] = 1.0
    planes = {
        "hint_mask": hint_mask,
        "hint_rgb": np.full((h, w, 3), 0.5, np.float32),
        "background": background,
        "flat_region": np.ones((h, w), np.int32),
    }
    dabs = Dabs.from_planes(planes, line)
    assert dabs is not None
    at = dict(zip((dabs.idx_i64 % w).tolist(), dabs.holds_bool.tolist()))
    assert at == {15 - d + 1: False, 15 - d: True, 25: False}  # too near the ink; clear; background
