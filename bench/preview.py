"""Latency of a live-preview update: unchanged line art, new hints, ``preview=True``.

    python -m bench.preview [--sizes 512 1024] [--repeat 9] [--model DIR] [--json F]

What the Krita docker's Live mode waits for after each hint stroke. Per canvas size: the first
preview (the line art is analysed and cached), then ``--repeat`` updates as Live sees them, one
new dab of a new colour per update on top of the earlier ones (the cache is hit; only the
region the dab lands in is split again), in process and through ``inkhue serve`` on loopback
with the stdlib client (the plug-ins' path: encode, HTTP, decode included); the worst case, every
dab moved at once (every region's flats redone); and a full two-stage request for comparison.
Issue goal: ≤ 150 ms per update at 512² on 2 CPU cores. Inputs are ``bench.speed``'s synthetic
drawings; numbers are medians (p95 beside them) of this process's runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

from bench.common import synthetic_inputs


def _ms(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000.0


def _stats(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


OPTIONS = {"preview": True, "transparent": True}


def _strokes(hints: np.ndarray, count: int, seed: int = 1) -> list[np.ndarray]:
    """``count`` hint images, each the one before plus a dab of a new colour somewhere."""
    rng = np.random.default_rng(seed)
    side = hints.shape[0]
    r = max(2, side // 128)
    out, h = [], hints.copy()
    for _ in range(count):
        y, x = rng.integers(r, side - r, 2)
        h = h.copy()
        h[y - r : y + r, x - r : x + r] = (*rng.integers(0, 256, 3), 255)
        out.append(h)
    return out


def _one(colorizer, url: str, side: int, repeat: int) -> dict:
    from engine.wire import client

    lineart, hints = synthetic_inputs(side)
    lineart = np.ascontiguousarray(np.repeat(lineart[..., None], 4, -1))
    lineart[..., 3] = 255
    strokes = _strokes(hints, repeat)
    moved = [np.ascontiguousarray(np.roll(hints, 3 * (k + 1), axis=1)) for k in range(repeat)]
    colorizer._preview_cache = None
    first = _ms(lambda: colorizer.colorize(lineart, hints, **OPTIONS))
    local = [_ms(lambda h=h: colorizer.colorize(lineart, h, **OPTIONS)) for h in strokes]
    worst = [_ms(lambda h=h: colorizer.colorize(lineart, h, **OPTIONS)) for h in moved]
    line_b = lineart.tobytes()

    def remote(h):
        return client.colorize(url, line_b, h.tobytes(), side, side, OPTIONS)

    remote(hints)  # the server's own first request
    served = [_ms(lambda h=h: remote(h)) for h in _strokes(strokes[-1], repeat, seed=2)]
    full = [_ms(lambda h=h: colorizer.colorize(lineart, h, transparent=True)) for h in moved[:3]]
    cache = colorizer._preview_cache  # made by the first preview above
    hits, misses = (cache.hits, cache.misses) if cache is not None else (0, 0)
    return {
        "side": side,
        "first_ms": first,
        "update_ms": _stats(local),
        "moved_ms": _stats(worst),
        "served_ms": _stats(served),
        "full_ms": _stats(full),
        "cache_hits": hits,
        "cache_misses": misses,
    }


def measure(sizes: list[int], repeat: int = 9, model: str | None = None) -> list[dict]:
    from engine.pipeline import LocalColorizer
    from engine.server import ServerConfig, create_app, serve_in_thread

    colorizer = LocalColorizer(model)
    with serve_in_thread(create_app(colorizer, ServerConfig())) as url:
        return [_one(colorizer, url, side, repeat) for side in sizes]


def format_table(rows: list[dict], cores: int | None = None) -> str:
    cores = cores or os.cpu_count()
    lines = [
        f"Machine: {cores} CPU cores. Median (p95) of the updates; `first` analyses the line art.",
        "",
        "| canvas | first preview | update (a new dab), in process | via server + client | "
        "every dab moved | full request |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        upd, srv, full, moved = r["update_ms"], r["served_ms"], r["full_ms"], r["moved_ms"]
        lines.append(
            f"| {r['side']}² | {r['first_ms']:.0f} ms | {upd[0]:.0f} ({upd[1]:.0f}) ms | "
            f"{srv[0]:.0f} ({srv[1]:.0f}) ms | {moved[0]:.0f} ({moved[1]:.0f}) ms | {full[0]:.0f} ms |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.preview", description=(__doc__ or "").split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    p.add_argument("--repeat", type=int, default=9)
    p.add_argument("--model", default=None, help="model folder (default: the shipped inkhue-default)")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    rows = measure(args.sizes, args.repeat, args.model)
    print(format_table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
