"""``inkhue export --triton DIR --python-backend``: Triton's Python backend gives the engine's bytes.

The model class runs against a faithful stand-in for ``triton_python_backend_utils``
(tests/triton_stub), loaded from the exported repository as Triton loads it (tests/triton_harness.py),
with the shipped model: every channel, the tiles and the options are the engine's own code.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.models import BUNDLED_DIR
from tests.service_helpers import drawing
from tests.triton_harness import Triton, pb_utils

SHIPPED = BUNDLED_DIR / "inkhue-default"
HARNESS = Path(__file__).resolve().parents[1] / "triton_harness.py"


@pytest.fixture(scope="module", name="repo")
def repo_fixture(tmp_path_factory):
    from engine.cli import main

    out = tmp_path_factory.mktemp("triton-python")
    assert main(["export", "--triton", str(out), "--python-backend", "--model", str(SHIPPED)]) == 0
    return out / "inkhue"


@pytest.fixture(scope="module", name="triton")
def triton_fixture(repo):
    return Triton(repo)


@pytest.fixture(scope="module", name="engine_colorizer")
def engine_colorizer_fixture():
    from engine.pipeline import LocalColorizer

    return LocalColorizer(SHIPPED)


def test_repository_layout(repo):
    config = (repo / "config.pbtxt").read_text()
    assert 'backend: "python"' in config and "max_batch_size: 0" in config
    assert 'name: "HINTS" data_type: TYPE_UINT8 dims: [ -1, -1, 4 ] optional: true' in config
    assert 'name: "COLOR" data_type: TYPE_UINT8 dims: [ -1, -1, -1 ]' in config
    assert (repo / "1" / "model.py").is_file() and (repo / "1" / "engine" / "pipeline.py").is_file()
    assert not (repo / "1" / "engine" / "models").exists()  # the model travels once, beside
    manifest = json.loads((repo / "1" / "inkhue-model" / "manifest.json").read_text())
    assert manifest == json.loads((SHIPPED / "manifest.json").read_text())


CASES = [  # (h, w, seed, options): odd sizes; tiles and a downscaled draft; every option the server takes
    (96, 128, 0, {}),
    (200, 300, 1, {"tile": 128, "working_size": 64}),
    (120, 90, 2, {"transparent": True}),
    (77, 101, 3, {"compose_lines": False, "gap": 3}),
    (64, 80, 4, {"method": "flats"}),
    (64, 80, 5, {"method": "flats", "transparent": True}),
]


@pytest.mark.parametrize("h, w, seed, options", CASES)
def test_bytes_equal_the_engine(triton, engine_colorizer, h, w, seed, options):
    lineart, hints = drawing(h, w, seed)
    (response,) = triton.infer([triton.request({"LINEART": lineart, "HINTS": hints}, options)])
    assert not response.has_error(), response.error().message()
    color = pb_utils.get_output_tensor_by_name(response, "COLOR").as_numpy()
    ref = engine_colorizer.colorize(lineart, hints, **options)
    assert color.dtype == np.uint8 and color.shape == ref.shape
    assert color.tobytes() == ref.tobytes()


def test_hints_are_optional(triton, engine_colorizer):
    lineart, _ = drawing(50, 70, 6)
    (response,) = triton.infer([triton.request({"LINEART": lineart})])
    color = pb_utils.get_output_tensor_by_name(response, "COLOR").as_numpy()
    assert color.tobytes() == engine_colorizer.colorize(lineart).tobytes()


def test_a_bad_request_fails_alone(triton, engine_colorizer):
    """Several requests in one execute(): each gets its own answer, in order; bad ones INVALID_ARG."""
    lineart, hints = drawing(60, 40, 7)
    requests = [
        triton.request({"LINEART": lineart, "HINTS": hints}),
        triton.request({"LINEART": lineart, "HINTS": hints}, {"colour": 1}),
        triton.request({"LINEART": lineart, "HINTS": hints[:30]}),
        triton.request({"LINEART": lineart, "HINTS": hints}, {"tile": 5}),
        triton.request({"LINEART": lineart}, {"binary_data_output": True, "transparent": True}),
    ]
    ok, unknown, mismatch, out_of_range, transparent = triton.infer(requests)
    ref = engine_colorizer.colorize(lineart, hints)
    assert pb_utils.get_output_tensor_by_name(ok, "COLOR").as_numpy().tobytes() == ref.tobytes()
    for bad, words in ((unknown, "unknown option(s) colour"), (mismatch, "'HINTS' has shape [30, 40, 4]"),
                       (out_of_range, "option 'tile'")):  # fmt: skip
        assert bad.has_error() and not bad.output_tensors()
        assert bad.error().code() == pb_utils.TritonError.INVALID_ARG and words in bad.error().message()
    assert pb_utils.get_output_tensor_by_name(transparent, "COLOR").as_numpy().shape == (60, 40, 4)


def test_max_pixels_is_enforced(repo, tmp_path):
    import shutil

    from engine.triton_python import export_python_backend

    folder = export_python_backend(tmp_path, str(SHIPPED), max_pixels=1000)
    assert 'string_value: "1000"' in (folder / "config.pbtxt").read_text()
    small = Triton(folder)
    lineart, _ = drawing(40, 30, 8)
    (big,) = small.infer([small.request({"LINEART": lineart})])
    assert big.error().code() == pb_utils.TritonError.INVALID_ARG and "at most 1,000" in big.error().message()
    shutil.rmtree(folder)


def test_repository_runs_on_its_own_engine_copy(repo, engine_colorizer, tmp_path):
    """In a fresh interpreter (``-I``: no checkout on the path) the repository imports the engine
    copy it carries, as in Triton's stub process, and still gives the engine's bytes."""
    lineart, hints = drawing(90, 110, 9)
    np.savez(tmp_path / "in.npz", LINEART=lineart, HINTS=hints, parameters=json.dumps({"tile": 128}))
    r = subprocess.run(
        [sys.executable, "-I", str(HARNESS), str(repo), str(tmp_path / "in.npz"), str(tmp_path / "out.npz")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    out = np.load(tmp_path / "out.npz")
    assert Path(str(out["engine_file"])).resolve().is_relative_to((repo / "1" / "engine").resolve())
    assert out["COLOR"].tobytes() == engine_colorizer.colorize(lineart, hints, tile=128).tobytes()


def test_gpu_instance_asks_for_cuda(repo, monkeypatch):
    """A KIND_GPU instance runs on its own GPU (``cuda``); KIND_CPU on the CPU."""
    from engine.triton_model import _device

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert _device({"model_instance_kind": "GPU", "model_instance_device_id": "3"}, {}) == "cuda"
    import os

    assert os.environ["CUDA_VISIBLE_DEVICES"] == "3"
    assert (
        _device({"model_instance_kind": "CPU"}, {"parameters": {"device": {"string_value": "cuda"}}}) == "cpu"
    )
    assert (
        _device({"model_instance_kind": "MODEL"}, {"parameters": {"device": {"string_value": "cuda"}}})
        == "cuda"
    )


def test_one_graph_export_points_to_the_python_backend(tmp_path):
    pytest.importorskip("torch")
    from engine.errors import ModelError
    from engine.triton import export_triton

    with pytest.raises(ModelError, match="--python-backend"):
        export_triton(tmp_path, str(SHIPPED))
