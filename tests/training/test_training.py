"""Training: configs, examples as the engine builds them, GAN steps, checkpoints and resume."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.modelspec import GeneratorConfig  # noqa: E402
from tests._train_fixtures import STANDIN, standin_images  # noqa: E402
from training import checkpoint  # noqa: E402
from training import config as cfgmod  # noqa: E402
from training.batch import Examples, Synth, collate, draft_examples, fixed_batch, refine_examples  # noqa: E402
from training.gan import Gan  # noqa: E402
from training.train import train  # noqa: E402

TINY_DATA = cfgmod.DataConfig(crop=64, working_min=64, working_max=128, crops_per_image=2)


def tiny(stage: str, fill: bool = True, **kw) -> cfgmod.TrainConfig:
    defaults = dict(
        batch=4, steps=2, log_every=1, sample_every=2, checkpoint_every=2, val_images=2, threads=1
    )
    defaults.update(kw)
    cfg = cfgmod.default_config(stage, fill, data=TINY_DATA, **defaults)
    return replace(cfg, generator=replace(cfg.generator, widths=(8, 16)))


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread: tiny tensors gain nothing from more, and a busy machine punishes them."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ---- config ----------------------------------------------------------------------------------


def test_config_toml_round_trip(tmp_path):
    cfg = cfgmod.default_config("refine", fill=False, draft_checkpoint="runs/d", steps=123, seed=7)
    text = cfgmod.dumps(cfg)
    assert "[generator]" in text and "[optim]" in text
    assert cfgmod.loads(text) == cfg
    path = cfgmod.save(cfg, tmp_path / "c.toml")
    assert cfgmod.load(path) == cfg


def test_config_errors_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="unknown stage 'paint'"):
        cfgmod.default_config("paint")
    bad = cfgmod.dumps(cfgmod.default_config("draft")).replace("[optim]", "[optim]\nlearning_rate = 1.0")
    (tmp_path / "bad.toml").write_text(bad)
    with pytest.raises(ValueError, match="unknown key.*learning_rate"):
        cfgmod.load(tmp_path / "bad.toml")
    with pytest.raises(ValueError, match="draft_checkpoint"):
        cfgmod.default_config("refine", draft_checkpoint="")
    with pytest.raises(ValueError, match="channels"):
        replace(cfgmod.default_config("draft"), inputs=("line",))


def test_stage_configs_refine_their_base():
    d = cfgmod.draft_generator(True)  # line 1, hints 3+1, fill 3+1, spread 3+1
    assert d.in_channels == 13 and (d.base_rgb, d.base_mask) == (9, -1)
    f = cfgmod.draft_generator(True, spread=False)
    assert f.in_channels == 9 and (f.base_rgb, f.base_mask, f.base_fallback) == (5, 8, 1.0)
    assert cfgmod.draft_generator(False, spread=True).base_rgb == 5
    assert cfgmod.draft_generator(False, spread=False).base_rgb == -1
    r = cfgmod.refine_generator(True)
    assert r.in_channels == 12 and r.base_rgb == 9 and r.base_mask == -1
    assert "spread_rgb" not in cfgmod.refine_inputs(True)


def test_spread_stays_inside_lines_leaks_through_gaps_and_fades():
    from engine.channels import SpreadParams, spread

    line = np.ones((40, 80), np.float32)
    line[:, 39:41] = 0.0  # a wall down the middle
    rgb = np.zeros((40, 80, 3), np.float32)
    mask = np.zeros((40, 80), np.float32)
    rgb[20, 10] = (1.0, 0.0, 0.0)
    mask[20, 10] = 1.0
    out, fade, near = spread(line, rgb, mask)
    assert fade[20, 10] == pytest.approx(1.0)
    f = fade[20, 5]
    assert np.allclose(out[20, 5], f * np.array([1, 0, 0]) + (1 - f))  # red, faded towards white
    assert fade[20, 60] < 1e-3  # behind the closed wall: white
    assert fade[20, 12] > fade[20, 30]  # fades with distance: 20 px of paper of a 0.3 × 80 px scale
    assert fade[20, 30] == pytest.approx(np.exp(-20 / (0.3 * 80)), rel=1e-4)
    # near_rgb is unfaded: the only hint's full colour everywhere, even across the closed wall
    assert np.allclose(near[20, 5], (1, 0, 0)) and np.allclose(near[20, 60], (1, 0, 0))
    line[5:8, 39:41] = 1.0  # a gap in the wall: colour gets through, further faded
    out2, fade2, _ = spread(line, rgb, mask)
    assert 0.01 < fade2[20, 60] < fade2[20, 30]
    assert out2[20, 60, 0] == pytest.approx(1.0) and out2[20, 60, 1] < 1.0  # reddish
    rgb[20, 70] = (0.0, 0.0, 1.0)  # a second hint beyond the wall wins there
    mask[20, 70] = 1.0
    out3, _, near3 = spread(line, rgb, mask)
    assert out3[20, 60, 2] == pytest.approx(1.0) and out3[20, 60, 0] < 1.0
    assert np.allclose(near3[20, 60], (0, 0, 1)) and np.allclose(near3[20, 30], (1, 0, 0))
    none_rgb, none_fade, none_near = spread(line, rgb, np.zeros_like(mask))
    assert np.all(none_rgb == 1.0) and np.all(none_fade == 0.0) and np.all(none_near == 1.0)
    # the fade scale comes from the parameters a model was trained with
    _, slow, _ = spread(line, rgb, mask, SpreadParams(fade=3.0))
    assert slow[20, 30] == pytest.approx(np.exp(-20 / (3.0 * 80)), rel=1e-4)


# ---- generator residual base ------------------------------------------------------------------


def test_residual_generator_starts_at_its_base():
    from engine.generator import UNetGenerator

    net = UNetGenerator(GeneratorConfig(5, widths=(8, 16), unshuffle=2, base_rgb=1, base_mask=4)).eval()
    x = torch.rand(2, 5, 16, 16)
    x[:, 4] = (x[:, 4] > 0.5).float()
    with torch.no_grad():
        y = net(x)
    mask = x[:, 4:5].expand(-1, 3, -1, -1) > 0
    base = x[:, 1:4].clamp(1e-3, 1 - 1e-3)
    assert torch.allclose(y[mask], base[mask], atol=0.02)  # the fill, where there is one
    assert torch.allclose(y[~mask], torch.full_like(y[~mask], 0.5), atol=0.02)  # fallback elsewhere
    white = UNetGenerator(replace(net.cfg, base_fallback=1.0)).eval()
    with torch.no_grad():
        assert float(white(x)[~mask].min()) > 0.98
    with pytest.raises(ValueError, match="base_rgb"):
        GeneratorConfig(5, base_rgb=3).check()


# ---- examples ---------------------------------------------------------------------------------


def test_examples_are_a_pure_function_of_the_index():
    cfg = tiny("draft")
    ds = Examples(cfg, standin_images(3), STANDIN)
    a, b, c = ds[5], ds[5], ds[6]
    for ia, ib in zip(a, b, strict=True):
        for k in ia:
            np.testing.assert_array_equal(ia[k], ib[k])
    assert not np.array_equal(a[0]["x"], c[0]["x"])
    assert len(a) == cfg.data.crops_per_image
    batch = collate([a, c])
    assert batch["x"].shape == (4, 13, 64, 64) and batch["y"].shape == (4, 3, 64, 64)
    assert batch["valid"].shape == (4, 1, 64, 64)
    assert 0.0 <= float(batch["x"].min()) and float(batch["x"].max()) <= 1.0


def test_small_images_are_padded_and_masked():
    cfg = replace(tiny("draft"), data=replace(TINY_DATA, crop=128, working_min=128, working_max=128))
    rng = np.random.default_rng(0)
    items = draft_examples(standin_images(1).image(0), rng, cfg, STANDIN)  # 96×128 < 128×128 crop
    v = items[0]["valid"][0]
    assert v[:96].all() and not v[96:].any()


def _recording(synth: Synth, log: dict) -> Synth:
    def lines(rgb, rng):
        log["lines"] = synth.lines(rgb, rng)
        return log["lines"]

    def hints(rgb, rng):
        log["hints"] = synth.hints(rgb, rng)
        return log["hints"]

    return Synth(lines, hints)


def _stage_inputs_seen(col, monkeypatch, lineart, hints, **options) -> dict[str, np.ndarray]:
    """What ``col.colorize`` feeds each stage's network (the stacked planes, before padding)."""
    seen: dict[str, np.ndarray] = {}
    run = col._run

    def spy(stage, chw):
        seen.setdefault(stage, chw)  # the draft's one input; the refinement's first tile
        return run(stage, chw)

    monkeypatch.setattr(col, "_run", spy)
    col.colorize(lineart, hints, **options)
    return seen


