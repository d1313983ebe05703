"""Conditional GAN for one stage: the engine's U-Net generator, a PatchGAN discriminator, losses.

``Gan.step(batch) -> dict of losses`` is one optimisation step of both networks:
L1 + λ·adversarial for G (non-saturating), binary cross-entropy with label-flip noise for D.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from engine.errors import unknown_name
from engine.generator import UNetGenerator
from training.config import DiscriminatorConfig, TrainConfig, plane_offset


class PatchDiscriminator(nn.Module):
    """pix2pix-style PatchGAN: real/fake logits per overlapping patch, conditioned on the inputs."""

    def __init__(self, cond_channels: int, cfg: DiscriminatorConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = cond_channels + 3
        for i, w in enumerate(cfg.widths):
            layers.append(nn.Conv2d(cin, w, 4, stride=2, padding=1, bias=i == 0))
            if i > 0:
                layers.append(nn.BatchNorm2d(w))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            cin = w
        layers.append(nn.Conv2d(cin, 1, 4, stride=1, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, cond: torch.Tensor, rgb: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([cond, rgb], 1))


def masked_l1(
    pred: torch.Tensor, target: torch.Tensor, valid: torch.Tensor, weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean absolute error over the valid (unpadded) pixels. ``weight`` (N×1×H×W) counts only some
    of them, still divided by all valid pixels: a per-pixel ratio of the image's L1."""
    total = valid.sum() * pred.shape[1]
    w = valid if weight is None else weight * valid
    return ((pred - target).abs() * w).sum() / total.clamp_min(1.0)


