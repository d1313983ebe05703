import numpy as np
import pytest

from engine.tiling import pad_to_multiple, plan, plan_axis


@pytest.mark.parametrize(
    "shape, tile, overlap", [((100, 100), 128, 16), ((1000, 2500), 512, 64), ((513, 1025), 256, 32)]
)
def test_tiles_cover_image_and_weights_sum_to_one(shape, tile, overlap):
    total = np.zeros(shape, np.float64)
    for (y0, y1, x0, x1), w in plan(shape, tile, overlap):
        assert w.shape == (y1 - y0, x1 - x0)
        assert y1 - y0 <= tile and x1 - x0 <= tile
        total[y0:y1, x0:x1] += w
    np.testing.assert_allclose(total, 1.0, atol=1e-5)


def test_overlap_is_respected_and_starts_aligned():
    spans = plan_axis(3001, 1024, 64, align=16)
    assert spans[0][0] == 0 and spans[-1][1] == 3001
    for (_s0, e0), (s1, _) in zip(spans, spans[1:]):
        assert e0 - s1 >= 64
        assert s1 % 16 == 0


def test_pad_to_multiple_edges():
    x = np.arange(2 * 5 * 7, dtype=np.float32).reshape(2, 5, 7)
    y = pad_to_multiple(x, 4)
    assert y.shape == (2, 8, 8)
    np.testing.assert_array_equal(y[:, :5, :7], x)
    np.testing.assert_array_equal(y[:, 7, :7], x[:, 4, :])