def test_draft_inputs_match_the_engine_at_inference(tmp_path, monkeypatch):
    """The draft example's input is exactly what the engine feeds its draft stage, every
    working-size channel included (spread, nearest hint, flats and regions)."""
    from engine.generator import UNetGenerator
    from engine.pipeline import LocalColorizer
    from engine.tiling import working_shape
    from training.export import export_model

    data = replace(TINY_DATA, crop=128, working_min=64, working_max=64, crops_per_image=1)
    cfg = cfgmod.default_config("draft", True, near=True, regions=True, data=data)
    cfg = replace(cfg, generator=replace(cfg.generator, widths=(8, 16)))
    torch.manual_seed(0)
    rcfg = cfgmod.refine_generator(True, widths=(8, 16))
    nets = {"draft": UNetGenerator(cfg.generator).eval(), "refine": UNetGenerator(rcfg).eval()}
    inputs = {"draft": cfg.inputs, "refine": cfgmod.refine_inputs(True)}
    model = export_model(nets, inputs, tmp_path / "m", "m", "0")

    rec: dict = {}
    # a 96×128 image drafted at working size 64 (a 55×74 grid): one 128 crop covers all of it
    (item,) = draft_examples(
        standin_images(1).image(0), np.random.default_rng(3), cfg, _recording(STANDIN, rec)
    )
    assert int(rec["hints"][..., 3].astype(bool).sum()) > 0, "a hint-free example would test little"
    col = LocalColorizer(model, backend="onnx", device="cpu")
    seen = _stage_inputs_seen(col, monkeypatch, rec["lines"], rec["hints"], working_size=64)
    h, w = working_shape((96, 128), 64)
    assert seen["draft"].shape == (item["x"].shape[0], h, w)
    np.testing.assert_allclose(item["x"][:, :h, :w], seen["draft"], atol=1e-5)
    assert item["valid"][0, :h, :w].all() and not item["valid"][0, h:].any()


