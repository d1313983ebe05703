"""Score colorizers on the held-out splits, all on the same inputs.

For every image of the ``real-val`` split the line art is the artist's own (``training.pairs``); for
the synthetic ``val`` split it comes from ``training.lines`` (a fixed, per-image seeded mix of the
extractors, open lines included, on white, no JPEG). Hints are placed per colour area of the true
image at each density (``training.hints.eval_hints``). Every method sees exactly these inputs; its
output is scored against the true image with ``training.metrics``. Rows are means over the images.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from training import metrics
from training.corpus import load_image, load_lineart, load_manifest
from training.hints import DENSITIES, eval_hints
from training.lines import LineConfig, synth_lineart

log = logging.getLogger(__name__)

Method = Callable[[np.ndarray, np.ndarray | None], np.ndarray]

# the evaluation's line art: the training mix of styles and open lines, on white, no JPEG artefacts
# the synthetic split's line art as every earlier report drew it (its random stream unchanged), so
# reports stay comparable while the training lines learn artists' habits
EVAL_LINES = LineConfig(p_transparent=0.0, p_jpeg=0.0, gap_size=(3, 9), gap_log=False, p_outline=0.0)
EVAL_SPLITS = ("real-val", "val")  # artist-drawn first, always in this order
PSNR_CAP = 100.0  # dB; an exact reproduction (inf) counts as this in the means
METRICS = ("psnr", "de00", "ssim", "hint_de00", "bleed")


def _image_seed(seed: int, image_id: str) -> int:
    # keyed by the image id, so an image's inputs do not change when the split grows or is limited
    return int(image_id[:12], 16) ^ (seed * 0x9E3779B97F4A7C15 % 2**48)


def eval_inputs(
    corpus_dir: str | Path,
    split: str = "val",
    densities: tuple[str, ...] = tuple(DENSITIES),
    limit: int | None = None,
    seed: int = 0,
    scale: float = 1.0,
) -> Iterator[tuple[dict, np.ndarray, np.ndarray, dict[str, np.ndarray]]]:
    """(manifest row, true rgb, line art rgba, {density: hints rgba}) for each evaluation image.

    ``scale`` > 1 enlarges every image (bicubic) before the line art is drawn: canvases larger than
    the draft's working size, where the refinement stage does the upscaling, as on artists' canvases.
    """
    if not scale > 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    for d in densities:
        if d not in DENSITIES:
            raise ValueError(f"unknown hint density {d!r}; valid: {', '.join(DENSITIES)}")
    rows = load_manifest(corpus_dir, split)
    if not rows:
        raise ValueError(f"the {split!r} split of {corpus_dir} is empty")
    for row in rows[:limit]:
        rgb = load_image(corpus_dir, row)
        lineart = load_lineart(corpus_dir, row)
        if scale != 1.0:
            h, w = rgb.shape[:2]
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            rgb = np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BICUBIC))
            if lineart is not None:
                lineart = np.asarray(Image.fromarray(lineart).resize(size, Image.Resampling.BICUBIC))
        s = _image_seed(seed, row["id"])
        if lineart is None:
            lineart = synth_lineart(rgb, np.random.default_rng(s), EVAL_LINES)
        hints = {
            d: eval_hints(rgb, lineart, d, np.random.default_rng([s, i]))
            for i, d in enumerate(DENSITIES)
            if d in densities
        }
        yield row, rgb, lineart, hints


def evaluate(
    methods: dict[str, Method],
    corpus_dir: str | Path,
    split: str = "val",
    densities: tuple[str, ...] = tuple(DENSITIES),
    limit: int | None = None,
    seed: int = 0,
    scale: float = 1.0,
) -> list[dict]:
    """One row per method × density: n, mean psnr, de00, ssim, hint_de00, bleed, seconds per image."""
    if not methods:
        raise ValueError("evaluate needs at least one method")
    sums: dict[tuple[str, str], dict[str, list[float]]] = {
        (m, d): {k: [] for k in (*METRICS, "seconds")} for m in methods for d in densities
    }
    n_images = 0
    for _row, rgb, lineart, hints in eval_inputs(corpus_dir, split, densities, limit, seed, scale):
        lab_truth = metrics.lab(rgb)
        for d in densities:
            for name, fn in methods.items():
                t0 = time.perf_counter()
                pred = fn(lineart, hints[d])
                dt = time.perf_counter() - t0
                if pred.shape != rgb.shape or pred.dtype != np.uint8:
                    raise ValueError(
                        f"method {name!r} returned {pred.dtype}{pred.shape}, expected uint8{rgb.shape}"
                    )
                s = metrics.score(pred, rgb, lineart, hints[d], lab_truth=lab_truth)
                acc = sums[(name, d)]
                for k in METRICS:
                    acc[k].append(min(s[k], PSNR_CAP) if k == "psnr" else s[k])
                acc["seconds"].append(dt)
        n_images += 1
        if n_images % 25 == 0:
            log.info("evaluated %d images", n_images)
    out = []
    for (name, d), acc in sums.items():
        r: dict = {"method": name, "density": d, "n": n_images}
        for k, v in acc.items():
            arr = np.asarray(v, np.float64)
            r[k] = float(np.nanmean(arr)) if np.isfinite(arr).any() else float("nan")
        out.append(r)
    return out


def baseline_methods() -> dict[str, Method]:
    """The classical baselines (``training.baselines.BASELINES``) as evaluation methods."""
    from training.baselines import BASELINES

    return dict(BASELINES)


def inkhue_method(model_dir: str | Path | None = None, backend: str = "onnx", device: str = "auto") -> Method:
    """The engine's colorizer as an evaluation method (lines composed on top, like the baselines).

    Always the line-art mode: the model under test is scored, never the grayscale model that
    ``mode="auto"`` would pick for a layer that looks shaded."""
    from engine.pipeline import LocalColorizer

    col = LocalColorizer(model_dir, backend=backend, device=device)
    return lambda lineart, hints: col.colorize(lineart, hints, mode="lineart")


def _fmt(v: float, digits: int) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def format_table(rows: list[dict]) -> str:
    """Markdown table, grouped by density then method."""
    head = "| density | method | n | PSNR ↑ | ΔE00 ↓ | SSIM ↑ | hint ΔE00 ↓ | bleed ↓ | s/img |"
    lines = [head, "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    order = {d: i for i, d in enumerate(DENSITIES)}
    for r in sorted(rows, key=lambda r: (order.get(r["density"], 99), r["method"])):
        lines.append(
            f"| {r['density']} | {r['method']} | {r['n']} | {_fmt(r['psnr'], 2)} | {_fmt(r['de00'], 2)} "
            f"| {_fmt(r['ssim'], 3)} | {_fmt(r['hint_de00'], 2)} | {_fmt(r['bleed'], 3)} "
            f"| {_fmt(r['seconds'], 3)} |"
        )
    return "\n".join(lines)


def write_json(rows: list[dict], path: str | Path) -> Path:
    """Rows as JSON (NaN, which JSON lacks, written as null)."""
    clean = [
        {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
        for r in rows
    ]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(clean, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
