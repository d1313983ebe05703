"""What several benchmarks share: synthetic inputs, the model to time, the classical baselines.

Kept apart so the benchmark modules import it and not each other.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from training.evaluate import baseline_methods

Method = Callable[[np.ndarray, np.ndarray | None], np.ndarray]


def synthetic_inputs(side: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Line art of random closed shapes with a few hint dots, drawn at ``side``²."""
    rng = np.random.default_rng(seed)
    line = Image.new("L", (side, side), 255)
    hints = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    d, h = ImageDraw.Draw(line), ImageDraw.Draw(hints)
    width = max(2, side // 256)
    for _ in range(24):
        x, y = rng.integers(0, side, 2)
        r = int(rng.integers(side // 20, side // 5))
        d.ellipse([x - r, y - r, x + r, y + r], outline=0, width=width)
        c = tuple(int(v) for v in rng.integers(0, 256, 3))
        h.ellipse([x - width * 2, y - width * 2, x + width * 2, y + width * 2], fill=(*c, 255))
    return np.asarray(line), np.asarray(hints)


def default_model(tmp: Path) -> tuple[str, bool]:
    """(model folder, whether it is a random-weight stand-in for the trained model)."""
    from engine import models
    from engine.errors import ModelError

    try:
        return str(models.resolve(None)), False
    except ModelError:
        from engine.modelspec import GeneratorConfig
        from training.export import random_model

        # the architecture the shipped model is sized for
        draft = GeneratorConfig(9, widths=(32, 64, 128, 256), unshuffle=2)
        refine = GeneratorConfig(12, widths=(32, 64, 128), unshuffle=4)
        return str(random_model(tmp / "bench-model", draft, refine, name="bench-random")), True


def classical_methods() -> dict[str, Method]:
    """The data branch's baselines (line art only, flood fill, watershed) and Levin et al. 2004."""
    from bench.levin import levin

    return {**baseline_methods(), "levin": levin}
