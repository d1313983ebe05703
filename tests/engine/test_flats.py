"""Colour stays inside the lines: gap-closing regions, the background, the flats method, and
transparent results for every method (engine/regions.py, engine/flats.py)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine import InputError, LocalColorizer, colorize
from engine.arrays import line_from_rgba
from engine.cli import main
from engine.dabs import on_rim
from engine.flats import flats, flats_layers
from engine.regions import default_gap, find_regions
from engine.wire.schema import ColorizeOptions, OptionsError

PINK = (200, 40, 90)


def ring(size: int = 512, gap: int = 6, radius: int = 120) -> tuple[np.ndarray, np.ndarray]:
    """A 3 px circle outline with an opening of ``gap`` px on the right, one dab at the centre."""
    yy, xx = np.mgrid[:size, :size]
    rr = np.hypot(yy - size / 2, xx - size / 2)
    line = np.full((size, size, 4), 255, np.uint8)
    outline = (rr >= radius) & (rr <= radius + 3)
    if gap:
        outline &= ~((np.abs(yy - size / 2) < gap / 2) & (xx > size / 2))
    line[outline, :3] = 0
    hints = np.zeros((size, size, 4), np.uint8)
    c = size // 2
    hints[c - 6 : c + 6, c - 6 : c + 6] = (*PINK, 255)
    return line, hints


def inside_outside(size: int = 512, radius: int = 120) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[:size, :size]
    rr = np.hypot(yy - size / 2, xx - size / 2)
    return rr < radius - 1, rr > radius + 6


def test_closed_shape_is_filled_exactly_and_outside_is_transparent():
    line, hints = ring(gap=0)
    out = colorize(line, hints, method="flats", transparent=True, compose_lines=False)
    inside, outside = inside_outside()
    assert out.shape == (512, 512, 4)
    assert (out[inside] == (*PINK, 255)).all()  # the exact hint colour, every pixel
    assert (out[outside][:, 3] == 0).all()


def test_default_gap_closes_a_6px_opening_and_a_smaller_gap_leaks():
    line, hints = ring(gap=6)
    inside, outside = inside_outside()
    assert default_gap((512, 512)) > 6
    closed = colorize(line, hints, method="flats", transparent=True)
    assert (closed[outside][:, 3] == 0).all()
    assert (closed[inside][:, 3] == 255).all()
    # the leak a gap size below the opening lets through: a dab on the sky runs into the unhinted
    # disc, which the default gap keeps a figure of its own (the background never fills a figure)
    sky = np.zeros_like(hints)
    sky[20:30, 20:30] = (40, 90, 220, 255)
    kept = colorize(line, sky, method="flats", transparent=True)
    assert (kept[inside][:, 3] == 0).all() and (kept[outside][:, 3] == 255).all()
    leaked = colorize(line, sky, method="flats", transparent=True, gap=4)
    assert (leaked[inside] == (40, 90, 220, 255)).all(axis=1).mean() > 0.9


def _split_disc(opening: int) -> tuple[np.ndarray, np.ndarray]:
    """The closed ring with a wall across it, open for ``opening`` px in its middle."""
    line, _ = ring(gap=0)
    line[133:380, 254:258, :3] = 0
    if opening:
        line[256 - opening // 2 : 256 + (opening + 1) // 2, 254:258, :3] = 255
    return line, np.zeros_like(line)


def test_a_region_without_a_dab_takes_the_colour_through_its_opening_but_not_across_a_line():
    inside, outside = inside_outside()
    right = inside & (np.arange(512) > 262)[None, :]
    line, dab = _split_disc(opening=6)
    dab[250:262, 150:162] = (*PINK, 255)  # in the left half only
    r = find_regions(line_from_rgba(line))
    assert r.labels_hw_i32[256, 200] != r.labels_hw_i32[256, 320]  # the default gap parts the halves
    out = colorize(line, dab, method="flats", transparent=True, compose_lines=False)
    assert (out[right] == (*PINK, 255)).all() and (out[outside][:, 3] == 0).all()
    walled, _ = _split_disc(opening=0)  # enclosed by its lines: no colour reaches it
    out = colorize(walled, dab, method="flats", transparent=True, compose_lines=False)
    assert (out[right][:, 3] == 0).all()
    both = dab.copy()
    both[250:262, 350:362] = (40, 200, 90, 255)  # a dab of its own: that colour, as before
    out = colorize(line, both, method="flats", transparent=True, compose_lines=False)
    assert (out[right] == (40, 200, 90, 255)).all()


def _rooms(openings: list[int]) -> np.ndarray:
    """A long closed box cut into rooms 100 px wide by walls open ``openings[i]`` px in the middle."""
    w = 100 * (len(openings) + 1)
    line = np.ones((120, w + 20), np.float32)
    line[10:12, 10 : w + 10] = line[108:110, 10 : w + 10] = 0
    line[10:110, 10:12] = line[10:110, w + 8 : w + 10] = 0
    for i, opening in enumerate(openings):
        x = 110 + 100 * i
        line[12:108, x : x + 2] = 0
        line[60 - opening // 2 : 60 + (opening + 1) // 2, x : x + 2] = 1
    return line


def test_colour_runs_down_a_chain_of_openings_and_the_widest_opening_decides():
    line = _rooms([4, 4, 4])
    hints = np.zeros((*line.shape, 4), np.uint8)
    hints[55:65, 40:50] = (*PINK, 255)
    regions = find_regions(line, gap=8)
    assert len(np.unique(regions.labels_hw_i32[60, 60::100])) == 4  # a region each ...
    f = flats(regions, line, hints)
    paper = line[14:106, 14:406] > 0.5
    assert (f.rgb_u8()[14:106, 14:406][paper] == PINK).all()  # ... all filled from the first
    blue = (40, 90, 220)
    for openings, colour in (([6, 2], PINK), ([2, 6], blue)):  # the middle room: the wider side's
        line = _rooms(openings)
        hints = np.zeros((*line.shape, 4), np.uint8)
        hints[55:65, 40:50] = (*PINK, 255)
        hints[55:65, 250:260] = (*blue, 255)
        f = flats(find_regions(line, gap=8), line, hints)
        assert tuple(f.rgb_u8()[60, 160]) == colour


def test_a_piece_of_a_painted_region_its_dabs_cannot_reach_takes_colour_through_its_opening():
    from engine.reach import through_openings
    from engine.regions import Regions

    # region 1 in two pieces (gap closing joined them through region 2): the left one painted, the
    # right one reached by no dab of region 1; a third piece of it enclosed by a ring of ink
    labels = np.full((30, 60), 2, np.int32)
    labels[:, :20] = labels[:, 40:] = 1
    ink = np.zeros((30, 60), bool)
    ink[10:20, 25:35] = True
    labels[13:17, 28:32] = 1  # inside the ring: touches the rest only across ink
    ink[13:17, 28:32] = False
    regions = Regions(labels, 2, ink, np.array([False, False, False]), 8, np.full((30, 60), 5, np.float32))
    index = np.zeros((30, 60), np.int32)
    index[:, :20] = 1
    index[:, 20:40] = 2
    index[ink | (labels == 1) & (np.arange(60) >= 20)[None, :]] = 0
    out = through_openings(regions, index)
    assert (out[:, 40:] == 2).all()  # through its opening onto region 2
    assert (out[13:17, 28:32] == 0).all()  # enclosed by its lines: stays empty
    assert (out[:, :20] == 1).all()


def test_a_dab_inside_an_open_outline_stays_in_its_room_and_a_dab_on_the_background_fills_it():
    line, hints = ring(gap=40)  # wider than any gap size: the disc is part of the background
    inside, outside = inside_outside()
    alone = colorize(line, hints, method="flats", transparent=True, compose_lines=False)
    assert (alone[inside] == (*PINK, 255)).all()
    assert (alone[outside][:, 3] == 0).all()
    sky = hints.copy()
    sky[20:30, 20:30] = (40, 90, 220, 255)
    both = colorize(line, sky, method="flats", transparent=True, compose_lines=False)
    assert (both[inside] == (*PINK, 255)).all()
    assert (both[outside] == (40, 90, 220, 255)).all()
    only_sky = colorize(line, sky * (np.arange(512) < 100)[:, None, None], method="flats", transparent=True)
    assert (only_sky[inside][:, 3] == 255).all() and (only_sky[outside][:, 3] == 255).all()


def test_a_region_with_two_colours_splits_along_its_faint_line_and_unhinted_stays_empty():
    line = np.ones((96, 160), np.float32)
    line[8:10, 8:152] = line[86:88, 8:152] = 0  # a closed box ...
    line[8:88, 8:10] = line[8:88, 150:152] = 0
    line[10:86, 60:62] = 0.7  # ... split by a faint pencil line (not ink)
    line[10:86, 100:102] = 0  # and a third, inked compartment with no dab
    hints = np.zeros((96, 160, 4), np.uint8)
    hints[40:44, 30:34] = (255, 0, 0, 255)
    hints[40:44, 80:84] = (0, 0, 255, 255)
    f = flats(find_regions(line), line, hints)
    rgb = f.rgb_u8()
    assert (rgb[12:84, 12:58] == (255, 0, 0)).all()
    assert (rgb[12:84, 64:98] == (0, 0, 255)).all()
    assert not f.painted_hw_bool[12:84, 104:148].any()  # no dab: empty, not a neighbour's colour
    assert not f.painted_hw_bool[:6].any()


def test_a_dab_on_the_lines_rim_counts_only_where_no_dab_on_paper_reaches():
    inside, _ = inside_outside()
    right = inside & (np.arange(512) > 262)[None, :]
    yy, xx = np.mgrid[:512, :512]
    rim = (np.hypot(yy - 256, xx - 256) >= 119) & (np.hypot(yy - 256, xx - 256) < 120)
    grey = (136, 136, 136, 255)
    for opening in (6, 0):
        line, dab = _split_disc(opening)
        line[rim & (line[..., 0] == 255), :3] = 153  # the outline's anti-aliased rim (not the wall)
        dab[250:262, 150:162] = (*PINK, 255)
        dab[rim & (np.abs(yy - 256) < 3) & (xx > 300)] = grey  # a dab that picked up its blend
        idx = np.flatnonzero(dab[..., 3] > 0)
        assert on_rim(idx, line_from_rgba(line)).sum() == ((dab[..., 3] > 0) & rim).sum() > 0
        out = colorize(line, dab, method="flats", transparent=True, compose_lines=False)
        # pink reaches the right half through the opening: the rim dab says nothing; walled off,
        # the rim dab is all the artist gave there and counts
        assert (out[right] == ((*PINK, 255) if opening else grey)).all()
    dab[rim & (np.abs(yy - 256) < 3) & (xx > 300)] = 0
    dab[253:258, 370:376] = grey  # partly on paper: a dab like any
    assert not on_rim(np.flatnonzero(dab[..., 3] > 0), line_from_rgba(line)).any()
    out = colorize(*_split_disc(6)[:1], dab, method="flats", transparent=True, compose_lines=False)
    assert (out[right] == grey).all()


def test_background_is_open_to_the_border_but_a_figure_cut_by_the_edge_is_not():
    line = np.ones((200, 300), np.float32)
    # a "bust": a U-shaped outline standing on the bottom edge, closed by it
    line[80:200, 100:103] = line[80:200, 197:200] = 0
    line[80:83, 100:200] = 0
    r = find_regions(line)
    labels = r.labels_hw_i32
    assert r.background[labels[10, 10]] and r.background[labels[150, 20]]
    assert not r.background[labels[150, 150]]


def test_flats_layers_partition_the_painted_area():
    line, hints = ring(gap=0)
    hints[100:110, 20:30] = (10, 200, 30, 255)  # a dab in the background too
    layers = flats_layers(line, hints)
    assert [c for c, _ in layers] == [(10, 200, 30), PINK]  # largest first
    masks = np.stack([m for _, m in layers])
    assert masks.sum(0).max() == 1  # disjoint
    inside, _ = inside_outside()
    assert masks[1][inside].all() and masks[0][0, 0]


def test_no_hints_paint_nothing_and_options_are_checked():
    line, _ = ring(gap=0)
    out = colorize(line, None, method="flats", transparent=True)
    assert (out[..., 3][line[..., 0] == 255] == 0).all()  # only the lines are left
    assert (out[..., 3][line[..., 0] == 0] == 255).all()
    with pytest.raises(OptionsError, match="valid: ai, flats"):
        ColorizeOptions(method="bucket")
    with pytest.raises(InputError, match="gap"):
        colorize(line, None, method="flats", gap=-1)


@pytest.fixture(scope="module")
def ai(random_model_dir):
    return LocalColorizer(random_model_dir, backend="onnx", device="cpu")


def test_ai_result_is_transparent_on_unhinted_background_and_keeps_its_lines(ai):
    line, hints = ring(size=256, gap=0, radius=60)
    rgb = ai.colorize(line, hints)
    rgba = ai.colorize(line, hints, transparent=True)
    assert rgba.shape == (256, 256, 4)
    np.testing.assert_array_equal(rgba[..., :3], rgb)  # a model blind to the flats: the same colours
    inside, outside = inside_outside(256, 60)
    assert (rgba[inside][:, 3] == 255).all()
    far = outside.copy()
    far[:, 120:] = False  # away from the blurred mask edge around the lines
    assert (rgba[far][:, 3] == 0).mean() > 0.95
    ink = line_from_rgba(line) < 0.5
    assert (rgba[ink][:, 3] == 255).all()


def test_ai_result_leaves_open_ground_beyond_the_colours_reach_as_the_flats_do(tmp_path):
    pytest.importorskip("onnx")
    from engine.colorizer import make_colorizer
    from tests.fixtures_models import flats_model

    ai = make_colorizer(flats_model(tmp_path / "m", 0.0))  # a draft that keeps the flats it sees
    size = 256
    line = np.full((size, size, 4), 255, np.uint8)
    hints = np.zeros((size, size, 4), np.uint8)
    hints[126:130, 108:112] = (255, 0, 0, 255)
    hints[126:130, 144:148] = (0, 0, 255, 255)  # 36 px apart: everything beyond ~72 px is far
    rgb = ai.colorize(line, hints, working_size=size)
    rgba = ai.colorize(line, hints, transparent=True, working_size=size)
    flat = colorize(line, hints, method="flats", transparent=True)
    corners = np.zeros((size, size), bool)
    corners[:30, :30] = corners[-30:, -30:] = True
    assert (flat[corners, 3] == 0).all()
    assert (rgba[corners, 3] == 0).all() and (rgb[corners] == 255).all()  # paper, whatever the network
    centre = (slice(120, 136), slice(112, 144))
    assert (rgba[centre][..., 3] == 255).all()


def test_a_flats_models_rgb_result_is_its_transparent_layer_over_white_paper(tmp_path):
    pytest.importorskip("onnx")
    from engine.colorizer import make_colorizer
    from tests.fixtures_models import flats_model

    ai = make_colorizer(flats_model(tmp_path / "m", -0.3))  # paints grey where the flats are empty
    line, hints = ring(size=256, gap=0, radius=60)
    rgb = ai.colorize(line, hints)
    rgba = ai.colorize(line, hints, transparent=True)
    empty = rgba[..., 3] == 0
    assert empty.mean() > 0.5 and (rgba[empty][:, :3] < 200).all()  # the network's grey, hidden
    assert (rgb[empty] == 255).all()  # over paper: white, as the plug-in shows it on a white canvas
    a = rgba[..., 3:].astype(np.float64) / 255.0
    assert np.abs(rgb - (rgba[..., :3] * a + 255.0 * (1.0 - a))).max() <= 1.0
    preview = ai.colorize(line, hints, preview=True)  # Live shows the same
    assert (preview[empty] == 255).all()


def test_cli_flats_transparent_and_layers(tmp_path):
    line, hints = ring(size=128, gap=0, radius=30)
    Image.fromarray(line).save(tmp_path / "line.png")
    Image.fromarray(hints).save(tmp_path / "hints.png")
    args = ["colorize", str(tmp_path / "line.png"), "--hints", str(tmp_path / "hints.png")]
    assert main([*args, "-o", str(tmp_path / "flat.png"), "--method", "flats", "--transparent"]) == 0
    out = np.asarray(Image.open(tmp_path / "flat.png"))
    assert out.shape == (128, 128, 4) and tuple(out[64, 64]) == (*PINK, 255) and out[2, 2, 3] == 0
    assert main([*args, "-o", str(tmp_path / "f.png"), "--flats-layers"]) == 0
    layer = np.asarray(Image.open(tmp_path / f"f-01-{bytes(PINK).hex()}.png"))
    assert tuple(layer[64, 64]) == (*PINK, 255) and layer[2, 2, 3] == 0
    assert main([*args, "-o", str(tmp_path / "t.jpg"), "--transparent"]) == 2  # JPEG has no alpha


def test_region_channels_at_working_resolution_only_when_asked():
    from engine import channels
    from engine.arrays import check_lineart

    line, hints = ring(gap=6)
    prep = channels.prepare(check_lineart(line), hints)
    planes = channels.downsample(prep, (256, 256))
    channels.add_working(planes, ("line", "hint_rgb"), channels.DEFAULT_SPREAD)
    assert not set(channels.WORKING_ONLY) & set(planes)  # nothing computed that was not asked for
    channels.add_working(planes, ("line", *channels.REGION_CHANNELS), channels.DEFAULT_SPREAD)
    x = channels.stack(channels.REGION_CHANNELS, planes)
    assert x.shape == (channels.channel_count(channels.REGION_CHANNELS), 256, 256)
    inside, outside = (m[::2, ::2] for m in inside_outside())
    assert np.allclose(planes["flat_rgb"][inside], np.array(PINK) / 255) and planes["flat_mask"][inside].all()
    assert not planes["flat_mask"][outside].any() and planes["background"][outside].all()
    assert not planes["background"][inside].any()
    assert planes["edge_dist"][128, 128] == 1.0 and planes["edge_dist"].min() == 0.0


def test_dabs_on_open_paper_share_it_half_way_between_them():
    """No line between two dabs: each pixel takes the nearer dab's colour (not whichever floods first)."""
    line = np.ones((60, 200), np.float32)
    hints = np.zeros((60, 200, 4), np.uint8)
    hints[28:32, 20:24] = (255, 0, 0, 255)
    hints[28:32, 176:180] = (0, 0, 255, 255)
    rgb = flats(find_regions(line), line, hints).rgb_u8()
    assert (rgb[:, :95] == (255, 0, 0)).all() and (rgb[:, 105:] == (0, 0, 255)).all()


