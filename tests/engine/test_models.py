import json

import pytest

from engine import LocalColorizer, ModelError, models
from engine.modelspec import load_manifest


def test_manifest_round_trip(random_model_dir):
    m = load_manifest(random_model_dir)
    assert set(m.stages) == {"draft", "refine"}
    assert m.stages["refine"].inputs[-1] == "draft_rgb"
    assert len(m.stages["draft"].onnx_sha256) == 64


def test_tampered_onnx_is_refused(model_copy_factory):
    d = model_copy_factory()
    with open(d / "draft.onnx", "r+b") as f:
        f.seek(100)
        b = f.read(1)
        f.seek(100)
        f.write(bytes([b[0] ^ 0xFF]))
    with pytest.raises(ModelError, match="checksum"):
        LocalColorizer(d)


def test_missing_file_is_refused(model_copy_factory):
    d = model_copy_factory()
    (d / "refine.safetensors").unlink()
    with pytest.raises(ModelError, match="missing"):
        load_manifest(d)


def test_inconsistent_manifest_is_refused(model_copy_factory):
    d = model_copy_factory()
    raw = json.loads((d / "manifest.json").read_text())
    raw["stages"]["draft"]["inputs"] = ["line"]
    (d / "manifest.json").write_text(json.dumps(raw))
    with pytest.raises(ModelError, match="channels"):
        load_manifest(d)


def test_no_model_installed_message(monkeypatch, tmp_path):
    monkeypatch.setattr(models, "search_dirs", lambda: [tmp_path / "none"])
    with pytest.raises(ModelError, match="no model is installed"):
        models.resolve(None)


def test_unknown_model_lists_installed(monkeypatch, random_model_dir):
    monkeypatch.setenv(models.ENV_PATH, str(random_model_dir.parent))
    assert models.resolve("inkhue-random") == random_model_dir
    with pytest.raises(ModelError, match="installed: .*inkhue-random"):
        models.resolve("nope")
