"""Any canvas size gives the same picture: the draft's cells at any scale, the shipped model on the
README example at the sizes artists use, and no seams where refinement tiles meet."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from engine import LocalColorizer, channels
from engine.arrays import check_lineart
from engine.resample import cell_starts
from engine.tiling import plan_axis
from tests.conftest import lineart_and_hints

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PALETTE = np.array([(220, 30, 30), (30, 160, 60), (40, 90, 230), (250, 210, 40)], np.uint8)


@given(n_in=st.integers(1, 5000), data=st.data())
@settings(max_examples=300, deadline=None)
def test_cells_partition_the_inputs(n_in, data):
    n_out = data.draw(st.integers(1, n_in))
    starts = cell_starts(n_in, n_out)
    sizes = np.diff(np.append(starts, n_in))
    assert starts[0] == 0 and (sizes >= 1).all()  # every cell holds at least one input
    assert sizes.max() - sizes.min() <= 1 + (n_in % n_out > 0)  # cells are as even as the scale allows
    # an input belongs to the cell its centre falls in
    centre = (np.arange(n_in) + 0.5) * n_out / n_in
    cell = np.repeat(np.arange(n_out), sizes)
    assert ((centre >= cell - 1e-9) & (centre < cell + 1 + 1e-9)).all()


@given(
    h=st.integers(16, 700),
    w=st.integers(16, 700),
    working=st.integers(8, 700),
    seed=st.integers(0, 2**31 - 1),
)
@settings(max_examples=120, deadline=None)
def test_draft_hints_keep_exact_colours_at_any_scale(h, w, working, seed):
    """Every draft cell a dab touches is hinted in exactly the dab's colour; no cell is hinted without one.

    Dabs of different colours stay far enough apart that no cell sees two of them. Before the fix
    a max filter placed differently from the colour's average hinted cells black beside every dab.
    """
    rng = np.random.default_rng(seed)
    hints = np.zeros((h, w, 4), np.uint8)
    step = 2 * max(h, w) // max(1, min(working, max(h, w))) + 8
    for i, y in enumerate(range(2, h - 4, step)):
        for j, x in enumerate(range(2, w - 4, step)):
            r = int(rng.integers(1, 5))
            hints[y : y + r, x : x + r] = (*PALETTE[(i + j) % len(PALETTE)], int(rng.integers(40, 256)))
    prep = channels.prepare(check_lineart(np.full((h, w), 255, np.uint8)), hints)
    small_hw = (
        max(1, h * min(working, max(h, w)) // max(h, w)),
        max(1, w * min(working, max(h, w)) // max(h, w)),
    )
    planes = channels.downsample(prep, small_hw)
    hinted = planes["hint_mask"] > 0
    colours = np.round(planes["hint_rgb"][hinted] * 255).astype(int)
    assert {tuple(c) for c in colours} <= {tuple(int(v) for v in c) for c in PALETTE}
    assert not planes["hint_rgb"][~hinted].any()
    # every dab survives the downscale, at its own strength
    dabs = int((hints[..., 3] > 0).any())
    assert hinted.sum() >= dabs
    assert planes["hint_mask"].max() == pytest.approx(hints[..., 3].max() / 255.0)


@pytest.fixture(scope="module")
def shipped():
    return LocalColorizer(backend="onnx", device="cpu")


@pytest.fixture(scope="module")
def example():
    lineart = np.asarray(Image.open(EXAMPLES / "lineart.png").convert("RGBA"))
    hints = np.asarray(Image.open(EXAMPLES / "hints.png").convert("RGBA"))
    return lineart, hints


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255.0**2 / max(mse, 1e-12))


def at_size(lineart: np.ndarray, hints: np.ndarray, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """The example redrawn at h×w: lines resampled smoothly, dabs kept crisp."""
    line = np.asarray(Image.fromarray(lineart).resize((w, h), Image.Resampling.LANCZOS))
    dabs = np.asarray(Image.fromarray(hints).resize((w, h), Image.Resampling.NEAREST))
    return line, dabs


# The sizes a new user found broken (issue 13), odd, prime, tall and wide sizes, and working sizes
# that do and do not divide the canvas. (height, width, working size or 0 for the model's own)
SIZES = [
    (1100, 1100, 0),
    (1754, 1240, 0),  # A4 at 150 dpi
    (1500, 1500, 0),
    (1080, 1920, 0),
    (2560, 2560, 0),
    (3508, 2480, 0),  # A4 at 300 dpi
    (1536, 4000, 0),
    (768, 768, 512),
    (1024, 1024, 500),
    (384, 512, 384),  # the old "384 (fast)" choice on the example itself
    (1021, 509, 0),  # primes, tall
    (331, 457, 0),
    (997, 733, 333),
    (2000, 1000, 0),
]
NATIVE_SIDE = 512  # the example's own longest side: a working size of 512 draws it unscaled


@pytest.mark.parametrize(("h", "w", "working"), SIZES, ids=[f"{h}x{w}@{s or 'model'}" for h, w, s in SIZES])
def test_shipped_model_agrees_with_native_result_at_any_size(shipped, example, h, w, working):
    """The example drawn at h×w, coloured, and scaled back agrees with the same picture coloured at
    its native size (same aspect, longest side 512, no draft downscale, one tile)."""
    lineart, hints = example
    rh, rw = round(h * NATIVE_SIDE / max(h, w)), round(w * NATIVE_SIDE / max(h, w))
    native = shipped.colorize(*at_size(lineart, hints, rh, rw), working_size=NATIVE_SIDE)
    out = shipped.colorize(*at_size(lineart, hints, h, w), working_size=working)
    assert out.shape == (h, w, 3)
    back = np.asarray(Image.fromarray(out).resize((rw, rh), Image.Resampling.BOX))
    assert psnr(back, native) >= 28.0


def seam_ratio(rgb_u8: np.ndarray, cuts_y: list[int], cuts_x: list[int]) -> float:
    """Mean colour jump across the given rows/columns, relative to the mean jump everywhere."""
    img = rgb_u8.astype(np.float32)
    dy = np.abs(np.diff(img, axis=0)).sum(-1)  # dy[i] is the jump between rows i and i+1
    dx = np.abs(np.diff(img, axis=1)).sum(-1)
    jumps = [dy[c - 1].mean() for c in cuts_y] + [dx[:, c - 1].mean() for c in cuts_x]
    return max(jumps) / max(1e-6, (dy.mean() + dx.mean()) / 2)


def tile_cuts(length: int, tile: int, overlap: int, divisor: int) -> list[int]:
    """Every place a refinement tile starts or ends inside the canvas."""
    spans = plan_axis(length, tile, overlap, divisor)
    return sorted({s for s, _ in spans[1:]} | {e for _, e in spans[:-1]})


@pytest.mark.parametrize(("h", "w", "tile"), [(1754, 1240, 512), (1080, 1920, 384), (701, 997, 256)])
def test_refinement_tiles_leave_no_seams(shipped, example, h, w, tile):
    lineart, hints = example
    line, dabs = at_size(lineart, hints, h, w)
    whole = shipped.colorize(line, dabs, tile=8192)
    tiled = shipped.colorize(line, dabs, tile=tile)
    diff = np.abs(whole.astype(int) - tiled.astype(int))
    assert diff.max() <= 2  # cross-faded, aligned tiles equal one big tile up to rounding
    divisor = shipped.manifest.stages["refine"].generator.divisor
    overlap = min(shipped.manifest.overlap, tile // divisor * divisor // 4)
    cuts_y, cuts_x = tile_cuts(h, tile, overlap, divisor), tile_cuts(w, tile, overlap, divisor)
    assert cuts_y and cuts_x
    assert seam_ratio(tiled, cuts_y, cuts_x) <= seam_ratio(whole, cuts_y, cuts_x) + 0.05


@pytest.mark.parametrize(
    ("h", "w"),
    [(16, 16), (17, 23), (64, 4096), (4096, 64), (97, 2003), (2003, 97), (1031, 1031), (1500, 1100)],
)
def test_closed_box_takes_its_dab_colour_at_tiny_strip_and_odd_sizes(shipped, h, w):
    line, hints = lineart_and_hints(h, w)  # a closed box, one red dab in the middle
    out = shipped.colorize(line, hints).astype(int)
    assert out.shape == (h, w, 3)
    y0, y1, x0, x1 = h // 4, 3 * h // 4, w // 4, 3 * w // 4
    above = out[: max(1, y0 - 3)].reshape(-1, 3)
    assert above.mean() > 230  # nothing painted outside the box
    if min(h, w) < 64:
        return  # too small for a measurable inside
    inside = out[y0 + 3 : y1 - 3, x0 + 3 : x1 - 3].reshape(-1, 3)
    assert np.abs(inside - (220, 30, 30)).sum(1).mean() <= 70
    assert inside[:, 0].min() >= 150  # no dark blotch (black hints beside the dab did that)


@pytest.mark.parametrize(
    ("shape", "want"),
    [
        ((1031, 1031), (512, 512)),
        ((1754, 1240), (512, 362)),
        ((64, 4096), (64, 4096)),
        ((97, 2003), (64, 1322)),
    ],
)
def test_working_grid_keeps_a_strip_wide_enough_for_its_lines(shape, want):
    from engine.tiling import working_shape

    assert working_shape(shape, 512) == want
    h, w = working_shape((10, 100_000), 512)  # the pixel budget of a 512² grid still holds
    assert h * w <= 512 * 512 and h >= 5


def test_a_thin_line_keeps_its_regions_apart_when_an_a4_page_is_drafted_small():
    from engine import channels

    h, w = 3508, 2480  # A4 at 300 dpi: drafted at 512×362, a 3 px line averages to light grey
    lineart = np.full((h, w, 4), 255, np.uint8)
    lineart[:, w // 2 - 1 : w // 2 + 2, :3] = 0
    hints = np.zeros((h, w, 4), np.uint8)
    hints[h // 2 - 20 : h // 2 + 20, w // 4 - 20 : w // 4 + 20] = (200, 30, 30, 255)
    planes = channels.downsample(channels.prepare(lineart, hints), (512, 362))
    assert planes["line"].min() > channels.INK_THRESHOLD  # averaged away: no barrier left there
    channels.add_regions(planes)
    flat = (planes["flat_rgb"] * 255).round().astype(int)
    assert tuple(flat[100, 40]) == (200, 30, 30)
    assert planes["flat_mask"][:, 190:].max() == 0  # the dab's colour stays left of the line
