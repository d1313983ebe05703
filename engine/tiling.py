"""The grids a stage runs on: the draft's working grid, and overlapping refinement tiles whose blend
weights sum to one, so seams vanish and memory stays bounded."""

from __future__ import annotations

import numpy as np


def plan_axis(length: int, tile: int, overlap: int, align: int = 1) -> list[tuple[int, int]]:
    """[start, stop) spans of at most ``tile`` covering ``length``, overlapping ≥ ``overlap``.

    Starts are multiples of ``align`` (the network's divisor): a pixel-unshuffled or strided
    network is only shift-equivariant by whole cells, so misaligned tiles would disagree.
    """
    if length <= tile:
        return [(0, length)]
    step = max(align, (tile - overlap) // align * align)
    spans, start = [], 0
    while True:
        stop = min(start + tile, length)
        spans.append((start, stop))
        if stop == length:
            return spans
        start += step


def axis_weights(spans: list[tuple[int, int]]) -> list[np.ndarray]:
    """Per-span 1-D weights: linear cross-fades in each overlap, 1 elsewhere; they sum to 1."""
    weights = []
    for i, (s, e) in enumerate(spans):
        w = np.ones(e - s, np.float32)
        if i > 0:  # fade in over the overlap with the previous span
            ps, pe = spans[i - 1]
            n = pe - s
            if n > 0:
                w[:n] = (np.arange(n, dtype=np.float32) + 0.5) / n
        if i + 1 < len(spans):  # fade out over the overlap with the next span
            ns, _ = spans[i + 1]
            n = e - ns
            if n > 0:
                w[e - s - n :] = 1.0 - (np.arange(n, dtype=np.float32) + 0.5) / n
        weights.append(w)
    return weights


def plan(shape: tuple[int, int], tile: int, overlap: int, align: int = 1):
    """Yield ((y0, y1, x0, x1), weight_hw_f32) for every tile of an image of ``shape``."""
    ys, xs = plan_axis(shape[0], tile, overlap, align), plan_axis(shape[1], tile, overlap, align)
    wy, wx = axis_weights(ys), axis_weights(xs)
    for (y0, y1), wyy in zip(ys, wy):
        for (x0, x1), wxx in zip(xs, wx):
            yield (y0, y1, x0, x1), wyy[:, None] * wxx[None, :]


def pad_to_multiple(chw_f32: np.ndarray, divisor: int) -> np.ndarray:
    """Edge-pad the bottom and right so both sides are multiples of ``divisor``."""
    h, w = chw_f32.shape[1:]
    ph, pw = (-h) % divisor, (-w) % divisor
    if ph == 0 and pw == 0:
        return chw_f32
    return np.pad(chw_f32, ((0, 0), (0, ph), (0, pw)), mode="edge")


MIN_WORKING_SIDE = 64  # the draft sees at least this many pixels across a long strip


def working_shape(shape: tuple[int, int], working_size: int) -> tuple[int, int]:
    """The draft's grid: the image scaled so its longest side is at most ``working_size``.

    A long strip (a 64×4096 banner) would shrink to a few pixels across, too few for its lines
    to survive: its short side is kept at ``MIN_WORKING_SIDE`` (or its own size) as long as the
    grid holds no more pixels than a ``working_size`` square.
    """
    h, w = shape
    scale = min(1.0, working_size / max(h, w))
    if min(h, w) * scale < MIN_WORKING_SIDE:
        area_cap = working_size / (h * w) ** 0.5
        scale = min(1.0, area_cap, max(scale, MIN_WORKING_SIDE / min(h, w)))
    return max(1, round(h * scale)), max(1, round(w * scale))
