"""``inkhue export --triton DIR``: the whole pipeline as one ONNX graph in a Triton model repository.

Triton and KServe serve ONNX models unchanged, so the exported graph takes the protocol's own
tensors, uint8 ``LINEART`` [H, W, 4] and ``HINTS`` [H, W, 4], and returns uint8 ``COLOR``
[H, W, 3]: the preprocessing of ``engine.channels`` is rewritten here in tensor ops. Honest
differences from ``engine.pipeline`` (documented in docs/deploy.md):

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

# pyright: reportPrivateImportUsage=false, reportCallIssue=false, reportArgumentType=false
# (the graph is traced for ONNX: shapes are tensors on purpose (torch._shape_as_tensor), where torch's
# stubs want Python ints; those three rules are off in this file only)
from __future__ import annotations

import logging
import warnings
from pathlib import Path

from engine.errors import ModelError
from engine.tiling import MIN_WORKING_SIDE
from engine.wire import schema

log = logging.getLogger(__name__)

OPSET = 18  # ScatterElements with reduction "max": ONNX Runtime >= 1.14, in any recent Triton
FILL_ROUNDS = 12  # label propagation rounds (each: row runs, column runs, 2 pointer jumps)
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


def _module(manifest, nets: dict, fill_rounds: int = FILL_ROUNDS):
    import torch

    luma = torch.tensor([0.299, 0.587, 0.114])

    def cells(n_in, n_out):
        """The draft cell of every input pixel: its centre's cell (engine.resample.cell_starts)."""
        return torch.div((2 * torch.arange(n_in) + 1) * n_out, 2 * n_in, rounding_mode="floor")

    def box_matrix(n_in, n_out):
        """[n_out, n_in] averaging of the inputs whose centres fall in each output cell (PIL BOX)."""
        m = (cells(n_in, n_out)[None, :] == torch.arange(n_out)[:, None]).float()
        return m / m.sum(1, keepdim=True).clamp(min=1.0)

    def cell_max(plane, oh, ow):
        """The largest value of a non-negative plane in each draft cell (engine.resample.cell_reduce)."""
        size = torch._shape_as_tensor(plane)
        cy = cells(size[0], oh)[:, None].expand(plane.shape)
        rows = torch.zeros(oh, size[1]).scatter_reduce(0, cy, plane, "amax", include_self=True)
        cx = cells(size[1], ow)[None, :].expand(rows.shape)
        return torch.zeros(oh, ow).scatter_reduce(1, cx, rows, "amax", include_self=True)

    def bilinear_matrix(n_in, n_out):
        """[n_out, n_in] linear interpolation with half-pixel centres, clamped (engine.resample)."""
        pos = (torch.arange(n_out).double() + 0.5) * (n_in.double() / n_out.double()) - 0.5
        pos = torch.minimum(pos.clamp(min=0.0), (n_in - 1).double())
        i0 = pos.floor().long()
        i1 = torch.minimum(i0 + 1, n_in - 1)
        w = (pos - i0.double()).float()[:, None]
        k = torch.arange(n_in)[None, :]
        return (k == i0[:, None]).float() * (1 - w) + (k == i1[:, None]).float() * w

    def centres(n_in, n_out):
        """Block centres of the draft grid in full-resolution pixels (engine.channels.downsample)."""
        pos = (torch.arange(n_out).double() + 0.5) * n_in.double() / n_out.double()
        return torch.minimum(pos.long(), n_in - 1)

    def pad_to(x, divisor: int):
        """Edge-pad the bottom and right of N×C×H×W to multiples of ``divisor``, by gathering."""
        size = torch._shape_as_tensor(x)
        for axis in (2, 3):
            n = size[axis]
            padded = torch.arange(n + (divisor - n % divisor) % divisor)
            x = x.index_select(axis, torch.minimum(padded, n - 1))
        return x

    def labels(paper):
        """Each paper pixel gets the largest flat index of its 4-connected region; ink gets -1.

        A round spreads the largest label along whole horizontal, then vertical runs of paper
        (a run shares one id from a cumulative sum of ink) and jumps pointers twice.
        """
        size = torch._shape_as_tensor(paper)
        h, w = size[0], size[1]
        index = torch.arange(h * w).reshape(paper.shape)
        lab = torch.where(paper, index, torch.full_like(index, -1))
        ink = (~paper).long()
        rows = (torch.cumsum(ink, 1) + torch.arange(h)[:, None] * (w + 1)).reshape(-1)
        cols = (torch.cumsum(ink, 0) * w + torch.arange(w)[None, :]).reshape(-1)
        table = torch.full(((h + 1) * (w + 1),), -1, dtype=torch.long)
        for _ in range(fill_rounds):
            for runs in (rows, cols):
                best = table.scatter_reduce(0, runs, lab.reshape(-1), "amax", include_self=True)
                lab = torch.where(paper, best.index_select(0, runs).reshape(paper.shape), lab)
            for _ in range(2):
                jumped = lab.reshape(-1).index_select(0, lab.clamp(min=0).reshape(-1)).reshape(paper.shape)
                lab = torch.where(paper, torch.maximum(lab, jumped), lab)
        return lab

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.draft, self.refine = nets["draft"].eval(), nets["refine"].eval()

        def forward(self, lineart, hints):
            size = torch._shape_as_tensor(lineart)
            h, w = size[0], size[1]
            la = lineart.float()
            alpha = la[..., 3] * (1.0 / 255.0)
            line = 1.0 - alpha * (1.0 - (la[..., :3] @ luma) * (1.0 / 255.0))
            ha = hints[..., 3].float() * (1.0 / 255.0)
            hint_rgb = hints[..., :3].float() * (1.0 / 255.0) * (ha > 0).float()[..., None]

            # flood-fill channel: strength-weighted mean hint colour of every region
            lab = labels(line >= 0.5)
            slot = (lab + 1).reshape(-1)  # 0 = ink
            wgt = ha.double().reshape(-1) * (slot > 0).double()
            zeros = torch.zeros(h * w + 1, dtype=torch.float64)
            wsum = zeros.scatter_add(0, slot, wgt)
            rgb = hints[..., :3].double().reshape(-1, 3) * (1.0 / 255.0)
            csum = torch.stack([zeros.scatter_add(0, slot, wgt * rgb[:, c]) for c in range(3)], 1)
            region = torch.where(wsum[:, None] > 0, csum / wsum.clamp(min=1e-12)[:, None], 0.0).float()
            fill_rgb = region.index_select(0, slot).reshape(hint_rgb.shape)
            fill_mask = (wsum.index_select(0, slot) > 0).float().reshape(ha.shape)
            full = {"line": line, "hint_rgb": hint_rgb, "hint_mask": ha}
            full.update(fill_rgb=fill_rgb, fill_mask=fill_mask)

            # draft at the working resolution (engine.channels.downsample)
            scale = torch.clamp(manifest.working_size / torch.maximum(h, w).double(), max=1.0)
            # engine.tiling.working_shape: a long strip keeps MIN_WORKING_SIDE pixels across
            short = torch.minimum(h, w).double()
            area_cap = manifest.working_size / torch.sqrt(h.double() * w.double())
            widened = torch.minimum(area_cap, torch.maximum(scale, MIN_WORKING_SIDE / short))
            widened = torch.clamp(widened, max=1.0)
            scale = torch.where(short * scale < MIN_WORKING_SIDE, widened, scale)
            oh = torch.clamp(torch.round(h.double() * scale), min=1).long()
            ow = torch.clamp(torch.round(w.double() * scale), min=1).long()
            by, bx = box_matrix(h, oh), box_matrix(w, ow)
            ys, xs = centres(h, oh), centres(w, ow)
            mask_small = cell_max(ha, oh, ow)
            msmall = by @ ha @ bx.T
            hints_f = hints[..., :3].float() * (1.0 / 255.0)
            prem = torch.stack([by @ (hints_f[..., c] * ha) @ bx.T for c in range(3)], -1)
            rgb_small = torch.where(msmall[..., None] > 1e-6, prem / msmall.clamp(min=1e-6)[..., None], 0.0)
            rgb_small = (rgb_small * (mask_small > 0).float()[..., None]).clamp(0.0, 1.0)
            small = {
                "line": by @ line @ bx.T,
                "hint_rgb": rgb_small,
                "hint_mask": mask_small,
                "fill_rgb": fill_rgb.index_select(0, ys).index_select(1, xs),
                "fill_mask": fill_mask.index_select(0, ys).index_select(1, xs),
            }
            draft = self._run(self.draft, manifest.stages["draft"], small)  # 3×oh×ow

            # refinement at full resolution, in one piece
            uy, ux = bilinear_matrix(oh, h), bilinear_matrix(ow, w)
            full["draft_rgb"] = torch.stack([uy @ draft[c] @ ux.T for c in range(3)], -1)
            pred = self._run(self.refine, manifest.stages["refine"], full) * line[None]
            out = torch.clamp(pred * 255.0 + 0.5, 0.0, 255.0).floor()
            return out.permute(1, 2, 0).to(torch.uint8)

        def _run(self, net, spec, planes):
            parts = [
                planes[n][None] if planes[n].dim() == 2 else planes[n].permute(2, 0, 1) for n in spec.inputs
            ]
            x = torch.cat(parts, 0)[None]
            y = net(pad_to(x, spec.generator.divisor))[0]
            return y.index_select(1, torch.arange(x.shape[2])).index_select(2, torch.arange(x.shape[3]))

    return Pipeline()


def load_nets(manifest) -> dict:
    from safetensors.torch import load_file

    from engine.errors import ModelError
    from engine.generator import UNetGenerator

    nets = {}
    for stage, spec in manifest.stages.items():
        if not spec.weights:
            raise ModelError(f"model {manifest.name!r} ships no safetensors weights for stage {stage!r}")
        net = UNetGenerator(spec.generator)
        net.load_state_dict(load_file(str(manifest.path(spec.weights)), device="cpu"))  # never pickle
        nets[stage] = net.eval()
    return nets


# the planes the exported graph computes itself (see _module)
GRAPH_CHANNELS = {"line", "hint_rgb", "hint_mask", "fill_rgb", "fill_mask", "draft_rgb"}


def export_triton(out_dir: str | Path, model: str | None = None) -> Path:
    """Write ``out_dir/inkhue/{config.pbtxt, 1/model.onnx}``; returns the model's folder."""
    import torch

    from engine import models

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
    pipeline = _module(manifest, load_nets(manifest))
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
