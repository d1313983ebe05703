"""Latency of a live-preview update: unchanged line art, new hints, ``preview=True``.

    python -m bench.preview [--sizes 512 1024] [--repeat 9] [--model DIR] [--json F]

What the Krita docker's Live mode waits for after each hint stroke. Per canvas size: the first
preview (the line art is analysed and cached), then ``--repeat`` updates with the hints moved each
time (the cache is hit), in process and through ``inkhue serve`` on loopback with the stdlib
client (the plug-ins' path: encode, HTTP, decode included), and a full two-stage request for
comparison. Issue goal: ≤ 150 ms per update at 512² on 2 CPU cores. Inputs are ``bench.speed``'s
synthetic drawings; numbers are medians (p95 beside them) of this process's runs.
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


def _one(colorizer, url: str, side: int, repeat: int) -> dict:
    from engine.wire import client

    lineart, hints = synthetic_inputs(side)
    lineart = np.ascontiguousarray(np.repeat(lineart[..., None], 4, -1))
    lineart[..., 3] = 255
    moved = [np.ascontiguousarray(np.roll(hints, 3 * (k + 1), axis=1)) for k in range(repeat)]
    colorizer._preview_cache = None
    first = _ms(lambda: colorizer.colorize(lineart, hints, **OPTIONS))
    local = [_ms(lambda h=h: colorizer.colorize(lineart, h, **OPTIONS)) for h in moved]
    line_b = lineart.tobytes()

    def remote(h):
        return client.colorize(url, line_b, h.tobytes(), side, side, OPTIONS)

    remote(hints)  # the server's own first request
    served = [_ms(lambda h=h: remote(h)) for h in moved]
    full = [_ms(lambda h=h: colorizer.colorize(lineart, h, transparent=True)) for h in moved[:3]]
    cache = colorizer._preview_cache  # made by the first preview above
    hits, misses = (cache.hits, cache.misses) if cache is not None else (0, 0)
    return {
        "side": side,
        "first_ms": first,
        "update_ms": _stats(local),
        "served_ms": _stats(served),
        "full_ms": _stats(full),
        "cache_hits": hits,
        "cache_misses": misses,
    }


def measure(sizes: list[int], repeat: int = 9, model: str | None = None) -> list[dict]:
    from engine.pipeline import Colorizer
    from engine.server import ServerConfig, create_app, serve_in_thread

    colorizer = Colorizer(model)
    with serve_in_thread(create_app(colorizer, ServerConfig())) as url:
        return [_one(colorizer, url, side, repeat) for side in sizes]


def format_table(rows: list[dict], cores: int | None = None) -> str:
    cores = cores or os.cpu_count()
    lines = [
        f"Machine: {cores} CPU cores. Median (p95) of the updates; `first` analyses the line art.",
        "",
        "| canvas | first preview | update, in process | update, via server + client | full request |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        upd, srv, full = r["update_ms"], r["served_ms"], r["full_ms"]
        lines.append(
            f"| {r['side']}² | {r['first_ms']:.0f} ms | {upd[0]:.0f} ({upd[1]:.0f}) ms | "
            f"{srv[0]:.0f} ({srv[1]:.0f}) ms | {full[0]:.0f} ms |"
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
