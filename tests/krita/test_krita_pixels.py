"""Unit tests of the Krita plug-in's pure-Python parts (no Krita needed).

Layer bytes are built with ``struct``/numpy from the layouts Krita documents (and that
tests/krita checks against real Krita): 8/16-bit RGBA as B,G,R,A, float RGBA as R,G,B,A.
"""

from __future__ import annotations

import ast
import dataclasses
import struct
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "krita_plugin"
PKG = PLUGIN / "inkhue_krita"

from tests.plugin_copies import krita_plugin_root  # noqa: E402

INSTALLED = krita_plugin_root()  # the plug-in with its vendor/, as Krita imports it
sys.path.insert(0, str(INSTALLED))

from inkhue_krita import colorspaces, job, pixels, planning, request, samples  # noqa: E402
from inkhue_krita.pixels import PixelFormat  # noqa: E402

from engine.wire import layer_rules  # noqa: E402  (the plug-in gets a vendored copy)

RNG = np.random.default_rng(0)


def srgb_to_linear(v: np.ndarray) -> np.ndarray:
    v = v / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def random_rgba(n: int) -> np.ndarray:
    return RNG.integers(0, 256, (n, 4), dtype=np.uint8)


# ------------------------------------------------------------------------------------------------
# decoding


def test_u8_bgra_becomes_rgba():
    rgba = random_rgba(500)
    bgra = rgba[:, [2, 1, 0, 3]].tobytes()
    assert pixels.to_rgba8(bgra, PixelFormat("RGBA", "U8", "sRGB-elle-V2-srgbtrc.icc")) == rgba.tobytes()


@pytest.mark.parametrize("profile", ["sRGB-elle-V2-srgbtrc.icc", "sRGB-elle-V2-g10.icc"])
def test_u16_both_tone_curves(profile):
    rgba = random_rgba(400)
    rgb = rgba[:, :3].astype(np.float64)
    if "g10" in profile:  # linear profile: store linear light, as Krita does
        rgb = srgb_to_linear(rgb) * 255.0
    native = np.empty((400, 4), np.uint16)
    native[:, :3] = np.round(rgb[:, [2, 1, 0]] * 257.0)
    native[:, 3] = rgba[:, 3].astype(np.uint16) * 257
    got = np.frombuffer(
        pixels.to_rgba8(native.astype("<u2").tobytes(), PixelFormat("RGBA", "U16", profile)), np.uint8
    )
    assert np.abs(got.reshape(-1, 4).astype(int) - rgba).max() <= 1


@pytest.mark.parametrize("depth, dtype", [("F16", "<f2"), ("F32", "<f4")])
def test_float_linear_rgba(depth, dtype):
    rgba = random_rgba(600)
    native = np.empty((600, 4), np.float64)
    native[:, :3] = srgb_to_linear(rgba[:, :3].astype(np.float64))
    native[:, 3] = rgba[:, 3] / 255.0
    data = native.astype(dtype).tobytes()
    got = pixels.to_rgba8(data, PixelFormat("RGBA", depth, "sRGB-elle-V2-g10.icc"))
    assert np.array_equal(np.frombuffer(got, np.uint8).reshape(-1, 4), rgba)


def test_float_out_of_range_values_clamp():
    values = [-1.0, float("nan"), 2.0, float("inf"), 1e9, -1e9, 0.5, 1.0]
    data = struct.pack("<32f", *[v for x in values for v in (x, x, x, 1.0)])
    got = pixels.to_rgba8(data, PixelFormat("RGBA", "F32", "sRGB-elle-V2-srgbtrc.icc"))
    assert list(got[0::4]) == [0, 0, 255, 255, 255, 0, 128, 255]
    assert set(got[3::4]) == {255}


def test_gamma_22_profile():
    lin = 0.2
    data = struct.pack("<4f", lin ** (1 / 2.2), 0.0, 0.0, 1.0)
    got = pixels.to_rgba8(data, PixelFormat("RGBA", "F32", "sRGB-elle-V2-g22.icc"))
    want = round(255 * (1.055 * lin ** (1 / 2.4) - 0.055))
    assert abs(got[0] - want) <= 1


