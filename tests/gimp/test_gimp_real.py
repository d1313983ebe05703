"""The GIMP plug-in in real GIMP 3, headless, against a running ``inkhue serve``.

One GIMP start runs every scenario (drive_colorize.py records, this file asserts). Needs root
(chroot) and, the first time, network access to Debian's mirror for the chroot (~40 s). Skipped
only with INKHUE_SKIP_GIMP=1.

The model is the shipped ``engine/models/inkhue-default`` when it exists, else the test-only
flood-fill model (tests/fixtures_models.py), whose answer is known exactly.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.gimp import harness

pytestmark = pytest.mark.skipif(
    os.environ.get("INKHUE_SKIP_GIMP") == "1", reason="INKHUE_SKIP_GIMP=1: real-GIMP tests skipped"
)

SHIPPED = harness.REPO / "engine" / "models" / "inkhue-default"
W, H = 128, 96
BOXES = {"A": (8, 8, 56, 56), "B": (64, 8, 120, 56), "C": (8, 62, 120, 90)}  # x0, y0, x1, y1
HINTS = {"A": (230, 40, 40), "B": (40, 60, 220)}  # C stays unhinted
TOKEN = "gimp-test-token"


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


# ---------------------------------------------------------------------------------------------
# scenarios


def scenarios(url: str, dead_url: str) -> list[dict]:
    ok = {"mode": "remote", "url": url, "token": TOKEN}
    std = [("Hints", hints()), ("Line art", lineart()), ("Paper", white())]

    def sc(name, layers, selected=("Hints",), settings=ok, **extra):
        return {"name": name, "layers": layers, "selected": list(selected), "settings": settings, **extra}

    offset_layers = [
        ("dabs", window(hints(), (20, -10), (80, 50)), (20, -10)),  # smaller, partly off-canvas
        ("Layer 1", window(lineart(on_white=False), (-16, -12), (160, 120)), (-16, -12)),  # larger
    ]
    return [
        sc("basic", std, export=True),
        sc("offsets", offset_layers, selected=(), args={"lineart-layer": "Layer 1", "hint-layer": "dabs"}),
        sc("selection", std, selection=[0, 0, 60, 60]),
        sc(
            "group",
            [
                {"name": "Drawing", "group": True},
                ("Hints", hints(), None, "Drawing"),
                ("Line art", lineart(), None, "Drawing"),
                ("Paper", white()),
            ],
            selected=("Line art",),
        ),  # fmt: skip
        sc("u16-linear", std, convert="u16-linear"),
        sc("float-linear", std, convert="float-linear"),
        sc("grayscale", std, convert="grayscale"),
        sc("indexed", std, convert="indexed"),
        sc("no-lines", [("Hints", hints()), ("Line art", np.zeros((H, W, 4), np.uint8))]),
        sc("no-hint-layer", [("Line art", lineart()), ("Paper", white())], selected=("Line art",)),
        sc("bad-token", std, settings={**ok, "token": "wrong"}),
        sc("unreachable", std, settings={**ok, "url": dead_url}),
        sc("not-installed", std, settings={"mode": "local", "inkhue": "/nonexistent/bin/inkhue"}),
        sc("too-large", [("Hints", hints()), ("Line art", lineart())], canvas=[12000, 9000]),
        sc("bad-option", std, args={"working-size": 10}),
    ]


ERRORS = {
    "no-lines": "'Line art' is empty",
    "no-hint-layer": "no hint layer found",
    "bad-token": "token",
    "unreachable": "cannot reach",
    "not-installed": "not installed",
    "too-large": "over the engine's limit",
    "bad-option": "working_size",
}
SUCCESSES = ["basic", "offsets", "selection", "group", "u16-linear", "float-linear", "grayscale", "indexed"]


def write_spec(data: Path, url: str, dead_url: str) -> None:
    specs = []
    for sc in scenarios(url, dead_url):
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
        specs.append({**sc, "layers": layers, "canvas": sc.get("canvas", [W, H])})
    (data / "spec.json").write_text(json.dumps({"scenarios": specs}))


# ---------------------------------------------------------------------------------------------
# fixtures: chroot, engine server, one GIMP run


@pytest.fixture(scope="module")
def gimp_root() -> Path:
    if os.geteuid() != 0:
        pytest.fail("the real-GIMP test needs root (chroot); run as root or set INKHUE_SKIP_GIMP=1")
    root = harness.chroot_root()
    harness.ensure_chroot(root)
    return root


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    if (SHIPPED / "manifest.json").is_file():
        model, kind = SHIPPED, "trained"
    else:
        from tests.fixtures_models import fill_model

        model, kind = fill_model(tmp_path_factory.mktemp("models") / "fill"), "fill"
    port_file = tmp_path_factory.mktemp("serve") / "port"
    cmd = [sys.executable, "-m", "engine.cli", "serve", "--host", "127.0.0.1", "--port", "0"]
    cmd += ["--port-file", str(port_file), "--token", TOKEN, "--model", str(model)]
    env = {**os.environ, "PYTHONPATH": str(harness.REPO)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not (port_file.is_file() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"inkhue serve did not start: {proc.stdout.read() if proc.poll() else 'timeout'}")
            time.sleep(0.05)
        yield {"url": f"http://127.0.0.1:{port_file.read_text().strip()}", "kind": kind}
    finally:
        proc.terminate()
        proc.wait(10)


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture(scope="module")
def run(gimp_root: Path, server: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("gimp-out")
    with harness.workdir(gimp_root) as (host, inside):
        write_spec(host, server["url"], closed_port_url())
        t0 = time.monotonic()
        proc = harness.run_batch(
            gimp_root,
            harness.HERE / "drive_colorize.py",
            {"INKHUE_GIMP_DATA": inside, "INKHUE_CONFIG": f"{inside}/plugin.json"},
        )
        seconds = time.monotonic() - t0
        shutil.copytree(host, out, dirs_exist_ok=True)
    log = (proc.stdout + proc.stderr).decode("utf-8", "replace")
    assert proc.returncode == 0, f"GIMP exited {proc.returncode}:\n{log[-4000:]}"
    result = json.loads((out / "result.json").read_text())
    print(f"GIMP run: {seconds:.1f} s for {len(result['scenarios'])} scenarios; outputs in {out}")
    return {"result": result, "dir": out, "kind": server["kind"], "log": log}


# ---------------------------------------------------------------------------------------------
# helpers for the assertions


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


def assert_originals_unchanged(rec: dict) -> None:
    """Same layers, same order, same attributes, same pixels (native format and 8-bit)."""
    ignore = {"position", "u8"}
    before = [{k: v for k, v in item.items() if k not in ignore} for item in rec["before"]]
    after = [{k: v for k, v in item.items() if k not in ignore} for item in rec["after"]]
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


# ---------------------------------------------------------------------------------------------
# tests


def test_plugin_registered_in_gimp_without_numpy(run):
    assert run["result"]["proc_found"], run["log"][-3000:]
    assert run["result"]["gimp_version"].startswith("3.")
    assert not run["result"]["numpy_in_gimp_python"]  # the plug-in ran where numpy cannot be had


@pytest.mark.parametrize("name", SUCCESSES)
def test_success_adds_one_layer_and_changes_nothing_else(run, name):
    rec = scenario(run, name)
    assert rec["status"] == "success", rec["message"]
    new = new_layer(rec)
    assert new["size"] == [W, H] and new["offsets"] == [0, 0]
    assert len(rec["after"]) == len(rec["before"]) + 1
    assert_originals_unchanged(rec)


def test_basic_defaults_find_layers_by_name_and_follow_hints(run):
    rec = scenario(run, "basic")  # the hint layer is selected: the line art is found by its name
    new, line = new_layer(rec), layer(rec, "Line art")
    assert (new["parent"], new["position"]) == (line["parent"], line["position"] + 1)
    assert [i["name"] for i in rec["after"]] == ["Hints", "Line art", "AI Colorize", "Paper"]
    out = assert_follows_hints(run, rec)
    if run["kind"] == "fill":
        x0, y0, x1, y1 = BOXES["C"]
        assert (out[y0 + 4 : y1 - 4, x0 + 4 : x1 - 4, :3] == 255).all()  # unhinted: white
        assert (out[BOXES["A"][1], 20:40, :3] == 0).all()  # lines composed onto the colours
    from PIL import Image

    exported = np.asarray(Image.open(run["dir"] / rec["new_png"]).convert("RGBA"))
    assert exported.shape == (H, W, 4)
    assert (exported == pixels(run, new_layer(rec))).all()
    assert Image.open(run["dir"] / rec["image_png"]).size == (W, H)


def test_layers_with_offsets_and_sizes_unlike_the_canvas(run):
    rec = scenario(run, "offsets")
    assert [i["name"] for i in rec["after"]] == ["dabs", "Layer 1", "AI Colorize"]
    assert layer(rec, "Layer 1")["offsets"] == [-16, -12] and layer(rec, "dabs")["size"] == [80, 50]
    assert_follows_hints(run, rec, hint_name="dabs")


def test_selection_limits_the_result(run):
    rec = scenario(run, "selection")
    out = assert_follows_hints(run, rec, boxes=("A",))
    assert (out[:60, :60, 3] == 255).all()
    assert (out[60:, :, 3] == 0).all() and (out[:, 60:, 3] == 0).all()


def test_line_art_inside_a_group(run):
    rec = scenario(run, "group")
    new = new_layer(rec)
    assert new["parent"] == "Drawing" and new["position"] == layer(rec, "Line art")["position"] + 1
    assert_follows_hints(run, rec)


@pytest.mark.parametrize("name", ["u16-linear", "float-linear", "grayscale", "indexed"])
def test_other_precisions_and_modes(run, name):
    rec = scenario(run, name)
    assert_follows_hints(run, rec)
    if name == "grayscale":
        out = pixels(run, new_layer(rec))
        assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_are_reported_and_leave_the_image_untouched(run, name):
    rec = scenario(run, name)
    assert rec["status"] == "execution-error"
    assert ERRORS[name] in rec["message"], rec["message"]
    assert rec["message"].startswith("AI Colorize: ")
    assert rec["after"] == [
        {**item, "u8": a["u8"]} for item, a in zip(rec["before"], rec["after"], strict=True)
    ]
