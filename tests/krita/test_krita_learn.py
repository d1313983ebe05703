"""Filter > AI Colorize: Learn from This Document in real Krita (scripts/learn.py drives it): the
document's line art and the colour under it land in the style folder as a pair that
``finetune --documents`` reads, the same pair the ORA reader makes of the same layers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import kritarun
import numpy as np
import pytest

pytestmark = pytest.mark.needs_krita


@pytest.fixture(scope="module")
def learned(krita_available, tmp_path_factory):
    from tests.training.test_documents import scene

    base = tmp_path_factory.mktemp("krita-learn")
    inputs, out, home, style = base / "in", base / "out", base / "home", base / "style"
    inputs.mkdir()
    layers = scene(7)
    for name, rgba in layers.items():
        (inputs / f"{name}.rgba").write_bytes(rgba.tobytes())
    h, w = layers["Lines"].shape[:2]
    (inputs / "scenario.json").write_text(json.dumps({"width": w, "height": h}), encoding="utf-8")
    kritarun.make_home(home)
    root = os.environ.get("INKHUE_KRITA_ROOT")
    env = {"INKHUE_KRITA_INPUT": str(inputs), "INKHUE_STYLE_DIR": str(style)}
    run = kritarun.run_script(kritarun.SCRIPTS / "learn.py", out, home, env, root=root and Path(root))
    assert run.ok, run.explain()
    return run.result, style, layers


def test_learn_saves_a_pair_per_trigger_and_leaves_the_document_alone(learned):
    res, style, _ = learned
    assert res["text"] == "AI Colorize: Learn from This Document"
    lines = sorted(style.glob("*.lines.png"))
    assert len(lines) == 2 and all(p.name.startswith("my-picture-") for p in lines)
    assert all(p.with_name(p.name.replace(".lines.", ".colour.")).is_file() for p in lines)
    assert res["layers_after"] == res["layers_before"] and res["documents"] == 1  # the clone is closed
    assert str(style) in res["message"] and "(2 there)" in res["message"]


def test_the_saved_pair_is_the_line_art_and_the_colour_under_it(learned):
    from tests.training.test_documents import expected_pair
    from training.documents import png_pair

    _, style, layers = learned
    rgb, luma = png_pair(sorted(style.glob("*.lines.png"))[0])
    want_rgb, want_luma = expected_pair(layers)  # hints and the hidden sketch left out
    assert np.abs(rgb.astype(int) - want_rgb).max() <= 2
    assert np.abs(luma.astype(int) - want_luma).max() <= 2


def test_finetune_reads_the_style_folder(learned, tmp_path):
    from training.documents import pair_rows

    _, style, _ = learned
    rows = pair_rows(style, tmp_path / "corpus", max_side=64)
    assert len(rows) == 1  # the two saves of one picture are one training pair