@pytest.mark.parametrize("depth, pack", [("U8", "<2B"), ("U16", "<2H"), ("F32", "<2f")])
def test_gray_becomes_equal_rgb(depth, pack):
    full = {"U8": 255, "U16": 65535, "F32": 1.0}[depth]
    data = struct.pack(pack, full, full) + struct.pack(pack, 0, full)
    got = pixels.to_rgba8(data, PixelFormat("GRAYA", depth, "Gray-D50-elle-V2-srgbtrc.icc"))
    assert got == bytes([255, 255, 255, 255, 0, 0, 0, 255])


def test_blank_inside_a_selection():
    fmt = PixelFormat("RGBA", "U8")
    data = bytes(4 * 6) + bytes([9, 9, 9, 1]) + bytes(4)  # one faint dab, at pixel 6 of 8
    assert not pixels.is_blank_raw(data, fmt)
    assert not pixels.is_blank_raw(data, fmt, bytes([0] * 6 + [1, 0]))
    assert pixels.is_blank_raw(data, fmt, bytes([255] * 6 + [0, 255]))  # the dab is not selected


def test_cmyk_is_left_to_krita_but_its_alpha_is_read():
    # C, M, Y, K, A: colours need the document's profile (kritaio.read_layer converts them in Krita)
    u8 = bytes([0, 0, 0, 255, 255, 0, 0, 0, 0, 0])
    with pytest.raises(pixels.FormatError, match="converted to RGB by Krita"):
        pixels.to_rgba8(u8, PixelFormat("CMYKA", "U8"))
    assert not pixels.is_blank_raw(u8, PixelFormat("CMYKA", "U8"))
    assert pixels.is_blank_raw(u8[5:] * 2, PixelFormat("CMYKA", "U8"))
    f32 = struct.pack("<10f", 0.0, 0.0, 0.0, 100.0, 0.0, 0.0, 100.0, 100.0, 0.0, 0.5)
    assert not pixels.is_blank_raw(f32, PixelFormat("CMYKA", "F32"))
    assert pixels.is_blank_raw(f32[:20] * 2, PixelFormat("CMYKA", "F32"))


def test_lab_known_colours():
    assert colorspaces.lab_to_srgb8(100.0, 0.0, 0.0) == (255, 255, 255)
    assert colorspaces.lab_to_srgb8(0.0, 0.0, 0.0) == (0, 0, 0)
    r, g, b = colorspaces.lab_to_srgb8(54.29, 80.8, 69.9)  # sRGB red in D50 Lab
    assert r >= 250 and g <= 8 and b <= 8
    u8 = bytes([255, 128, 128, 255, 0, 128, 128, 77])
    assert pixels.to_rgba8(u8, PixelFormat("LABA", "U8")) == bytes([255, 255, 255, 255, 0, 0, 0, 77])
    f32 = struct.pack("<4f", 100.0, 0.0, 0.0, 1.0)
    assert pixels.to_rgba8(f32, PixelFormat("LABA", "F32")) == bytes([255, 255, 255, 255])


def test_unsupported_formats_say_what_to_do():
    with pytest.raises(pixels.FormatError, match="Convert Layer Color Space"):
        PixelFormat("XYZA", "F32")
    with pytest.raises(pixels.FormatError, match="depth"):
        PixelFormat("RGBA", "U32")
    with pytest.raises(pixels.FormatError, match="whole number"):
        pixels.to_rgba8(b"\x00" * 5, PixelFormat("RGBA", "U8"))


def test_transfer_guessed_from_profile_names():
    assert samples.transfer_of("sRGB-elle-V2-g10.icc") == "linear"
    assert samples.transfer_of("Gray-D50-elle-V2-g10.icc") == "linear"
    assert samples.transfer_of("sRGB-elle-V2-srgbtrc.icc") == "srgb"
    assert samples.transfer_of("sRGB built-in") == "srgb"
    assert samples.transfer_of("ClayRGB-elle-V2-g22.icc") == "g22"


# ------------------------------------------------------------------------------------------------
# encoding the result


