"""Exact hint colours: the engine snaps a flats-correcting model's colours onto the flats where they
agree, keeps them where the network decided otherwise, and leaves other models alone."""

from __future__ import annotations

import numpy as np
import pytest

from engine import snap
from engine.snap import (
    FIRM_AGREE,
    FIRM_FAR,
    FIRM_NEAR,
    FIRM_SPECK_PX,
    LINE_NEAR_PX,
    LINE_SNAP_FAR,
    LINE_SNAP_NEAR,
    SNAP_FAR,
    SNAP_NEAR,
    beside_lines,
    nearest_crop,
    snap_canvas,
    snap_to_flats,
)

pytest.importorskip("onnx")

from tests.fixtures_models import flats_model  # noqa: E402


def test_snap_keeps_exact_flats_blends_then_keeps_the_network():
    flat = np.full((1, 5, 3), 0.5, np.float32)
    offsets = np.array([0.0, SNAP_NEAR - 1, (SNAP_NEAR + SNAP_FAR) / 2, SNAP_FAR + 1, 60.0], np.float32)
    pred = flat + (offsets / 255.0)[None, :, None] / np.sqrt(3.0)  # Euclidean RGB distance = offset
    out = snap_to_flats(pred, flat, np.ones((1, 5), np.float32))
    np.testing.assert_array_equal(out[0, :2], flat[0, :2])  # within SNAP_NEAR: the flat exactly
    assert flat[0, 2, 0] < out[0, 2, 0] < pred[0, 2, 0]  # between: blended
    np.testing.assert_allclose(out[0, 3:], pred[0, 3:], atol=1e-7)  # beyond SNAP_FAR: kept
    unpainted = snap_to_flats(pred, flat, np.zeros((1, 5), np.float32))
    np.testing.assert_allclose(unpainted, pred, atol=1e-7)


def test_an_area_the_network_left_alone_is_snapped_firmly_and_one_it_repainted_is_kept():
    flat = np.zeros((10, 40, 3), np.float32)
    flat[:, :20] = 0.5
    flat[:, 20:] = (0.2, 0.4, 0.6)
    mask = np.ones((10, 40), np.float32)
    mask[:, 38:] = 0  # unpainted: never snapped
    assert SNAP_FAR < FIRM_NEAR
    step = np.float32((SNAP_FAR + FIRM_NEAR) / 2 / 255.0 / np.sqrt(3.0))  # kept by the ordinary snap
    rgb = flat.copy()
    few, most = round(10 * (1 - FIRM_AGREE) / 2), round(10 * (1 + FIRM_AGREE) / 2)
    rgb[:few, :20] += step  # a soft stripe on a few rows of an area the network otherwise keeps
    rgb[:most, 20:] += step  # most of the area repainted: the network decided
    out = snap_canvas(rgb.copy(), flat, mask)
    np.testing.assert_array_equal(out[:, :20], flat[:, :20])
    np.testing.assert_allclose(out[:, 20:], rgb[:, 20:], atol=1e-7)
    np.testing.assert_allclose(snap_to_flats(rgb.copy(), flat, mask), rgb, atol=1e-7)


