"""A test-only model whose output is checkable: the flood fill of the hints.

Both stages output ``fill_rgb`` where ``fill_mask`` is 1 and white elsewhere, built directly as an
ONNX graph (no training, no torch) with the same files and manifest as a real model. With it, a
hinted region must come out exactly in its hint colour, which tests that the plug-in sends the
right layers, in the right channel order, at the right place.
"""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import TensorProto, helper

from engine.channels import CHANNELS, channel_count
from engine.modelspec import GeneratorConfig, write_manifest
from training.export import DRAFT_INPUTS, REFINE_INPUTS

NAME = "inkhue-fill-test"
SHIPPED = Path(__file__).resolve().parents[2] / "engine" / "models" / "inkhue-default"


def _offset(inputs: tuple[str, ...], name: str) -> int:
    offset = 0
    for n in inputs:
        if n == name:
            return offset
        offset += CHANNELS[n]
    raise KeyError(name)


def _stage_graph(inputs: tuple[str, ...]) -> onnx.ModelProto:
    fill, mask = _offset(inputs, "fill_rgb"), _offset(inputs, "fill_mask")

    def const(name: str, values: list[int]) -> onnx.NodeProto:
        return helper.make_node(
            "Constant", [], [name], value=helper.make_tensor(name, TensorProto.INT64, [len(values)], values)
        )

    nodes = [
        const("fill_start", [fill]),
        const("fill_end", [fill + 3]),
        const("mask_start", [mask]),
        const("mask_end", [mask + 1]),
        const("axis", [1]),
        helper.make_node(
            "Constant", [], ["one"], value=helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])
        ),
        helper.make_node("Slice", ["x", "fill_start", "fill_end", "axis"], ["fill"]),
        helper.make_node("Slice", ["x", "mask_start", "mask_end", "axis"], ["mask"]),
        helper.make_node("Mul", ["fill", "mask"], ["painted"]),
        helper.make_node("Sub", ["one", "mask"], ["paper"]),
        helper.make_node("Add", ["painted", "paper"], ["rgb"]),
    ]
    graph = helper.make_graph(
        nodes,
        "fill_copy",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", channel_count(inputs), "h", "w"])],
        [helper.make_tensor_value_info("rgb", TensorProto.FLOAT, ["n", 3, "h", "w"])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # readable by every onnxruntime the project supports
    onnx.checker.check_model(model)
    return model


def build(out_dir: Path) -> Path:
    """Write the fill model into ``out_dir``; returns the folder (usable as ``--model``)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stages = {}
    for stage, inputs in (("draft", DRAFT_INPUTS), ("refine", REFINE_INPUTS)):
        onnx.save(_stage_graph(inputs), str(out_dir / f"{stage}.onnx"))
        stages[stage] = {
            "inputs": inputs,
            "generator": GeneratorConfig(channel_count(inputs), widths=(8,), unshuffle=1),
            "onnx": f"{stage}.onnx",
        }
    write_manifest(out_dir, NAME, "0.0.0", stages, description="tests: output = flood fill of the hints")
    return out_dir


def shipped_model() -> Path | None:
    """The trained model bundled with the engine, once it exists."""
    return SHIPPED if (SHIPPED / "manifest.json").is_file() else None
