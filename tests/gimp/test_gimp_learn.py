"""Filters → AI Colorize: Learn from This Document in real GIMP 3 (drive_learn.py runs it): the
image's line art and the colour under it land in the style folder as the pair the ORA reader makes
of the same layers, and ``finetune --documents`` reads it. Skipped only with INKHUE_SKIP_GIMP=1."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.gimp import harness

pytestmark = pytest.mark.skipif(
    os.environ.get("INKHUE_SKIP_GIMP") == "1", reason="INKHUE_SKIP_GIMP=1: real-GIMP tests skipped"
)


@pytest.fixture(scope="module")
def learned(tmp_path_factory):
    from tests.training.test_documents import scene

    root = harness.chroot_root()
    harness.ensure_chroot(root)
    layers = scene(8)
    h, w = layers["Lines"].shape[:2]
    out = tmp_path_factory.mktemp("gimp-learn")
    with harness.workdir(root) as (host, inside):
        for name, rgba in layers.items():
            (host / f"{name}.rgba").write_bytes(rgba.tobytes())
        spec = {
            "canvas": [w, h],
            "layers": [{"name": n, "file": f"{n}.rgba", "visible": n != "Sketch"} for n in layers],
        }
        (host / "spec.json").write_text(json.dumps(spec))
        env = {"INKHUE_GIMP_DATA": inside, "INKHUE_STYLE_DIR": f"{inside}/style"}
        proc = harness.run_batch(root, harness.HERE / "drive_learn.py", env, timeout=120)
        log = (proc.stdout + proc.stderr).decode(errors="replace")
        assert proc.returncode == 0 and (host / "result.json").is_file(), log[-4000:]
        rec = json.loads((host / "result.json").read_text())
        if (host / "style").is_dir():
            shutil.copytree(host / "style", out / "style")
    return rec, out / "style", layers, log


def test_learn_saves_a_pair_per_run_and_leaves_the_image_alone(learned):
    rec, style, _, log = learned
    assert rec["proc_found"]
    assert [r["status"] for r in rec["runs"]] == ["success", "success"], rec["runs"]
    assert rec["after"] == rec["before"] and rec["images_added"] == 0  # the duplicate is deleted
    lines = sorted(style.glob("*.lines.png"))
    assert len(lines) == 2
    assert all(p.with_name(p.name.replace(".lines.", ".colour.")).is_file() for p in lines)
    assert "(2 there)" in log and "finetune --documents" in log  # GIMP's message on the console


def test_the_saved_pair_is_the_line_art_and_the_colour_under_it(learned):
    from tests.training.test_documents import expected_pair
    from training.documents import png_pair

    _, style, layers, _ = learned
    rgb, luma = png_pair(sorted(style.glob("*.lines.png"))[0])
    want_rgb, want_luma = expected_pair(layers)  # hints and the hidden sketch left out
    assert np.abs(rgb.astype(int) - want_rgb).max() <= 2
    assert np.abs(luma.astype(int) - want_luma).max() <= 2


def test_finetune_reads_the_style_folder(learned, tmp_path):
    from training.documents import pair_rows

    _, style, _, _ = learned
    assert len(pair_rows(Path(style), tmp_path / "corpus", max_side=64)) == 1