def test_refine_inputs_match_the_engine_at_inference(tmp_path, monkeypatch):
    """The refinement example's input is exactly what the engine feeds its refinement stage."""
    from engine.generator import UNetGenerator
    from engine.pipeline import LocalColorizer
    from training.batch import torch_draft_fn
    from training.export import export_model

    torch.manual_seed(0)
    dcfg = cfgmod.draft_generator(True, widths=(8, 16))
    rcfg = cfgmod.refine_generator(True, widths=(8, 16))
    nets = {"draft": UNetGenerator(dcfg).eval(), "refine": UNetGenerator(rcfg).eval()}
    for p in nets["draft"].head.parameters():  # a draft that is not just its base
        torch.nn.init.normal_(p, std=0.5)
    inputs = {"draft": cfgmod.draft_inputs(True), "refine": cfgmod.refine_inputs(True)}
    model = export_model(nets, inputs, tmp_path / "m", "m", "0")

    # working size 64 for a 96×128 image: the draft is upsampled 2× as for large images
    cfg = replace(
        tiny("refine", draft_checkpoint="x"),
        data=replace(TINY_DATA, crop=128, working_max=64, max_upscale=2.0, crops_per_image=1),
    )
    rec: dict = {}
    rgb = standin_images(1).image(0)
    (item,) = refine_examples(
        rgb,
        np.random.default_rng(3),
        cfg,
        _recording(STANDIN, rec),
        torch_draft_fn(nets["draft"]),
        inputs["draft"],
    )
    col = LocalColorizer(model, backend="torch")
    seen = _stage_inputs_seen(col, monkeypatch, rec["lines"], rec["hints"], working_size=64)
    np.testing.assert_allclose(item["x"][:, :96, :128], seen["refine"], atol=1e-5)


