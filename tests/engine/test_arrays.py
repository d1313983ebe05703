import numpy as np
import pytest

from engine import channels
from engine.arrays import check_hints, check_lineart, line_from_rgba
from engine.errors import InputError
from tests.conftest import lineart_and_hints


def test_lines_on_transparent_equal_lines_on_white():
    line_rgb, _ = lineart_and_hints(64, 80)
    on_white = check_lineart(line_rgb)
    transparent = np.zeros((64, 80, 4), np.uint8)  # black strokes, alpha carries the lines
    transparent[..., 3] = 255 - line_rgb[..., 0]
    np.testing.assert_allclose(line_from_rgba(on_white), line_from_rgba(transparent), atol=1e-6)
    plane = line_from_rgba(on_white)
    assert plane.min() == 0.0 and plane.max() == 1.0


@pytest.mark.parametrize("shape", [(40, 50), (40, 50, 3), (40, 50, 4)])
def test_lineart_shapes_accepted(shape):
    arr = np.full(shape, 200, np.uint8)
    rgba = check_lineart(arr)
    assert rgba.shape == (40, 50, 4) and rgba.dtype == np.uint8


@pytest.mark.parametrize(
    "arr, message",
    [
        (np.zeros((40, 50), np.float32), "uint8"),
        (np.zeros((40, 50, 2), np.uint8), "shape"),
        (np.zeros((1, 1), np.uint8), "at least"),
        (np.zeros((0, 30), np.uint8), "at least"),
        ([[0, 1], [1, 0]], "numpy array"),
    ],
)
def test_bad_lineart_is_refused_with_reason(arr, message):
    with pytest.raises(InputError, match=message):
        check_lineart(arr)


def test_size_limit():
    with pytest.raises(InputError, match="over the limit"):
        check_lineart(np.zeros((100, 100), np.uint8), max_pixels=5000)


def test_hints_must_match_size_and_have_alpha():
    with pytest.raises(InputError, match="hint layer must have the line art's size"):
        check_hints(np.zeros((10, 12, 4), np.uint8), (10, 13))
    with pytest.raises(InputError, match="RGBA"):
        check_hints(np.zeros((10, 12, 3), np.uint8), (10, 12))
    assert check_hints(None, (10, 12)) is None


def test_region_fill_spreads_hint_inside_closed_box_only():
    line_rgb, hints = lineart_and_hints(64, 64)
    prep = channels.prepare(check_lineart(line_rgb), hints)
    planes = channels.crop(prep, (0, 64, 0, 64))
    inside, outside = planes["fill_rgb"][32, 20], planes["fill_rgb"][5, 5]
    np.testing.assert_allclose(inside, np.array([220, 30, 30]) / 255, atol=1e-6)
    assert planes["fill_mask"][32, 20] == 1 and planes["fill_mask"][5, 5] == 0
    np.testing.assert_array_equal(outside, 0)


def test_downsample_keeps_small_hint_dots():
    line_rgb, hints = lineart_and_hints(1024, 1024)
    prep = channels.prepare(check_lineart(line_rgb), hints)
    small = channels.downsample(prep, (128, 128))
    assert small["hint_mask"].max() == 1.0  # a 4-px dot survives an 8x downscale
    hinted = small["hint_mask"] > 0
    np.testing.assert_allclose(small["hint_rgb"][hinted][0], np.array([220, 30, 30]) / 255, atol=0.02)
    x = channels.stack(("line", "hint_rgb", "hint_mask", "fill_rgb", "fill_mask"), small)
    assert x.shape == (9, 128, 128) and x.dtype == np.float32


def test_unknown_channel_lists_valid_names():
    with pytest.raises(InputError, match="valid: .*draft_rgb"):
        channels.channel_count(["line", "colour"])
