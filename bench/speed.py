"""Latency, peak memory and the hardware floor, per canvas size, backend and device.

    python -m bench.speed [--model DIR] [--sizes 512 1024 2048 4096 8192] [--variants ...] [--json F]

Each (variant, size) runs in its own process so the peak RSS is that run's alone. Variants are the
engine's backends on the CPU, on a GPU when one is there (ORT CUDA in fp32 and fp16, ORT TensorRT in
fp16, torch CUDA; each skipped with its reason when unavailable), and the classical baselines (flood
fill, Levin et al.) for ratios measured in the same run. The floor is what the hardware allows:
the model's FLOPs over a measured matmul rate, or its activation bytes over a measured copy
bandwidth, whichever is longer. Without ``--model`` the installed default model is used, or else a
random-weight model with the shipped architecture (latency depends on the architecture only).
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
from dataclasses import dataclass
from pathlib import Path

from bench import hardware
from bench.common import classical_methods, default_model, synthetic_inputs

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Variant:
    kind: str  # "engine" (a LocalColorizer) or "baseline"
    backend: str = ""  # engine: onnx | torch; baseline: its name
    device: str = "cpu"
    provider: str = ""  # ORT execution provider for GPU variants
    fp16: bool = False
    max_side: int = 0  # skip larger canvases (0: no limit); Levin's solve grows past a minute


VARIANTS: dict[str, Variant] = {
    "onnx": Variant("engine", "onnx"),
    "torch": Variant("engine", "torch"),
    "onnx-cuda": Variant("engine", "onnx", "cuda", "CUDAExecutionProvider"),
    "onnx-cuda-fp16": Variant("engine", "onnx", "cuda", "CUDAExecutionProvider", fp16=True),
    "onnx-trt-fp16": Variant("engine", "onnx", "cuda", "TensorrtExecutionProvider", fp16=True),
    "torch-cuda": Variant("engine", "torch", "cuda"),
    "torch-cuda-fp16": Variant("engine", "torch", "cuda", fp16=True),
    "flood_fill": Variant("baseline", "flood_fill"),
    "levin": Variant("baseline", "levin", max_side=1024),
}
DEFAULT_VARIANTS = list(VARIANTS)


def unavailable(name: str) -> str | None:
    """Why ``name`` cannot run on this machine, or None when it can."""
    if name not in VARIANTS:
        return f"unknown variant {name!r}; valid: {', '.join(VARIANTS)}"
    v = VARIANTS[name]
    if v.device == "cpu":
        return None
    if v.backend == "torch":
        import torch

        return None if torch.cuda.is_available() else "PyTorch sees no CUDA device"
    import onnxruntime as ort

    have = ort.get_available_providers()
    return None if v.provider in have else f"ONNX Runtime has no {v.provider} (has {', '.join(have)})"


def _method(model: str, v: Variant, tmp: Path):
    """A ``fn(lineart, hints) -> rgb`` for the variant, and the device it really runs on."""
    if v.kind == "baseline":
        return classical_methods()[v.backend], "cpu"
    from engine import LocalColorizer

    if v.device == "cpu":
        col = LocalColorizer(model, backend=v.backend, device="cpu")
    elif v.backend == "torch":
        col = LocalColorizer(model, backend="torch", device="cuda")
        if v.fp16:
            col.backend = hardware.HalfTorch(col.backend)
    else:
        col = LocalColorizer(model, backend="onnx", device="cpu")
        col.backend = hardware.OrtGpu(col.manifest, v.provider, v.fp16, tmp)
    return col.colorize, col.device


def worker(model: str, side: int, name: str, repeats: int, warmup: bool) -> dict:
    v = VARIANTS[name]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        fn, device = _method(model, v, Path(tmp))
        load_s = time.perf_counter() - t0
        line, hints = synthetic_inputs(side)
        if warmup:  # allocator, kernel selection, TensorRT engine build
            fn(line, hints)
        hardware.reset_gpu_peak(device)
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn(line, hints)
            times.append(time.perf_counter() - t)
    times.sort()
    return {
        "variant": name,
        "kind": v.kind,
        "device": device,
        "fp16": v.fp16,
        "size": side,
        "p50_s": statistics.median(times),
        "p95_s": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "gpu_peak_mb": hardware.gpu_peak_mb(device),
        "load_s": load_s,
        "repeats": repeats,
    }


def repeats_for(side: int, repeats: int) -> int:
    """Fewer repeats on the big canvases, whose single run already takes minutes on a CPU."""
    return repeats if side <= 2048 else max(1, repeats // (side // 2048) ** 2)


def _run_worker(model: str, side: int, name: str, repeats: int, warmup: bool) -> dict | str:
    cmd = [sys.executable, "-m", "bench.speed", "--repeats", str(repeats)]
    cmd += ["--no-warmup"] if not warmup else []
    cmd += ["--worker", model, str(side), name]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if out.returncode != 0:
        return f"failed: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode}"
    return json.loads(out.stdout.strip().splitlines()[-1])


def add_floors_and_ratios(rows: list[dict], costs: dict[int, dict], rates: dict[str, dict]) -> None:
    """Per engine row: floor seconds on its device and p50 / floor; per row: × the baselines."""
    base = {(r["variant"], r["size"]): r["p50_s"] for r in rows if r["kind"] == "baseline"}
    for r in rows:
        if r["kind"] == "engine" and r["size"] in costs and r["device"] in rates:
            floor = hardware.floor_seconds(costs[r["size"]], rates[r["device"]], r["fp16"])
            r["floor_s"] = floor
            r["of_floor"] = r["p50_s"] / floor if floor else None
        for b in ("flood_fill", "levin"):
            if (b, r["size"]) in base:
                r[f"x_{b}"] = r["p50_s"] / base[(b, r["size"])]


def format_table(rows: list[dict]) -> str:
    head = (
        "| variant | device | size | runs | p50 (s) | p95 (s) | peak RSS (MB) | floor (s) "
        "| p50 / floor | × flood fill | × Levin |"
    )
    lines = [head, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def f(v, fmt):
        return "–" if v is None else format(v, fmt)

    for r in rows:
        lines.append(
            f"| {r['variant']} | {r['device']} | {r['size']}² | {r['repeats']} | {r['p50_s']:.3f} "
            f"| {r['p95_s']:.3f} | {r['peak_rss_mb']:.0f} | {f(r.get('floor_s'), '.3f')} "
            f"| {f(r.get('of_floor'), '.1f')} | {f(r.get('x_flood_fill'), '.1f')} "
            f"| {f(r.get('x_levin'), '.2f')} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("--model")
    p.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048, 4096, 8192])
    p.add_argument("--variants", nargs="+", default=DEFAULT_VARIANTS, help=", ".join(VARIANTS))
    p.add_argument("--repeats", type=int, default=5, help="timed runs at ≤ 2048² (fewer above)")
    p.add_argument("--no-warmup", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--json", type=Path, help="also write the rows as JSON here")
    p.add_argument("--worker", nargs=3, metavar=("MODEL", "SIZE", "VARIANT"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        model, side, name = args.worker
        print(json.dumps(worker(model, int(side), name, args.repeats, not args.no_warmup)))
        return 0

    rows, skipped = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        model, random_weights = (args.model, False) if args.model else default_model(Path(tmp))
        from engine import models

        manifest = models.load(model)
        for name in args.variants:
            reason = unavailable(name)
            if reason:
                skipped[name] = reason
                print(f"{name}: skipped, {reason}", file=sys.stderr)
                continue
            for side in args.sizes:
                if VARIANTS[name].max_side and side > VARIANTS[name].max_side:
                    continue
                r = _run_worker(model, side, name, repeats_for(side, args.repeats), side <= 2048)
                if isinstance(r, str):
                    skipped[f"{name} {side}²"] = r
                    print(f"{name} {side}²: {r}", file=sys.stderr)
                    continue
                rows.append(r)
                print(
                    f"{name:16s} {side:5d}²  p50 {r['p50_s']:.3f} s  RSS {r['peak_rss_mb']:.0f} MB",
                    file=sys.stderr,
                )
        devices = sorted({r["device"] for r in rows if r["kind"] == "engine"})
        rates = {d: hardware.measure_rates(d) for d in devices}
        costs = {s: hardware.model_cost(manifest, s) for s in args.sizes}
    add_floors_and_ratios(rows, costs, rates)
    meta = {
        "model": {"name": manifest.name, "version": manifest.version, "random_weights": random_weights},
        "machine": hardware.describe(),
        "rates": rates,
        "costs": {str(k): v for k, v in costs.items()},
        "skipped": skipped,
    }
    print(f"model: {manifest.name} {manifest.version}  {meta['machine']}\n")
    print(format_table(rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
