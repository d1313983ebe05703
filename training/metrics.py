"""Image-quality metrics of a colorization against the true colour image.

All take H×W×3 uint8 RGB. Colour differences are CIEDE2000 (ΔE00) in CIELAB, from scikit-image.

- ``psnr`` (dB, inf when identical), ``ssim`` (structural similarity over RGB, 1 when identical),
  ``de00`` (mean ΔE00 over all pixels, 0 when identical).
- ``hint_de00``: mean ΔE00 between the prediction and the hint colour at the hint pixels: did the
  method keep the colours the artist asked for (NaN when there are no hints).
- ``bleed``: colour bleeding across lines. For every ink pixel whose two neighbours at distance d
  (d = 2, 4, 6 px, horizontally or vertically) lie on paper on opposite sides of the line, compare
  the colour contrast between those two neighbours in the prediction with that in the truth; where
  the truth has a real colour change across the line (ΔE00 > 10), the score is the share of the true
  contrast the prediction lost, ``clip(1 - ΔE_pred / ΔE_true, 0, 1)``, averaged. 0 = every line
  separates colours as in the truth; 1 = colours run across lines as if they were not there
  (NaN when no line separates two colours).
"""

from __future__ import annotations

from typing import cast

import numpy as np
from skimage.color import deltaE_ciede2000, rgb2lab
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from engine.arrays import line_from_rgba
from engine.channels import INK_THRESHOLD

BLEED_OFFSETS = (2, 4, 6)
BLEED_MIN_CONTRAST = 10.0  # ΔE00: "clearly a different colour" on the two sides of a line


def _check(pred: np.ndarray, truth: np.ndarray) -> None:
    if pred.shape != truth.shape or pred.dtype != np.uint8 or truth.dtype != np.uint8 or pred.ndim != 3:
        raise ValueError(
            f"metrics need two H×W×3 uint8 images of one size, got {pred.dtype}{pred.shape} "
            f"and {truth.dtype}{truth.shape}"
        )


def lab(rgb_u8: np.ndarray) -> np.ndarray:
    return rgb2lab(rgb_u8).astype(np.float32)


def psnr(pred: np.ndarray, truth: np.ndarray) -> float:
    _check(pred, truth)
    if np.array_equal(pred, truth):
        return float("inf")
    return float(peak_signal_noise_ratio(truth, pred, data_range=255))


def ssim(pred: np.ndarray, truth: np.ndarray) -> float:
    _check(pred, truth)
    # without ``full``/``gradient`` the result is the mean SSIM alone (skimage types it as a union)
    return float(cast(float, structural_similarity(truth, pred, channel_axis=-1, data_range=255)))


def de00(pred: np.ndarray, truth: np.ndarray, lab_pred=None, lab_truth=None) -> float:
    _check(pred, truth)
    lp = lab(pred) if lab_pred is None else lab_pred
    lt = lab(truth) if lab_truth is None else lab_truth
    return float(deltaE_ciede2000(lt, lp).mean())


def hint_de00(pred: np.ndarray, hints_rgba_u8: np.ndarray | None, lab_pred=None) -> float:
    """Mean ΔE00 between prediction and hint colour over the hint pixels (NaN without hints)."""
    if hints_rgba_u8 is None or not hints_rgba_u8[..., 3].any():
        return float("nan")
    m = hints_rgba_u8[..., 3] > 0
    lp = (lab(pred) if lab_pred is None else lab_pred)[m]
    lh = lab(hints_rgba_u8[..., :3][m][None])[0]
    return float(deltaE_ciede2000(lh, lp).mean())


def _line_pairs(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices of pixel pairs on opposite sides of a line (paper, ink between, paper)."""
    h, w = ink.shape
    idx = np.arange(h * w).reshape(h, w)
    firsts, seconds = [], []
    for d in BLEED_OFFSETS:
        # horizontal crossings: centre ink, left and right paper
        ok = ink[:, d:-d] & ~ink[:, : -2 * d] & ~ink[:, 2 * d :]
        firsts.append(idx[:, : -2 * d][ok])
        seconds.append(idx[:, 2 * d :][ok])
        ok = ink[d:-d] & ~ink[: -2 * d] & ~ink[2 * d :]
        firsts.append(idx[: -2 * d][ok])
        seconds.append(idx[2 * d :][ok])
    return np.concatenate(firsts), np.concatenate(seconds)


def bleed(
    pred: np.ndarray, truth: np.ndarray, lineart_rgba_u8: np.ndarray, lab_pred=None, lab_truth=None
) -> float:
    """Share of the true colour contrast across lines that the prediction loses (see module doc)."""
    _check(pred, truth)
    ink = line_from_rgba(lineart_rgba_u8) < INK_THRESHOLD
    a, b = _line_pairs(ink)
    if a.size == 0:
        return float("nan")
    lt = (lab(truth) if lab_truth is None else lab_truth).reshape(-1, 3)
    true_contrast = deltaE_ciede2000(lt[a], lt[b])
    sel = true_contrast > BLEED_MIN_CONTRAST
    if not sel.any():
        return float("nan")
    lp = (lab(pred) if lab_pred is None else lab_pred).reshape(-1, 3)
    pred_contrast = deltaE_ciede2000(lp[a[sel]], lp[b[sel]])
    return float(np.clip(1.0 - pred_contrast / true_contrast[sel], 0.0, 1.0).mean())


def score(
    pred: np.ndarray,
    truth: np.ndarray,
    lineart_rgba_u8: np.ndarray,
    hints_rgba_u8: np.ndarray | None,
    lab_truth: np.ndarray | None = None,
) -> dict[str, float]:
    """Every metric at once (the Lab conversions are shared; pass ``lab_truth`` to reuse it)."""
    _check(pred, truth)
    lp = lab(pred)
    lt = lab(truth) if lab_truth is None else lab_truth
    return {
        "psnr": psnr(pred, truth),
        "de00": de00(pred, truth, lp, lt),
        "ssim": ssim(pred, truth),
        "hint_de00": hint_de00(pred, hints_rgba_u8, lp),
        "bleed": bleed(pred, truth, lineart_rgba_u8, lp, lt),
    }