_XYZ_FROM_LINEAR = torch.tensor(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
_D65 = torch.tensor([0.95047, 1.0, 1.08883])


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB N×3×H×W in 0..1 → CIELAB (D65) divided by 100, differentiable."""
    lin = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb.clamp_min(0.0) + 0.055) / 1.055) ** 2.4)
    xyz = torch.einsum("ij,njhw->nihw", _XYZ_FROM_LINEAR.to(rgb), lin) / _D65.to(rgb).view(1, 3, 1, 1)
    eps = (6.0 / 29.0) ** 3
    f = torch.where(xyz > eps, xyz.clamp_min(eps) ** (1.0 / 3.0), xyz / (3 * (6.0 / 29.0) ** 2) + 4.0 / 29.0)
    fx, fy, fz = f[:, 0:1], f[:, 1:2], f[:, 2:3]
    return torch.cat([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], 1) / 100.0


# colour space the L1 term is measured in: Lab follows perceived colour difference (the ΔE00 the
# evaluation reports) more closely than RGB
L1_SPACES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {"rgb": lambda t: t, "lab": rgb_to_lab}


def _set_requires_grad(net: nn.Module, flag: bool) -> None:
    for p in net.parameters():
        p.requires_grad_(flag)


class Gan:
    """Both networks of one stage and their optimisers.

    ``wrap`` turns a module into what runs the forward pass (``DistributedDataParallel`` under
    torchrun, identity otherwise); ``G`` and ``D`` stay the plain modules for saving.
    """

    def __init__(
        self,
        cfg: TrainConfig,
        wrap: Callable[[nn.Module], nn.Module] | None = None,
        device: str = "cpu",
    ) -> None:
        self.cfg = cfg
        self.device = torch.device(device)
        self.G = UNetGenerator(cfg.generator).to(self.device)
        self.D = PatchDiscriminator(cfg.generator.in_channels, cfg.discriminator).to(self.device)
        wrap = wrap or (lambda m: m)
        self.g, self.d = wrap(self.G), wrap(self.D)
        o = cfg.optim
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=o.lr, betas=(o.beta1, o.beta2))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=o.lr, betas=(o.beta1, o.beta2))
        self.line = plane_offset(cfg.inputs, "line")
        if o.l1_space not in L1_SPACES:
            raise ValueError(unknown_name("l1_space", o.l1_space, L1_SPACES))
        self.to_l1_space = L1_SPACES[o.l1_space]
        self.step_count = 0  # optimisation steps taken (also the checkpoint's step)
        self.rank = 0
        # > 0: an extra L1 term between the output and the hint colour at the hint pixels, this
        # many times as strong as the image's L1 there (fine-tuning: keep the artist's colours)
        self.hint_weight = 0.0
        self.hint_rgb = plane_offset(cfg.inputs, "hint_rgb")
        self.hint_mask = plane_offset(cfg.inputs, "hint_mask")
        self.flat_rgb = plane_offset(cfg.inputs, "flat_rgb")
        self.flat_mask = plane_offset(cfg.inputs, "flat_mask")

    def shown(self, x: torch.Tensor, rgb: torch.Tensor) -> torch.Tensor:
        """What the artist sees: the engine multiplies the line art onto the colours."""
        if self.cfg.optim.compose_lines:
            return rgb * x[:, self.line : self.line + 1]
        return rgb

    def _flip_noise(self, n: int) -> torch.Tensor:
        # seeded by the step, so a resumed run draws the same flips without saved RNG state
        gen = torch.Generator().manual_seed(self.cfg.seed * 1_000_003 + self.step_count * 64 + self.rank)
        return (torch.rand(2, n, 1, 1, 1, generator=gen) < self.cfg.optim.label_flip).float().to(self.device)

    def step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        self.G.train()
        self.D.train()
        x = batch["x"].to(self.device)
        y = batch["y"].to(self.device)
        valid = batch["valid"].to(self.device)
        n = x.shape[0]
        o = self.cfg.optim

        fake = self.shown(x, self.g(x))

        # discriminator: real and fake in one pass (one DDP forward per backward)
        _set_requires_grad(self.D, True)
        logits = self.d(torch.cat([x, x]), torch.cat([y, fake.detach()]))
        real_logits, fake_logits = logits[:n], logits[n:]
        flip = self._flip_noise(n)
        t_real = (1.0 - flip[0]).expand_as(real_logits)
        t_fake = flip[1].expand_as(fake_logits)
        d_real = F.binary_cross_entropy_with_logits(real_logits, t_real)
        d_fake = F.binary_cross_entropy_with_logits(fake_logits, t_fake)
        d_loss = 0.5 * (d_real + d_fake)
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()

        # generator: D frozen, used unwrapped so no gradient sync happens for it here
        _set_requires_grad(self.D, False)
        adv_logits = self.D(x, fake)
        g_adv = F.binary_cross_entropy_with_logits(adv_logits, torch.ones_like(adv_logits))
        fake_l1 = self.to_l1_space(fake)
        y_l1 = self.to_l1_space(y)
        l1 = masked_l1(fake_l1, y_l1, valid)
        g_loss = l1 + o.adv_weight * g_adv
        out: dict[str, float] = {}
        if self.hint_weight > 0.0 and self.hint_mask >= 0 and self.hint_rgb >= 0:
            hint_l1 = self.hint_l1(x, fake_l1, valid)
            g_loss = g_loss + self.hint_weight * hint_l1
            out["hint_l1"] = hint_l1.item()
        if o.flat_weight > 0.0 and self.flat_mask >= 0 and self.flat_rgb >= 0:
            flat_l1 = self.flat_l1(x, fake_l1, y_l1, valid)
            g_loss = g_loss + o.flat_weight * flat_l1
            out["flat_l1"] = flat_l1.item()
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        _set_requires_grad(self.D, True)

        self.step_count += 1
        return {
            **out,
            "l1": l1.item(),
            "g_adv": g_adv.item(),
            "g_loss": g_loss.item(),
            "d_real": d_real.item(),
            "d_fake": d_fake.item(),
            "d_loss": d_loss.item(),
        }

    def hint_l1(self, x: torch.Tensor, fake_l1: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """L1 between the output and the hint colours at the hint pixels (weighted by the hints'
        strength), normalised like the image's L1 so ``hint_weight`` is a per-pixel ratio."""
        target = self.to_l1_space(x[:, self.hint_rgb : self.hint_rgb + 3])
        return masked_l1(fake_l1, target, valid, x[:, self.hint_mask : self.hint_mask + 1])

    def right_flats(self, x: torch.Tensor, y_l1: torch.Tensor) -> torch.Tensor:
        """N×1×H×W: 1 where the flats paint the truth (within ``flat_tolerance``, as shown with
        the lines), the pixels the draft should leave as they are."""
        flat = self.to_l1_space(self.shown(x, x[:, self.flat_rgb : self.flat_rgb + 3]))
        near = (flat - y_l1).abs().mean(1, keepdim=True) < self.cfg.optim.flat_tolerance
        return (near & (x[:, self.flat_mask : self.flat_mask + 1] > 0.5)).to(y_l1.dtype)

    def flat_l1(
        self, x: torch.Tensor, fake_l1: torch.Tensor, y_l1: torch.Tensor, valid: torch.Tensor
    ) -> torch.Tensor:
        """L1 at the pixels where the flats are right, normalised like the image's L1 (so
        ``flat_weight`` is a per-pixel ratio): a departure there costs 1 + ``flat_weight`` times
        what it costs elsewhere."""
        return masked_l1(fake_l1, y_l1, valid, self.right_flats(x, y_l1))

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Eval-mode output as the engine shows it (composed with the lines when configured)."""
        self.G.eval()
        x = x.to(self.device)
        return self.shown(x, self.G(x))

    @torch.no_grad()
    def validate(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        pred = self.predict(batch["x"])
        return {"val_l1": masked_l1(pred, batch["y"].to(self.device), batch["valid"].to(self.device)).item()}
