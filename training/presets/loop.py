"""Training one arm of a paper preset for a wall-time budget.

Reconstruction term (``LOSSES``) × ``rec_weight`` plus, when the arm has one, a conditional
PatchGAN (``training.gan.PatchDiscriminator``) with non-saturating BCE or least-squares losses and
optional label flips. A two-stage refinement arm sees the output of its drafting arm's generator
as it was halfway through that arm's training. ``ckpt`` makes a long run resumable.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.errors import unknown_name
from training.config import DiscriminatorConfig
from training.gan import PatchDiscriminator
from training.presets import colour
from training.presets.inputs import get_input
from training.presets.nets import build_net
from training.presets.pool import GrayFn, Pool, train_batch
from training.presets.spec import Arm
from training.presets.targets import get_target

log = logging.getLogger(__name__)


def _ce(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    n = colour.UV_BINS
    logits = out.reshape(out.shape[0], 2, n, *out.shape[2:]).transpose(1, 2)  # N×bins×2×H×W
    return F.cross_entropy(logits, y.long())


LOSSES = {
    "l1": F.l1_loss,
    "l2": F.mse_loss,
    "huber": lambda a, b: F.smooth_l1_loss(a, b, beta=1.0 / 16.0),  # target units 0..1: δ ≈ 6 % of range
    "ce": _ce,
}


@dataclass
class ArmRun:
    """A trained arm: its generator (eval mode), the drafting generator it saw, and its log."""

    arm: Arm
    G: nn.Module
    steps: int
    wall_s: float
    draft: nn.Module | None = None  # two-stage refinement: the final drafting generator
    half: dict | None = None  # the generator's weights halfway through (a refinement drafts from it)
    losses: list[float] = field(default_factory=list)


def _seen(target: str, out: torch.Tensor, batch_l: torch.Tensor) -> torch.Tensor:
    """The 3-plane image D judges: RGB itself, else L with the predicted chroma."""
    return out if target == "rgb" else torch.cat([batch_l[:, None] / 100.0, out], 1)


def _adv_loss(kind: str, logits: torch.Tensor, real: torch.Tensor | float) -> torch.Tensor:
    t = real if isinstance(real, torch.Tensor) else torch.full_like(logits, real)
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(logits, t.expand_as(logits))
    if kind == "lsgan":
        return F.mse_loss(logits, t.expand_as(logits))
    raise ValueError(unknown_name("adversarial loss", kind, ("bce", "lsgan")))


def draft_input(draft: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Refinement input: the draft's own input planes and its output (7 planes for two-stage)."""
    with torch.no_grad():
        return torch.cat([x, draft.eval()(x)], 1)


def in_channels(arm: Arm) -> int:
    planes, _ = get_input(arm.inputs)
    return planes + (3 if arm.draft_from else 0)


