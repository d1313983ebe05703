"""Speed of the line-art analysis (gap-closing regions, background, flats) per canvas size.

    python -m bench.regions [--sizes 512 1024 2048] [--repeat 5] [--json F]

The analysis runs on every request (``method="flats"``, ``transparent=True``, the region input
channels), so its budget is part of the latency budget: issue goals are 150 ms at 512² and 600 ms
at 1024² on 2 CPU cores. Inputs are the benchmark's synthetic drawings (``bench.speed``) with a
few hints; each number is the median of ``--repeat`` runs in this process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.common import synthetic_inputs
from engine import channels
from engine.arrays import line_from_rgba
from engine.flats import flats
from engine.regions import find_regions

STEPS: dict[str, Callable[[np.ndarray, np.ndarray], object]] = {
    "regions": lambda line, hints: find_regions(line),
    "regions+flats": lambda line, hints: flats(find_regions(line), line, hints),
}


def _median_seconds(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(sizes: list[int], repeat: int = 5) -> list[dict]:
    rows = []
    for side in sizes:
        lineart, hints = synthetic_inputs(side)
        line = line_from_rgba(lineart)
        row: dict = {"side": side}
        for name, step in STEPS.items():
            row[name] = _median_seconds(lambda step=step, line=line, hints=hints: step(line, hints), repeat)
        planes = channels.downsample(channels.prepare(lineart, hints), (side, side))
        row["region channels"] = _median_seconds(lambda p=planes: channels.add_regions(dict(p)), repeat)
        rows.append(row)
    return rows


def format_table(rows: list[dict]) -> str:
    names = [k for k in rows[0] if k != "side"]
    lines = ["| canvas | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for r in rows:
        lines.append(f"| {r['side']}² | " + " | ".join(f"{r[n] * 1000:.0f} ms" for n in names) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.regions", description=(__doc__ or "").split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048])
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    rows = measure(args.sizes, args.repeat)
    print(format_table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
