"""``inkhue export --triton DIR``: the whole pipeline as one ONNX graph in a Triton model repository.

Triton and KServe serve ONNX models unchanged, so the exported graph takes the protocol's own
tensors, uint8 ``LINEART`` [H, W, 4] and ``HINTS`` [H, W, 4], and returns uint8 ``COLOR``
[H, W, 3]: the preprocessing of ``engine.channels`` is rewritten in tensor ops
(``engine.triton_graph``, traced here). Honest differences from ``engine.pipeline`` (documented
in docs/deploy.md):

* The flood-fill channel needs connected-component labelling, which ONNX has no operator for.
  The graph labels regions by max-label propagation (4-connected, as ``scipy.ndimage.label``)
  with pointer jumping, for a fixed number of rounds: exact once converged, which simple
  drawings do in a few rounds; a long winding region may stay split, so each part gets the mean
  hint colour of its own part only.
* The refinement runs on the whole image in one piece, not in tiles: identical up to the model's
  tile size (1024 px), and without the tiles' cross-fades above it (more GPU memory, no seams).
* The colour under the lines (``engine.underlines``) needs a distance transform: the graph keeps
  the refinement's colour on the anti-aliased edges of lines.
* Per-request options do not exist in Triton: the graph uses the model's working size and
  ``compose_lines=True``.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

from engine.errors import ModelError
from engine.wire import schema

log = logging.getLogger(__name__)

OPSET = 18  # ScatterElements with reduction "max": ONNX Runtime >= 1.14, in any recent Triton
CONFIG = """name: "{name}"
platform: "onnxruntime_onnx"
max_batch_size: 0
input [
  {{ name: "{lineart}" data_type: TYPE_UINT8 dims: [ -1, -1, 4 ] }},
  {{ name: "{hints}" data_type: TYPE_UINT8 dims: [ -1, -1, 4 ] }}
]
output [
  {{ name: "{color}" data_type: TYPE_UINT8 dims: [ -1, -1, 3 ] }}
]
version_policy: {{ latest {{ num_versions: 1 }} }}
parameters: {{ key: "inkhue_model" value: {{ string_value: "{model} {version}" }} }}
"""

# the planes the exported graph computes itself (engine.triton_graph)
GRAPH_CHANNELS = {"line", "hint_rgb", "hint_mask", "fill_rgb", "fill_mask", "draft_rgb"}


def export_triton(out_dir: str | Path, model: str | None = None) -> Path:
    """Write ``out_dir/inkhue/{config.pbtxt, 1/model.onnx}``; returns the model's folder."""
    import torch

    from engine import models
    from engine.triton_graph import Pipeline, load_nets

    manifest = models.load(model)
    for stage, spec in manifest.stages.items():
        unsupported = sorted(set(spec.inputs) - GRAPH_CHANNELS)
        if unsupported:
            raise ModelError(
                f"model {manifest.name!r} stage {stage!r} uses input channels {', '.join(unsupported)} "
                "that the one-graph Triton export cannot compute; export it for Triton's Python "
                "backend ('inkhue export --triton DIR --python-backend') or serve it with "
                "'inkhue serve' (see docs/deploy.md)"
            )
    pipeline = Pipeline(manifest, load_nets(manifest))
    folder = Path(out_dir) / schema.MODEL_NAME
    (folder / "1").mkdir(parents=True, exist_ok=True)
    onnx_path = folder / "1" / "model.onnx"
    example = torch.zeros(70, 90, 4, dtype=torch.uint8)  # odd sizes: nothing shape-specific gets baked in
    names = (schema.INPUT_LINEART, schema.INPUT_HINTS)
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # TorchScript exporter notices about traced shapes
        torch.onnx.export(
            pipeline, (example, example), str(onnx_path),
            input_names=list(names), output_names=[schema.OUTPUT_COLOR],
            dynamic_axes={n: {0: "height", 1: "width"} for n in (*names, schema.OUTPUT_COLOR)},
            opset_version=OPSET, dynamo=False,
        )  # fmt: skip
    (folder / "config.pbtxt").write_text(
        CONFIG.format(
            name=schema.MODEL_NAME,
            lineart=names[0],
            hints=names[1],
            color=schema.OUTPUT_COLOR,
            model=manifest.name,
            version=manifest.version,
        )  # fmt: skip
    )
    log.info("wrote %s (model %s v%s)", folder, manifest.name, manifest.version)
    return folder
