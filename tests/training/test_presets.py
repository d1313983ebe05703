"""The paper presets: registry, configs, samplers, colour bins, and every preset end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tests._train_fixtures import shapes_image
from training.presets import colour, hintsampling
from training.presets.inputs import INPUTS, Crop
from training.presets.nets import DIVISORS, build_net
from training.presets.spec import PRESET_FILES, all_presets, from_dict, get_preset
from training.presets.targets import TARGETS, bins_to_unit


def tiny_corpus(root: Path, train: int = 3, val: int = 2) -> Path:
    from training.corpus import write_manifest

    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    rows = []
    for i in range(train + val):
        name = f"images/{i:04d}.png"
        Image.fromarray(shapes_image(rng, 80, 96)).save(root / name)
        split = "train" if i < train else "val"
        rows.append(
            {"id": f"{i:04d}", "file": name, "source": "shapes", "split": split, "width": 96, "height": 80}
        )
    write_manifest(root, rows)
    return root


def test_unknown_preset_lists_the_valid_names():
    with pytest.raises(ValueError, match="unknown preset 'pix2pix'; valid: .*cgan-l1.*two-stage"):
        get_preset("pix2pix")


def test_unknown_keys_are_refused():
    with pytest.raises(ValueError, match="unknown key.*colour"):
        from_dict({"name": "x", "paper": "p", "metric": "de00", "colour": 1, "arms": []})
    arm = {"name": "a", "inputs": "gray", "target": "rgb", "net": "unet", "loss": "l1", "adversarial": "wgan"}
    with pytest.raises(ValueError, match="unknown adversarial loss 'wgan'"):
        from_dict({"name": "x", "paper": "p", "metric": "de00", "arms": [arm]})


@pytest.mark.parametrize("name", list(PRESET_FILES))
def test_every_arm_builds_and_maps_its_inputs_to_its_target(name):
    preset = get_preset(name)
    rng = np.random.default_rng(0)
    rgb = shapes_image(rng, 64, 64)
    crop = Crop(rgb, colour.rgb_u8_to_lab(rgb), ink=np.zeros((64, 64), np.float32))
    for arm in preset.arms:
        planes, build = INPUTS[arm.inputs]
        x = build(crop, rng)
        assert x.shape == (planes, 64, 64) and x.dtype == np.float32
        target = TARGETS[arm.target]
        extra = 3 if arm.draft_from else 0
        net = build_net(arm.net, planes + extra, target.out_channels, 4, target.head).eval()
        side = max(64, DIVISORS[arm.net])
        out = net(torch.zeros(1, planes + extra, side, side))
        assert out.shape == (1, target.out_channels, side, side)
        assert target.encode(crop).shape[0] in (target.out_channels, 2)  # bins: one index per channel
    for claim in preset.claims:  # claims name arms that exist
        for ref in (claim.better, claim.worse):
            other, _, arm_name = ref.rpartition(":")
            get_preset(other or name).arm(arm_name)


def test_uv_bins_decode_to_their_centres():
    uv = np.array([[[-50.0, 20.0], [100.0, -100.0]]])
    bins = colour.uv_bins(uv)
    logits = np.full((2 * colour.UV_BINS, 1, 2), -30.0)
    for c in range(2):
        for x in range(2):
            logits[c * colour.UV_BINS + bins[0, x, c], 0, x] = 30.0
    back = colour.unit_to_uv(bins_to_unit(logits))
    width = np.array([colour.U_RANGE[1] - colour.U_RANGE[0], colour.V_RANGE[1] - colour.V_RANGE[0]])
    assert np.all(np.abs(back - uv) <= width / colour.UV_BINS / 2 + 1e-6)


def test_hint_samplers_follow_the_papers():
    rng = np.random.default_rng(0)
    rgb = shapes_image(rng, 256, 256)
    counts = []
    for _ in range(300):
        _, mask = hintsampling.user_squares(rgb, rng)
        counts.append(mask.any())
    assert 0.8 < np.mean(counts) < 0.95  # P(at least one square) = 1 - 1/8 for p = 1/8
    hint = hintsampling.blurred_patch_hints(rgb, rng)
    whitened = (hint == 1.0).all(-1)
    assert 30 * 45 * 45 * 0.5 < whitened.sum() <= 30 * 45 * 45  # 30 patches of 45², some overlapping
    assert hint[~whitened].std() < rgb.std() / 255.0  # the rest is heavily blurred


def test_reproduce_every_preset_end_to_end(tmp_path):
    from training.cli import main

    corpus = tiny_corpus(tmp_path / "corpus")
    doc = tmp_path / "docs" / "reproductions.md"
    args = ["reproduce", "--corpus", str(corpus), "--budget", "0.01", "--max-steps", "1"]
    assert main([*args, "--train-images", "3", "--val-images", "2", "--doc", str(doc)]) == 0
    text = doc.read_text()
    for p in all_presets():
        assert f"### `{p.name}`" in text
        for claim in p.claims:
            assert claim.text in text
    assert "**This budget is tiny**" in text
    scores = json.loads(doc.with_suffix(".json").read_text())
    assert set(scores) == {*PRESET_FILES, "gray-as-is"}
    assert scores["two-stage"]["refine"]["steps"] == 1
    assert all(np.isfinite(scores[p][a]["de00"]) for p in PRESET_FILES for a in scores[p])
    sheet = Image.open(doc.parent / "img" / "reproductions.png")
    arms = sum(len(p.arms) for p in all_presets())
    assert sheet.size[1] == (arms + 2) * 64  # truth, gray as is, one row per arm


def test_preset_command_runs_one_preset(tmp_path):
    from training.cli import main

    corpus = tiny_corpus(tmp_path / "corpus")
    args = ["preset", "luv-classes", "--corpus", str(corpus), "--budget", "5", "--max-steps", "2"]
    assert main([*args, "--train-images", "3", "--val-images", "2", "--out", str(tmp_path / "out")]) == 0
    scores = json.loads((tmp_path / "out" / "luv-classes.json").read_text())["luv-classes"]
    assert set(scores) == {"classes", "huber"} and scores["classes"]["steps"] == 2
    assert 0.0 <= scores["classes"]["bin_acc_u"] <= 1.0