def test_the_flats_method_ends_colours_on_open_ground_at_their_reach():
    """Two colours on open paper paint around their dabs, not the far corners; one colour alone
    (a dab on the sky) still paints the whole background; the AI's planes keep the full split."""
    from engine.reach import FLATS_REACH

    size = 300
    line = np.full((size, size, 4), 255, np.uint8)
    hints = np.zeros((size, size, 4), np.uint8)
    hints[148:152, 128:132] = (255, 0, 0, 255)
    hints[148:152, 168:172] = (0, 0, 255, 255)  # 40 px apart
    out = colorize(line, hints, method="flats", transparent=True, compose_lines=False)
    assert tuple(out[150, 120]) == (255, 0, 0, 255) and tuple(out[150, 180]) == (0, 0, 255, 255)
    reach = FLATS_REACH * 40
    yy, xx = np.mgrid[:size, :size]
    nearest = np.minimum(np.hypot(yy - 150, xx - 130), np.hypot(yy - 150, xx - 170))
    assert (out[nearest > reach + 4, 3] == 0).all() and (out[nearest < reach - 4, 3] == 255).all()
    line_f = line_from_rgba(line)
    assert flats(find_regions(line_f), line_f, hints).painted_hw_bool.all()  # the AI's planes
    hints[148:152, 168:172] = (255, 0, 0, 255)  # one colour: the sky
    assert (colorize(line, hints, method="flats", transparent=True)[..., 3] == 255).all()


