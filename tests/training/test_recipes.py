"""The committed training recipes are the ones the shipped model was trained with."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

pytest.importorskip("torch")

from engine.modelspec import load_manifest  # noqa: E402
from training import config as cfgmod  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RECIPES = ROOT / "training" / "recipes" / "inkhue-default"
SHIPPED = ROOT / "engine" / "models" / "inkhue-default"


def _recipes() -> dict[str, cfgmod.TrainConfig]:
    return {p.stem: cfgmod.load(p) for p in sorted(RECIPES.glob("*.toml"))}


def test_every_recipe_loads_and_trains_for_a_fixed_number_of_steps():
    recipes = _recipes()
    assert len(recipes) == 6
    for name, cfg in recipes.items():
        # wall-time bounds would give a different model on faster hardware
        assert cfg.max_minutes == 0.0, name
        assert cfg.steps > 0, name
        assert not Path(cfg.data.corpus_dir).is_absolute(), name


def test_the_last_draft_and_the_refine_recipe_match_the_shipped_manifest():
    recipes = _recipes()
    manifest = load_manifest(SHIPPED, verify=False)
    draft = recipes["5-draft-1"]
    refine = recipes["6-refine-1"]
    assert draft.stage == "draft" and refine.stage == "refine"
    assert draft.inputs == manifest.stages["draft"].inputs
    assert draft.generator == manifest.stages["draft"].generator
    assert draft.data.spread == manifest.spread
    assert refine.inputs == manifest.stages["refine"].inputs
    assert refine.generator == manifest.stages["refine"].generator


def test_recipes_start_from_earlier_recipes_and_keep_the_licence_constrained_sources_out():
    recipes = _recipes()
    order = list(recipes)
    for i, (name, cfg) in enumerate(recipes.items()):
        for path in (cfg.init_weights, cfg.draft_checkpoint):
            if path:
                # e.g. runs/inkhue-default/draft-b/ckpt-...: the run of recipe 2-draft-b
                run = Path(path).parts[2]
                earlier = [n.split("-", 1)[1] for n in order[:i]]
                assert run in earlier, (name, path)
        # share-alike / GPL artwork stays out of the shipped weights (training/DATA.md)
        assert {"openmoji", "tuxpaint-stamps-default"} <= set(cfg.data.exclude_sources), name


def test_experiment_recipes_load_and_keep_the_licence_constrained_sources_out():
    folder = ROOT / "training" / "recipes" / "experiments"
    recipes = {p.stem: cfgmod.load(p) for p in sorted(folder.glob("*.toml"))}
    assert recipes and (folder / "README.md").is_file()
    readme = (folder / "README.md").read_text()
    for name, cfg in recipes.items():
        assert f"{name}.toml" in readme, name  # each says what question it answers
        assert cfg.max_minutes == 0.0 and cfg.steps > 0, name
        assert {"openmoji", "tuxpaint-stamps-default"} <= set(cfg.data.exclude_sources), name
    # the ablation differs from the shipped draft's recipe by the spread planes alone
    shipped = cfgmod.load(RECIPES / "5-draft-1.toml")
    ablation = recipes["5-draft-1-no-spread"]
    assert set(shipped.inputs) - set(ablation.inputs) == {"spread_rgb", "spread_mask"}
    assert (ablation.data, ablation.optim, ablation.steps) == (shipped.data, shipped.optim, shipped.steps)
    assert ablation.generator == replace(shipped.generator, in_channels=shipped.generator.in_channels - 4)
