"""``inkhue export --triton DIR --python-backend``: the full pipeline in Triton's Python backend.

For any model, also those whose channels one ONNX graph cannot compute (the spread channel, the
region analysis): the repository holds

    DIR/inkhue/config.pbtxt            backend "python", the protocol's tensors
    DIR/inkhue/1/model.py              imports engine.triton_model.TritonPythonModel
    DIR/inkhue/1/engine/               the engine's Python code that wrote the export
    DIR/inkhue/1/inkhue-model/         the model: manifest, stage ONNX graphs (run by ONNX Runtime)

so Triton runs exactly the engine's pre-processing, tiling and composing. Triton's Python needs
the engine's dependencies (numpy, scipy, scikit-image, pillow, onnxruntime or onnxruntime-gpu);
``deploy/triton.Containerfile`` adds them to NVIDIA's Triton image.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from engine.triton_model import DEFAULT_MAX_PIXELS, MODEL_SUBDIR
from engine.wire import schema

log = logging.getLogger(__name__)

KINDS = {"auto": "", "cpu": " kind: KIND_CPU", "cuda": " kind: KIND_GPU"}
CONFIG = """name: "{name}"
backend: "python"
max_batch_size: 0
input [
  {{ name: "{lineart}" data_type: TYPE_UINT8 dims: [ -1, -1, 4 ] }},
  {{ name: "{hints}" data_type: TYPE_UINT8 dims: [ -1, -1, 4 ] optional: true }}
]
output [
  {{ name: "{color}" data_type: TYPE_UINT8 dims: [ -1, -1, -1 ] }}
]
instance_group [ {{ count: {instances}{kind} }} ]
version_policy: {{ latest {{ num_versions: 1 }} }}
parameters: {{ key: "inkhue_model" value: {{ string_value: "{model} {version}" }} }}
parameters: {{ key: "device" value: {{ string_value: "{device}" }} }}
parameters: {{ key: "max_pixels" value: {{ string_value: "{max_pixels}" }} }}
"""
MODEL_PY = '''"""Inkhue's full pipeline in Triton's Python backend ('inkhue export --python-backend').

The engine's code that wrote this export lies beside this file and is used in preference to an
installed one, so the served pipeline is the exported one.
"""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.isdir(os.path.join(_HERE, "engine")) and _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from engine.triton_model import TritonPythonModel  # noqa: E402, F401
'''


def _copy_engine(dest: Path) -> None:
    """The engine package's Python sources (not its bundled models) into ``dest``."""
    src = Path(__file__).resolve().parent
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src)
        if rel.parts[0] in ("models", "__pycache__") or "__pycache__" in rel.parts:
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest / rel)


def _copy_model(manifest, dest: Path) -> None:
    """The whole model folder (manifest, stage graphs, weights, card): whatever a newer model's
    manifest names travels too; checksums are verified when an instance loads it."""
    shutil.copytree(manifest.directory, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def export_python_backend(
    out_dir: str | Path,
    model: str | None = None,
    device: str = "auto",
    instances: int = 1,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Path:
    """Write ``out_dir/inkhue/`` for Triton's Python backend; returns the model's folder."""
    from engine import models
    from engine.errors import InputError

    if device not in KINDS:
        raise InputError(f"device must be one of {', '.join(KINDS)}, got {device!r}")
    if instances < 1:
        raise InputError(f"instances must be at least 1, got {instances}")
    manifest = models.load(model)
    folder = Path(out_dir) / schema.MODEL_NAME
    version = folder / "1"
    if version.exists():
        shutil.rmtree(version)  # a stale engine or model from an earlier export must not linger
    version.mkdir(parents=True)
    _copy_engine(version / "engine")
    _copy_model(manifest, version / MODEL_SUBDIR)
    (version / "model.py").write_text(MODEL_PY)
    (folder / "config.pbtxt").write_text(
        CONFIG.format(
            name=schema.MODEL_NAME,
            lineart=schema.INPUT_LINEART,
            hints=schema.INPUT_HINTS,
            color=schema.OUTPUT_COLOR,
            instances=instances,
            kind=KINDS[device],
            model=manifest.name,
            version=manifest.version,
            device=device,
            max_pixels=max_pixels,
        )
    )
    log.info("wrote %s (Python backend, model %s v%s)", folder, manifest.name, manifest.version)
    return folder
