"""Test-only models with a known answer, in the engine's model-folder format.

A random-weight model gives arbitrary colours, so plug-in tests that check "the result follows
the hint colours" use ``fill_model``: both stages output the flood fill of the hints
(``fill_rgb``) where a region holds a hint (``fill_mask`` = 1) and white elsewhere, exactly.
The graphs are written with ``onnx.helper`` (no torch, a few milliseconds) and listed in a
normal manifest with checksums, so the engine loads them like any installed model (ONNX backend;
they ship no safetensors weights, so the torch backend refuses them with a clear message).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from engine.channels import CHANNELS, channel_count
from engine.modelspec import STAGES, GeneratorConfig, write_manifest

FILL_INPUTS = ("fill_rgb", "fill_mask")
OPSET = 17
IR_VERSION = 8  # old enough for any onnxruntime the engine supports


def _offset(inputs: tuple[str, ...], name: str) -> int:
    return channel_count(inputs[: inputs.index(name)])


def fill_graph(
    inputs: tuple[str, ...] = FILL_INPUTS,
    colour: str = "fill_rgb",
    mask_name: str = "fill_mask",
    shift: float = 0.0,
) -> onnx.ModelProto:
    """x (N×C×H×W, channels ``inputs``) -> mask * colour + (1 - mask) * white (+ ``shift``)."""
    rgb, mask = _offset(inputs, colour), _offset(inputs, mask_name)
    consts = {
        "rgb_lo": [rgb],
        "rgb_hi": [rgb + CHANNELS[colour]],
        "mask_lo": [mask],
        "mask_hi": [mask + 1],
        "axis": [1],
    }
    init = [numpy_helper.from_array(np.array(v, np.int64), k) for k, v in consts.items()]
    init.append(numpy_helper.from_array(np.array(1.0, np.float32), "one"))
    init.append(numpy_helper.from_array(np.array(1.0 + shift, np.float32), "white"))
    nodes = [
        helper.make_node("Slice", ["x", "rgb_lo", "rgb_hi", "axis"], ["fill"]),
        helper.make_node("Slice", ["x", "mask_lo", "mask_hi", "axis"], ["mask"]),
        helper.make_node("Sub", ["fill", "one"], ["fill_minus_white"]),
        helper.make_node("Mul", ["mask", "fill_minus_white"], ["masked"]),
        helper.make_node("Add", ["masked", "white"], ["rgb"]),
    ]
    dims = ["n", channel_count(inputs), "h", "w"]
    graph = helper.make_graph(
        nodes,
        "inkhue_fill",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("rgb", TensorProto.FLOAT, ["n", 3, "h", "w"])],
        init,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def fill_model(out_dir: Path | str, name: str = "inkhue-fill-test") -> Path:
    """A model folder whose result is the hints' flood fill (white where unhinted); returns it."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stages = {}
    for stage in STAGES:
        onnx.save(fill_graph(FILL_INPUTS), str(out_dir / f"{stage}.onnx"))
        stages[stage] = {
            "inputs": FILL_INPUTS,
            # divisor 1: any image size; the config documents the graph's channel count
            "generator": GeneratorConfig(channel_count(FILL_INPUTS), widths=(4,), unshuffle=1, norm="none"),
            "onnx": f"{stage}.onnx",
        }
    write_manifest(
        out_dir,
        name,
        "0.0.0",
        stages,
        description="test fixture: flood fill of the hints, white elsewhere",
    )
    return out_dir


FLATS_DRAFT_INPUTS = ("line", "hint_rgb", "hint_mask", "flat_rgb", "flat_mask", "background", "edge_dist")
REFINE_DRAFT_INPUTS = ("line", "draft_rgb")


def flats_model(out_dir: Path | str, shift: float) -> Path:
    """A model that corrects the flats by a uniform ``shift`` (0..1 per channel) and nothing else:
    its draft sees the region channels (so the engine snaps its colours onto the flats) and its
    refinement returns the draft unchanged."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    graphs = {
        "draft": (FLATS_DRAFT_INPUTS, fill_graph(FLATS_DRAFT_INPUTS, "flat_rgb", "flat_mask", shift)),
        "refine": (REFINE_DRAFT_INPUTS, _copy_graph(REFINE_DRAFT_INPUTS)),
    }
    stages = {}
    for stage, (inputs, graph) in graphs.items():
        onnx.save(graph, str(out_dir / f"{stage}.onnx"))
        stages[stage] = {
            "inputs": inputs,
            "generator": GeneratorConfig(channel_count(inputs), widths=(4,), unshuffle=1, norm="none"),
            "onnx": f"{stage}.onnx",
        }
    write_manifest(out_dir, "inkhue-flats-test", "0.0.0", stages, description="test fixture: shifted flats")
    return out_dir


def _copy_graph(inputs: tuple[str, ...]) -> onnx.ModelProto:
    """x -> its draft_rgb planes."""
    lo = _offset(inputs, "draft_rgb")
    init = [
        numpy_helper.from_array(np.array([lo], np.int64), "lo"),
        numpy_helper.from_array(np.array([lo + 3], np.int64), "hi"),
        numpy_helper.from_array(np.array([1], np.int64), "axis"),
    ]
    nodes = [helper.make_node("Slice", ["x", "lo", "hi", "axis"], ["rgb"])]
    graph = helper.make_graph(
        nodes,
        "inkhue_copy",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", channel_count(inputs), "h", "w"])],
        [helper.make_tensor_value_info("rgb", TensorProto.FLOAT, ["n", 3, "h", "w"])],
        init,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model
