"""Grayscale mode: L kept, hints followed, auto detection, the option through schema, CLI and manifest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image
from skimage.color import rgb2lab

from engine import lab
from engine.errors import ModelError
from engine.grayscale import GRAYSCALE_MODEL, looks_shaded
from engine.modelspec import GeneratorConfig, load_manifest, write_manifest
from engine.wire.schema import ColorizeOptions, OptionsError
from tests.fixtures_models import fill_model

INPUTS = ("gray_l", "hint_ab", "hint_mask")


def hint_copy_model(out_dir: Path, name: str = GRAYSCALE_MODEL) -> Path:
    """A grayscale-kind model whose chroma is the hints' a, b (neutral where unhinted)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    init = [
        numpy_helper.from_array(np.array([v], np.int64), k) for k, v in (("lo", 1), ("hi", 3), ("axis", 1))
    ]
    graph = helper.make_graph(
        [helper.make_node("Slice", ["x", "lo", "hi", "axis"], ["ab"])],
        "hint_copy",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4, "h", "w"])],
        [helper.make_tensor_value_info("ab", TensorProto.FLOAT, ["n", 2, "h", "w"])],
        init,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(out_dir / "chroma.onnx"))
    gen = GeneratorConfig(4, 2, widths=(4,), unshuffle=1, norm="none")
    stage = {"inputs": INPUTS, "generator": gen, "onnx": "chroma.onnx"}
    write_manifest(out_dir, name, "0.0.0", {"chroma": stage}, kind="grayscale", working_size=64)
    return out_dir


def shaded_disk(side: int = 96) -> np.ndarray:
    """A gray RGBA drawing: a radial gradient disk with a dark outline, on white."""
    y, x = np.mgrid[:side, :side] - side / 2
    r = np.hypot(y, x) / (side / 2)
    g = np.where(r < 0.8, 0.3 + 0.5 * r, 1.0)
    g = np.where(np.abs(r - 0.8) < 0.03, 0.05, g)
    u = (g * 255).astype(np.uint8)
    return np.stack([u, u, u, np.full_like(u, 255)], -1)


def outline_only(side: int = 96) -> np.ndarray:
    y, x = np.mgrid[:side, :side] - side / 2
    r = np.hypot(y, x) / (side / 2)
    ink = np.clip(1.0 - np.abs(r - 0.6) * side / 3, 0.0, 1.0)  # an anti-aliased ring ~3 px wide
    u = ((1.0 - ink) * 255).astype(np.uint8)
    return np.stack([u, u, u, np.full_like(u, 255)], -1)


def halftoned(side: int = 96) -> np.ndarray:
    """The disk's tones as black/white dots (screentone): no mid tone at full size."""
    g = shaded_disk(side)[..., 0] / 255.0
    y, x = np.mgrid[:side, :side]
    dots = (np.hypot(y % 4 - 1.5, x % 4 - 1.5) / 4.0) < np.sqrt((1 - g) / np.pi)
    u = np.where(dots, 0, 255).astype(np.uint8)
    return np.stack([u, u, u, np.full_like(u, 255)], -1)


def test_looks_shaded_tells_tones_from_lines():
    assert looks_shaded(shaded_disk())
    assert looks_shaded(halftoned(256))  # screentone is judged averaged, on a page-sized layer
    assert not looks_shaded(np.full((300, 300, 4), 255, np.uint8))  # blank paper
    assert not looks_shaded(outline_only())
    dense = np.full((64, 64, 4), 255, np.uint8)
    dense[::4, :, :3] = 0  # a thumbnail of dense lines: not taken for averaged tones
    assert not looks_shaded(dense)
    colour = shaded_disk().copy()
    colour[..., 0] = 255  # a red-tinted image is a colour picture, not grayscale
    assert not looks_shaded(colour)


def test_compose_keeps_lightness_and_reduces_chroma_to_fit():
    rng = np.random.default_rng(0)
    light = rng.uniform(0, 100, (64, 64))
    ab = rng.normal(0, 80, (64, 64, 2))  # much of it out of gamut
    out = lab.compose(light, ab)
    assert np.abs(rgb2lab(out)[..., 0] - light).max() < 0.5
    # in-gamut chroma is kept, not just clamped to gray
    gray_l = np.full((4, 4), 60.0)
    small = np.zeros((4, 4, 2)) + [20.0, -15.0]
    assert np.abs(rgb2lab(lab.compose(gray_l, small))[..., 1:] - small).max() < 1.0


