"""Export trained generators into an engine model folder: ONNX + safetensors + manifest."""

from __future__ import annotations

import logging
import warnings
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from engine.channels import channel_count
from engine.errors import ModelError
from engine.generator import UNetGenerator
from engine.modelspec import STAGES, GeneratorConfig, write_manifest

log = logging.getLogger(__name__)

OPSET = 17
PARITY_TOLERANCE = 1e-3  # max |torch - onnxruntime| on a random input, or the export is refused
DRAFT_INPUTS = ("line", "hint_rgb", "hint_mask", "fill_rgb", "fill_mask")
REFINE_INPUTS = (*DRAFT_INPUTS, "draft_rgb")


def export_onnx(net: UNetGenerator, path: Path) -> Path:
    """ONNX graph with dynamic height and width (multiples of the generator's divisor)."""
    net = net.eval().cpu()
    side = net.cfg.divisor * 2
    x = torch.rand(1, net.cfg.in_channels, side, side)
    with warnings.catch_warnings():
        # the TorchScript exporter is deprecated but needs no extra packages and handles this net
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net,
            (x,),
            str(path),
            input_names=["x"],
            output_names=["rgb"],
            dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}, "rgb": {0: "n", 2: "h", 3: "w"}},
            opset_version=OPSET,
            dynamo=False,
        )
    return path


def save_weights(net: torch.nn.Module, path: Path) -> Path:
    state = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    save_file(state, str(path))
    path.chmod(0o644)  # shipped with the package: readable by every user, like the ONNX files
    return path


def parity(net: UNetGenerator, onnx_path: Path, side: int | None = None, seed: int = 0) -> float:
    """Max absolute difference between torch and ONNX Runtime on one random input."""
    import onnxruntime as ort

    side = side or net.cfg.divisor * 4
    rng = np.random.default_rng(seed)
    x = rng.random((1, net.cfg.in_channels, side, side), dtype=np.float32)
    with torch.inference_mode():
        ref = net.eval().cpu()(torch.from_numpy(x)).numpy()
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    (out,) = sess.run(None, {"x": x})
    return float(np.abs(out - ref).max())


def export_model(
    nets: dict[str, UNetGenerator],
    inputs: dict[str, tuple[str, ...]],
    out_dir: Path,
    name: str,
    version: str,
    **fields: object,
) -> Path:
    """Write both stages into ``out_dir`` and its manifest; refuses on a parity failure."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stages = {}
    for stage in STAGES:
        net = nets[stage]
        if channel_count(inputs[stage]) != net.cfg.in_channels:
            raise ModelError(f"stage {stage}: inputs {inputs[stage]} do not match the generator")
        onnx_path = export_onnx(net, out_dir / f"{stage}.onnx")
        diff = parity(net, onnx_path)
        log.info("%s: torch vs onnxruntime max |diff| = %.2e", stage, diff)
        if diff > PARITY_TOLERANCE:
            raise ModelError(f"stage {stage}: ONNX export differs from torch by {diff:.3g}")
        save_weights(net, out_dir / f"{stage}.safetensors")
        stages[stage] = {
            "inputs": inputs[stage],
            "generator": net.cfg,
            "onnx": onnx_path.name,
            "weights": f"{stage}.safetensors",
        }
    write_manifest(out_dir, name, version, stages, **fields)
    return out_dir


def random_model(
    out_dir: Path,
    draft: GeneratorConfig | None = None,
    refine: GeneratorConfig | None = None,
    seed: int = 0,
    name: str = "inkhue-random",
    **fields: object,
) -> Path:
    """A model with random weights (tests, plumbing): same files and manifest as a trained one."""
    torch.manual_seed(seed)
    draft = draft or GeneratorConfig(channel_count(DRAFT_INPUTS), widths=(8, 16), unshuffle=2)
    refine = refine or GeneratorConfig(channel_count(REFINE_INPUTS), widths=(8, 16), unshuffle=4)
    nets = {"draft": UNetGenerator(draft), "refine": UNetGenerator(refine)}
    for net in nets.values():  # non-trivial BN statistics so eval-mode export is exercised
        for m in net.modules():
            if (
                isinstance(m, torch.nn.BatchNorm2d)
                and m.running_mean is not None
                and m.running_var is not None
            ):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    inputs = {"draft": DRAFT_INPUTS, "refine": REFINE_INPUTS}
    return export_model(nets, inputs, out_dir, name, "0.0.0", **fields)


def export_runs(
    draft: Path | str,
    refine: Path | str,
    out_dir: Path | str,
    name: str,
    version: str,
    **fields: object,
) -> Path:
    """Export the generators of two training runs (checkpoint files or run folders) as one model."""
    from training.checkpoint import load_generator

    g_draft, cfg_draft = load_generator(draft)
    g_refine, cfg_refine = load_generator(refine)
    if cfg_draft.stage != "draft" or cfg_refine.stage != "refine":
        raise ModelError(
            f"expected a draft and a refinement run, got {cfg_draft.stage!r} and {cfg_refine.stage!r}"
        )
    missing = [c for c in cfg_draft.inputs if c not in cfg_refine.inputs]
    if missing:
        log.warning("the refinement stage does not see the draft's inputs %s", missing)
    nets = {"draft": g_draft, "refine": g_refine}
    inputs = {"draft": cfg_draft.inputs, "refine": cfg_refine.inputs}
    fields.setdefault("spread", asdict(cfg_draft.data.spread))  # inference must spread as training did
    return export_model(nets, inputs, Path(out_dir), name, version, **fields)
