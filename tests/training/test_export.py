"""Export: training runs → an engine model folder (ONNX + safetensors + manifest), torch == ORT."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from engine.errors import ModelError  # noqa: E402
from engine.modelspec import load_manifest  # noqa: E402
from tests._train_fixtures import STANDIN, standin_hints, standin_images, standin_lines  # noqa: E402
from training import config as cfgmod  # noqa: E402
from training.train import train  # noqa: E402

DATA = cfgmod.DataConfig(crop=64, working_min=64, working_max=128, crops_per_image=2)


def _runs(tmp_path, data_cfg=DATA):
    common = dict(
        batch=4, steps=1, log_every=1, sample_every=1, checkpoint_every=1, val_images=2, data=data_cfg
    )
    d = cfgmod.default_config("draft", **common)
    d = replace(d, generator=replace(d.generator, widths=(8, 16)))
    r = cfgmod.default_config("refine", draft_checkpoint=str(tmp_path / "d"), **common)
    r = replace(r, generator=replace(r.generator, widths=(8, 16)))
    data, val = standin_images(2), standin_images(2, 1)
    train(d, tmp_path / "d", data, val, STANDIN, progress=False)
    train(r, tmp_path / "r", data, val, STANDIN, progress=False)
    return tmp_path / "d", tmp_path / "r"


def test_export_runs_to_a_verified_model_where_onnx_matches_torch(tmp_path):
    from engine.generator import UNetGenerator
    from engine.pipeline import LocalColorizer
    from training.cli import main
    from training.export import parity

    draft, refine = _runs(tmp_path)
    out = tmp_path / "model"
    args = ["export", "--draft", str(draft), "--refine", str(refine), "--out", str(out), "--name", "t"]
    assert main(args) == 0
    m = load_manifest(out, verify=True)  # every sha256 checked
    assert m.name == "t"
    assert m.stages["draft"].inputs == cfgmod.draft_inputs(True)
    assert m.stages["refine"].inputs == cfgmod.refine_inputs(True)
    assert m.stages["draft"].generator.base_rgb == 9 and m.stages["refine"].generator.base_rgb == 9
    raw = json.loads((out / "manifest.json").read_text())
    assert len(raw["stages"]["draft"]["onnx_sha256"]) == 64

    # the exported stage reproduces the trained generator, on a side the export never saw
    from training.checkpoint import load_generator

    net, _ = load_generator(refine)
    assert parity(net, out / "refine.onnx", side=96) < 1e-4
    again = UNetGenerator(m.stages["draft"].generator)
    from safetensors.torch import load_file

    again.load_state_dict(load_file(str(out / "draft.safetensors")))
    assert parity(again.eval(), out / "draft.onnx", side=64) < 1e-4

    # whole pipeline: ONNX Runtime and torch backends agree on a real image
    rng = np.random.default_rng(0)
    rgb = standin_images(1, 5, 100, 140).image(0)
    lineart, hints = standin_lines(rgb, rng), standin_hints(rgb, rng)
    a = LocalColorizer(out, backend="onnx").colorize(lineart, hints, working_size=64)
    b = LocalColorizer(out, backend="torch").colorize(lineart, hints, working_size=64)
    assert a.shape == (100, 140, 3)
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1


def test_export_refuses_swapped_stages(tmp_path):
    from training.export import export_runs

    draft, refine = _runs(tmp_path)
    with pytest.raises(ModelError, match="expected a draft and a refinement run"):
        export_runs(refine, draft, tmp_path / "m", "t", "0")


def test_export_records_the_spread_the_draft_was_trained_with(tmp_path):
    from engine.channels import SpreadParams
    from engine.pipeline import LocalColorizer
    from training.export import export_runs

    draft, refine = _runs(tmp_path, replace(DATA, spread_fade=0.7, spread_ink_cost=50.0))
    out = export_runs(draft, refine, tmp_path / "m", "t", "0")
    assert load_manifest(out).spread == SpreadParams(fade=0.7, ink_cost=50.0)

    # the pipeline spreads with the manifest's values: other values, other output
    rng = np.random.default_rng(1)
    rgb = standin_images(1, 5, 96, 96).image(0)
    lineart, hints = standin_lines(rgb, rng), standin_hints(rgb, rng)
    a = LocalColorizer(out).colorize(lineart, hints, working_size=64, compose_lines=False)
    raw = json.loads((out / "manifest.json").read_text())
    raw["spread"] = {"fade": 0.05, "ink_cost": 50.0}
    (out / "manifest.json").write_text(json.dumps(raw))
    b = LocalColorizer(out).colorize(lineart, hints, working_size=64, compose_lines=False)
    assert np.abs(a.astype(int) - b.astype(int)).mean() > 1.0

    raw["spread"] = {"fade": 0.0}
    (out / "manifest.json").write_text(json.dumps(raw))
    with pytest.raises(ModelError, match="malformed model manifest.*fade"):
        load_manifest(out)