@pytest.mark.parametrize("depth", ["U8", "U16", "F16", "F32"])
@pytest.mark.parametrize("profile", ["sRGB-elle-V2-srgbtrc.icc", "sRGB-elle-V2-g10.icc"])
def test_encode_then_decode_is_exact(depth, profile):
    rgba = random_rgba(1000).tobytes()
    fmt = PixelFormat("RGBA", depth, profile)
    native = pixels.from_rgba8(rgba, fmt)
    assert len(native) == 1000 * fmt.pixel_size
    back = pixels.to_rgba8(native, fmt)
    if depth == "U8" and fmt.transfer == "linear":  # 8-bit linear light cannot hold dark tones
        assert np.abs(np.frombuffer(back, np.uint8).astype(int) - np.frombuffer(rgba, np.uint8)).max() <= 13
    else:
        assert back == rgba


def test_encode_layouts_match_krita():
    px = bytes([255, 128, 0, 255])
    assert pixels.from_rgba8(px, PixelFormat("RGBA", "U8")) == bytes([0, 128, 255, 255])
    assert struct.unpack("<4H", pixels.from_rgba8(px, PixelFormat("RGBA", "U16"))) == (
        0,
        128 * 257,
        65535,
        65535,
    )
    f = struct.unpack("<4f", pixels.from_rgba8(px, PixelFormat("RGBA", "F32", "sRGB-elle-V2-g10.icc")))
    assert f[0] == 1.0 and abs(f[1] - 0.2158605) < 1e-5 and f[2] == 0.0 and f[3] == 1.0
    with pytest.raises(pixels.FormatError):
        pixels.from_rgba8(px, PixelFormat("GRAYA", "U8"))


def test_rgb_to_rgba_with_and_without_alpha():
    rgb = bytes([1, 2, 3, 4, 5, 6])
    assert pixels.rgb_to_rgba(rgb) == bytes([1, 2, 3, 255, 4, 5, 6, 255])
    assert pixels.rgb_to_rgba(rgb, bytes([0, 9])) == bytes([1, 2, 3, 0, 4, 5, 6, 9])


# ------------------------------------------------------------------------------------------------
# content checks


