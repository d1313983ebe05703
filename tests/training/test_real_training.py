"""Training on artist-drawn pairs: mixing real and synthetic sources, the artist's own line art used
as is, artists' habits in the synthetic lines, the flats-correcting draft, and corpus shards."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

torch = pytest.importorskip("torch")

from engine import channels  # noqa: E402
from engine.arrays import line_from_rgba  # noqa: E402
from tests._train_fixtures import STANDIN, shapes_image, standin_images  # noqa: E402
from training import config as cfgmod  # noqa: E402
from training.batch import Synth, border_crop, synthesize  # noqa: E402
from training.corpus import load_image, load_lineart, load_manifest, write_manifest  # noqa: E402
from training.images import ArrayImages, MixedImages, lineart_of, training_source  # noqa: E402
from training.lines import LineConfig, _draw, pair_lineart, silhouette_outline  # noqa: E402


class PairImages(ArrayImages):
    """Images with their own line art (a stand-in for the corpus's real pairs)."""

    def __init__(self, images, lines) -> None:
        super().__init__(images)
        self.lines = list(lines)

    def lineart(self, i: int) -> np.ndarray:
        return self.lines[i]


def _diagonal_lines(h: int, w: int) -> np.ndarray:
    """Line art no extractor would draw from a shapes image: one diagonal stroke, on white."""
    out = np.full((h, w, 4), 255, np.uint8)
    yy, xx = np.mgrid[:h, :w]
    out[np.abs(yy * w / h - xx) < 2, :3] = 0
    return out


def test_mixed_images_hold_the_share_and_give_each_image_its_own_lines():
    rng = np.random.default_rng(0)
    synthetic = ArrayImages([shapes_image(rng) for _ in range(6)])
    real = PairImages([shapes_image(rng) for _ in range(2)], [_diagonal_lines(96, 128)] * 2)
    mixed = MixedImages(synthetic, real, 0.6)
    assert len(mixed) == 6 + 9  # 9 / 15 = 0.6
    has_lines = [lineart_of(mixed, i) is not None for i in range(len(mixed))]
    assert sum(has_lines) == 9 and not any(has_lines[:6])
    np.testing.assert_array_equal(mixed.image(6 + 3), real.image(1))  # the pairs are cycled
    assert lineart_of(synthetic, 0) is None
    with pytest.raises(ValueError, match="between 0 and 1"):
        MixedImages(synthetic, real, 1.0)


def test_a_pair_is_trained_on_its_own_line_art_never_a_synthetic_one():
    rgb = shapes_image(np.random.default_rng(1))
    lines = _diagonal_lines(*rgb.shape[:2])

    def no_synthesis(*_):
        raise AssertionError("a pair's line art must not be synthesised")

    synth = Synth(no_synthesis, STANDIN.hints, pair_lines=lambda la, rng: la)
    want = line_from_rgba(lines)
    mirrored = 0
    for seed in range(6):
        out_rgb, prep = synthesize(rgb, np.random.default_rng(seed), synth, lineart_rgba_u8=lines)
        flipped = not np.array_equal(out_rgb, rgb)
        mirrored += flipped
        np.testing.assert_array_equal(prep.line_hw_f32, want[:, ::-1] if flipped else want)
    assert 0 < mirrored < 6  # mirrored sometimes, and then the lines with the colours
    with pytest.raises(ValueError, match="differ in size"):
        synthesize(rgb, np.random.default_rng(0), synth, lineart_rgba_u8=lines[:-1])


def test_border_crop_cuts_colours_and_lines_alike():
    rgb = shapes_image(np.random.default_rng(2))
    lines = _diagonal_lines(*rgb.shape[:2])
    a, b = border_crop([rgb, lines], np.random.default_rng(3))
    assert a.shape[:2] == b.shape[:2] and a.shape[0] < rgb.shape[0] and a.shape[1] < rgb.shape[1]
    # the window is the same in both: find it in the colour image, compare the lines there
    h, w = a.shape[:2]
    where = [
        (y, x)
        for y in range(rgb.shape[0] - h + 1)
        for x in range(rgb.shape[1] - w + 1)
        if np.array_equal(rgb[y : y + h, x : x + w], a)
    ]
    assert any(np.array_equal(lines[y : y + h, x : x + w], b) for y, x in where)


def test_pair_line_art_on_a_clear_layer_has_the_same_lines():
    lines = _diagonal_lines(40, 50)
    lines[5:8, :, :3] = 128  # a grey pencil stroke too
    clear = pair_lineart(lines, np.random.default_rng(0), LineConfig(p_transparent=1.0))
    assert (clear[..., :3] == 0).all() and clear[..., 3].max() == 255
    np.testing.assert_allclose(line_from_rgba(clear), line_from_rgba(lines), atol=1 / 255)
    assert pair_lineart(lines, np.random.default_rng(0), LineConfig(p_transparent=0.0)) is lines


def test_silhouette_outline_is_a_uniform_band_inside_the_figure():
    rgb = np.full((120, 120, 3), 255, np.uint8)
    yy, xx = np.mgrid[:120, :120]
    r = np.hypot(yy - 60, xx - 60)
    rgb[r <= 40] = (200, 60, 60)
    rgb[r <= 10] = (250, 250, 250)  # a light hole inside the figure: filled, not outlined
    band = silhouette_outline(rgb, 5.0)
    assert band[(r <= 39.5) & (r >= 36)].all()  # the band's full width all round
    assert not band[r > 41].any() and not band[r < 34].any()


def test_training_gaps_span_artists_sizes_and_the_eval_lines_keep_theirs():
    from training.evaluate import EVAL_LINES

    train = [_draw(np.random.default_rng(s), LineConfig()).gap_size for s in range(400)]
    assert min(train) >= 1 and max(train) <= 30 and max(train) >= 20
    assert np.median(train) < 8  # log-uniform: short gaps far more often than long ones
    old = [_draw(np.random.default_rng(s), EVAL_LINES).gap_size for s in range(100)]
    assert set(old) <= set(range(3, 10))
    assert all(_draw(np.random.default_rng(s), EVAL_LINES).outline_width == 0 for s in range(50))


def test_flats_draft_starts_from_the_flats_where_they_paint():
    from engine.generator import UNetGenerator

    cfg = cfgmod.default_config("draft", fill=False, regions=True)
    gen = replace(cfg.generator, widths=(8, 16))
    inputs = cfg.inputs
    assert gen.base_rgb == cfgmod.plane_offset(inputs, "flat_rgb")
    assert gen.base_mask == cfgmod.plane_offset(inputs, "flat_mask")
    rgb = shapes_image(np.random.default_rng(4), 64, 64)
    rng = np.random.default_rng(5)
    lines = STANDIN.lines(rgb, rng)
    from training.hints import eval_hints

    hints = eval_hints(rgb, lines, "full", rng)
    planes = channels.add_working(
        channels.downsample(channels.prepare(lines, hints), (64, 64)), inputs, cfg.data.spread
    )
    assert planes["flat_mask"].any()
    torch.manual_seed(0)
    net = UNetGenerator(gen).eval()
    with torch.no_grad():
        out = net(torch.from_numpy(channels.stack(inputs, planes))[None])[0].numpy()
    painted = planes["flat_mask"] > 0
    flat = np.moveaxis(planes["flat_rgb"], -1, 0)
    # an untrained correction changes the exact flat colours by a few levels at most
    assert np.abs(out - flat)[:, painted].mean() < 0.03


def test_two_steps_of_the_flats_draft_give_finite_losses(tmp_path):
    from training.train import train

    cfg = cfgmod.default_config(
        "draft",
        fill=False,
        regions=True,
        data=cfgmod.DataConfig(crop=64, working_min=64, working_max=96, crops_per_image=2, p_border_crop=0.5),
        batch=4,
        steps=2,
        log_every=1,
        sample_every=2,
        checkpoint_every=2,
        val_images=2,
        threads=1,
    )
    cfg = replace(cfg, generator=replace(cfg.generator, widths=(8, 16)))
    summary = train(cfg, tmp_path / "d", standin_images(3), standin_images(2, 1), STANDIN, progress=False)
    assert summary["step"] == 2 and all(math.isfinite(summary[k]) for k in ("l1", "val_l1"))


# ---- corpus shards and the real share ---------------------------------------------------------


@pytest.fixture()
def small_corpus(tmp_path):
    """A corpus with every split, its pairs' line art in lines/, noisy images (PNG-sized files)."""
    root = tmp_path / "corpus"
    (root / "images").mkdir(parents=True)
    (root / "lines").mkdir()
    rng = np.random.default_rng(6)
    rows = []
    for split, n in (("train", 6), ("val", 2), ("real-train", 6), ("real-val", 2)):
        for i in range(n):
            ident = f"{split}-{i}"
            rgb = shapes_image(rng, 80, 90)
            rgb = np.clip(rgb.astype(int) + rng.integers(-20, 20, rgb.shape), 0, 255).astype(np.uint8)
            Image.fromarray(rgb).save(root / "images" / f"{ident}.png")
            line = ""
            if split.startswith("real"):
                Image.fromarray(_diagonal_lines(80, 90)[..., 0]).save(root / "lines" / f"{ident}.png")
                line = f"lines/{ident}.png"
            rows.append(
                dict(
                    id=ident,
                    file=f"images/{ident}.png",
                    source="test",
                    package="",
                    version="",
                    licence="CC0-1.0",
                    split=split,
                    width=90,
                    height=80,
                    origin=ident,
                    lineart=line,
                )
            )
    write_manifest(root, rows)
    return root


def test_training_source_mixes_the_real_pairs_by_share(small_corpus):
    data = cfgmod.DataConfig(corpus_dir=str(small_corpus))
    assert len(training_source(data)) == 6 and lineart_of(training_source(data), 0) is None
    only_real = training_source(replace(data, real_share=1.0), "val")
    assert len(only_real) == 2 and all(lineart_of(only_real, i) is not None for i in range(2))
    mixed = training_source(replace(data, real_share=0.5))
    assert len(mixed) == 12 and sum(lineart_of(mixed, i) is not None for i in range(12)) == 6
    with pytest.raises(ValueError, match="real_share"):
        cfgmod.DataConfig(real_share=1.5)


def test_a_shard_keeps_its_budget_every_split_and_the_exact_pixels(small_corpus, tmp_path):
    from training.shard import MIB, ShardConfig, make_shard

    full = sum(f.stat().st_size for f in small_corpus.rglob("*.png"))
    budget = 0.5 * full / MIB  # PNG → lossless WebP shrinks, so half the PNG bytes hold more than half
    counts = make_shard(
        small_corpus, tmp_path / "shard", ShardConfig(max_mib=budget, real_share=0.5, val_images=1)
    )
    files = [f for f in (tmp_path / "shard").rglob("*.webp")]
    assert sum(f.stat().st_size for f in files) <= budget * MIB
    assert counts["val"] == 1 and counts["real-val"] == 1
    assert 0 < counts["real-train"] < 6 and counts["train"] > 0
    source_rows = {r["id"]: r for r in load_manifest(small_corpus, None)}
    for row in load_manifest(tmp_path / "shard", None):
        orig = source_rows[row["id"]]
        np.testing.assert_array_equal(load_image(tmp_path / "shard", row), load_image(small_corpus, orig))
        if orig["lineart"]:
            np.testing.assert_array_equal(
                load_lineart(tmp_path / "shard", row), load_lineart(small_corpus, orig)
            )
        else:
            assert not row["lineart"]