def test_an_areas_agreement_is_counted_over_the_whole_canvas_not_band_by_band(monkeypatch):
    band_rows = 64
    monkeypatch.setattr(snap, "SNAP_BAND_PX", 20 * band_rows)  # bands of 64 rows on a canvas 20 wide
    h = 3 * band_rows
    flat_small = np.full((h // 4, 5, 3), 0.5, np.float32)  # a working grid 4x coarser than the canvas
    mask_small = np.ones((h // 4, 5), np.float32)
    rgb = np.full((h, 20, 3), 0.5, np.float32)
    drift = band_rows * 4 // 5  # most of band 1, a quarter of the area
    assert drift / band_rows > 1 - FIRM_AGREE > drift / h
    rgb[:drift] += np.float32((SNAP_FAR + FIRM_NEAR) / 2 / 255.0 / np.sqrt(3.0))
    out = snap_canvas(rgb.copy(), flat_small, mask_small)
    np.testing.assert_array_equal(out, np.full_like(rgb, 0.5))
    rgb[: 2 * band_rows + band_rows // 2] = rgb[0]  # most of it: the network's colour
    np.testing.assert_allclose(snap_canvas(rgb.copy(), flat_small, mask_small), rgb, atol=1e-7)


def _far_off(rgb: np.ndarray, levels: float) -> np.ndarray:
    return rgb + np.float32(levels / 255.0 / np.sqrt(3.0))  # Euclidean RGB distance = levels


def test_in_an_area_left_alone_a_speck_of_any_departure_takes_the_flat_and_a_larger_one_is_kept():
    side = int(np.sqrt(FIRM_SPECK_PX))  # a speck of side² <= FIRM_SPECK_PX pixels
    flat = np.full((60, 60, 3), 0.4, np.float32)
    mask = np.ones((60, 60), np.float32)
    rgb = flat.copy()
    rgb[5 : 5 + side, 5 : 5 + side] = _far_off(flat[:side, :side], FIRM_FAR + 20)  # a speck
    rgb[30:, 30:] = _far_off(flat[30:, 30:], FIRM_FAR + 20)  # 900 px, a quarter: the network decided
    assert 30 * 30 > FIRM_SPECK_PX and 30 * 30 < (1 - FIRM_AGREE) * 60 * 60
    out = snap_canvas(rgb.copy(), flat, mask)
    np.testing.assert_array_equal(out[:30], flat[:30])
    np.testing.assert_allclose(out[30:, 30:], rgb[30:, 30:], atol=1e-7)
    # on a canvas twice the working grid's size, a speck is counted in the working grid's pixels
    big = np.repeat(np.repeat(rgb, 2, 0), 2, 1)
    out = snap_canvas(big.copy(), flat, mask)
    np.testing.assert_array_equal(out[:60], np.full_like(big[:60], 0.4))


def test_a_speck_cut_by_a_band_edge_may_belong_to_a_larger_departure_and_is_kept(monkeypatch):
    monkeypatch.setattr(snap, "SNAP_BAND_PX", 40 * 40)  # bands of 40 rows on a canvas 40 wide
    flat = np.full((120, 40, 3), 0.4, np.float32)
    mask = np.ones((120, 40), np.float32)
    rgb = flat.copy()
    rgb[38:42, 10:14] = _far_off(flat[38:42, 10:14], FIRM_FAR + 20)  # 16 px across rows 39 | 40
    rgb[70:74, 10:14] = _far_off(flat[70:74, 10:14], FIRM_FAR + 20)  # 16 px inside band 1
    out = snap_canvas(rgb.copy(), flat, mask)
    np.testing.assert_allclose(out[38:42, 10:14], rgb[38:42, 10:14], atol=1e-7)
    np.testing.assert_array_equal(out[60:], flat[60:])


def test_beside_the_lines_the_flat_wins_from_further():
    # the network's own fringe along a line is not a colour the artist asked for; far from the
    # lines the same difference is the network's decision
    assert SNAP_FAR < LINE_SNAP_NEAR < LINE_SNAP_FAR
    flat = np.full((1, 3, 3), 0.5, np.float32)
    offsets = np.array([(SNAP_FAR + LINE_SNAP_NEAR) / 2, (SNAP_FAR + LINE_SNAP_NEAR) / 2, LINE_SNAP_FAR + 1])
    pred = flat + (offsets.astype(np.float32) / 255.0)[None, :, None] / np.sqrt(3.0)
    beside = (np.array([0, 0]), np.array([0, 2]), flat[0, [0, 2]])  # pixels 0 and 2 beside a line
    out = snap_to_flats(pred.copy(), flat, np.ones((1, 3), np.float32), beside)
    np.testing.assert_array_equal(out[0, 0], flat[0, 0])  # beside a line: the flat
    np.testing.assert_allclose(out[0, 1:], pred[0, 1:], atol=1e-7)  # away from it, or far off: kept
    np.testing.assert_allclose(snap_to_flats(pred.copy(), flat, np.ones((1, 3), np.float32)), pred, atol=1e-7)


def test_beside_lines_reads_each_pixels_flat_on_its_own_side():
    line = np.ones((6, 40), np.float32)
    line[:, 20] = 0.0  # a line
    line[:, 30] = 0.97  # faint enough to be paper
    same = beside_lines(line, (6, 40))  # the working grid is the canvas: each pixel is its cell
    on_row = same.y_i64 == 2
    assert same.x_i64[on_row].tolist() == [
        x for x in range(20 - LINE_NEAR_PX, 20 + LINE_NEAR_PX + 1) if x != 20
    ]
    np.testing.assert_array_equal(same.cell_x_i64, same.x_i64)
    coarse = beside_lines(line, (3, 10))  # 4 canvas pixels a cell: cell 5 holds the line
    assert coarse.x_i64.size > 0
    for x, cx in zip(coarse.x_i64.tolist(), coarse.cell_x_i64.tolist()):
        span = range(cx * 4, cx * 4 + 4)
        assert 20 not in span and (max(span) < 20) == (x < 20)  # a cell on the pixel's side
    flat_small = np.zeros((3, 10, 3), np.float32)
    flat_small[:, 5:] = 1.0  # the cell holding the line belongs to the right
    y, x, own = coarse.crop((0, 6, 0, 40), flat_small, np.ones((3, 10), np.float32))
    np.testing.assert_array_equal(own[:, 0], (x > 20).astype(np.float32))
    assert beside_lines(np.ones((8, 8), np.float32), (8, 8)).y_i64.size == 0


def test_nearest_crop_keeps_each_cells_exact_value():
    small = np.arange(12, dtype=np.float32).reshape(3, 4)
    full = nearest_crop(small, (9, 8), (0, 9, 0, 8))
    np.testing.assert_array_equal(full, np.repeat(np.repeat(small, 3, 0), 2, 1))
    np.testing.assert_array_equal(nearest_crop(small, (9, 8), (3, 6, 2, 8)), full[3:6, 2:8])


@pytest.mark.parametrize("shape", [(96, 128), (301, 173)])
def test_a_flats_model_drifting_a_few_levels_gives_the_exact_hint_colours(tmp_path, shape):
    from engine.colorizer import make_colorizer

    h, w = shape
    lineart = np.full((h, w, 4), 255, np.uint8)
    lineart[:, w // 2 - 1 : w // 2 + 1, :3] = 0  # two rooms
    hints = np.zeros((h, w, 4), np.uint8)
    hints[h // 2 - 2 : h // 2 + 2, w // 4 - 2 : w // 4 + 2] = (200, 40, 90, 255)
    hints[h // 2 - 2 : h // 2 + 2, 3 * w // 4 - 2 : 3 * w // 4 + 2] = (30, 150, 220, 255)
    for shift, exact in ((4 / 255, True), (40 / 255, False)):
        col = make_colorizer(flats_model(tmp_path / f"m{shift:.3f}", shift))
        out = col.colorize(lineart, hints, compose_lines=False, working_size=64)
        left, right = out[h // 4, w // 8], out[h // 4, 7 * w // 8]
        if exact:  # a drift the eye cannot see is removed: the hint colours exactly
            assert tuple(left) == (200, 40, 90) and tuple(right) == (30, 150, 220)
        else:  # a change the network meant is kept
            assert tuple(left) == (240, 80, 130) and tuple(right) == (70, 190, 255)


def test_a_drift_kept_in_the_open_is_snapped_beside_the_lines(tmp_path):
    from engine.colorizer import make_colorizer

    h, w = 96, 128
    lineart = np.full((h, w, 4), 255, np.uint8)
    lineart[:, w // 2 - 1 : w // 2 + 1, :3] = 0
    hints = np.zeros((h, w, 4), np.uint8)
    hints[h // 2 - 2 : h // 2 + 2, w // 4 - 2 : w // 4 + 2] = (200, 40, 90, 255)
    col = make_colorizer(flats_model(tmp_path / "m", 30 / 255))  # 52 levels: over SNAP_FAR
    out = col.colorize(lineart, hints, compose_lines=False, working_size=w)  # the grid is the canvas
    assert tuple(out[h // 4, w // 8]) == (230, 70, 120)  # in the open: the network's change
    assert tuple(out[h // 4, w // 2 - 3]) == (200, 40, 90)  # two pixels from the line: the flat
    # a working grid coarser than the canvas: the flat is read on the pixel's side of the line
    coarse = col.colorize(lineart, hints, compose_lines=False, working_size=64)
    assert tuple(coarse[h // 4, w // 8]) == (230, 70, 120)
    assert tuple(coarse[h // 4, w // 2 - 3]) == (200, 40, 90)