def test_split_memo_reuses_unchanged_regions_and_never_changes_the_result():
    """A Live session: strokes added, recoloured, removed, new colours shifting the palette."""
    line, _ = ring(gap=0)
    line[256:262, 40:472, :3] = 0  # a bar cuts the disc: two rooms inside, the paper outside
    line[300:304, 200:300, :3] = 150  # a faint wall in the lower room: a split follows it
    line_f = line_from_rgba(line)
    regions = find_regions(line_f, 0)
    lower, upper, paper = (int(regions.labels_hw_i32[y, x]) for y, x in ((330, 256), (200, 256), (20, 20)))

    def dab(h, y, x, rgb):
        h[y - 3 : y + 3, x - 3 : x + 3] = (*rgb, 255)

    hints = np.zeros_like(line)
    dab(hints, 280, 256, (200, 40, 90))
    dab(hints, 330, 256, (30, 90, 200))  # two colours in the lower room: a split
    dab(hints, 20, 20, (250, 220, 40))
    dab(hints, 500, 500, (40, 160, 60))  # and two on the paper
    steps = [hints.copy()]
    dab(hints, 200, 256, (120, 120, 120))  # a first stroke in the upper room: one colour
    steps.append(hints.copy())
    dab(hints, 200, 230, (0, 0, 1))  # a second, sorting first: every palette index shifts
    steps.append(hints.copy())
    hints[327:333, 253:259] = (90, 30, 200, 255)  # recolour a dab of the lower room
    steps.append(hints.copy())
    hints[497:503, 497:503] = 0  # remove one from the paper: it is one colour again
    steps.append(hints.copy())
    memo: dict = {}
    redone = []
    for h in steps:
        before = dict(memo)
        with_memo = flats(regions, line_f, h, memo)
        assert (with_memo.rgb_u8() == flats(regions, line_f, h).rgb_u8()).all()
        redone.append({k[1] for k, v in memo.items() if k[0] == "split" and before.get(k) is not v})
    # split again: only the regions whose dabs changed (the hinted paper is always worked on)
    assert redone == [{lower, paper}, set(), {upper}, {lower}, {paper}]
