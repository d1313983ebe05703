"""The stage recipe: what each stage's network is fed, and how one stage is run on its planes.

The draft sees the whole image at a working size (``draft_planes``); the refinement sees
full-resolution tiles with the draft upsampled over them (``refine_planes``); either runs on its
stacked planes edge-padded to the network's divisor (``run_padded``). The pipeline
(``engine.pipeline``) and training (``training.batch``) both call these, so a training example
holds exactly the planes inference feeds the model (``tests/training/test_training.py`` compares them).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine import channels
from engine.resample import bilinear_crop
from engine.tiling import pad_to_multiple

# N×C×H×W float32 (H, W multiples of the network's divisor) -> N×3×H×W float32
StageNet = Callable[[np.ndarray], np.ndarray]


def draft_planes(
    prep: channels.Prepared,
    small_hw: tuple[int, int],
    inputs: tuple[str, ...] | list[str],
    spread: channels.SpreadParams,
    gap: int = 0,
) -> dict[str, np.ndarray]:
    """The draft's planes at the working size ``small_hw`` (``tiling.working_shape``).

    ``channels.downsample``, then the working-only channels (spread, regions) that ``inputs``
    names; ``gap`` is in working-size pixels (0: scaled to the grid, ``regions.working_gap``).
    """
    return channels.add_working(channels.downsample(prep, small_hw), inputs, spread, gap)


def refine_planes(
    prep: channels.Prepared,
    box: tuple[int, int, int, int],
    inputs: tuple[str, ...] | list[str],
    draft_hwc_f32: np.ndarray,
) -> dict[str, np.ndarray]:
    """A refinement tile's planes: ``prep`` cut to ``box`` = (y0, y1, x0, x1) at full resolution,
    with the working-size draft upsampled bilinearly over it when ``inputs`` names ``draft_rgb``."""
    planes = channels.crop(prep, box)
    if "draft_rgb" in inputs:
        planes["draft_rgb"] = bilinear_crop(draft_hwc_f32, prep.shape, box)
    return planes


def run_padded(net: StageNet, chw_f32: np.ndarray, divisor: int) -> np.ndarray:
    """Run one stage on stacked C×H×W planes: edge-pad to ``divisor``, run, crop back; H×W×3."""
    h, w = chw_f32.shape[1:]
    y = net(pad_to_multiple(chw_f32, divisor)[None])
    return np.moveaxis(y[0, :, :h, :w], 0, -1)
