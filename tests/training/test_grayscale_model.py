"""The inkhue-grayscale training data (screentone), training, export and scoring on tiny data."""

from __future__ import annotations

import numpy as np
from skimage.color import rgb2lab

from tests._train_fixtures import shapes_image
from tests.training.test_presets import tiny_corpus
from training.grayscale.screentone import TONE_HIGH, TONE_LOW, halftone, hatching, screen, tone_gray


def test_screentone_prints_mid_tones_as_dots_or_lines_and_keeps_paper_and_ink():
    ramp = np.tile(np.linspace(0.0, 1.0, 200, dtype=np.float32), (60, 1))
    rng = np.random.default_rng(0)
    out = screen(ramp, rng, "halftone")
    tone = (ramp > TONE_LOW + 0.05) & (ramp < TONE_HIGH - 0.05)
    assert set(np.unique(out[tone])) <= {0.0, 1.0}  # black and white only where the tones were
    assert np.array_equal(out[:, :5], ramp[:, :5]) and np.array_equal(out[:, -5:], ramp[:, -5:])
    for pattern in (halftone, hatching):  # the share of ink follows the darkness
        light, dark = pattern(np.full((64, 64), 0.8), 5.0, 0.3), pattern(np.full((64, 64), 0.3), 5.0, 0.3)
        assert abs((1 - light.mean()) - 0.2) < 0.08 and abs((1 - dark.mean()) - 0.7) < 0.08


def test_tone_gray_is_the_images_lightness_without_screening():
    rgb = shapes_image(np.random.default_rng(1), 48, 64)
    gray = tone_gray(rgb, np.random.default_rng(0), p_tone=0.0)
    assert np.abs(gray * 100.0 - rgb2lab(rgb)[..., 0]).max() < 0.01


def test_train_export_and_colorize_through_the_engine(tmp_path):
    from engine.modelspec import load_manifest
    from engine.pipeline import LocalColorizer
    from training.grayscale import model
    from training.grayscale.evaluate import evaluate, format_table

    corpus = tiny_corpus(tmp_path / "corpus")
    cfg = model.GrayscaleConfig(
        corpus=str(corpus), train_images=3, side=72, crop=64, batch=2, width=4, max_steps=2
    )
    run = model.train(cfg, tmp_path / "run")
    assert run.steps == 2 and (tmp_path / "run" / "ckpt.pt").is_file()
    assert model.train(cfg, tmp_path / "run").steps == 2  # resumed: nothing left to do
    model.export(tmp_path / "run", tmp_path / "model")
    manifest = load_manifest(tmp_path / "model")
    assert manifest.kind == "grayscale" and manifest.stages["chroma"].inputs == model.INPUTS
    rgb = shapes_image(np.random.default_rng(2), 70, 90)
    image = np.repeat(rgb.mean(-1, keepdims=True).astype(np.uint8), 3, -1)  # a gray drawing
    out = LocalColorizer(tmp_path / "model").colorize(image, None)
    assert np.abs(rgb2lab(out)[..., 0] - rgb2lab(image)[..., 0]).max() < 0.6
    rows = evaluate(tmp_path / "model", str(corpus))
    table = format_table(rows)
    assert "| plain | dabs | gray as is | 2 |" in table and "screentone" in table
