"""Levin, Lischinski & Weiss 2004, "Colorization using Optimization", as a hint-propagation baseline.

The paper colours a grayscale image from scribbles: neighbouring pixels with similar intensity should
get similar colour. For every unconstrained pixel r it asks ``U(r) = Σ_s w_rs U(s)`` over the 3×3
neighbours s, with affinities ``w_rs ∝ exp(-(Y(r) - Y(s))² / 2σ_r²)`` normalised to sum to 1 per r,
σ_r² the intensity variance in the window around r; scribbled pixels keep their colour. That is one
sparse linear system per channel (YUV), built with ``scipy.sparse`` and solved by conjugate gradients
preconditioned with algebraic multigrid (``pyamg``), much as the paper used multigrid.

Adaptation to line art (the intensity image is the line art, not the picture's own luminance): the
line plane drives the affinities, so colour flows freely over paper and is held back by ink; and the
hints' luminance Y is propagated with U and V, since the line art's luminance (white paper) says
nothing about the colour's lightness. Like every baseline, the lines are composed on top.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage, sparse

from engine.arrays import check_hints, check_lineart, line_from_rgba, to_rgb_u8

# BT.601 RGB -> YUV (the paper's colour space); its inverse maps the solution back
RGB2YUV = np.array(
    [[0.299, 0.587, 0.114], [-0.14713, -0.28886, 0.436], [0.615, -0.51499, -0.10001]], np.float64
)
YUV2RGB = np.linalg.inv(RGB2YUV)


@dataclass(frozen=True)
class LevinConfig:
    """Affinity and solver settings.

    The Gaussian's 2σ² for a pixel pair is ``var_scale`` times the mean of the two windows' intensity
    variances (0.6: a sharper fall-off than 2σ² = 2·variance, so that a thin dark line on white
    paper, whose windows have a variance of only ~0.2, still holds colour back); ``min_var`` keeps
    it away from 0 on flat paper, where the window variance vanishes."""

    radius: int = 1  # window (2r+1)²: the paper's 3×3
    var_scale: float = 0.6
    min_var: float = 2e-4  # floor of 2σ² (line plane in 0..1)
    tol: float = 1e-4  # relative residual of the conjugate-gradient solve (~0.1/255 in colour)
    maxiter: int = 100
    # pull towards white paper: keeps the system definite where ink seals a region off from every
    # hint (affinities underflow to 0 there); far too weak to matter anywhere a hint reaches
    white_pull: float = 1e-8


def affinities(y_hw: np.ndarray, cfg: LevinConfig = LevinConfig()) -> sparse.csr_matrix:
    """Symmetric affinity matrix K (N×N, N = H·W, zero diagonal) of the intensity image ``y_hw``.

    ``k_rs = exp(-(Y(r) - Y(s))² / 2σ_rs²)``: the paper's Gaussian weight with the two pixels'
    window variances averaged into σ_rs, so that k_rs = k_sr. The paper's row-normalised
    w_rs = k_rs / Σ_s k_rs then gives the same solution as the graph Laplacian D - K (row scaling
    leaves it unchanged), and that system is symmetric positive definite: conjugate gradients with
    an algebraic-multigrid preconditioner solve it faster than a direct LU of the paper's
    non-symmetric form, with far less memory (512² on the shared 2-core dev machine: ~7 s against
    10–22 s for SuperLU, depending on its ordering).
    """
    h, w = y_hw.shape
    y = y_hw.astype(np.float64)
    size = 2 * cfg.radius + 1
    mean = ndimage.uniform_filter(y, size, mode="nearest")
    var = np.maximum(ndimage.uniform_filter(y * y, size, mode="nearest") - mean * mean, 0.0)
    half_2s2 = 0.5 * cfg.var_scale * var  # each pixel's share of the pair's 2σ²
    idx = np.arange(h * w).reshape(h, w)
    rows, cols, vals = [], [], []
    # half of the window's offsets; the other half is the transpose
    for dy in range(0, cfg.radius + 1):
        for dx in range(-cfg.radius, cfg.radius + 1):
            if dy == 0 and dx <= 0:
                continue
            # r = (i, j) and its neighbour s = (i + dy, j + dx), both inside the image
            ri, si = slice(0, h - dy), slice(dy, h)
            rj = slice(max(0, -dx), w - max(0, dx))
            sj = slice(max(0, dx), w - max(0, -dx))
            diff2 = (y[ri, rj] - y[si, sj]) ** 2
            rows.append(idx[ri, rj].ravel())
            cols.append(idx[si, sj].ravel())
            vals.append(np.exp(-diff2 / np.maximum(half_2s2[ri, rj] + half_2s2[si, sj], cfg.min_var)).ravel())
    r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    upper = sparse.csr_matrix((v, (r, c)), shape=(h * w, h * w))
    return (upper + upper.T).tocsr()


def propagate(
    y_hw: np.ndarray,
    known_hw: np.ndarray,
    values_hwc: np.ndarray,
    white: np.ndarray,
    cfg: LevinConfig = LevinConfig(),
) -> np.ndarray:
    """Solve U(r) = Σ_s w_rs U(s) on the unknown pixels, U fixed to ``values_hwc`` where ``known_hw``.

    ``white`` is the C-vector of paper white in the channels' space. Returns H×W×C float64; one
    multigrid hierarchy (Ruge–Stüben) serves all channels.
    """
    import pyamg  # only the Levin baseline needs it

    h, w = y_hw.shape
    c = values_hwc.shape[-1]
    known = known_hw.ravel()
    if not known.any():
        raise ValueError("propagation needs at least one constrained pixel")
    values = values_hwc.reshape(-1, c).astype(np.float64)
    out = values.copy()
    if known.all():
        return out.reshape(h, w, c)
    K = affinities(y_hw, cfg)
    L = (sparse.diags(np.asarray(K.sum(axis=1)).ravel()) - K).tocsr()
    unk, kn = np.flatnonzero(~known), np.flatnonzero(known)
    L_u = L[unk]
    A = (L_u[:, unk] + cfg.white_pull * sparse.identity(unk.size)).tocsr()
    rhs = cfg.white_pull * white[None, :] - L_u[:, kn] @ values[kn]
    ml = pyamg.ruge_stuben_solver(A)
    for ch in range(c):
        b = rhs[:, ch]
        out[unk, ch] = ml.solve(b, tol=cfg.tol, maxiter=cfg.maxiter, accel="cg")
    return out.reshape(h, w, c)


def levin(
    lineart_rgba_u8: np.ndarray, hints_rgba_u8: np.ndarray | None = None, cfg: LevinConfig = LevinConfig()
) -> np.ndarray:
    """Baseline method ``fn(lineart, hints) -> rgb_u8``: hints propagated by Levin et al.'s system.

    Without hints nothing constrains the colour: white paper under the lines, like the flood fill.
    """
    lineart = check_lineart(lineart_rgba_u8)
    hints = check_hints(hints_rgba_u8, lineart.shape[:2])
    line = line_from_rgba(lineart)
    if hints is None or not hints[..., 3].any():
        rgb = np.ones((*line.shape, 3), np.float32)
    else:
        known = hints[..., 3] > 0
        yuv = (hints[..., :3].astype(np.float64) / 255.0) @ RGB2YUV.T
        rgb = np.clip(propagate(line, known, yuv, RGB2YUV @ np.ones(3), cfg) @ YUV2RGB.T, 0.0, 1.0).astype(
            np.float32
        )
    return to_rgb_u8(rgb * line[..., None])