def _layer(ink_rgba=None, n=256, base=(255, 255, 255, 0)) -> bytes:
    a = np.tile(np.array(base, np.uint8), (n, 1))
    if ink_rgba is not None:
        a[n // 2] = ink_rgba
    return a.tobytes()


def test_blank_and_opaque():
    assert pixels.is_blank(_layer()) and not pixels.is_blank(_layer((0, 0, 0, 1)))
    assert pixels.is_opaque(_layer(base=(9, 9, 9, 255))) and not pixels.is_opaque(_layer((0, 0, 0, 255)))


# ------------------------------------------------------------------------------------------------
# planning


def test_work_area_and_size_checks():
    canvas = planning.Rect(0, 0, 4000, 3000)
    assert planning.work_area(canvas, None) == canvas
    assert planning.work_area(canvas, planning.Rect(-10, 2900, 100, 500)) == planning.Rect(0, 2900, 90, 100)
    with pytest.raises(planning.PlanError, match="outside the canvas"):
        planning.work_area(canvas, planning.Rect(5000, 0, 10, 10))
    planning.check_area(canvas, 12, selected=False)
    too_large = r"4000x3000 = 12 million pixels.*limit of 10 million.*Largest image to colour"
    with pytest.raises(planning.PlanError, match=too_large):
        planning.check_area(canvas, 10, selected=False)
    with pytest.raises(planning.PlanError, match="The selection is 10x300"):
        planning.check_area(planning.Rect(0, 0, 10, 300), 10, selected=True)


def test_settings_round_trip_and_bad_values():
    store: dict[str, str] = {}
    s = planning.Settings.load(lambda k, d: store.get(k, d), mode="remote", url="http://h:1")
    assert (s.mode, s.url, s.compose_lines, s.max_megapixels) == ("remote", "http://h:1", True, 50)
    s.mode, s.compose_lines, s.working_size, s.hint_layer = "local", False, 768, "Hints"
    s.save(store.__setitem__)
    assert store["compose_lines"] == "false" and store["working_size"] == "768"
    assert planning.Settings.load(lambda k, d: store.get(k, d)) == s
    assert s.engine_options() == {"compose_lines": False, "working_size": 768, "transparent": True}
    store.update(mode="cloud", working_size="big", max_megapixels="-3")
    bad = planning.Settings.load(lambda k, d: store.get(k, d), mode="local")
    assert (bad.mode, bad.working_size, bad.max_megapixels) == ("local", 0, 50)


def test_plugin_limits_match_the_engine_schema():
    from engine.wire import schema

    assert planning.METHODS == schema.METHODS and planning.MAX_GAP == schema.MAX_GAP
    assert planning.MIN_SIDE == schema.MIN_SIDE


def test_new_options_default_round_trip_and_bad_values():
    store: dict[str, str] = {}
    s = planning.Settings.load(lambda k, d: store.get(k, d))
    assert (s.transparent, s.method, s.per_colour, s.gap) == (True, "ai", False, 0)
    s.transparent, s.method, s.per_colour, s.gap = False, "flats", True, 12
    s.save(store.__setitem__)
    assert (store["transparent"], store["method"], store["per_colour"], store["gap"]) == (
        "false",
        "flats",
        "true",
        "12",
    )
    assert planning.Settings.load(lambda k, d: store.get(k, d)) == s
    for method, gap in (("magic", "-1"), ("AI", "257"), ("flats ", "big")):
        store.update(method=method, gap=gap)
        bad = planning.Settings.load(lambda k, d: store.get(k, d))
        assert (bad.method, bad.gap) == ("ai", 0)


@pytest.mark.parametrize(
    ("choices", "sent"),
    [
        ({}, {"compose_lines": True, "transparent": True}),
        ({"transparent": False, "working_size": 512}, {"compose_lines": True, "working_size": 512}),
        ({"gap": 4}, {"compose_lines": True, "transparent": True, "gap": 4}),
        (  # the draft pass is the AI's: no working size for flats
            {"method": "flats", "working_size": 512, "transparent": False},
            {"compose_lines": True, "method": "flats"},
        ),
        (  # one layer per colour: transparent flats without the lines, whatever the check boxes say
            {"method": "flats", "per_colour": True, "transparent": False, "gap": 20},
            {"compose_lines": False, "method": "flats", "transparent": True, "gap": 20},
        ),
        ({"per_colour": True}, {"compose_lines": True, "transparent": True}),  # AI: never split
        (  # a shaded grayscale layer: the AI keeps its lightness
            {"input_mode": "grayscale"},
            {"compose_lines": True, "transparent": True, "mode": "grayscale"},
        ),
        (
            {"input_mode": "grayscale", "method": "flats"},
            {"compose_lines": True, "method": "flats", "transparent": True},
        ),
    ],
)
def test_options_sent_to_the_engine(choices, sent):
    from engine.wire.schema import ColorizeOptions

    s = planning.Settings(**choices)
    assert s.engine_options() == sent
    assert s.split == (s.method == "flats" and s.per_colour)
    ColorizeOptions.from_mapping(s.engine_options())  # the engine takes them


@pytest.mark.parametrize(
    ("stored", "loaded"), [("384", 0), ("640", 0), ("0", 0), ("512", 512), ("1024", 1024)]
)
def test_working_sizes_no_longer_offered_load_as_automatic(stored, loaded):
    # "384 (fast)" gave poor results and is gone from the dialog: a remembered 384 must not stick
    assert planning.Settings.load({"working_size": stored}.get).working_size == loaded


# ------------------------------------------------------------------------------------------------
# the worker: job thread and request


def test_job_result_error_and_cancel():
    ok = job.Job(lambda report: (report("working"), b"done")[1]).start()
    assert ok.wait(5) and ok.outcome() == ("ok", b"done") and ok.status == "working"

    def fail(report):
        raise ValueError("broken")

    bad = job.Job(fail).start()
    assert bad.wait(5)
    state, err = bad.outcome()
    assert state == "error" and isinstance(err, ValueError)

    gate = threading.Event()
    slow = job.Job(lambda report: gate.wait(5) and b"late").start()
    assert not slow.done() and slow.outcome() == ("running", None)
    slow.cancel()  # the GUI stops waiting at once; the late result is dropped
    assert slow.done() and slow.outcome() == ("cancelled", None)
    gate.set()
    assert slow.wait(5) and slow.outcome() == ("cancelled", None)


U8 = PixelFormat("RGBA", "U8")


def _req(line_rgba: np.ndarray, hints_rgba, out_fmt=U8, alpha=None, selected=False):
    h, w = line_rgba.shape[:2]
    fmt = U8
    to_bgra = lambda a: a[..., [2, 1, 0, 3]].tobytes()  # noqa: E731
    return request.Request(
        lineart=request.Layer("Ink", to_bgra(line_rgba), fmt),
        hints=request.Layer("Hints", to_bgra(hints_rgba), fmt),
        area=planning.Rect(5, 7, w, h),
        selected=selected,
        selection_alpha=alpha,
        out_fmt=out_fmt,
        options={"compose_lines": True},
    )


def _scene(h=20, w=30):
    line = np.zeros((h, w, 4), np.uint8)
    line[:, w // 2] = (0, 0, 0, 255)
    hints = np.zeros((h, w, 4), np.uint8)
    hints[3:5, 3:5] = (200, 10, 10, 255)
    return line, hints


def test_request_sends_rgba_and_encodes_the_answer():
    line, hints = _scene()
    calls = []

    def colorize(url, lineart, hints_bytes, width, height, options=None, token=None):
        calls.append((url, lineart, hints_bytes, width, height, options, token))
        return bytes([10, 20, 30]) * (width * height)

    alpha = bytes(range(0, 255, 255 // 600 + 1))[:600].ljust(600, b"\xff")
    req = _req(line, hints, PixelFormat("RGBA", "F32", "sRGB-elle-V2-g10.icc"), alpha, selected=True)
    res = request.run(req, lambda report: ("http://e", "tok"), colorize, lambda text: None, layer_rules)
    url, sent_line, sent_hints, width, height, options, token = calls[0]
    assert (url, width, height, options, token) == ("http://e", 30, 20, {"compose_lines": True}, "tok")
    assert sent_line == line.tobytes() and sent_hints == hints.tobytes()  # RGBA, not Krita's BGRA
    back = np.frombuffer(pixels.to_rgba8(res.data, req.out_fmt), np.uint8).reshape(-1, 4)
    assert (back[:, :3] == (10, 20, 30)).all() and back[:, 3].tobytes() == alpha
    assert res.lineart_opaque is False


def test_no_hint_layer_sends_fully_transparent_hints_of_the_area():
    line, _ = _scene()
    sent = []

    def colorize(url, lineart, hints_bytes, width, height, options=None, token=None):
        sent.append((hints_bytes, width, height))
        return bytes([10, 20, 30]) * (width * height)

    req = dataclasses.replace(_req(line, line), hints=None)
    res = request.run(req, lambda report: ("http://e", None), colorize, lambda t: None, layer_rules)
    ((hints_bytes, width, height),) = sent
    assert (width, height) == (30, 20) and hints_bytes == bytes(4 * 30 * 20)
    assert len(res.data) == 4 * 30 * 20


def test_transparent_answer_keeps_its_alpha_within_the_selection():
    line, hints = _scene()
    n = line.shape[0] * line.shape[1]
    answer = RNG.integers(0, 256, (n, 4), dtype=np.uint8)

    def colorize(url, lineart, hints_bytes, width, height, options=None, token=None):
        assert options == {"compose_lines": True, "transparent": True}
        return answer.tobytes()

    for coverage in (
        None,
        bytes(RNG.choice([0, 255], n).astype(np.uint8)),
        bytes(RNG.integers(0, 256, n).astype(np.uint8)),
    ):
        req = _req(line, hints, alpha=coverage, selected=coverage is not None)
        req = dataclasses.replace(req, options={"compose_lines": True, "transparent": True})
        res = request.run(req, lambda report: ("http://e", None), colorize, lambda t: None, layer_rules)
        back = np.frombuffer(pixels.to_rgba8(res.data, U8), np.uint8).reshape(-1, 4)
        assert np.array_equal(back[:, :3], answer[:, :3])
        cov = np.full(n, 255) if coverage is None else np.frombuffer(coverage, np.uint8).astype(int)
        want = (answer[:, 3].astype(int) * cov + 127) // 255
        assert np.abs(back[:, 3].astype(int) - want).max() <= 1


def _flats_image(h=40, w=50, colours=((200, 60, 90), (255, 255, 255), (10, 20, 30))):
    """RGBA flats: random areas of ``colours`` (opaque), transparent white and a soft pixel."""
    index = RNG.integers(0, len(colours) + 1, (h, w))
    palette = np.array([(255, 255, 255, 0)] + [(*c, 255) for c in colours], np.uint8)
    rgba = palette[index]
    rgba[0, 0] = (200, 60, 90, 128)  # partly transparent: no colour's
    index[0, 0] = 0
    return rgba, index


def test_split_colours_matches_numpy_and_masks_are_disjoint():
    rgba, index = _flats_image()
    got = pixels.split_colours(rgba.tobytes())
    counts = [(index == i).sum() for i in (1, 2, 3)]
    assert [c for c, _ in got] == [
        c for _, c in sorted(zip(counts, ((200, 60, 90), (255, 255, 255), (10, 20, 30))), key=lambda t: -t[0])
    ]
    seen = np.zeros(index.shape, int)
    for colour, mask in got:
        m = np.frombuffer(mask, np.uint8).reshape(index.shape)
        assert set(np.unique(m)) <= {0, 255}
        want = (rgba[..., 3] == 255) & (rgba[..., :3] == colour).all(-1)
        assert np.array_equal(m == 255, want), colour
        seen += m == 255
    assert seen.max() == 1 and seen.sum() == (index > 0).sum()
    assert pixels.split_colours(bytes(4 * 10)) == [] and pixels.split_colours(b"") == []
    assert pixels.colour_name((200, 60, 90)) == "#c83c5a"


def test_split_matches_the_engines_flats_layers():
    from engine.flats import colorize_flats, flats_layers
    from engine.wire.schema import ColorizeOptions

    line, hints = np.full((60, 80, 4), 255, np.uint8), np.zeros((60, 80, 4), np.uint8)
    line[:, 40, :3] = line[30, :, :3] = 0  # four boxes
    hints[10:13, 10:13] = (200, 60, 90, 255)
    hints[40:43, 10:13] = (200, 60, 90, 255)  # the same colour in a second box
    hints[10:13, 60:63] = (30, 140, 200, 255)
    opts = ColorizeOptions(method="flats", transparent=True, compose_lines=False)
    rgba = colorize_flats(line, hints, opts)
    got = pixels.split_colours(rgba.tobytes())
    want = flats_layers(line, hints)
    assert [c for c, _ in got] == [c for c, _ in want]
    for (_, mask), (_, m) in zip(got, want, strict=True):
        assert np.array_equal(np.frombuffer(mask, np.uint8).reshape(m.shape) == 255, m)


@pytest.mark.parametrize("selected", [False, True])
def test_split_request_gives_one_cropped_piece_per_colour(selected):
    rgba, index = _flats_image(30, 40)
    rgba[:10] = (255, 255, 255, 0)  # nothing painted in the first rows
    rgba[10:20] = np.where(rgba[10:20, :, :1] == 10, (255, 255, 255, 0), rgba[10:20])  # (10,20,30) lower
    h, w = index.shape
    line, hints = _scene(h, w)
    coverage = bytes(RNG.choice([0, 255], h * w).astype(np.uint8)) if selected else None
    req = _req(line, hints, PixelFormat("RGBA", "U16", "sRGB-elle-V2-srgbtrc.icc"), coverage, selected)
    options = {"compose_lines": False, "method": "flats", "transparent": True}
    req = dataclasses.replace(req, options=options, split=True)
    colorize = lambda *a, **k: rgba.tobytes()  # noqa: E731
    res = request.run(req, lambda report: ("http://e", None), colorize, lambda t: None, layer_rules)
    assert res.data == b"" and res.split_seconds >= 0
    assert [p.name for p in res.pieces] == [
        pixels.colour_name(c) for c, _ in pixels.split_colours(rgba.tobytes())
    ]
    canvas = np.zeros((h, w, 4), int)
    for piece in res.pieces:
        a = piece.area
        assert (a.x, a.width) == (req.area.x, w) and a.y >= req.area.y + 10
        px = np.frombuffer(pixels.to_rgba8(piece.data, req.out_fmt), np.uint8).reshape(a.height, w, 4)
        painted = px[..., 3] > 0
        assert painted[0].any() and painted[-1].any() or selected  # cropped to its rows
        colour = tuple(int(piece.name[i : i + 2], 16) for i in (1, 3, 5))
        assert (px[painted][:, :3] == colour).all()
        rows = slice(a.y - req.area.y, a.y - req.area.y + a.height)
        assert not (canvas[rows][painted][:, 3]).any(), "pieces overlap"
        canvas[rows][painted] = px[painted]
    want = rgba.astype(int) * (rgba[..., 3:] == 255)
    if selected:
        want *= np.frombuffer(coverage, np.uint8).reshape(h, w, 1) == 255
    assert np.array_equal(canvas, want)


def test_request_refuses_line_art_without_ink_before_contacting_the_engine():
    line, hints = _scene()
    never = lambda *a, **k: pytest.fail("the engine must not be contacted")  # noqa: E731
    with pytest.raises(planning.PlanError) as e:
        request.run(_req(np.zeros_like(line), hints), never, never, lambda t: None, layer_rules)
    assert str(e.value) == layer_rules.no_ink_message("Ink", True, "on the canvas")
    white = np.full_like(line, 255)
    with pytest.raises(planning.PlanError) as e:
        request.run(_req(white, hints, selected=True), never, never, lambda t: None, layer_rules)
    assert str(e.value) == layer_rules.no_ink_message("Ink", False, "inside the selection")


# ------------------------------------------------------------------------------------------------
# packaging: Krita's Python has no numpy, the files agree with each other


ALLOWED_TOP = {"krita", "PyQt5"}


def test_plugin_imports_only_stdlib_pyqt5_and_krita():
    for path in PKG.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or top in ALLOWED_TOP, f"{path.name} imports {name}"


def test_pure_modules_import_with_numpy_and_torch_blocked():
    code = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('numpy', 'torch', 'scipy', 'onnxruntime', 'PIL'):
            raise ImportError('blocked: ' + name)
sys.meta_path.insert(0, Block())
sys.path.insert(0, sys.argv[1])
import inkhue_krita
from inkhue_krita import colorspaces, job, kritaio, pixels, planning, request, samples
assert inkhue_krita.Krita is None
rgba = pixels.to_rgba8(bytes([0, 0, 255, 255]), pixels.PixelFormat('RGBA', 'U8'))
assert rgba == bytes([255, 0, 0, 255]), rgba
print('ok')
"""
    out = subprocess.run(
        [sys.executable, "-c", code, str(INSTALLED)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_desktop_action_and_extension_agree():
    desktop = (PLUGIN / "inkhue_krita.desktop").read_text(encoding="utf-8")
    assert "ServiceTypes=Krita/PythonPlugin" in desktop and "X-KDE-Library=inkhue_krita" in desktop
    manual = next(
        line.split("=", 1)[1] for line in desktop.splitlines() if line.startswith("X-Krita-Manual=")
    )
    assert (PKG / manual).is_file()
    actions = ET.parse(PLUGIN / "inkhue_krita.action").getroot().iter("Action")
    names = {a.get("name"): a for a in actions}
    tree = ast.parse((PKG / "extension.py").read_text(encoding="utf-8"))
    consts = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign) for t in n.targets}
    assert set(names) == {consts["ACTION_ID"], consts["LEARN_ID"], consts["FINETUNE_ID"], consts["STOP_ID"]}
    assert consts["MENU"] == "filter"
    action = names[consts["ACTION_ID"]]
    assert action.findtext("text") == "AI Colorize…"
    assert action.findtext("activationFlags") == "1"  # enabled when an image is open
    learn = names[consts["LEARN_ID"]]
    assert learn.findtext("text") == "AI Colorize: Learn from This Document"
    assert learn.findtext("activationFlags") == "1"
    tune = names[consts["FINETUNE_ID"]]
    assert tune.findtext("text") == "AI Colorize: Fine-tune on My Style"
    assert tune.findtext("activationFlags") == "0"  # needs no open image: it trains on saved pairs
    stop = names[consts["STOP_ID"]]
    assert stop.findtext("text") == "AI Colorize: Stop Fine-tune"
    assert stop.findtext("activationFlags") == "0"  # a job outlives the documents it learnt from
