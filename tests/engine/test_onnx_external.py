"""Issue 19.14: the files an ONNX graph keeps its tensors in (external data) are confined to the
model folder and checksummed like the graph itself, or refused when the manifest does not list them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.cli import main
from engine.errors import ModelError
from engine.modelspec import load_manifest, sha256_file, write_manifest
from engine.onnx_refs import external_data_files

onnx = pytest.importorskip("onnx")

WEIGHTS = "refine.weights"


def _externalise(model: Path, location: str = WEIGHTS, list_it: bool = True) -> dict:
    """Re-save the refine graph with its tensors in ``location``; list it in the manifest or not."""
    graph = onnx.load(model / "refine.onnx")
    onnx.save_model(
        graph, model / "refine.onnx", save_as_external_data=True, location=WEIGHTS, size_threshold=0
    )
    if location != WEIGHTS:  # point every tensor elsewhere (the bytes stay in refine.weights)
        graph = onnx.load(model / "refine.onnx", load_external_data=False)
        for tensor in onnx.external_data_helper._get_all_tensors(graph):
            for entry in tensor.external_data:
                if entry.key == "location":
                    entry.value = location
        onnx.save_model(graph, model / "refine.onnx")
    manifest = json.loads((model / "manifest.json").read_text())
    stage = manifest["stages"]["refine"]
    stage["onnx_sha256"] = sha256_file(model / "refine.onnx")
    if list_it:
        stage["onnx_external"] = {WEIGHTS: sha256_file(model / WEIGHTS)}
    (model / "manifest.json").write_text(json.dumps(manifest))
    return manifest


def test_external_data_listed_with_its_checksum_loads_and_colours_the_same(model_copy_factory, tmp_path):
    from tests.conftest import lineart_and_hints

    model = model_copy_factory()
    line, hints = lineart_and_hints(64, 64)
    for name, arr in (("line.png", line), ("hints.png", hints)):
        from PIL import Image

        Image.fromarray(arr).save(tmp_path / name)
    args = ["colorize", str(tmp_path / "line.png"), "--hints", str(tmp_path / "hints.png"), "--model"]
    assert main([*args, str(model), "-o", str(tmp_path / "before.png")]) == 0
    _externalise(model)
    assert external_data_files(model / "refine.onnx") == {WEIGHTS}
    assert load_manifest(model).stages["refine"].onnx_external == {WEIGHTS: sha256_file(model / WEIGHTS)}
    assert main([*args, str(model), "-o", str(tmp_path / "after.png")]) == 0
    from engine.imageio import read_image

    assert np.array_equal(read_image(tmp_path / "before.png"), read_image(tmp_path / "after.png"))


def test_write_manifest_lists_external_data(model_copy_factory):
    from engine.modelspec import GeneratorConfig

    model = model_copy_factory()
    manifest = _externalise(model, list_it=False)
    stages = {
        name: {
            "inputs": st["inputs"],
            "generator": GeneratorConfig.from_dict(st["generator"]),
            "onnx": st["onnx"],
        }
        for name, st in manifest["stages"].items()
    }
    write_manifest(model, "m", "1", stages)
    written = json.loads((model / "manifest.json").read_text())["stages"]
    assert written["refine"]["onnx_external"] == {WEIGHTS: sha256_file(model / WEIGHTS)}
    assert "onnx_external" not in written["draft"]
    load_manifest(model)


def test_unlisted_external_data_is_refused(model_copy_factory, tmp_path, caplog):
    model = model_copy_factory()
    _externalise(model, list_it=False)
    with pytest.raises(ModelError, match="does not list"):
        load_manifest(model)
    line = tmp_path / "line.png"
    from PIL import Image

    Image.fromarray(np.full((32, 32, 3), 255, np.uint8)).save(line)
    assert main(["colorize", str(line), "--model", str(model), "-o", str(tmp_path / "o.png")]) == 3
    assert "does not list" in caplog.text and "Traceback" not in caplog.text


def test_modified_external_data_fails_its_checksum(model_copy_factory):
    model = model_copy_factory()
    _externalise(model)
    with open(model / WEIGHTS, "r+b") as f:
        f.seek(100)
        f.write(b"\xff\xfe")
    with pytest.raises(ModelError, match="fails its checksum"):
        load_manifest(model)
    load_manifest(model, verify=False)  # listing models does not read the files
    from installer.engine_env import verify_model_files

    assert [p for p in verify_model_files(model) if WEIGHTS in p and "sha256" in p]


@pytest.mark.parametrize("where", ["../outside.weights", "/etc/passwd", "link.weights"])
def test_external_data_outside_the_model_folder_is_refused(model_copy_factory, where):
    model = model_copy_factory()
    (model.parent / "outside.weights").write_bytes(b"x")
    (model / "link.weights").symlink_to(model.parent / "outside.weights")
    _externalise(model, location=where, list_it=False)
    with pytest.raises(ModelError, match="outside the model folder"):
        load_manifest(model)
    manifest = json.loads((model / "manifest.json").read_text())
    manifest["stages"]["refine"]["onnx_external"] = {where: "0" * 64}  # listed: refused all the same
    (model / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="outside the model folder"):
        load_manifest(model, verify=False)


def test_a_corrupt_graph_is_a_model_error(tmp_path):
    (tmp_path / "bad.onnx").write_bytes(b"\x3a\xff\xff\xff\xff\x0f")  # a field longer than the file
    with pytest.raises(ModelError, match="not a valid ONNX file"):
        external_data_files(tmp_path / "bad.onnx")
    (tmp_path / "empty.onnx").write_bytes(b"")
    assert external_data_files(tmp_path / "empty.onnx") == set()
