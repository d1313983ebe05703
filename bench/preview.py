"""Latency of a live-preview update: unchanged line art, new hints, ``preview=True``.

    python -m bench.preview [--sizes 512 1024] [--drafts 0 512] [--repeat 9] [--model DIR]
                            [--corpus DIR --split real-val --limit 60] [--json F]

What the Krita docker's Live mode waits for after each hint stroke. Per canvas size: the first
preview (the line art is analysed and cached), then ``--repeat`` updates as Live sees them, one
new dab of a new colour per update on top of the earlier ones (the cache is hit; only the
region the dab lands in is split again), in process and through ``inkhue serve`` on loopback
with the stdlib client (the plug-ins' path: encode, HTTP, decode included); the worst case, every
dab moved at once (every region's flats redone); and a full two-stage request for comparison.
Issue goal: ≤ 150 ms per update at 512² on 2 CPU cores. Inputs are ``bench.speed``'s synthetic
drawings; numbers are medians (p95 beside them) of this process's runs.

``--drafts`` repeats the updates with the preview's draft at other sizes (0: the engine's own
``PREVIEW_SIZE``; a size is sent as the request's ``working_size``), and with ``--corpus`` the
preview's quality at each size is measured on a split's pictures with sparse evaluation hints:
its error against the artist's colouring, and against the full two-stage result that replaces
it once painting pauses (what the artist sees change).
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


def _one(colorizer, url: str, side: int, repeat: int, draft: int = 0) -> dict:
    from engine.wire import client

    options = {**OPTIONS, "working_size": draft} if draft else OPTIONS
    lineart, hints = synthetic_inputs(side)
    lineart = np.ascontiguousarray(np.repeat(lineart[..., None], 4, -1))
    lineart[..., 3] = 255
    strokes = _strokes(hints, repeat)
    moved = [np.ascontiguousarray(np.roll(hints, 3 * (k + 1), axis=1)) for k in range(repeat)]
    colorizer._preview_cache = None
    first = _ms(lambda: colorizer.colorize(lineart, hints, **options))
    local = [_ms(lambda h=h: colorizer.colorize(lineart, h, **options)) for h in strokes]
    worst = [_ms(lambda h=h: colorizer.colorize(lineart, h, **options)) for h in moved]
    line_b = lineart.tobytes()

    def remote(h):
        return client.colorize(url, line_b, h.tobytes(), side, side, options)

    remote(hints)  # the server's own first request
    served = [_ms(lambda h=h: remote(h)) for h in _strokes(strokes[-1], repeat, seed=2)]
    full = [_ms(lambda h=h: colorizer.colorize(lineart, h, transparent=True)) for h in moved[:3]]
    cache = colorizer._preview_cache  # made by the first preview above
    hits, misses = (cache.hits, cache.misses) if cache is not None else (0, 0)
    return {
        "side": side,
        "draft": draft,
        "first_ms": first,
        "update_ms": _stats(local),
        "moved_ms": _stats(worst),
        "served_ms": _stats(served),
        "full_ms": _stats(full),
        "cache_hits": hits,
        "cache_misses": misses,
    }


def preview_quality(colorizer, corpus: str, split: str, limit: int, drafts: list[int]) -> list[dict]:
    """Per draft size: mean PSNR / ΔE00 of the preview against the truth and ΔE00 against the full
    result, on ``split``'s first ``limit`` pictures with sparse evaluation hints."""
    from training import metrics
    from training.evaluate import PSNR_CAP, eval_inputs

    sums: dict[int, dict[str, list[float]]] = {
        d: {"psnr": [], "de00": [], "de00_vs_full": []} for d in drafts
    }
    full_sums: dict[str, list[float]] = {"psnr": [], "de00": []}
    for _row, rgb, lineart, hints in eval_inputs(corpus, split, ("sparse",), limit):
        h = hints["sparse"]
        full = colorizer.colorize(lineart, h)
        s = metrics.score(full, rgb, lineart, h)
        full_sums["psnr"].append(min(s["psnr"], PSNR_CAP))
        full_sums["de00"].append(s["de00"])
        for d in drafts:
            p = colorizer.colorize(lineart, h, preview=True, working_size=d)
            s = metrics.score(p, rgb, lineart, h)
            sums[d]["psnr"].append(min(s["psnr"], PSNR_CAP))
            sums[d]["de00"].append(s["de00"])
            sums[d]["de00_vs_full"].append(metrics.score(p, full, lineart, h)["de00"])
    rows = [{"draft": "full request", "n": len(full_sums["de00"]), **_means(full_sums)}]
    return rows + [{"draft": d, "n": len(v["de00"]), **_means(v)} for d, v in sums.items()]


