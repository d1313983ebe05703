"""Hostile or broken files give the promised one-line error and exit code, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from engine.cli import main
from engine.errors import ModelError
from engine.modelspec import load_manifest

REPO = Path(__file__).resolve().parents[2]


def _line_png(path: Path, info=None) -> Path:
    Image.fromarray(np.full((32, 32, 3), 255, np.uint8)).save(path, pnginfo=info)
    return path


@pytest.mark.parametrize("chunk", ["ztxt", "itxt"])
def test_png_text_chunk_bomb_is_exit_2(tmp_path, random_model_dir, caplog, chunk):
    """Issue 19.6: Pillow refuses a text chunk inflating past its limit with a ValueError."""
    info = PngImagePlugin.PngInfo()
    text = "a" * (PngImagePlugin.MAX_TEXT_CHUNK + (1 << 20))
    if chunk == "ztxt":
        info.add_text("Comment", text, zip=True)
    else:
        info.add_itxt("Comment", text, zip=True)
    bomb = _line_png(tmp_path / "bomb.png", info)
    assert bomb.stat().st_size < 100_000
    code = main(["colorize", str(bomb), "-o", str(tmp_path / "out.png"), "--model", str(random_model_dir)])
    assert code == 2 and "could not be decoded" in caplog.text and "Traceback" not in caplog.text


def test_garbage_safetensors_on_torch_is_a_model_error(tmp_path, model_copy_factory, caplog):
    """Issue 19.6: a garbage (or pickled) weights file is ModelError, exit 3, not a traceback."""
    pytest.importorskip("torch")
    from engine.modelspec import sha256_file

    model = model_copy_factory()
    manifest = json.loads((model / "manifest.json").read_text())
    stage = manifest["stages"]["draft"]
    (model / stage["weights"]).write_bytes(b"\x80\x04K\x01." + os.urandom(64))  # a pickle, then junk
    stage["weights_sha256"] = sha256_file(model / stage["weights"])  # checksum fine: content is not
    (model / "manifest.json").write_text(json.dumps(manifest))
    line = _line_png(tmp_path / "line.png")
    code = main(["colorize", str(line), "--backend", "torch", "--model", str(model)])
    assert code == 3 and "not a valid safetensors file" in caplog.text


@pytest.mark.parametrize("name", [["a", "list"], {"a": 1}, 7, None, ""])
def test_a_manifest_with_a_bad_name_does_not_break_other_models(
    tmp_path, monkeypatch, random_model_dir, name
):
    """Issue 19.6: one broken manifest on INKHUE_MODEL_PATH is skipped, not a crash of every command."""
    from engine import models

    bad = tmp_path / "models" / "bad"
    bad.mkdir(parents=True)
    manifest = json.loads((random_model_dir / "manifest.json").read_text())
    (bad / "manifest.json").write_text(json.dumps({**manifest, "name": name}))
    with pytest.raises(ModelError, match="'name' must be a non-empty string"):
        load_manifest(bad, verify=False)
    monkeypatch.setenv(
        "INKHUE_MODEL_PATH", os.pathsep.join([str(tmp_path / "models"), str(random_model_dir)])
    )
    found = models.available()
    assert bad not in found.values() and random_model_dir in found.values()


@pytest.mark.parametrize("payload", ["[1, 2]", '"text"', "{"])
def test_a_manifest_that_is_not_an_object_is_a_model_error(tmp_path, payload):
    (tmp_path / "manifest.json").write_text(payload)
    with pytest.raises(ModelError, match="malformed model manifest"):
        load_manifest(tmp_path, verify=False)


@pytest.mark.parametrize("field", ["onnx", "weights"])
@pytest.mark.parametrize("where", ["../outside.onnx", "/etc/passwd", "link.onnx"])
def test_manifest_file_names_stay_inside_the_model_folder(model_copy_factory, tmp_path, field, where):
    """Issue 19.14: names with .., absolute paths and symlinks leading out are refused."""
    model = model_copy_factory()
    outside = model.parent / "outside.onnx"
    outside.write_bytes(b"x")
    (model / "link.onnx").symlink_to(outside)
    manifest = json.loads((model / "manifest.json").read_text())
    manifest["stages"]["refine"][field] = where
    (model / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="points outside the model folder"):
        load_manifest(model, verify=False)


@pytest.mark.parametrize("port", ["70000", "-1", "http"])
def test_serve_with_an_impossible_port_is_a_one_line_error(port):
    """Issue 19.6: argparse refuses it (exit 2) before any model loads."""
    r = subprocess.run(
        [sys.executable, "-m", "engine.cli", "serve", "--port", port],
        capture_output=True, text=True, timeout=60, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert r.returncode == 2 and "is not a port" in r.stderr and "Traceback" not in r.stderr


def test_bind_of_an_impossible_port_is_a_serve_error():
    from engine.server.run import ServeError, bind

    with pytest.raises(ServeError, match="cannot listen"):
        bind("127.0.0.1", 70000)


@pytest.mark.parametrize("shape", [(60_000, 60_000), (20_000, 20_000, 3)])
def test_huge_views_are_refused_before_any_copy(shape):
    """Issue 19.9: the size check comes before the RGBA expansion (no GBs, no MemoryError)."""
    import time
    import tracemalloc

    from engine.arrays import check_lineart
    from engine.errors import InputError

    view = np.broadcast_to(np.uint8(255), shape)  # no memory behind it
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(InputError, match="over the limit"):
            check_lineart(view, max_pixels=100_000_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20 and time.perf_counter() - t0 < 1


def _png(width: int, height: int, rows: bytes, interlace: int = 0) -> bytes:
    """An RGBA PNG whose IDAT is ``rows`` (filtered scanlines) as one complete zlib stream."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, interlace)
    idat = chunk(b"IDAT", zlib.compress(rows))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + idat + chunk(b"IEND", b"")


