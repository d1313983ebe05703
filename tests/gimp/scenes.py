"""Shared by the real-GIMP tests: test images, scenario files, one GIMP run, and the checks.

Scenarios are dicts: ``name``, ``layers`` (top to bottom: ``(name, rgba)``, ``(name, rgba,
offset)``, ``(name, rgba, offset, parent group)`` or ``{"name": ..., "group": True}``),
``selected``, ``settings`` (the plug-in's settings file), and optionally ``args`` (procedure
arguments), ``convert``, ``selection``, ``canvas``, ``export``, ``run_mode``.
drive_colorize.py builds and runs them inside GIMP; these helpers read what it recorded.
"""

from __future__ import annotations

import json
import shutil
import socket
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tests.gimp import harness

SHIPPED = harness.REPO / "engine" / "models" / "inkhue-default"
W, H = 128, 96
BOXES = {"A": (8, 8, 56, 56), "B": (64, 8, 120, 56), "C": (8, 62, 120, 90)}  # x0, y0, x1, y1
HINTS = {"A": (230, 40, 40), "B": (40, 60, 220)}  # C stays unhinted
TOKEN = "gimp-test-token"
TRACE = "dialog-trace.jsonl"  # inkhue_dialog.py writes a line each time the dialog is ready


# ---------------------------------------------------------------------------------------------
# test images (canvas coordinates; layers are windows onto them)


def lineart(on_white: bool = True) -> np.ndarray:
    img = np.zeros((H, W, 4), np.uint8)
    if on_white:
        img[...] = 255
    for x0, y0, x1, y1 in BOXES.values():
        for ys, xs in ((slice(y0, y0 + 2), slice(x0, x1)), (slice(y1 - 2, y1), slice(x0, x1))):
            img[ys, xs] = (0, 0, 0, 255)
        for ys, xs in ((slice(y0, y1), slice(x0, x0 + 2)), (slice(y0, y1), slice(x1 - 2, x1))):
            img[ys, xs] = (0, 0, 0, 255)
    return img


def dab_at(box: str) -> tuple[int, int]:
    x0, y0, x1, y1 = BOXES[box]
    return (x0 + x1) // 2, (y0 + y1) // 2


def hints() -> np.ndarray:
    img = np.zeros((H, W, 4), np.uint8)
    for box, rgb in HINTS.items():
        cx, cy = dab_at(box)
        img[cy - 3 : cy + 3, cx - 3 : cx + 3] = (*rgb, 255)
    return img


