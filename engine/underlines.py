"""Colour under the lines: every pixel the line art covers takes the colour of the paper beside it.

An anti-aliased line's edge is part ink, part the colour under it; a colour layer under the lines
shows through there, and a result with the lines multiplied on blends that colour in. The regions
assign a line to one side (or the network smears across it), so half of every edge showed the
wrong colour: a light fringe between a line and its fill, or the neighbour's tint (on the first
60 ``real-val`` pictures with full hints this was +0.76 dB PSNR for the AI result, +1.06 for the
flats). Each non-paper pixel now takes the colour of its nearest paper pixel, so two fills meet
at the middle of the line, the way artists flat under their inks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

PAPER_LEVEL = 0.95  # line plane (1 = paper) at or above which a pixel shows only the colour


@dataclass(frozen=True)
class UnderLines:
    """Flat indices of the pixels under the lines and of the paper pixel nearest to each."""

    under_i64: np.ndarray
    source_i64: np.ndarray

    def fill(self, image: np.ndarray) -> np.ndarray:
        """Set the pixels of ``image`` (H×W or H×W×C, the line art's size, any strides) under the
        lines from their nearest paper pixel, in place (a canvas-sized copy per request is what
        this saves); returns ``image``."""
        w = image.shape[1]
        image[np.divmod(self.under_i64, w)] = image[np.divmod(self.source_i64, w)]
        return image


def under_lines(line_hw_f32: np.ndarray) -> UnderLines | None:
    """Where ``line_hw_f32`` is not paper and the paper pixel nearest to each (chessboard
    distance: which side of the line, not an exact Euclidean point, is what matters, and it is
    ~4× cheaper); None when there is no line or no paper."""
    paper = line_hw_f32 >= PAPER_LEVEL
    under = np.flatnonzero(~paper)
    if under.size == 0 or under.size == paper.size:
        return None
    iy, ix = ndimage.distance_transform_cdt(
        ~paper, metric="chessboard", return_distances=False, return_indices=True
    )
    source = iy.ravel()[under].astype(np.int64) * paper.shape[1] + ix.ravel()[under]
    return UnderLines(under.astype(np.int64), source)
