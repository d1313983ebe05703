"""Score a grayscale model on the corpus's ``val`` split made grayscale, against "gray as is".

Each val image becomes a gray image with the colour image's own CIELAB L (``plain``), and the same
with its mid tones screened (``screentone``, ``training.grayscale.screentone``). The model runs
through the engine as the product does (``LocalColorizer``, ``mode="grayscale"``), without hints and with
user dabs of the true colours (``hintsampling.user_squares``). ΔE00 and PSNR against the colour image;
"gray as is" returns the gray input. Also reported: how often ``looks_shaded`` (``mode="auto"``)
calls each input shaded, and calls synthetic line art of the same images shaded.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from engine import lab
from training import metrics
from training.presets import hintsampling

log = logging.getLogger(__name__)

VARIANTS = ("plain", "screentone")
HINTS = ("none", "dabs")


def gray_rgba(lightness: np.ndarray) -> np.ndarray:
    """An opaque gray sRGB image whose CIELAB L is ``lightness`` (0..100)."""
    y = lab._f_inv((np.clip(lightness, 0.0, 100.0) + 16.0) / 116.0)
    v = (np.clip(lab._gamma(y), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return np.stack([v, v, v, np.full_like(v, 255)], -1)


def _dabs(rgb_u8: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    rgb, mask = hintsampling.user_squares(rgb_u8, rng, p=1.0 / 6.0, scale=max(1.0, max(rgb_u8.shape) / 256))
    out = np.zeros((*mask.shape, 4), np.uint8)
    out[..., :3] = (rgb * 255.0 + 0.5).astype(np.uint8)
    out[..., 3] = (mask * 255).astype(np.uint8)
    return out


def _examples(corpus: str, limit: int, seed: int):
    """Per val image: the colour image, its gray inputs, synthetic line art of it, dabs (seeded)."""
    from training.corpus import load_image, load_manifest
    from training.grayscale.screentone import screen
    from training.lines import synth_lineart

    for row in sorted(load_manifest(corpus, "val"), key=lambda r: r["id"])[: limit or None]:
        rgb = load_image(corpus, row)
        rng = np.random.default_rng([seed, int(row["id"], 16) % (1 << 31)])
        lightness = lab.rgb_to_lab(rgb / 255.0)[..., 0]
        inputs = {
            "plain": gray_rgba(lightness),
            "screentone": gray_rgba(screen(lightness / 100.0, rng) * 100.0),
        }
        yield rgb, inputs, synth_lineart(rgb, rng), _dabs(rgb, rng)


def auto_mode_rates(corpus: str, limit: int = 0, seed: int = 0) -> list[dict]:
    """How often ``looks_shaded`` calls each gray input shaded, and line art: synthetic (of the val
    images) and the artists' own (``real-val``)."""
    from engine.grayscale import looks_shaded
    from training.corpus import load_lineart, load_manifest

    detected: dict[str, list[bool]] = {"plain": [], "screentone": [], "line art": [], "artist line art": []}
    for _, inputs, lineart, _ in _examples(corpus, limit, seed):
        detected["line art"].append(looks_shaded(lineart))
        for variant, image in inputs.items():
            detected[variant].append(looks_shaded(image))
    for row in load_manifest(corpus, "real-val")[: limit or None]:  # the pairs' own line art
        own = load_lineart(corpus, row)
        if own is not None:
            detected["artist line art"].append(looks_shaded(own))
    return [
        {"input": what, "method": "auto mode: shaded", "share": float(np.mean(flags)), "images": len(flags)}
        for what, flags in detected.items()
        if flags
    ]


def evaluate(model_dir: str | Path, corpus: str, limit: int = 0, seed: int = 0) -> list[dict]:
    from engine.pipeline import LocalColorizer

    col = LocalColorizer(model_dir)
    scores: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    for rgb, inputs, _, dabs in _examples(corpus, limit, seed):
        for variant, image in inputs.items():
            gray = np.ascontiguousarray(image[..., :3])
            for h, hint in (("none", None), ("dabs", dabs)):
                pred = col.colorize(image, hint, mode="grayscale")
                for method, out in (("gray as is", gray), ("inkhue-grayscale", pred)):
                    scores.setdefault((variant, h, method), []).append(
                        (metrics.psnr(out, rgb), metrics.de00(out, rgb))
                    )
    out = []
    for (variant, h, method), vals in scores.items():
        v = np.array(vals)
        out.append(
            {
                "input": variant,
                "hints": h,
                "method": method,
                "images": len(v),
                "psnr": v[:, 0].mean(),
                "de00": v[:, 1].mean(),
            }
        )
    return out + auto_mode_rates(corpus, limit, seed)


def format_table(rows: list[dict]) -> str:
    lines = ["| input | hints | method | images | PSNR ↑ | ΔE00 ↓ |", "|---|---|---|---:|---:|---:|"]
    for r in rows:
        if "de00" in r:
            head = f"| {r['input']} | {r['hints']} | {r['method']} | {r['images']}"
            lines.append(f"{head} | {r['psnr']:.2f} | {r['de00']:.2f} |")
    lines += ["", "| input | called shaded by mode auto |", "|---|---:|"]
    lines += [f"| {r['input']} | {r['share']:.0%} of {r['images']} |" for r in rows if "share" in r]
    return "\n".join(lines)