def train_arm(
    arm: Arm,
    pool: Pool,
    minutes: float,
    crop: int,
    batch: int,
    seed: int = 0,
    draft_half: dict | None = None,
    draft_arm: Arm | None = None,
    ckpt: Path | None = None,
    max_steps: int = 0,
    gray: GrayFn | None = None,
    ckpt_every_s: float = 120.0,
    device: str = "cpu",
) -> ArmRun:
    torch.manual_seed(seed)
    target = get_target(arm.target)
    G = build_net(arm.net, in_channels(arm), target.out_channels, arm.width, target.head).to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=arm.lr, betas=(arm.beta1, 0.999))
    D = opt_d = None
    if arm.adversarial:
        D = PatchDiscriminator(in_channels(arm), DiscriminatorConfig((32, 64, 128))).to(device)
        opt_d = torch.optim.Adam(D.parameters(), lr=arm.lr, betas=(arm.beta1, 0.999))
    drafter = None
    if arm.draft_from:
        if draft_half is None or draft_arm is None:
            raise ValueError(f"arm {arm.name} drafts from {arm.draft_from}: give its half-trained weights")
        drafter = build_net(draft_arm.net, in_channels(draft_arm), 3, draft_arm.width, "sigmoid")
        drafter.load_state_dict(draft_half)
        drafter.to(device)
    step, wall_before = 0, 0.0
    if ckpt is not None and ckpt.is_file():
        state = torch.load(ckpt, weights_only=True, map_location=device)
        G.load_state_dict(state["G"])
        opt_g.load_state_dict(state["opt_g"])
        if D is not None and opt_d is not None:
            D.load_state_dict(state["D"])
            opt_d.load_state_dict(state["opt_d"])
        step, wall_before = int(state["step"]), float(state["wall_s"])
        log.info("%s: resumed at step %d (%.0f s)", arm.name, step, wall_before)
    rec = LOSSES.get(arm.loss)
    if rec is None:
        raise ValueError(unknown_name("loss", arm.loss, LOSSES))
    budget = minutes * 60.0
    t0 = time.monotonic()
    last_save = t0
    half: dict | None = None
    losses: list[float] = []

    def wall() -> float:
        return wall_before + time.monotonic() - t0

    def save() -> None:
        if ckpt is None:
            return
        state = {"G": G.state_dict(), "opt_g": opt_g.state_dict(), "step": step, "wall_s": wall()}
        if D is not None and opt_d is not None:
            state.update(D=D.state_dict(), opt_d=opt_d.state_dict())
        tmp = ckpt.with_suffix(".tmp")
        torch.save(state, tmp)
        tmp.replace(ckpt)

    while wall() < budget and (not max_steps or step < max_steps):
        rng = np.random.default_rng([seed, step])
        b = train_batch(pool, arm.inputs, arm.target, batch, crop, rng, gray)
        x, y, lt = (torch.from_numpy(b[k]).to(device) for k in ("x", "y", "l"))
        if drafter is not None:
            x = draft_input(drafter, x)
        G.train()
        out = G(x)
        adversarial = D is not None and wall() >= arm.pretrain_share * budget
        g_loss = arm.rec_weight * rec(out, y)
        if adversarial and D is not None and opt_d is not None:
            fake = _seen(arm.target, out, lt)
            real = _seen(arm.target, y, lt)
            flip = (torch.from_numpy(rng.random(2)) < arm.label_flip).float()
            d_real = D(x, real)
            d_fake = D(x, fake.detach())
            d_loss = 0.5 * (
                _adv_loss(arm.adversarial, d_real, 1.0 - flip[0].item())
                + _adv_loss(arm.adversarial, d_fake, flip[1].item())
            )
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            for p in D.parameters():
                p.requires_grad_(False)
            g_loss = g_loss + arm.adv_weight * _adv_loss(arm.adversarial, D(x, fake), 1.0)
            for p in D.parameters():
                p.requires_grad_(True)
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        step += 1
        losses.append(float(g_loss.item()))
        if half is None and wall() >= budget / 2:
            half = {k: v.detach().cpu().clone() for k, v in G.state_dict().items()}
        if ckpt is not None and time.monotonic() - last_save > ckpt_every_s:
            save()
            last_save = time.monotonic()
            log.info("%s: step %d, %.0f s, loss %.4f", arm.name, step, wall(), np.mean(losses[-50:]))
    save()
    if half is None:
        half = {k: v.detach().cpu().clone() for k, v in G.state_dict().items()}
    log.info("%s: %d steps in %.0f s", arm.name, step, wall())
    G.cpu()
    if drafter is not None:
        drafter.cpu()
    return ArmRun(arm, G.eval(), step, wall(), drafter, half, losses)


@torch.no_grad()
def predict(run: ArmRun, x_chw: np.ndarray, final_draft: nn.Module | None = None) -> np.ndarray:
    """The arm's raw output (C×H×W) for one example's input planes; a refinement drafts with
    ``final_draft`` (the drafting arm's finished generator), as the two stages run at inference."""
    x = torch.from_numpy(x_chw[None])
    if run.arm.draft_from:
        drafter = final_draft if final_draft is not None else run.draft
        if drafter is None:
            raise ValueError(f"arm {run.arm.name} needs its drafting generator")
        x = draft_input(drafter, x)
    return run.G.eval()(x)[0].numpy()
