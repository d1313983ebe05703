"""The one-graph Triton model in torch, traced to ONNX by ``engine.triton.export_triton``.

``engine.channels``' preprocessing rewritten in tensor ops, so the graph takes the protocol's
uint8 ``LINEART``/``HINTS`` and returns uint8 ``COLOR``: the full-resolution planes, the
flood-fill planes (region labels by max-label propagation, ``labels``), the working-size planes,
the draft, the draft upsampled, the refinement in one piece. Shapes stay tensors
(``torch._shape_as_tensor``) so nothing size-specific is baked into the trace. Imports torch:
only the export loads it.
"""

# pyright: reportPrivateImportUsage=false, reportCallIssue=false, reportArgumentType=false
# (the graph is traced for ONNX: shapes are tensors on purpose (torch._shape_as_tensor), where torch's
# stubs want Python ints; those three rules are off in this file only)
from __future__ import annotations

import torch

from engine.errors import ModelError
from engine.tiling import MIN_WORKING_SIDE

FILL_ROUNDS = 12  # label propagation rounds (each: row runs, column runs, 2 pointer jumps)
LUMA = (0.299, 0.587, 0.114)


# ----------------------------------------------------------------------------------------------
# resampling matrices (engine.resample, engine.channels.downsample)


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


# ----------------------------------------------------------------------------------------------
# the planes


def labels(paper, rounds: int = FILL_ROUNDS):
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
    for _ in range(rounds):
        for runs in (rows, cols):
            best = table.scatter_reduce(0, runs, lab.reshape(-1), "amax", include_self=True)
            lab = torch.where(paper, best.index_select(0, runs).reshape(paper.shape), lab)
        for _ in range(2):
            jumped = lab.reshape(-1).index_select(0, lab.clamp(min=0).reshape(-1)).reshape(paper.shape)
            lab = torch.where(paper, torch.maximum(lab, jumped), lab)
    return lab


def input_planes(lineart, hints) -> dict:
    """The full-resolution ``line``, ``hint_rgb`` and ``hint_mask`` planes (engine.channels.prepare)."""
    la = lineart.float()
    alpha = la[..., 3] * (1.0 / 255.0)
    line = 1.0 - alpha * (1.0 - (la[..., :3] @ torch.tensor(LUMA)) * (1.0 / 255.0))
    ha = hints[..., 3].float() * (1.0 / 255.0)
    hint_rgb = hints[..., :3].float() * (1.0 / 255.0) * (ha > 0).float()[..., None]
    return {"line": line, "hint_rgb": hint_rgb, "hint_mask": ha}


def fill_planes(line, hints, ha, rounds: int) -> dict:
    """The flood-fill planes: the strength-weighted mean hint colour of every region, and its mask."""
    size = torch._shape_as_tensor(line)
    lab = labels(line >= 0.5, rounds)
    slot = (lab + 1).reshape(-1)  # 0 = ink
    wgt = ha.double().reshape(-1) * (slot > 0).double()
    zeros = torch.zeros(size[0] * size[1] + 1, dtype=torch.float64)
    wsum = zeros.scatter_add(0, slot, wgt)
    rgb = hints[..., :3].double().reshape(-1, 3) * (1.0 / 255.0)
    csum = torch.stack([zeros.scatter_add(0, slot, wgt * rgb[:, c]) for c in range(3)], 1)
    region = torch.where(wsum[:, None] > 0, csum / wsum.clamp(min=1e-12)[:, None], 0.0).float()
    fill_rgb = region.index_select(0, slot).reshape((*ha.shape, 3))
    fill_mask = (wsum.index_select(0, slot) > 0).float().reshape(ha.shape)
    return {"fill_rgb": fill_rgb, "fill_mask": fill_mask}


def working_hw(h, w, working_size: int):
    """The draft's size (engine.tiling.working_shape): the longest side scaled to ``working_size``
    at most, a long strip keeping MIN_WORKING_SIDE pixels across."""
    scale = torch.clamp(working_size / torch.maximum(h, w).double(), max=1.0)
    short = torch.minimum(h, w).double()
    area_cap = working_size / torch.sqrt(h.double() * w.double())
    widened = torch.minimum(area_cap, torch.maximum(scale, MIN_WORKING_SIDE / short))
    widened = torch.clamp(widened, max=1.0)
    scale = torch.where(short * scale < MIN_WORKING_SIDE, widened, scale)
    oh = torch.clamp(torch.round(h.double() * scale), min=1).long()
    ow = torch.clamp(torch.round(w.double() * scale), min=1).long()
    return oh, ow


