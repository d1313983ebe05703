"""The U-Net generator that serves both stages (draft and refinement).

Imported only by the torch backend and by training: it needs torch.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from engine.modelspec import GeneratorConfig


def _norm(kind: str, ch: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(ch)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}; valid: batch, none")


class ConvBlock(nn.Sequential):
    def __init__(self, cin: int, cout: int, norm: str, stride: int = 1) -> None:
        super().__init__(
            nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=norm == "none"),
            _norm(norm, cout),
            nn.LeakyReLU(0.2, inplace=True),
        )


BASE_EPS = 1e-3  # keeps logit(base) finite for pure black and white bases
HEAD_INIT_SCALE = 0.05  # residual head's initial weights relative to the default init


class UNetGenerator(nn.Module):
    """Pixel-unshuffle → U-Net (strided-conv down, nearest-up + conv) → pixel-shuffle → sigmoid.

    Input N×C×H×W float in 0..1 with H, W multiples of ``cfg.divisor``; output N×3×H×W in 0..1.
    The unshuffle lets the refinement stage work at full resolution for the cost of a smaller
    grid while the line plane still reaches the network pixel-exactly. With a residual base
    (``cfg.base_rgb``) the head's output is added to the base's logit and starts at zero, so
    training begins from the base (flood fill, or the draft) instead of from gray.
    """

    def __init__(self, cfg: GeneratorConfig) -> None:
        super().__init__()
        cfg.check()
        self.cfg = cfg
        u, w, nrm = cfg.unshuffle, cfg.widths, cfg.norm
        self.unshuffle = nn.PixelUnshuffle(u) if u > 1 else nn.Identity()
        self.stem = nn.Sequential(ConvBlock(cfg.in_channels * u * u, w[0], nrm), ConvBlock(w[0], w[0], nrm))
        self.down = nn.ModuleList(
            nn.Sequential(ConvBlock(w[i - 1], w[i], nrm, stride=2), ConvBlock(w[i], w[i], nrm))
            for i in range(1, len(w))
        )
        self.up = nn.ModuleList(
            nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), ConvBlock(w[i], w[i - 1], nrm))
            for i in range(len(w) - 1, 0, -1)
        )
        self.merge = nn.ModuleList(ConvBlock(2 * w[i - 1], w[i - 1], nrm) for i in range(len(w) - 1, 0, -1))
        self.head = nn.Conv2d(w[0], cfg.out_channels * u * u, 1)
        self.shuffle = nn.PixelShuffle(u) if u > 1 else nn.Identity()
        if cfg.base_rgb >= 0:
            # near-zero rather than zero: the untrained net returns (almost) its base, and every
            # layer still receives gradient from the first step
            self.shrink_head(HEAD_INIT_SCALE)

    def shrink_head(self, scale: float) -> None:
        """Scale the head's weights and zero its bias: the net moves towards returning its base."""
        with torch.no_grad():
            self.head.weight.mul_(scale)
            if self.head.bias is not None:
                self.head.bias.zero_()

    def base_logit(self, x: torch.Tensor) -> torch.Tensor:
        i = self.cfg.base_rgb
        b = x[:, i : i + 3].clamp(BASE_EPS, 1.0 - BASE_EPS)
        logit = torch.log(b) - torch.log1p(-b)
        if self.cfg.base_mask >= 0:
            m = self.cfg.base_mask
            mask = x[:, m : m + 1]
            fb = min(max(self.cfg.base_fallback, BASE_EPS), 1.0 - BASE_EPS)
            logit = logit * mask + (1.0 - mask) * math.log(fb / (1.0 - fb))
        return logit

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem(self.unshuffle(x))
        skips = [h]
        for down in self.down:
            h = down(h)
            skips.append(h)
        skips.pop()
        for up, merge in zip(self.up, self.merge, strict=True):
            h = merge(torch.cat([up(h), skips.pop()], 1))
        y = self.shuffle(self.head(h))
        if self.cfg.base_rgb >= 0:
            y = y + self.base_logit(x)
        return torch.sigmoid(y)


def build_generator(cfg: GeneratorConfig) -> UNetGenerator:
    return UNetGenerator(cfg)


def flops_per_pixel(cfg: GeneratorConfig) -> float:
    """Multiply-adds ×2 per full-resolution input pixel (convolutions only), for reports."""
    model = UNetGenerator(cfg)
    total = 0.0
    side = cfg.divisor * 8
    hooks = []

    def hook(mod: nn.Module, _inp: object, out: torch.Tensor) -> None:
        nonlocal total
        if isinstance(mod, nn.Conv2d):
            k = mod.kernel_size[0] * mod.kernel_size[1] * mod.in_channels // mod.groups
            total += 2.0 * k * out.numel()

    for m in model.modules():
        hooks.append(m.register_forward_hook(hook))
    with torch.no_grad():
        model.eval()(torch.zeros(1, cfg.in_channels, side, side))
    for h in hooks:
        h.remove()
    return total / (side * side)