# ---- GAN steps --------------------------------------------------------------------------------


def _draft_for(stage: str, tmp_path, n_images: int) -> dict:
    """Config overrides for ``stage``: a refinement needs a (one-step) draft run to draw from."""
    if stage != "refine":
        return {}
    train(
        tiny("draft", steps=1),
        tmp_path / "d",
        standin_images(n_images),
        standin_images(2, 1),
        STANDIN,
        progress=False,
    )
    return {"draft_checkpoint": str(tmp_path / "d")}


@pytest.mark.parametrize("stage", ["draft", "refine"])
def test_two_steps_of_each_stage_give_finite_losses(tmp_path, stage):
    extra = _draft_for(stage, tmp_path, 3)
    summary = train(
        tiny(stage, **extra),
        tmp_path / stage,
        standin_images(3),
        standin_images(2, 1),
        STANDIN,
        progress=False,
    )
    assert summary["step"] == 2
    for key in ("l1", "g_adv", "d_loss", "val_l1"):
        assert math.isfinite(summary[key]), key
    assert list((tmp_path / stage / "samples").glob("*.png"))
    assert (tmp_path / stage / "config.toml").is_file()
    assert cfgmod.load(tmp_path / stage / "config.toml") == tiny(stage, **extra)


# with the fill (or the draft) as residual base the net starts close to the target, so the margin
# is smaller than from scratch
@pytest.mark.parametrize(
    ("stage", "fill", "factor"), [("draft", False, 0.9), ("draft", True, 0.97), ("refine", True, 0.97)]
)
def test_overfitting_one_batch_lowers_l1(tmp_path, stage, fill, factor):
    extra = _draft_for(stage, tmp_path, 2)
    cfg = tiny(stage, fill, **extra)
    cfg = replace(cfg, optim=replace(cfg.optim, lr=2e-3))
    torch.manual_seed(0)
    ds = Examples(cfg, standin_images(2), STANDIN, draft_loader=_loader(extra))
    batch = fixed_batch(ds, 4)
    gan = Gan(cfg)
    l1 = [gan.step(batch)["l1"] for _ in range(20)]
    assert all(math.isfinite(v) for v in l1)
    assert np.mean(l1[-3:]) < factor * l1[0], l1
    assert np.mean(l1[-5:]) < np.mean(l1[5:10]) < np.mean(l1[:5]), l1


def _loader(extra):
    if "draft_checkpoint" not in extra:
        return None

    def load():
        net, c = checkpoint.load_generator(extra["draft_checkpoint"])
        return net, c.inputs, c.data.spread

    return load


# ---- checkpoints and resume --------------------------------------------------------------------


def test_checkpoint_round_trip(tmp_path):
    cfg = tiny("draft")
    torch.manual_seed(0)
    ds = Examples(cfg, standin_images(2), STANDIN)
    batch = fixed_batch(ds, 4)
    a = Gan(cfg)
    a.step(batch)
    path = checkpoint.save(a, tmp_path / "ckpt-0000001.safetensors")
    torch.manual_seed(1)  # different initial weights: everything must come from the file
    b = Gan(cfg)
    assert checkpoint.load(b, path) == 1
    for (ka, va), (kb, vb) in zip(a.G.state_dict().items(), b.G.state_dict().items(), strict=True):
        assert ka == kb and torch.equal(va, vb)
    sa, sb = a.opt_g.state_dict(), b.opt_g.state_dict()
    assert sa["param_groups"] == sb["param_groups"]
    for i in sa["state"]:
        for k in sa["state"][i]:
            assert torch.equal(sa["state"][i][k], sb["state"][i][k])
    assert a.step(batch) == b.step(batch)  # identical next step
    net, saved = checkpoint.load_generator(path)
    assert saved == cfg and not net.training
    with open(path, "rb") as f:
        header = f.read(4096)
    assert b"pickle" not in header


