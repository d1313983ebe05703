"""End-to-end latency and peak memory of both stages, per canvas size and backend.

    python bench/speed.py [--model DIR] [--sizes 512 1024 2048] [--backends onnx torch]

Each (size, backend) runs in its own process so the peak RSS is that run's alone. Without
``--model`` it uses the installed default model, or else a random-weight model with the shipped
architecture (latency depends on the architecture, not on the weights).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent


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


def worker(model: str, side: int, backend: str, repeats: int) -> dict:
    from engine import Colorizer

    t0 = time.perf_counter()
    col = Colorizer(model, backend=backend, device="cpu")
    load_s = time.perf_counter() - t0
    line, hints = synthetic_inputs(side)
    col.colorize(line, hints)  # warm-up: allocator and kernel selection
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        col.colorize(line, hints)
        times.append(time.perf_counter() - t)
    times.sort()
    return {
        "size": side,
        "backend": backend,
        "p50_s": statistics.median(times),
        "p95_s": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "load_s": load_s,
        "repeats": repeats,
    }


def default_model(tmp: Path) -> str:
    from engine import models
    from engine.errors import ModelError

    try:
        return str(models.resolve(None))
    except ModelError:
        from engine.modelspec import GeneratorConfig
        from training.export import random_model

        # the architecture the shipped model is sized for
        draft = GeneratorConfig(9, widths=(32, 64, 128, 256), unshuffle=2)
        refine = GeneratorConfig(12, widths=(32, 64, 128), unshuffle=4)
        return str(random_model(tmp / "bench-model", draft, refine, name="bench-random"))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model")
    p.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048])
    p.add_argument("--backends", nargs="+", default=["onnx", "torch"])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--json", type=Path, help="also write the rows as JSON here")
    p.add_argument("--worker", nargs=3, metavar=("MODEL", "SIZE", "BACKEND"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        model, side, backend = args.worker
        print(json.dumps(worker(model, int(side), backend, args.repeats)))
        return 0

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or default_model(Path(tmp))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for backend in args.backends:
            for side in args.sizes:
                cmd = [
                    sys.executable,
                    __file__,
                    "--repeats",
                    str(args.repeats),
                    "--worker",
                    model,
                    str(side),
                    backend,
                ]
                out = subprocess.run(cmd, capture_output=True, text=True, env=env)
                if out.returncode != 0:
                    print(f"{backend} {side}: failed\n{out.stderr[-2000:]}", file=sys.stderr)
                    continue
                rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
                r = rows[-1]
                print(
                    f"{backend:6s} {side:5d}²  p50 {r['p50_s']:.3f} s  p95 {r['p95_s']:.3f} s  "
                    f"peak RSS {r['peak_rss_mb']:.0f} MB",
                    file=sys.stderr,
                )
    print(f"model: {model}  cpu cores: {os.cpu_count()}\n")
    print("| backend | size | p50 (s) | p95 (s) | peak RSS (MB) |")
    print("|---|---|---|---|---|")
    for r in rows:
        cells = [
            r["backend"],
            f"{r['size']}²",
            f"{r['p50_s']:.3f}",
            f"{r['p95_s']:.3f}",
            f"{r['peak_rss_mb']:.0f}",
        ]
        print("| " + " | ".join(cells) + " |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
