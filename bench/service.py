"""Service benchmarks: a bounded load run, and the service's own overhead per request.

    python bench/service.py                   # random-weight model (needs torch), all parts
    python bench/service.py --model DIR       # an installed model
    python bench/service.py --requests 320 --clients 8 --size 512
    python bench/service.py --model engine/models/inkhue-default --sweep 1,2,4 --requests 24

* load: ``inkhue serve`` in its own process, ``--clients`` threads each sending 512² RGBA requests
  with the engine's stdlib client; throughput, p50/p99 latency, errors, the server's RSS.
* overhead: 1024² RGBA in, RGB out, binary extension, loopback. (a) the server's round trip
  minus the model time it reports in ``Server-Timing``; (b) the whole round trip with a model
  that returns at once (decode, validate, encode, HTTP both ways, client encode/decode).
* sweep (``--sweep 1,2,4``): the load run once per ``--workers`` count, each against a fresh
  server with ``2 × workers`` clients (every worker busy, as many waiting): the sizing figures of
  docs/deploy.md (images per second per replica, p50/p99).
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from engine.wire import client  # noqa: E402


def drawing(side: int, seed: int = 0) -> tuple[bytes, bytes]:
    rng = np.random.default_rng(seed)
    lineart = np.full((side, side, 4), 255, np.uint8)
    for _ in range(12):
        y0, x0 = rng.integers(0, side - 40, 2)
        y1, x1 = y0 + rng.integers(20, 200), x0 + rng.integers(20, 200)
        lineart[y0:y1, [x0, min(x1, side - 1)], :3] = 0
        lineart[[y0, min(y1, side - 1)], x0:x1, :3] = 0
    hints = np.zeros((side, side, 4), np.uint8)
    for _ in range(8):
        y, x = rng.integers(0, side - 6, 2)
        hints[y : y + 6, x : x + 6] = [*rng.integers(0, 256, 3), 255]
    return lineart.tobytes(), hints.tobytes()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def start_server(
    model: Path, token: str, workers: int, queue: int, tmp: Path
) -> tuple[subprocess.Popen, str]:
    port_file = tmp / "port"
    port_file.unlink(missing_ok=True)  # an earlier server's, if it did not remove its own
    cmd = [sys.executable, "-m", "engine.cli", "serve", "--port", "0", "--port-file", str(port_file),
           "--model", str(model), "--workers", str(workers), "--queue", str(queue)]  # fmt: skip
    env = {**os.environ, "INKHUE_TOKEN": token, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stderr=open(tmp / "server.log", "wb"))
    deadline = time.monotonic() + 120
    while not port_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("server did not start: " + (tmp / "server.log").read_text()[-2000:])
        time.sleep(0.05)
    return proc, f"http://127.0.0.1:{int(port_file.read_text())}"


def load_run(url: str, token: str, pid: int, clients: int, requests: int, side: int) -> dict:
    lineart, hints = drawing(side)
    for _ in range(2):  # warm-up: first-call allocations are not what "steady" means
        client.colorize(url, lineart, hints, side, side, token=token)
    rss = [rss_mb(pid)]
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    done = [0]

    def one(_: int) -> None:
        t0 = time.perf_counter()
        try:
            client.colorize(url, lineart, hints, side, side, token=token, timeout=120)
        except client.EngineError as e:
            with lock:
                errors.append(f"{e.kind}: {e}")
            return
        with lock:
            latencies.append(time.perf_counter() - t0)
            done[0] += 1
            if done[0] % max(1, requests // 8) == 0:
                rss.append(rss_mb(pid))

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(requests)))
    wall = time.perf_counter() - t0
    rss.append(rss_mb(pid))
    return {
        "clients": clients, "requests": requests, "side": side, "errors": len(errors),
        "error_samples": errors[:3], "wall_s": round(wall, 2),
        "throughput_rps": round(len(latencies) / wall, 2),
        "p50_ms": round(pct(latencies, 50) * 1000, 1), "p99_ms": round(pct(latencies, 99) * 1000, 1),
        "rss_mb_after_warmup_then_every_eighth": [round(r, 1) for r in rss],
    }  # fmt: skip


def timed_request(
    url: str, token: str | None, lineart: bytes, hints: bytes, side: int
) -> tuple[float, float]:
    """(round trip incl. client encode/decode, model ms from Server-Timing), in ms."""
    t0 = time.perf_counter()
    head, parts = client.encode_request(lineart, hints, side, side, {})
    headers = {
        "Content-Type": "application/octet-stream",
        "Content-Length": str(sum(map(len, parts))),
        client.HEADER_LENGTH: str(len(head)),
    }
    infer_url = f"{url}/v2/models/inkhue/infer"
    status, resp_headers, data = client._request("POST", infer_url, token, 120, parts, headers)
    assert status == 200, data[:300]
    rgb = client.decode_response(resp_headers, data, side, side)
    total = (time.perf_counter() - t0) * 1000
    assert len(rgb) == side * side * 3
    model = float(resp_headers["server-timing"].split("dur=")[1])
    return total, model


def overhead_real(url: str, token: str, side: int, reps: int) -> dict:
    lineart, hints = drawing(side)
    timed_request(url, token, lineart, hints, side)
    runs = [timed_request(url, token, lineart, hints, side) for _ in range(reps)]
    over = [t - m for t, m in runs]
    return {
        "side": side, "reps": reps, "model_ms_median": round(statistics.median(m for _, m in runs), 1),
        "round_trip_ms_median": round(statistics.median(t for t, _ in runs), 1),
        "overhead_ms_median": round(statistics.median(over), 2), "overhead_ms_max": round(max(over), 2),
    }  # fmt: skip


class Instant:
    """A model that answers at once: what is left of the round trip is the service itself."""

    backend_name, device = "instant", "cpu"

    def colorize(self, lineart, hints=None, options=None, **overrides):
        return np.zeros((*lineart.shape[:2], 3), np.uint8)


def overhead_echo(side: int, reps: int) -> dict:
    from engine.server import ServerConfig, create_app, serve_in_thread

    lineart, hints = drawing(side)
    with serve_in_thread(create_app(Instant(), ServerConfig())) as url:
        timed_request(url, None, lineart, hints, side)
        totals = [timed_request(url, None, lineart, hints, side)[0] for _ in range(reps)]
    return {"side": side, "reps": reps, "round_trip_ms_median": round(statistics.median(totals), 2),
            "round_trip_ms_p90": round(pct(totals, 90), 2)}  # fmt: skip


def sweep(model: Path, workers_list: list[int], requests: int, side: int, tmp: Path) -> list[dict]:
    """Throughput and latency per worker count, each on its own fresh server."""
    rows = []
    for workers in workers_list:
        token, clients = "bench-token", 2 * workers
        proc, url = start_server(model, token, workers, clients, tmp)
        try:
            run = load_run(url, token, proc.pid, clients, max(requests, 2 * clients), side)
        finally:
            proc.terminate()
            proc.wait(30)
        run["workers"] = workers
        run["rss_mb_peak"] = max(run.pop("rss_mb_after_warmup_then_every_eighth"))
        rows.append(run)
    return rows


def main() -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("--model", help="model folder (default: a random-weight model, needs torch)")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--requests", type=int, default=320)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--overhead-size", type=int, default=1024)
    p.add_argument("--reps", type=int, default=15)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--sweep", help="comma-separated worker counts: only the load run, once per count")
    args = p.parse_args()
    result: dict = {"cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        model = Path(args.model) if args.model else None
        result["model"] = str(model) if model else None
        if model is None:
            from training.export import random_model

            model = random_model(tmp / "model")
            result["model"] = "random weights (training.export.random_model)"
        if args.sweep:
            counts = [int(w) for w in args.sweep.split(",")]
            result["sweep"] = sweep(model, counts, args.requests, args.size, tmp)
            print(json.dumps(result, indent=2))
            return 0
        result["overhead_echo"] = overhead_echo(args.overhead_size, args.reps)
        token = "bench-token"
        proc, url = start_server(model, token, args.workers, args.clients, tmp)
        try:
            result["overhead_real_model"] = overhead_real(
                url, token, args.overhead_size, max(3, args.reps // 3)
            )
            result["load"] = load_run(url, token, proc.pid, args.clients, args.requests, args.size)
        finally:
            proc.terminate()
            proc.wait(30)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