def _adam7_rows(rgba: np.ndarray) -> bytes:
    from engine.imageio import _ADAM7

    return b"".join(b"\0" + row.tobytes() for x0, y0, dx, dy in _ADAM7 for row in rgba[y0::dy, x0::dx])


@pytest.mark.parametrize("load_truncated", [False, True])
def test_a_png_whose_image_data_ends_early_is_exit_2(tmp_path, random_model_dir, caplog, monkeypatch,
                                                     load_truncated):  # fmt: skip
    """Issue 19.15: a zlib stream that ends cleanly after half the rows is not read as an image
    with transparent rows, whatever Pillow's LOAD_TRUNCATED_IMAGES says."""
    from PIL import ImageFile

    from engine.errors import ImageReadError
    from engine.imageio import read_image

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", load_truncated)
    half = b"".join(b"\0" + bytes([255]) * 64 * 4 for _ in range(32))
    cut = tmp_path / "cut.png"
    cut.write_bytes(_png(64, 64, half))
    Image.open(cut).verify()  # Pillow's own check passes
    with pytest.raises(ImageReadError, match="truncated"):
        read_image(cut)
    cut_stream = tmp_path / "cut_stream.png"  # the zlib stream itself cut short
    cut_stream.write_bytes(_png(64, 64, half + half)[:-40])
    with pytest.raises(ImageReadError):
        read_image(cut_stream)
    code = main(["colorize", str(cut), "-o", str(tmp_path / "out.png"), "--model", str(random_model_dir)])
    assert code == 2 and "is truncated" in caplog.text and "Traceback" not in caplog.text
    assert not (tmp_path / "out.png").exists()


def test_complete_pngs_pass_the_row_check(tmp_path):
    """The expected size covers Adam7 interlacing and every bit depth Pillow writes."""
    from engine.imageio import read_image

    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, (37, 21, 4), np.uint8)
    (tmp_path / "adam7.png").write_bytes(_png(21, 37, _adam7_rows(rgba), interlace=1))
    assert np.array_equal(read_image(tmp_path / "adam7.png"), rgba)
    (tmp_path / "cut7.png").write_bytes(_png(21, 37, _adam7_rows(rgba)[:-200], interlace=1))
    with pytest.raises(Exception, match="truncated"):
        read_image(tmp_path / "cut7.png")
    rgb = Image.fromarray(rng.integers(0, 256, (33, 19, 3), np.uint8))
    for mode in ("RGB", "RGBA", "L", "LA", "P", "1", "I;16"):
        rgb.convert(mode).save(tmp_path / f"{mode}.png".replace(";", ""))
        assert read_image(tmp_path / f"{mode}.png".replace(";", "")).shape[:2] == (33, 19)
