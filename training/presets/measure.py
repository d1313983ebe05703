"""Scores of a preset arm on validation crops: PSNR and ΔE00 beside each paper's own metric.

``METRICS`` maps a key to (label, better, per-image function); ``better`` is "higher", "lower" or
"nearer 0". ``score_set`` averages over images, except ``norm_mse``, a ratio of sums (ColourU's
normalized loss: the model's MSE over that of the gray image as is).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from training import metrics
from training.presets import colour


def gray_as_is(rgb_u8: np.ndarray) -> np.ndarray:
    g = colour.to_u8(colour.luma(rgb_u8))
    return np.repeat(g[..., None], 3, -1)


def _mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))


def _grad(rgb_u8: np.ndarray) -> float:
    x = rgb_u8.astype(np.float32) / 255.0
    return float(np.abs(np.diff(x, axis=0)).mean() + np.abs(np.diff(x, axis=1)).mean())


def _chroma(rgb_u8: np.ndarray) -> float:
    lab = colour.rgb_u8_to_lab(rgb_u8)
    return float(np.hypot(lab[..., 1], lab[..., 2]).mean())


def _saturation(rgb_u8: np.ndarray) -> np.ndarray:
    x = rgb_u8.astype(np.float32)
    mx, mn = x.max(-1), x.min(-1)
    return np.where(mx > 0, (mx - mn) / np.maximum(mx, 1e-6), 0.0)


def _bin_acc(channel: int) -> Callable[[np.ndarray, np.ndarray], float]:
    def acc(pred: np.ndarray, truth: np.ndarray) -> float:
        bp = colour.uv_bins(colour.rgb_u8_to_luv(pred)[..., 1:])
        bt = colour.uv_bins(colour.rgb_u8_to_luv(truth)[..., 1:])
        return float((bp[..., channel] == bt[..., channel]).mean())

    return acc


def _ratio(f: Callable[[np.ndarray], float]) -> Callable[[np.ndarray, np.ndarray], float]:
    return lambda pred, truth: f(pred) / max(f(truth), 1e-6)


PerImage = Callable[[np.ndarray, np.ndarray], float]
METRICS: dict[str, tuple[str, str, PerImage]] = {
    "psnr": ("PSNR (dB)", "higher", metrics.psnr),
    "de00": ("ΔE00", "lower", metrics.de00),
    "l1": ("L1 (0–1)", "lower", lambda p, t: float(np.abs(p.astype(np.float32) - t).mean() / 255.0)),
    "sharpness": ("sharpness (gradient / truth's)", "higher", _ratio(_grad)),
    "chroma": ("chroma (mean C* / truth's)", "higher", _ratio(_chroma)),
    "bin_acc_u": ("binned accuracy U", "higher", _bin_acc(0)),
    "bin_acc_v": ("binned accuracy V", "higher", _bin_acc(1)),
    "sat_gap": (
        "saturation difference (pred − truth)",
        "nearer 0",
        lambda p, t: float((_saturation(p) - _saturation(t)).mean()),
    ),
    "norm_mse": ("normalized loss MSE / MSE(gray)", "lower", _mse),  # aggregated in score_set
}
DERIVED = {"bin_acc": ("binned accuracy (U, V mean)", "higher")}


def label(key: str) -> str:
    return (METRICS.get(key) or DERIVED[key])[0]


def better_of(key: str) -> str:
    return (METRICS.get(key) or DERIVED[key])[1]


def score_set(preds: Sequence[np.ndarray], truths: Sequence[np.ndarray]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, (_, _, f) in METRICS.items():
        if key == "norm_mse":
            num = sum(_mse(p, t) for p, t in zip(preds, truths, strict=True))
            den = sum(_mse(gray_as_is(t), t) for t in truths)
            out[key] = num / max(den, 1e-9)
        else:
            vals = [f(p, t) for p, t in zip(preds, truths, strict=True)]
            out[key] = float(np.mean([v for v in vals if np.isfinite(v)] or [float("nan")]))
    out["bin_acc"] = 0.5 * (out["bin_acc_u"] + out["bin_acc_v"])
    return out


def beats(key: str, a: float, b: float) -> bool:
    """Is value ``a`` better than ``b`` on metric ``key``?"""
    kind = better_of(key)
    if kind == "higher":
        return a > b
    if kind == "lower":
        return a < b
    target = 1.0 if kind == "nearer 1" else 0.0
    return abs(a - target) < abs(b - target)