def window(canvas: np.ndarray, offset: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """A layer of ``size`` at ``offset`` showing ``canvas``; transparent beyond the canvas."""
    (ox, oy), (lw, lh) = offset, size
    out = np.zeros((lh, lw, 4), np.uint8)
    ys, xs = slice(max(0, oy), min(H, oy + lh)), slice(max(0, ox), min(W, ox + lw))
    out[ys.start - oy : ys.stop - oy, xs.start - ox : xs.stop - ox] = canvas[ys, xs]
    return out


def white() -> np.ndarray:
    return np.full((H, W, 4), 255, np.uint8)


def standard_layers() -> list:
    return [("Hints", hints()), ("Line art", lineart()), ("Paper", white())]


def remote_settings(url: str, token: str = TOKEN) -> dict:
    return {"mode": "remote", "url": url, "token": token}


# ---------------------------------------------------------------------------------------------
# one GIMP run over a list of scenarios


def write_spec(data: Path, scenario_list: list[dict]) -> None:
    specs = []
    for sc in scenario_list:
        sc = dict(sc)
        layers = []
        for i, entry in enumerate(sc.pop("layers")):
            if isinstance(entry, dict):
                layers.append(entry)
                continue
            name, pixels, offset, parent = (*entry, None, None)[:4]
            file = f"{sc['name']}-in{i}.rgba"
            (data / file).write_bytes(pixels.tobytes())
            size = [pixels.shape[1], pixels.shape[0]]
            layers.append(
                {"name": name, "file": file, "size": size, "offset": offset or [0, 0], "parent": parent}
            )
        steps = []
        for i, step in enumerate(sc.pop("steps", [])):  # drive_preview.py: pixels painted mid-run
            if "pixels" in step:
                step = dict(step)
                file = f"{sc['name']}-step{i}.rgba"
                (data / file).write_bytes(step.pop("pixels").tobytes())
                step["file"] = file
            steps.append(step)
        specs.append({**sc, "layers": layers, "steps": steps, "canvas": sc.get("canvas", [W, H])})
    (data / "spec.json").write_text(json.dumps({"scenarios": specs}))


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def run_in_gimp(
    root: Path,
    scenario_list: list[dict],
    out: Path,
    env: dict | None = None,
    during: Callable[[Path], None] | None = None,
    driver: Path | None = None,
) -> dict:
    """Run the scenarios in one GIMP start; returns the record, the output folder and GIMP's log.

    ``during`` gets the run's folder (where the dialog writes ``TRACE``) while GIMP runs;
    ``driver``: the script GIMP runs (default: drive_colorize.py).
    """
    with harness.workdir(root) as (host, inside):
        write_spec(host, scenario_list)
        t0 = time.monotonic()
        env = {
            "INKHUE_GIMP_DATA": inside,
            "INKHUE_CONFIG": f"{inside}/plugin.json",
            "INKHUE_DIALOG_TRACE": f"{inside}/{TRACE}",
            **(env or {}),
        }
        proc = harness.run_batch(
            root,
            driver or harness.HERE / "drive_colorize.py",
            env,
            during=(lambda: during(host)) if during else None,
        )
        seconds = time.monotonic() - t0
        shutil.copytree(host, out, dirs_exist_ok=True)
    log = (proc.stdout + proc.stderr).decode("utf-8", "replace")
    assert proc.returncode == 0, f"GIMP exited {proc.returncode}:\n{log[-4000:]}"
    result = json.loads((out / "result.json").read_text())
    print(f"GIMP run: {seconds:.1f} s for {len(result['scenarios'])} scenarios; outputs in {out}")
    return {"result": result, "dir": out, "log": log, "seconds": seconds}


# ---------------------------------------------------------------------------------------------
# reading the record


def scenario(run: dict, name: str) -> dict:
    rec = run["result"]["scenarios"][name]
    assert "driver_error" not in rec, rec.get("driver_error")
    return rec


def pixels(run: dict, item: dict) -> np.ndarray:
    w, h = item["size"]
    return np.frombuffer((run["dir"] / item["u8"]).read_bytes(), np.uint8).reshape(h, w, 4)


def new_layer(rec: dict) -> dict:
    found = [item for item in rec["after"] if item["name"] == "AI Colorize"]
    assert len(found) == 1, f"{rec['status']}: {rec['message']}"
    return found[0]


def layer(rec: dict, name: str, when: str = "after") -> dict:
    return next(item for item in rec[when] if item["name"] == name)


def assert_originals_unchanged(rec: dict, hidden: str | None = "Hints") -> None:
    """Same layers, same order, same attributes, same pixels (native format and 8-bit).

    The hint layer ``hidden`` is the one change: it was hidden in the result's undo step.
    """
    ignore = {"position", "u8"}
    before = [{k: v for k, v in item.items() if k not in ignore} for item in rec["before"]]
    after = [{k: v for k, v in item.items() if k not in ignore} for item in rec["after"]]
    for item in before:
        if item["name"] == hidden:
            assert item["visible"], f"{hidden} was hidden before the run"
            item["visible"] = False
    assert [item for item in after if item["name"] != "AI Colorize"] == before


def hint_colour(run: dict, rec: dict, hint_name: str, box: str) -> np.ndarray:
    """The hint's colour as GIMP holds it (after any mode conversion), read at the dab's centre."""
    item = layer(rec, hint_name)
    cx, cy = dab_at(box)
    ox, oy = item["offsets"]
    return pixels(run, item)[cy - oy, cx - ox, :3].astype(int)


def assert_follows_hints(run: dict, rec: dict, hint_name: str = "Hints", boxes=("A", "B")) -> np.ndarray:
    out = pixels(run, new_layer(rec)).astype(int)
    colours = {box: hint_colour(run, rec, hint_name, box) for box in boxes}
    for box, colour in colours.items():
        x0, y0, x1, y1 = BOXES[box]
        inside = out[y0 + 4 : y1 - 4, x0 + 4 : x1 - 4]
        assert (inside[..., 3] == 255).all()
        if run["kind"] == "fill":  # the flood-fill model's answer is exact (±2 for conversions)
            assert np.abs(inside[..., :3] - colour).max() <= 2, (box, colour, inside[..., :3].mean((0, 1)))
        else:  # a trained model: the region's mean colour near its hint, nearer than to the others
            mean = inside[..., :3].reshape(-1, 3).mean(0)
            dist = {b: np.linalg.norm(mean - c) for b, c in colours.items()}
            assert dist[box] < 60 and dist[box] == min(dist.values()), (box, dist)
    return out
