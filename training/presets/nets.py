"""The papers' generators: ``NETS`` maps a name to a builder ``(in, out, width, head) -> nn.Module``.

- ``unet``: pix2pix-style U-Net (strided conv down, upsample + conv up, skips), BN + LeakyReLU.
- ``encdec``: Fu/Hsu/Yang's symmetric encoder-decoder, 6 down and 6 up, BN + LeakyReLU, no skips.
- ``colourful``: a "Colorful Image Colorization"-style net: conv blocks down to 1/8, dilated blocks,
  one learnt upsampling to 1/4, then bilinear to full size; no skips.
- ``engine-unet``: the engine's own ``UNetGenerator`` (exportable to a model folder).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from engine.errors import unknown_name


def _block(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(cout),
        nn.LeakyReLU(0.2, inplace=True),
    )


class Head(nn.Module):
    def __init__(self, cin: int, cout: int, kind: str) -> None:
        super().__init__()
        if kind not in ("sigmoid", "raw"):
            raise ValueError(unknown_name("head", kind, ("sigmoid", "raw")))
        self.conv = nn.Conv2d(cin, cout, 1)
        self.sigmoid = kind == "sigmoid"

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        y = self.conv(h)
        return torch.sigmoid(y) if self.sigmoid else y


class UNet(nn.Module):
    def __init__(self, cin: int, cout: int, width: int, head: str, levels: int = 4) -> None:
        super().__init__()
        w = [width * min(8, 2**i) for i in range(levels)]
        self.stem = nn.Sequential(_block(cin, w[0]), _block(w[0], w[0]))
        self.down = nn.ModuleList(
            nn.Sequential(_block(w[i - 1], w[i], 2), _block(w[i], w[i])) for i in range(1, levels)
        )
        self.up = nn.ModuleList(
            nn.Sequential(nn.Upsample(scale_factor=2.0), _block(w[i], w[i - 1]))
            for i in range(levels - 1, 0, -1)
        )
        self.merge = nn.ModuleList(_block(2 * w[i - 1], w[i - 1]) for i in range(levels - 1, 0, -1))
        self.head = Head(w[0], cout, head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem(x)
        skips = [h]
        for down in self.down:
            h = down(h)
            skips.append(h)
        skips.pop()
        for up, merge in zip(self.up, self.merge, strict=True):
            h = merge(torch.cat([up(h), skips.pop()], 1))
        return self.head(h)


class EncDec(nn.Module):
    """6 × (4×4 conv stride 2, BN, LeakyReLU) down, 6 × (4×4 transposed conv, BN, LeakyReLU) up."""

    def __init__(self, cin: int, cout: int, width: int, head: str, depth: int = 6) -> None:
        super().__init__()
        w = [width * min(8, 2**i) for i in range(depth)]
        down: list[nn.Module] = []
        c = cin
        for wi in w:
            down += [
                nn.Conv2d(c, wi, 4, 2, 1, bias=False),
                nn.BatchNorm2d(wi),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            c = wi
        up: list[nn.Module] = []
        for wi in [*reversed(w[:-1]), width]:
            up += [
                nn.ConvTranspose2d(c, wi, 4, 2, 1, bias=False),
                nn.BatchNorm2d(wi),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            c = wi
        self.net = nn.Sequential(*down, *up)
        self.head = Head(c, cout, head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.net(x))


class Colourful(nn.Module):
    def __init__(self, cin: int, cout: int, width: int, head: str) -> None:
        super().__init__()
        w = width
        self.body = nn.Sequential(
            _block(cin, w),
            _block(w, w, 2),  # 1/2
            _block(w, 2 * w),
            _block(2 * w, 2 * w, 2),  # 1/4
            _block(2 * w, 4 * w),
            _block(4 * w, 4 * w, 2),  # 1/8
            _block(4 * w, 4 * w, dilation=2),
            _block(4 * w, 4 * w, dilation=2),
            _block(4 * w, 4 * w),
            nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1),  # 1/4
            nn.LeakyReLU(0.2, inplace=True),
            _block(2 * w, 2 * w),
        )
        self.head = Head(2 * w, cout, head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.head(self.body(x))
        return nn.functional.interpolate(y, size=x.shape[2:], mode="bilinear", align_corners=False)


def _engine_unet(cin: int, cout: int, width: int, head: str) -> nn.Module:
    from engine.generator import UNetGenerator
    from engine.modelspec import GeneratorConfig

    if head != "sigmoid":
        raise ValueError("engine-unet ends in a sigmoid: it cannot predict logits")
    widths = tuple(width * 2**i for i in range(4))
    return UNetGenerator(GeneratorConfig(cin, cout, widths=widths, unshuffle=2))


NetBuilder = Callable[[int, int, int, str], nn.Module]
NETS: dict[str, NetBuilder] = {
    "unet": UNet,
    "encdec": EncDec,
    "colourful": Colourful,
    "engine-unet": _engine_unet,
}
DIVISORS = {"unet": 8, "encdec": 64, "colourful": 8, "engine-unet": 16}  # input sides: multiples of


def build_net(name: str, cin: int, cout: int, width: int, head: str) -> nn.Module:
    if name not in NETS:
        raise ValueError(unknown_name("net", name, NETS))
    return NETS[name](cin, cout, width, head)