def test_resume_gives_identical_next_step_losses(tmp_path):
    data, val = standin_images(3), standin_images(2, 1)
    full = train(tiny("draft", steps=4), tmp_path / "full", data, val, STANDIN, progress=False)
    train(tiny("draft", steps=2), tmp_path / "part", data, val, STANDIN, progress=False)
    resumed = train(tiny("draft", steps=4), tmp_path / "part", data, val, STANDIN, progress=False)
    assert resumed["step"] == full["step"] == 4

    def steps(run):
        lines = (tmp_path / run / "log.jsonl").read_text().splitlines()
        return {r["step"]: r for r in map(json.loads, lines)}

    a, b = steps("full"), steps("part")
    for step in (3, 4):
        for key in ("l1", "g_adv", "d_loss"):
            assert a[step][key] == pytest.approx(b[step][key], rel=1e-6, abs=1e-7), (step, key)


def test_resume_refuses_a_different_config(tmp_path):
    data, val = standin_images(2), standin_images(2, 1)
    train(tiny("draft", steps=1), tmp_path / "r", data, val, STANDIN, progress=False)
    with pytest.raises(ValueError, match="different configuration.*seed"):
        train(tiny("draft", steps=2, seed=5), tmp_path / "r", data, val, STANDIN, progress=False)


# ---- fine-tuning ------------------------------------------------------------------------------


def test_finetune_measures_before_and_after_on_held_out_images(tmp_path):
    from PIL import Image

    from engine.modelspec import load_manifest
    from training.corpus import load_manifest as corpus_rows
    from training.export import random_model
    from training.finetune import FinetuneConfig, finetune

    base = random_model(tmp_path / "base", name="base")
    folder = tmp_path / "mine"
    folder.mkdir()
    for i, img in enumerate(standin_images(6, seed=3, h=96, w=128).images):
        Image.fromarray(img).save(folder / f"art{i}.png")
    cfg = FinetuneConfig(minutes=0.05, crop=64, batch=4, holdout=0.34, threads=1, keep="always")
    report = finetune(folder, str(base), tmp_path / "out", "mine", cfg, work_dir=tmp_path / "work")

    assert report.n_holdout == 2 and report.n_train >= 1
    assert report.steps["draft"] >= 1 and report.steps["refine"] >= 1
    held = {r["id"] for r in corpus_rows(tmp_path / "work" / "corpus", "val")}
    trained = {r["id"] for r in corpus_rows(tmp_path / "work" / "corpus", "train")}
    assert held and not held & trained
    assert {r["density"] for r in report.before} == {r["density"] for r in report.after} == {"sparse", "full"}
    for d, g in report.gain().items():
        assert math.isfinite(g["psnr"]) and math.isfinite(g["de00"]), d
    m = load_manifest(tmp_path / "out", verify=True)
    assert m.name == "mine" and m.version == "0.0.0+ft"
    assert "before" in report.table() and "after" in report.table()


def test_near_channel_config_and_widened_start_match_the_old_model(tmp_path):
    from engine.generator import UNetGenerator
    from training.train import _widen_inputs

    cfg = cfgmod.default_config("draft", near=True)
    assert cfg.inputs[-1] == "near_rgb" and cfg.generator.in_channels == 16
    assert cfg.generator.base_rgb == cfgmod.default_config("draft").generator.base_rgb
    with pytest.raises(ValueError, match="near_rgb.*spread"):
        cfgmod.default_config("draft", spread=False, near=True)

    torch.manual_seed(0)
    old = UNetGenerator(replace(cfgmod.draft_generator(True), widths=(8, 16))).eval()
    wide = UNetGenerator(replace(cfgmod.draft_generator(True, near=True), widths=(8, 16))).eval()
    state = {k: v.clone() for k, v in old.state_dict().items()}
    _widen_inputs(wide, state)
    wide.load_state_dict(state)
    x = torch.rand(2, 13, 32, 32)
    with torch.no_grad():
        same = wide(torch.cat([x, torch.rand(2, 3, 32, 32)], 1))
        assert torch.allclose(old(x), same, atol=1e-6)  # new planes start with zero weights
    narrow = UNetGenerator(replace(cfgmod.draft_generator(True, spread=False), widths=(8, 16)))
    with pytest.raises(ValueError, match="cannot start"):
        _widen_inputs(narrow, {k: v.clone() for k, v in wide.state_dict().items()})