def _means(acc: dict[str, list[float]]) -> dict[str, float]:
    return {k: float(np.mean(v)) for k, v in acc.items()}


def measure(
    sizes: list[int], repeat: int = 9, model: str | None = None, drafts: tuple[int, ...] = (0,)
) -> list[dict]:
    from engine.pipeline import LocalColorizer
    from engine.server import ServerConfig, create_app, serve_in_thread

    colorizer = LocalColorizer(model)
    with serve_in_thread(create_app(colorizer, ServerConfig())) as url:
        return [_one(colorizer, url, side, repeat, d) for d in drafts for side in sizes]


def _draft_name(draft: int | str) -> str:
    from engine.preview import PREVIEW_SIZE

    return (
        f"{PREVIEW_SIZE} px (default)" if draft == 0 else f"{draft} px" if isinstance(draft, int) else draft
    )


def format_table(rows: list[dict], cores: int | None = None) -> str:
    cores = cores or os.cpu_count()
    lines = [
        f"Machine: {cores} CPU cores. Median (p95) of the updates; `first` analyses the line art.",
        "",
        "| canvas | preview draft | first preview | update (a new dab), in process | via server + client | "
        "every dab moved | full request |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        upd, srv, full, moved = r["update_ms"], r["served_ms"], r["full_ms"], r["moved_ms"]
        lines.append(
            f"| {r['side']}² | {_draft_name(r.get('draft', 0))} | {r['first_ms']:.0f} ms | "
            f"{upd[0]:.0f} ({upd[1]:.0f}) ms | {srv[0]:.0f} ({srv[1]:.0f}) ms | "
            f"{moved[0]:.0f} ({moved[1]:.0f}) ms | {full[0]:.0f} ms |"
        )
    return "\n".join(lines)


def format_quality(rows: list[dict]) -> str:
    lines = [
        "| preview draft | n | PSNR ↑ | ΔE00 ↓ | ΔE00 to the full result ↓ |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        vs = f"{r['de00_vs_full']:.2f}" if "de00_vs_full" in r else "–"
        lines.append(f"| {_draft_name(r['draft'])} | {r['n']} | {r['psnr']:.2f} | {r['de00']:.2f} | {vs} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.preview", description=(__doc__ or "").split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    p.add_argument("--drafts", type=int, nargs="+", default=[0], help="preview draft sizes (0: the default)")
    p.add_argument("--repeat", type=int, default=9)
    p.add_argument("--model", default=None, help="model folder (default: the shipped inkhue-default)")
    p.add_argument("--corpus", default=None, help="also measure the preview's quality on this corpus")
    p.add_argument("--split", default="real-val")
    p.add_argument("--limit", type=int, default=60)
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    rows = measure(args.sizes, args.repeat, args.model, tuple(args.drafts))
    print(format_table(rows))
    report: dict = {"latency": rows}
    if args.corpus:
        from engine.pipeline import LocalColorizer

        report["quality"] = preview_quality(
            LocalColorizer(args.model), args.corpus, args.split, args.limit, list(args.drafts)
        )
        print()
        print(format_quality(report["quality"]))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
