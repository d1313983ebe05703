"""Properties of the synthetic line art and hints (generated flat-colour images, no corpus)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from engine.arrays import line_from_rgba
from training.hints import HintConfig, colour_areas, eval_hints, synth_hints
from training.lines import EXTRACTORS, LineConfig, synth_lineart

CLOSED = dict(p_open=0.0, p_gaps=0.0, p_jpeg=0.0, p_transparent=0.0, p_dark_as_ink=0.0)


def flat_image(seed: int, size: int = 192, outlines: bool = False) -> np.ndarray:
    """Flat colour rectangles and discs on white; optional black outlines around each."""
    rng = np.random.default_rng(seed)
    img = np.full((size, size, 3), 255, np.uint8)
    yy, xx = np.mgrid[:size, :size]
    for _ in range(5):
        cy, cx = rng.integers(30, size - 30, 2)
        r = rng.integers(14, 40)
        if rng.random() < 0.5:
            inside = (yy - cy) ** 2 + (xx - cx) ** 2 < r**2
        else:
            inside = (abs(yy - cy) < r) & (abs(xx - cx) < r * 0.7)
        if outlines:
            ring = ndimage.binary_dilation(inside, iterations=2) & ~inside
            img[ring] = 0
        img[inside] = rng.integers(30, 230, 3)
    return img


def true_edges(rgb_u8: np.ndarray) -> np.ndarray:
    x = rgb_u8.astype(np.int16)
    e = np.zeros(x.shape[:2], bool)
    e[:-1] |= np.abs(x[1:] - x[:-1]).max(2) > 0
    e[:, :-1] |= np.abs(x[:, 1:] - x[:, :-1]).max(2) > 0
    e[1:] |= np.abs(x[1:] - x[:-1]).max(2) > 0
    e[:, 1:] |= np.abs(x[:, 1:] - x[:, :-1]).max(2) > 0
    return e


# ---------------------------------------------------------------- line art


@pytest.mark.parametrize("variant", [0.0, 1.0])
def test_lineart_shape_dtype_and_variant(variant):
    rgb = flat_image(0)
    la = synth_lineart(rgb, np.random.default_rng(1), LineConfig(p_transparent=variant))
    assert la.shape == (*rgb.shape[:2], 4) and la.dtype == np.uint8
    if variant == 0.0:
        assert (la[..., 3] == 255).all()
        assert (la[..., 0] == la[..., 1]).all()  # gray lines
    else:
        assert (la[..., :3] == 0).all() and la[..., 3].max() > 200


@pytest.mark.parametrize("name", sorted(EXTRACTORS))
def test_lines_lie_on_colour_boundaries(name):
    near_total, ink_total, covered = 0, 0, []
    for seed in range(3):
        rgb = flat_image(seed)
        cfg = LineConfig(extractors=((name, 1.0),), **CLOSED)
        ink = line_from_rgba(synth_lineart(rgb, np.random.default_rng(seed), cfg)) < 0.5
        edges = true_edges(rgb)
        dist = ndimage.distance_transform_edt(~edges)
        near_total += int((ink & (dist <= 4)).sum())
        ink_total += int(ink.sum())
        # the boundaries get drawn (some may stay open, as with equal-luma colours)
        covered.append((ndimage.distance_transform_edt(~ink)[edges] <= 3).mean())
    assert ink_total > 0
    assert near_total / ink_total > 0.95
    assert np.mean(covered) > 0.5


def test_transparent_variant_gives_the_same_line_plane():
    rgb = flat_image(3, outlines=True)
    for seed in range(4):
        white = synth_lineart(rgb, np.random.default_rng(seed), LineConfig(p_transparent=0.0, p_jpeg=0.0))
        clear = synth_lineart(rgb, np.random.default_rng(seed), LineConfig(p_transparent=1.0, p_jpeg=0.0))
        assert (clear[..., 3] > 0).any() and (white[..., 3] == 255).all()
        np.testing.assert_allclose(line_from_rgba(white), line_from_rgba(clear), atol=1.5 / 255)


def test_gaps_open_the_drawing():
    rgb = flat_image(4, outlines=True)
    closed_cfg = LineConfig(extractors=(("edges", 1.0),), **CLOSED)
    gappy_cfg = LineConfig(
        extractors=(("edges", 1.0),),
        **{**CLOSED, "p_gaps": 1.0, "gaps_per_megapixel": (2000, 2000), "gap_size": (9, 9)},
    )
    for seed in range(3):
        closed = line_from_rgba(synth_lineart(rgb, np.random.default_rng(seed), closed_cfg)) < 0.5
        gappy = line_from_rgba(synth_lineart(rgb, np.random.default_rng(seed), gappy_cfg)) < 0.5
        assert gappy.sum() < closed.sum()
        assert ndimage.label(gappy)[1] > ndimage.label(closed)[1]  # strokes are broken
        assert ndimage.label(~gappy)[1] < ndimage.label(~closed)[1]  # enclosed regions leak
    opened_cfg = LineConfig(extractors=(("edges", 1.0),), **{**CLOSED, "p_open": 1.0})
    opened = line_from_rgba(synth_lineart(rgb, np.random.default_rng(0), opened_cfg)) < 0.5
    closed = line_from_rgba(synth_lineart(rgb, np.random.default_rng(0), closed_cfg)) < 0.5
    assert opened.sum() < 0.97 * closed.sum()


def test_lineart_deterministic_under_seed():
    rgb = flat_image(5)
    a = synth_lineart(rgb, np.random.default_rng(7))
    b = synth_lineart(rgb, np.random.default_rng(7))
    assert np.array_equal(a, b)
    others = [synth_lineart(rgb, np.random.default_rng(s)) for s in range(8, 12)]
    assert any(not np.array_equal(a, o) for o in others)


def test_unknown_extractor_lists_valid_names():
    with pytest.raises(ValueError, match="dilate"):
        LineConfig(extractors=(("pencil", 1.0),))
    with pytest.raises(ValueError, match="H×W×3"):
        synth_lineart(np.zeros((8, 8), np.uint8), np.random.default_rng(0))


# ---------------------------------------------------------------- hints


def test_synth_hints_take_true_local_colours():
    rgb = flat_image(6)
    for seed in range(6):
        h = synth_hints(rgb, np.random.default_rng(seed), HintConfig(p_blur=0.0))
        assert h.shape == (*rgb.shape[:2], 4) and h.dtype == np.uint8
        m = h[..., 3] > 0
        if m.any():
            # dots take the median colour under them: nearly every hint pixel matches the image
            diff = np.abs(h[..., :3].astype(int) - rgb.astype(int)).max(-1)[m]
            assert (diff <= 2).mean() > 0.9


def test_synth_hints_count_ranges_from_none_to_dense():
    rgb = flat_image(7)
    counts = [int((synth_hints(rgb, np.random.default_rng(s))[..., 3] > 0).sum()) for s in range(40)]
    assert min(counts) == 0 and max(counts) > 0.02 * rgb.shape[0] * rgb.shape[1]


def test_synth_hints_blur_variant_marks_unwhitened_patches():
    rgb = flat_image(8)
    h = synth_hints(rgb, np.random.default_rng(0), HintConfig(p_blur=1.0))
    m = h[..., 3] > 0
    assert 0.05 < m.mean() < 0.95  # patches whitened out, the rest carries blurred colour
    assert (h[..., :3][~m] == 0).all()


def test_colour_areas_split_at_colour_changes_and_skip_lines():
    rgb = flat_image(9, outlines=True)
    la = synth_lineart(rgb, np.random.default_rng(0), LineConfig(**CLOSED))
    labels = colour_areas(rgb, la)
    ink = line_from_rgba(la) < 0.5
    assert (labels[ink] == 0).all()
    assert (labels[rgb.max(-1) < 64] == 0).all()  # the true image's own black outlines too
    for lab in np.unique(labels[labels > 0])[:20]:
        colours = np.unique(rgb[labels == lab] // 16, axis=0)
        assert len(colours) == 1  # one colour per area


def test_eval_hints_density_and_fidelity():
    rgb = flat_image(10, outlines=True)
    la = synth_lineart(rgb, np.random.default_rng(0), LineConfig(**CLOSED))
    labels = colour_areas(rgb, la)
    areas = np.unique(labels[labels > 0])
    none = eval_hints(rgb, la, "none", np.random.default_rng(0))
    sparse = eval_hints(rgb, la, "sparse", np.random.default_rng(0))
    full = eval_hints(rgb, la, "full", np.random.default_rng(0))
    assert not none[..., 3].any()
    n_full = len(np.unique(labels[full[..., 3] > 0]))
    assert n_full == len(areas)  # every area gets a dot...
    dots, n_dots = ndimage.label(full[..., 3] > 0)
    assert n_dots == len(areas)  # ...exactly one
    assert (full[..., 3] > 0).sum() >= (sparse[..., 3] > 0).sum() > 0
    m = full[..., 3] > 0
    assert np.array_equal(full[..., :3][m], rgb[m])  # hint colours are the true colours
    with pytest.raises(ValueError, match="sparse"):
        eval_hints(rgb, la, "medium", np.random.default_rng(0))
