"""Metrics, baselines and the evaluation loop on generated flat-colour images with closed outlines."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from training import metrics
from training.baselines import BASELINES, flood_fill, get_baseline, lineart, watershed
from training.corpus import build_corpus
from training.evaluate import baseline_methods, evaluate, format_table, write_json
from training.hints import eval_hints


def outlined(seed: int, size: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """(true RGB, its line art): flat colour shapes, each closed by a 2-px black outline."""
    rng = np.random.default_rng(seed)
    rgb = np.full((size, size, 3), 255, np.uint8)
    ink = np.zeros((size, size), bool)
    yy, xx = np.mgrid[:size, :size]
    for _ in range(4):
        cy, cx = rng.integers(24, size - 24, 2)
        r = rng.integers(12, 28)
        inside = (yy - cy) ** 2 + (xx - cx) ** 2 < r**2
        if rng.random() < 0.5:
            inside = (abs(yy - cy) < r) & (abs(xx - cx) < r)
        ring = ndimage.binary_dilation(inside, iterations=2) & ~inside
        rgb[inside] = rng.integers(20, 236, 3)
        ink[inside] = False
        rgb[ring] = 0
        ink[ring] = True
    la = np.zeros((size, size, 4), np.uint8)
    la[..., 3] = 255
    la[..., :3] = np.where(ink, 0, 255)[..., None]
    return rgb, la


def test_metrics_perfect_for_identical_images():
    rgb, la = outlined(0)
    hints = eval_hints(rgb, la, "full", np.random.default_rng(0))
    s = metrics.score(rgb, rgb, la, hints)
    assert s["psnr"] == math.inf
    assert s["de00"] == pytest.approx(0.0, abs=1e-6)
    assert s["ssim"] == pytest.approx(1.0)
    assert s["hint_de00"] == pytest.approx(0.0, abs=1e-6)
    assert s["bleed"] == pytest.approx(0.0, abs=1e-6)


def test_metrics_worsen_with_noise():
    rgb, la = outlined(1)
    rng = np.random.default_rng(0)
    scores = []
    for sigma in (3, 12, 40):
        noisy = np.clip(rgb + rng.normal(0, sigma, rgb.shape), 0, 255).astype(np.uint8)
        scores.append(metrics.score(noisy, rgb, la, None))
    for a, b in zip(scores, scores[1:], strict=False):
        assert a["psnr"] > b["psnr"]
        assert a["de00"] < b["de00"]
        assert a["ssim"] > b["ssim"]
    assert math.isnan(scores[0]["hint_de00"])  # no hints, no hint fidelity


def test_hint_fidelity_and_bleed_see_the_right_faults():
    rgb, la = outlined(2)
    hints = eval_hints(rgb, la, "full", np.random.default_rng(0))
    wrong = rgb.copy()
    m = hints[..., 3] > 0
    wrong[m] = 255 - wrong[m]  # ignore every hint
    assert metrics.hint_de00(wrong, hints) > 20
    white = lineart(la, None)  # no colour: all contrast across lines lost
    assert metrics.bleed(white, rgb, la) > 0.9
    assert metrics.bleed(rgb, rgb, la) < 0.05


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_fill_baselines_with_full_hints_are_near_perfect(seed):
    rgb, la = outlined(seed)
    hints = eval_hints(rgb, la, "full", np.random.default_rng(seed))
    plain = metrics.score(lineart(la, hints), rgb, la, hints)
    for fn in (flood_fill, watershed):
        out = fn(la, hints)
        assert out.shape == rgb.shape and out.dtype == np.uint8
        s = metrics.score(out, rgb, la, hints)
        assert s["de00"] < 1.0
        assert s["hint_de00"] < 1.0
        assert s["de00"] < plain["de00"] and s["psnr"] > plain["psnr"] + 10


def test_baselines_without_hints_leave_paper_white():
    rgb, la = outlined(6)
    for name, fn in BASELINES.items():
        out = fn(la, None)
        paper = la[..., 0] == 255
        assert (out[paper] == 255).all(), name
        assert (out[~paper] == 0).all(), name  # lines drawn on top
    with pytest.raises(ValueError, match="flood_fill"):
        get_baseline("magic")


def test_watershed_keeps_colours_apart_across_a_gap_where_flood_fill_mixes_them():
    size = 128
    la = np.full((size, size, 4), 255, np.uint8)
    la[:, 62:66, :3] = 0
    la[58:70, 62:66, :3] = 255  # a gap in the line: the two halves are one region for a flood fill
    truth = np.zeros((size, size, 3), np.uint8)
    truth[:, :64] = (200, 30, 30)
    truth[:, 64:] = (30, 60, 200)
    truth[la[..., 0] == 0] = 0
    hints = np.zeros((size, size, 4), np.uint8)
    hints[20:24, 20:24] = (200, 30, 30, 255)
    hints[100:104, 100:104] = (30, 60, 200, 255)
    ws = metrics.de00(watershed(la, hints), truth)
    ff = metrics.de00(flood_fill(la, hints), truth)
    assert ws < 3.0 < 20.0 < ff


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    for i in range(3):
        Image.fromarray(outlined(10 + i, 112)[0]).save(src / f"img{i}.png")
    return build_corpus(
        tmp_path_factory.mktemp("corpus"),
        sources=(),
        extra_dirs=(src,),
        max_side=112,
        val_fraction=1.0,
        workers=1,
    )


def test_evaluate_rows_per_method_and_density(tiny_corpus, tmp_path):
    rows = evaluate(baseline_methods(), tiny_corpus, split="val", seed=0)
    assert {(r["method"], r["density"]) for r in rows} == {
        (m, d) for m in BASELINES for d in ("none", "sparse", "full")
    }
    assert all(r["n"] == 3 for r in rows)
    by = {(r["method"], r["density"]): r for r in rows}
    assert math.isnan(by[("flood_fill", "none")]["hint_de00"])
    assert by[("flood_fill", "full")]["de00"] < by[("lineart", "full")]["de00"]
    assert by[("watershed", "full")]["psnr"] > by[("lineart", "full")]["psnr"]
    assert by[("flood_fill", "full")]["de00"] <= by[("flood_fill", "sparse")]["de00"] + 1e-9
    # same inputs for every method: the line art baseline does not depend on the hints at all
    assert by[("lineart", "none")]["psnr"] == pytest.approx(by[("lineart", "full")]["psnr"])
    again = evaluate({"flood_fill": flood_fill}, tiny_corpus, split="val", seed=0)
    for r in again:  # same seed, same inputs, same scores
        assert r["de00"] == by[("flood_fill", r["density"])]["de00"]
    table = format_table(rows)
    assert table.count("\n") == len(rows) + 1 and "flood_fill" in table and "| – |" in table
    data = json.loads(write_json(rows, tmp_path / "eval.json").read_text())
    assert len(data) == len(rows)
    assert [d["hint_de00"] is None for d in data] == [math.isnan(r["hint_de00"]) for r in rows]


def test_evaluate_rejects_unknown_density(tiny_corpus):
    with pytest.raises(ValueError, match="sparse"):
        evaluate(BASELINES, tiny_corpus, densities=("lots",))


def test_evaluate_at_a_larger_scale_feeds_enlarged_images(tiny_corpus):
    from training.evaluate import eval_inputs

    (row, rgb, lineart, hints), *_ = eval_inputs(tiny_corpus, "val", ("full",), limit=1)
    (_, big, big_lines, big_hints), *_ = eval_inputs(tiny_corpus, "val", ("full",), limit=1, scale=2.0)
    assert big.shape == (2 * rgb.shape[0], 2 * rgb.shape[1], 3)
    assert big_lines.shape[:2] == big.shape[:2] and big_hints["full"].shape[:2] == big.shape[:2]
    seen = []
    rows = evaluate(
        {"probe": lambda la, h: seen.append(la.shape) or flood_fill(la, h)},
        tiny_corpus,
        densities=("full",),
        scale=2.0,
    )
    assert rows[0]["n"] == 3 and all(s[0] >= 2 * 16 for s in seen)
    with pytest.raises(ValueError, match="scale"):
        next(eval_inputs(tiny_corpus, scale=0.0))