def test_mode_option_is_validated():
    assert ColorizeOptions().mode == "lineart"  # auto misreads a few line drawings: opt-in
    assert ColorizeOptions.from_mapping({"mode": "grayscale"}).mode == "grayscale"
    with pytest.raises(OptionsError, match="valid: auto, lineart, grayscale"):
        ColorizeOptions(mode="manga")


def test_grayscale_manifest_kind(tmp_path):
    m = load_manifest(hint_copy_model(tmp_path / "g"))
    assert m.kind == "grayscale" and list(m.stages) == ["chroma"]
    raw = (tmp_path / "g" / "manifest.json").read_text().replace('"grayscale"', '"sepia"')
    (tmp_path / "g" / "manifest.json").write_text(raw)
    with pytest.raises(ModelError, match="unknown model kind 'sepia'"):
        load_manifest(tmp_path / "g")


def _write(path: Path, rgba: np.ndarray) -> Path:
    Image.fromarray(rgba).save(path)
    return path


def test_cli_grayscale_mode_keeps_l_and_follows_hints(tmp_path, monkeypatch):
    from engine.cli import main

    models = tmp_path / "models"
    hint_copy_model(models / GRAYSCALE_MODEL)
    fill_model(models / "inkhue-default", name="inkhue-default")
    monkeypatch.setenv("INKHUE_MODEL_PATH", str(models))
    gray = shaded_disk(120)
    hints = np.zeros_like(gray)
    hints[50:70, 50:70] = (200, 40, 40, 255)  # a red dab in the middle
    src, h = _write(tmp_path / "gray.png", gray), _write(tmp_path / "h.png", hints)
    out = tmp_path / "out.png"
    assert main(["colorize", str(src), "--mode", "grayscale", "--hints", str(h), "-o", str(out)]) == 0
    res = np.asarray(Image.open(out).convert("RGB"))
    lab_out, lab_in = rgb2lab(res), rgb2lab(gray[..., :3])
    assert np.abs(lab_out[..., 0] - lab_in[..., 0]).max() < 0.6  # L kept within rounding
    assert lab_out[60, 60, 1] > 20  # the dab is red (a > 0)
    assert np.hypot(lab_out[5, 5, 1], lab_out[5, 5, 2]) < 1.0  # unhinted paper stays neutral


def test_auto_mode_picks_grayscale_for_shading_only(tmp_path, monkeypatch):
    from engine.pipeline import LocalColorizer

    models = tmp_path / "models"
    hint_copy_model(models / GRAYSCALE_MODEL)
    monkeypatch.setenv("INKHUE_MODEL_PATH", str(models))
    col = LocalColorizer(fill_model(tmp_path / "fill"))
    hints = np.zeros((96, 96, 4), np.uint8)
    hints[40:56, 40:56] = (30, 60, 220, 255)
    shaded = col.colorize(shaded_disk(), hints)
    assert np.abs(rgb2lab(shaded)[..., 0] - rgb2lab(shaded_disk()[..., :3])[..., 0]).max() < 0.6
    lines = col.colorize(outline_only(), hints)  # the fill model: hint colour inside the ring
    assert tuple(lines[48, 48]) == (30, 60, 220)
    forced = col.colorize(outline_only(), hints, mode="grayscale")
    assert np.abs(rgb2lab(forced)[..., 0] - rgb2lab(outline_only()[..., :3])[..., 0]).max() < 0.6


def test_explicit_grayscale_mode_without_the_model_says_so(tmp_path, monkeypatch):
    from engine import models
    from engine.pipeline import LocalColorizer

    monkeypatch.setenv("INKHUE_MODEL_PATH", str(tmp_path / "none"))
    monkeypatch.setattr(models, "BUNDLED_DIR", tmp_path / "none")
    monkeypatch.setattr(models, "user_models_dir", lambda: tmp_path / "none")
    col = LocalColorizer(fill_model(tmp_path / "fill"))
    with pytest.raises(ModelError, match="grayscale mode needs the inkhue-grayscale model"):
        col.colorize(shaded_disk(), None, mode="grayscale")
    assert col.colorize(shaded_disk(), None).shape == (96, 96, 3)  # auto: falls back to line art