def working_planes(full: dict, hints, oh, ow) -> dict:
    """The draft's planes at ``oh``×``ow`` (engine.channels.downsample): lines and hints averaged
    over each cell (hint colours weighted by strength), the fill sampled at the cell centres."""
    ha = full["hint_mask"]
    size = torch._shape_as_tensor(ha)
    h, w = size[0], size[1]
    by, bx = box_matrix(h, oh), box_matrix(w, ow)
    ys, xs = centres(h, oh), centres(w, ow)
    mask_small = cell_max(ha, oh, ow)
    msmall = by @ ha @ bx.T
    hints_f = hints[..., :3].float() * (1.0 / 255.0)
    prem = torch.stack([by @ (hints_f[..., c] * ha) @ bx.T for c in range(3)], -1)
    rgb_small = torch.where(msmall[..., None] > 1e-6, prem / msmall.clamp(min=1e-6)[..., None], 0.0)
    rgb_small = (rgb_small * (mask_small > 0).float()[..., None]).clamp(0.0, 1.0)
    return {
        "line": by @ full["line"] @ bx.T,
        "hint_rgb": rgb_small,
        "hint_mask": mask_small,
        "fill_rgb": full["fill_rgb"].index_select(0, ys).index_select(1, xs),
        "fill_mask": full["fill_mask"].index_select(0, ys).index_select(1, xs),
    }


def run_stage(net, spec, planes: dict):
    """One stage on its planes stacked in ``spec.inputs`` order, padded and cropped back: 3×H×W."""
    parts = [planes[n][None] if planes[n].dim() == 2 else planes[n].permute(2, 0, 1) for n in spec.inputs]
    x = torch.cat(parts, 0)[None]
    y = net(pad_to(x, spec.generator.divisor))[0]
    return y.index_select(1, torch.arange(x.shape[2])).index_select(2, torch.arange(x.shape[3]))


# ----------------------------------------------------------------------------------------------
# the graph


class Pipeline(torch.nn.Module):
    """uint8 LINEART [H, W, 4], HINTS [H, W, 4] -> uint8 COLOR [H, W, 3]."""

    def __init__(self, manifest, nets: dict, fill_rounds: int = FILL_ROUNDS) -> None:
        super().__init__()
        self.manifest, self.fill_rounds = manifest, fill_rounds
        self.draft, self.refine = nets["draft"].eval(), nets["refine"].eval()

    def forward(self, lineart, hints):
        size = torch._shape_as_tensor(lineart)
        h, w = size[0], size[1]
        full = input_planes(lineart, hints)
        full.update(fill_planes(full["line"], hints, full["hint_mask"], self.fill_rounds))

        # draft at the working resolution
        oh, ow = working_hw(h, w, self.manifest.working_size)
        draft = run_stage(self.draft, self.manifest.stages["draft"], working_planes(full, hints, oh, ow))

        # refinement at full resolution, in one piece
        uy, ux = bilinear_matrix(oh, h), bilinear_matrix(ow, w)
        full["draft_rgb"] = torch.stack([uy @ draft[c] @ ux.T for c in range(3)], -1)
        pred = run_stage(self.refine, self.manifest.stages["refine"], full) * full["line"][None]
        out = torch.clamp(pred * 255.0 + 0.5, 0.0, 255.0).floor()
        return out.permute(1, 2, 0).to(torch.uint8)


def load_nets(manifest) -> dict:
    """Each stage's generator from its safetensors weights (never a pickle)."""
    from safetensors.torch import load_file

    from engine.generator import UNetGenerator

    nets = {}
    for stage, spec in manifest.stages.items():
        if not spec.weights:
            raise ModelError(f"model {manifest.name!r} ships no safetensors weights for stage {stage!r}")
        net = UNetGenerator(spec.generator)
        net.load_state_dict(load_file(str(manifest.path(spec.weights)), device="cpu"))  # never pickle
        nets[stage] = net.eval()
    return nets
