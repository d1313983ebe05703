"""No hints at all: what both plug-ins send when the hint layer is empty or "(none)" is chosen.

They send fully transparent hints of the canvas size. The engine must take them (client, server
codec, pipeline) exactly like no hints, and the bundled model must give a picture, not the line
art back: the areas enclosed by lines painted, the paper around them left clear, the lines kept.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from engine.models import BUNDLED_DIR
from engine.wire import client

pytest.importorskip("starlette", reason="the service extra (starlette, uvicorn) is not installed")

BUNDLED = BUNDLED_DIR / "inkhue-default"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "lineart.png"
OPTIONS = {"compose_lines": True, "transparent": True}  # the plug-ins' defaults

pytestmark = pytest.mark.skipif(
    not (BUNDLED / "manifest.json").is_file(), reason="the bundled model is not in this checkout"
)


@pytest.fixture(scope="module")
def bundled():
    from engine.pipeline import LocalColorizer

    return LocalColorizer(BUNDLED, backend="onnx", device="cpu")


@pytest.fixture(scope="module")
def url(bundled):
    from engine.server import ServerConfig, create_app, serve_in_thread

    with serve_in_thread(create_app(bundled, ServerConfig())) as u:
        yield u


def test_transparent_hints_over_http_are_no_hints_and_give_a_picture(bundled, url):
    line = np.asarray(Image.open(EXAMPLE).convert("RGBA"))
    h, w = line.shape[:2]
    empty = bytes(4 * w * h)  # what the plug-ins send for an empty hint layer or "(none)"
    sent = client.colorize(url, line.tobytes(), empty, w, h, options=OPTIONS)
    rgba = np.frombuffer(sent, np.uint8).reshape(h, w, 4)
    # the same as sending no hints, and as the engine without the server
    none = client.colorize(url, line.tobytes(), None, w, h, options=OPTIONS)
    assert sent == none
    np.testing.assert_array_equal(rgba, bundled.colorize(line, None, **OPTIONS))
    np.testing.assert_array_equal(rgba, bundled.colorize(line, np.zeros((h, w, 4), np.uint8), **OPTIONS))

    ink = line[..., :3].max(-1) < 128
    assert (rgba[ink][:, :3] <= 40).all() and (rgba[ink][:, 3] == 255).all()  # the lines stay
    labels, n = ndimage.label(~ink)
    paper = {int(labels[0, 0]), int(labels[-1, -1])}  # the sky and the ground reach the border
    painted = 0
    for label in range(1, n + 1):
        inside = ndimage.binary_erosion(labels == label, iterations=3)
        if inside.sum() < 1000:
            continue
        px = rgba[inside].astype(int)
        if label in paper:  # no line closes it and no dab asks for colour: left clear
            assert (px[:, 3] == 0).all(), label
            continue
        assert (px[:, 3] == 255).all(), label
        # toned, unlike the paper (255), and shaded rather than one flat value
        assert px[:, :3].mean() < 245 and px[:, :3].std(0).min() > 2, (label, px[:, :3].mean(0))
        painted += 1
    assert painted >= 4  # house, door, window frame, sun, tree crown: more than the line art


def test_preview_and_flats_take_transparent_hints(url):
    line = np.asarray(Image.open(EXAMPLE).convert("RGBA"))
    h, w = line.shape[:2]
    empty = bytes(4 * w * h)
    draft = client.colorize(url, line.tobytes(), empty, w, h, options={**OPTIONS, "preview": True})
    assert len(draft) == 4 * w * h
    # flat colours only repeat dabs: with none, only the lines (the plug-ins refuse this case)
    flats = np.frombuffer(
        client.colorize(url, line.tobytes(), empty, w, h, options={**OPTIONS, "method": "flats"}), np.uint8
    ).reshape(h, w, 4)
    ink = line[..., :3].max(-1) < 128
    assert (flats[~ink][:, 3] == 0).all()