def test_lab_l1_space_matches_skimage_and_unknown_space_is_refused():
    from skimage.color import rgb2lab

    from training.gan import rgb_to_lab

    rgb = np.random.default_rng(0).random((4, 6, 3)).astype(np.float32)
    rgb[0, 0] = (0.0, 0.0, 0.0)  # the dark, linear branch of sRGB
    ours = rgb_to_lab(torch.from_numpy(rgb).permute(2, 0, 1)[None])[0].permute(1, 2, 0).numpy() * 100
    assert np.abs(ours - rgb2lab(rgb)).max() < 0.02
    cfg = tiny("draft", True)
    gan = Gan(replace(cfg, optim=replace(cfg.optim, l1_space="lab")))
    batch = fixed_batch(Examples(cfg, standin_images(2), STANDIN), 2)
    assert math.isfinite(gan.step(batch)["l1"])
    with pytest.raises(ValueError, match="l1_space 'xyz'; valid: lab, rgb"):
        Gan(replace(cfg, optim=replace(cfg.optim, l1_space="xyz")))


def test_init_head_scale_shrinks_the_started_head_and_nothing_else(tmp_path):
    from safetensors.torch import save_file

    from training.train import _init_weights

    cfg = cfgmod.default_config("draft")
    cfg = replace(cfg, generator=replace(cfg.generator, widths=(8, 16)))
    torch.manual_seed(0)
    src = Gan(cfg).G.state_dict()
    with torch.no_grad():
        src["head.bias"].fill_(0.3)  # a trained head has a bias; the scaled start has none
    save_file({k: v.contiguous() for k, v in src.items()}, tmp_path / "draft.safetensors")

    gan = Gan(cfg)
    _init_weights(gan, str(tmp_path / "draft.safetensors"), head_scale=0.05)
    got = gan.G.state_dict()
    assert torch.allclose(got["head.weight"], 0.05 * src["head.weight"])
    assert not got["head.bias"].any()
    assert all(torch.equal(got[k], src[k]) for k in src if not k.startswith("head."))

    with pytest.raises(ValueError, match="set init_weights"):
        replace(cfg, init_head_scale=0.5)
    with pytest.raises(ValueError, match=r"not in \[0, 1\]"):
        replace(cfg, init_weights="x.safetensors", init_head_scale=2.0)


def test_flat_loss_counts_only_where_the_flats_are_right():
    cfg = cfgmod.default_config("draft", True, regions=True, data=TINY_DATA, batch=2, threads=1)
    cfg = replace(cfg, generator=replace(cfg.generator, widths=(8, 16)))
    cfg = replace(cfg, optim=replace(cfg.optim, l1_space="rgb", flat_weight=2.0))
    gan = Gan(cfg)
    x = torch.zeros(2, cfg.generator.in_channels, 32, 32)
    x[:, cfgmod.plane_offset(cfg.inputs, "line")] = 1.0
    fm, fc = cfgmod.plane_offset(cfg.inputs, "flat_mask"), cfgmod.plane_offset(cfg.inputs, "flat_rgb")
    x[:, fm, :, :16] = 1.0  # the flats paint the left half 0.5 grey
    x[:, fc : fc + 3, :, :16] = 0.5
    y = torch.full((2, 3, 32, 32), 0.5)
    y[:, :, :8] = 0.9  # the truth differs from the flats in the top rows
    valid = torch.ones(2, 1, 32, 32)
    right = gan.right_flats(x, y)
    assert right[:, 0, 8:, :16].all() and not right[:, 0, :8].any() and not right[:, 0, :, 16:].any()
    off = y.clone()
    off += 0.1  # departs by 0.1 everywhere: counted on the 24 x 16 right pixels only
    assert gan.flat_l1(x, off, y, valid).item() == pytest.approx(0.1 * 24 * 16 / (32 * 32), rel=1e-4)
    assert gan.flat_l1(x, y, y, valid).item() == 0.0
    # and a step with it reports the term
    batch = {"x": x, "y": y, "valid": valid}
    assert gan.step(batch)["flat_l1"] >= 0.0
