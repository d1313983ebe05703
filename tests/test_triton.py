"""``inkhue export --triton``: the one-graph ONNX model takes the protocol's uint8 tensors."""

from __future__ import annotations

import numpy as np
import pytest
from service_helpers import colorizer_fixture, drawing, model_dir_fixture  # noqa: F401

pytest.importorskip("torch", reason="exporting needs the train extra (torch)")


@pytest.fixture(scope="module", name="triton_dir")
def triton_dir_fixture(model_dir, tmp_path_factory):
    from engine.cli import main

    out = tmp_path_factory.mktemp("triton")
    assert main(["export", "--triton", str(out), "--model", str(model_dir)]) == 0
    return out / "inkhue"


def test_repository_layout_and_config(triton_dir):
    import onnx

    config = (triton_dir / "config.pbtxt").read_text()
    assert 'name: "inkhue"' in config and 'platform: "onnxruntime_onnx"' in config
    rgba, rgb = "[ -1, -1, 4 ]", "[ -1, -1, 3 ]"
    for tensor, dims in (("LINEART", rgba), ("HINTS", rgba), ("COLOR", rgb)):
        assert f'name: "{tensor}" data_type: TYPE_UINT8 dims: {dims}' in config
    graph = onnx.load(str(triton_dir / "1" / "model.onnx")).graph
    io = [(v.name, v.type.tensor_type.elem_type) for v in (*graph.input, *graph.output)]
    assert io == [("LINEART", onnx.TensorProto.UINT8), ("HINTS", onnx.TensorProto.UINT8),
                  ("COLOR", onnx.TensorProto.UINT8)]  # fmt: skip


def test_graph_matches_the_engine_below_tile_size(triton_dir, colorizer):
    """engine.pipeline's bytes: preprocessing, fill (converged), draft, refine, line composing."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(triton_dir / "1" / "model.onnx"), providers=["CPUExecutionProvider"])
    # odd sizes, one above the working size (512) so the draft is downscaled, one thin strip
    for h, w, seed in ((45, 77, 0), (200, 150, 1), (530, 620, 2), (16, 700, 3)):
        lineart, hints = drawing(h, w, seed)
        (out,) = sess.run(None, {"LINEART": lineart, "HINTS": hints})
        assert out.dtype == np.uint8 and out.shape == (h, w, 3)
        ref = colorizer.colorize(lineart, hints)
        if max(h, w) <= 512:
            np.testing.assert_array_equal(out, ref, err_msg=f"{h}x{w}")
        else:  # the draft's box downscale is a float matmul here, PIL in the engine: rounding only
            diff = np.abs(out.astype(int) - ref)
            assert diff.max() <= 1 and (diff == 0).mean() > 0.999, f"{h}x{w}"
