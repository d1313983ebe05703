"""Unit tests of the GIMP plug-in's pure-Python parts (no GIMP needed).

The plug-in folder is copied and vendored (installer/vendor.py) like the installer does, then its
modules are imported from there. The real-GIMP test is tests/gimp/test_gimp_real.py.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from installer.vendor import vendor_into

REPO = Path(__file__).resolve().parents[2]
PLUGIN_SRC = REPO / "gimp_plugin" / "inkhue_gimp"
MODULES = ("inkhue_pixels", "inkhue_layers", "inkhue_engine", "inkhue_result")
TOKEN = "unit-token"


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("plugin") / "inkhue_gimp"
    shutil.copytree(PLUGIN_SRC, dest, ignore=shutil.ignore_patterns("__pycache__", "vendor"))
    vendor_into(dest)
    return dest


@pytest.fixture(scope="module")
def plug(plugin_dir: Path):
    """The plug-in's helper modules, imported the way GIMP's Python sees them."""
    sys.path.insert(0, str(plugin_dir))
    try:
        mods = {name: importlib.import_module(name) for name in MODULES}
        yield type("Plug", (), {n.removeprefix("inkhue_"): m for n, m in mods.items()})
    finally:
        sys.path.remove(str(plugin_dir))
        vendored = ["vendor", "vendor.client", "vendor.schema", "vendor.local_server", "vendor.layer_rules"]
        vendored += ["vendor.transport", "vendor.style_pairs", "vendor.folders"]
        for name in [*MODULES, *vendored]:
            sys.modules.pop(name, None)


# ---------------------------------------------------------------------------------------------
# standard library only


def test_helper_modules_import_with_numpy_torch_and_engine_blocked(plugin_dir: Path):
    blocker = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in BLOCKED:\n"
        "            raise ImportError('blocked: ' + name)\n"
        "BLOCKED = {'numpy', 'torch', 'onnxruntime', 'scipy', 'PIL', 'engine', 'training'}\n"
        "sys.meta_path.insert(0, Block())\n"
        f"sys.path.insert(0, {str(plugin_dir)!r})\n"
        "import inkhue_pixels, inkhue_layers, inkhue_engine, inkhue_result\n"
        "assert inkhue_layers.rules.__name__ == 'vendor.layer_rules'\n"
        "assert inkhue_engine.client.__name__ == 'vendor.client'\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in BLOCKED))\n"
    )
    out = subprocess.run([sys.executable, "-I", "-c", blocker], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_every_plugin_file_imports_only_stdlib_gi_and_its_own_modules(plugin_dir: Path):
    files = sorted(plugin_dir.rglob("*.py"))
    assert {f.name for f in files} >= {"inkhue_gimp.py", "client.py", "schema.py"}
    own = {f.stem for f in files} | {"vendor"}
    for f in files:
        foreign = _imports(f) - set(sys.stdlib_module_names) - own - {"gi"}
        assert not foreign, f"{f.name} imports {foreign}"


def test_main_script_is_a_gimp_plugin():
    main = PLUGIN_SRC / "inkhue_gimp.py"
    text = main.read_text()
    assert text.startswith("#!/usr/bin/env python3\n")
    assert os.access(main, os.X_OK)  # GIMP skips a plug-in without its run bit
    assert 'add_menu_path("<Image>/Filters")' in text and "AI Colorize…" in text


# ---------------------------------------------------------------------------------------------
# pixels


def test_layer_window_cases(plug):
    win, R = plug.pixels.layer_window, plug.pixels.Rect
    assert win(100, 80, 0, 0, 100, 80) == (R(0, 0, 100, 80), R(0, 0, 100, 80))
    assert win(100, 80, 10, 20, 30, 40) == (R(0, 0, 30, 40), R(10, 20, 30, 40))
    assert win(100, 80, -16, -12, 160, 120) == (R(16, 12, 100, 80), R(0, 0, 100, 80))
    assert win(100, 80, 90, -5, 30, 10) == (R(0, 5, 10, 5), R(90, 0, 10, 5))
    assert win(100, 80, 100, 0, 10, 10) is None and win(100, 80, -10, 0, 10, 10) is None


def _compose_reference(layer: np.ndarray, ox: int, oy: int, cw: int, ch: int) -> np.ndarray:
    canvas = np.zeros((ch, cw, 4), np.uint8)
    for y in range(layer.shape[0]):
        for x in range(layer.shape[1]):
            if 0 <= y + oy < ch and 0 <= x + ox < cw:
                canvas[y + oy, x + ox] = layer[y, x]
    return canvas


@settings(max_examples=60, deadline=None)
@given(
    cw=st.integers(1, 12),
    ch=st.integers(1, 12),
    lw=st.integers(1, 14),
    lh=st.integers(1, 14),
    ox=st.integers(-16, 16),
    oy=st.integers(-16, 16),
    seed=st.integers(0, 2**16),
)
def test_layer_composed_on_canvas_matches_reference(plug, cw, ch, lw, lh, ox, oy, seed):
    layer = np.random.default_rng(seed).integers(0, 256, (lh, lw, 4), dtype=np.uint8)
    window = plug.pixels.layer_window(cw, ch, ox, oy, lw, lh)
    if window is None:
        composed = np.zeros((ch, cw, 4), np.uint8)
    else:
        src, dst = window
        part = layer[src.y : src.y + src.height, src.x : src.x + src.width].tobytes()
        composed = np.frombuffer(plug.pixels.place(part, dst, cw, ch), np.uint8).reshape(ch, cw, 4)
    assert (composed == _compose_reference(layer, ox, oy, cw, ch)).all()


def test_place_refuses_mismatched_parts(plug):
    R = plug.pixels.Rect
    with pytest.raises(ValueError, match="expected 16"):
        plug.pixels.place(b"\0" * 15, R(0, 0, 2, 2), 4, 4)
    with pytest.raises(ValueError, match="does not fit"):
        plug.pixels.place(b"\0" * 16, R(3, 3, 2, 2), 4, 4)


def test_rgb_to_rgba_interleaves_alpha(plug):
    rgb = bytes([1, 2, 3, 4, 5, 6])
    assert plug.pixels.rgb_to_rgba(rgb) == bytearray([1, 2, 3, 255, 4, 5, 6, 255])
    assert plug.pixels.rgb_to_rgba(rgb, b"\x00\x80") == bytearray([1, 2, 3, 0, 4, 5, 6, 128])
    with pytest.raises(ValueError):
        plug.pixels.rgb_to_rgba(rgb, b"\x00")


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=0, max_size=300), st.integers(0, 2**32 - 1))
def test_min_planes_is_the_per_byte_minimum(plug, a, seed):
    b = np.random.default_rng(seed).integers(0, 256, len(a), dtype=np.uint8)
    got = plug.pixels.min_planes(a, b.tobytes())
    assert np.array_equal(np.frombuffer(got, np.uint8), np.minimum(np.frombuffer(a, np.uint8), b))


def test_min_planes_edges(plug):
    a, b = bytes([0, 0, 255, 255, 128, 7]), bytes([0, 255, 0, 255, 127, 8])
    assert plug.pixels.min_planes(a, b) == bytes([0, 0, 0, 255, 127, 7])
    with pytest.raises(ValueError):
        plug.pixels.min_planes(b"\x01", b"")


def test_the_selection_limits_a_transparent_result(plug):
    rgba = bytes([1, 2, 3, 255, 4, 5, 6, 0, 7, 8, 9, 200, 10, 11, 12, 90])
    mask = bytes([0, 255, 128, 255])
    assert plug.pixels.limit_alpha(rgba, None) is rgba
    assert plug.pixels.limit_alpha(rgba, mask) == bytes(
        [1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 128, 10, 11, 12, 90]
    )
    with pytest.raises(ValueError):
        plug.pixels.limit_alpha(rgba, mask[:3])


def test_result_to_rgba_takes_rgb_or_rgba_answers(plug):
    to_rgba = plug.pixels.result_to_rgba
    assert to_rgba(bytes([1, 2, 3, 4, 5, 6]), 2, b"\x00\xff") == bytes([1, 2, 3, 0, 4, 5, 6, 255])
    assert to_rgba(bytes([1, 2, 3, 40, 4, 5, 6, 0]), 2, b"\xff\xff") == bytes([1, 2, 3, 40, 4, 5, 6, 0])
    with pytest.raises(ValueError, match="5 bytes for 2 pixels"):
        to_rgba(b"12345", 2)


def test_colour_names(plug):
    assert plug.pixels.colour_name((200, 60, 90)) == "#c83c5a"
    assert plug.pixels.colour_name((0, 0, 255)) == "#0000ff"


def _flats_image(h: int, w: int, seed: int, colours: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    palette = rng.integers(0, 256, (colours, 3), dtype=np.uint8)
    palette[0] = 255  # white is a colour too, apart from unpainted white
    index = rng.integers(0, colours + 1, (h, w))
    img = np.zeros((h, w, 4), np.uint8)
    img[..., :3] = 255  # unpainted: white with alpha 0, as the engine's flats
    img[index > 0, :3] = palette[index[index > 0] - 1]
    img[index > 0, 3] = rng.integers(1, 256, int((index > 0).sum()), dtype=np.uint8)  # feathered
    return img


def _reference_split(img: np.ndarray) -> dict:
    painted = img[..., 3] > 0
    colours = {tuple(int(v) for v in c) for c in img[painted][:, :3]}
    return {c: painted & (img[..., :3] == c).all(-1) for c in colours}


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(0, 2**32 - 1), st.integers(1, 6))
def test_split_colours_matches_a_reference(plug, h, w, seed, colours):
    img = _flats_image(h, w, seed, colours)
    parts = plug.pixels.split_colours(img.tobytes())
    expected = _reference_split(img)
    assert sorted(c for c, _n, _d in parts) == sorted(expected)
    assert [n for _c, n, _d in parts] == sorted((n for _c, n, _d in parts), reverse=True)  # largest first
    covered = np.zeros((h, w), int)
    for colour, count, data in parts:
        layer = np.frombuffer(data, np.uint8).reshape(h, w, 4)
        mask = expected[colour]
        assert count == mask.sum()
        assert (layer[mask] == img[mask]).all() and (layer[~mask] == 0).all()  # exact, alpha kept
        covered += mask
    assert (covered == (img[..., 3] > 0)).all()  # disjoint, and every painted pixel in one layer


def test_split_colours_of_nothing(plug):
    assert plug.pixels.split_colours(b"") == []
    assert plug.pixels.split_colours(bytes([255, 255, 255, 0]) * 10) == []
    with pytest.raises(ValueError):
        plug.pixels.split_colours(b"123")


def test_split_colours_is_fast_at_a4(plug):
    """An A4 page (1240x1754) of flats in 12 colours: measured about 1.5 s here on a shared core."""
    h, w = 1754, 1240
    img = np.zeros((h, w, 4), np.uint8)
    rows = np.linspace(0, h, 5).astype(int)
    cols = np.linspace(0, w, 4).astype(int)
    for i in range(12):
        r, c = divmod(i, 3)
        img[rows[r] + 3 : rows[r + 1] - 3, cols[c] + 3 : cols[c + 1] - 3] = (20 * i, 255 - 20 * i, 90, 255)
    t0 = time.perf_counter()
    parts = plug.pixels.split_colours(img.tobytes())
    seconds = time.perf_counter() - t0
    print(f"split_colours A4, 12 colours: {seconds:.2f} s")
    assert len(parts) == 12 and seconds < 10


def _rgba(*pixels: tuple[int, int, int, int], n: int = 1000) -> bytes:
    base = bytearray(bytes((0, 0, 0, 0)) * n)  # transparent paper
    for i, p in enumerate(pixels):
        base[4 * (i * 37 % n) : 4 * (i * 37 % n) + 4] = bytes(p)
    return bytes(base)


def test_has_paint_and_is_all(plug):
    assert not plug.pixels.has_paint(_rgba())
    assert plug.pixels.has_paint(_rgba((10, 20, 30, 1)))
    assert plug.pixels.is_all(b"\xff" * 10, 255) and not plug.pixels.is_all(b"\xff" * 9 + b"\xfe", 255)


def test_has_paint_inside_a_selection(plug):
    rgba = bytearray(4 * 100)
    rgba[4 * 42 + 3] = 1  # one faint dab at pixel 42: the engine takes any alpha as a hint
    mask = bytearray(100)
    assert plug.pixels.has_paint(bytes(rgba))
    assert not plug.pixels.has_paint(bytes(rgba), bytes(mask))  # selected: nothing
    mask[40:50] = b"\x80" * 10
    assert plug.pixels.has_paint(bytes(rgba), bytes(mask))
    with pytest.raises(ValueError, match="mask has 99 bytes"):
        plug.pixels.has_paint(bytes(rgba), bytes(99))


def test_opaque_share(plug):
    assert plug.pixels.opaque_share(bytes((255, 255, 255, 255)) * 10) == 1.0  # lines on white
    lines = _rgba((0, 0, 0, 255), (0, 0, 0, 255), n=100)  # lines on transparency
    assert plug.pixels.opaque_share(lines) == 0.02
    assert plug.pixels.opaque_share(b"") == 0.0


# ---------------------------------------------------------------------------------------------
# choosing and checking layers: the shared rules (engine/wire/layer_rules.py), vendored


def _infos(plug, *names, group=()):
    return [plug.layers.LayerInfo(i, n, n in group, n not in group) for i, n in enumerate(names)]


def test_the_plugin_applies_the_vendored_shared_rules(plug):
    from engine.wire import layer_rules

    assert plug.layers.rules.NO_HINTS_CHOICE == layer_rules.NO_HINTS_CHOICE
    assert plug.layers.rules.no_hints_note("Hints") == layer_rules.no_hints_note("Hints")
    assert plug.layers.LayerRuleError is plug.layers.rules.LayerRuleError
    assert not hasattr(plug.layers, "choose_layers")  # the plug-in's own rules are gone


def test_guess_follows_the_shared_rules(plug):
    infos = _infos(plug, "Hints", "Sketch", "Line art", "Hintergrund")
    line, hint = plug.layers.guess(infos, active=0)
    assert (line.name, hint.name) == ("Line art", "Hints")
    line, hint = plug.layers.guess(_infos(plug, "Zeichnung", "Hintergrund"), active=1)
    assert line.name == "Zeichnung" and hint is None  # "Hintergrund" is the background, not hints


def test_guess_never_picks_an_earlier_result(plug):
    infos = _infos(plug, "Hints", "AI Colorize", "Drawing", "Paper")
    line, hint = plug.layers.guess(infos, active=1)  # GIMP selects the layer it just added
    assert (line.name, hint.name) == ("Drawing", "Hints")
    assert plug.layers.guess(infos, active=1, remembered_hints="AI Colorize #1")[1].name == "Hints"


def test_resolve_explicit_layers_win_and_are_checked(plug):
    infos = _infos(plug, "Hints", "Layer 1", "dabs", "Ink", group=("Ink",))
    line, hint = plug.layers.resolve(infos, 0, lineart=1, hints=2)
    assert (line.name, hint.name) == ("Layer 1", "dabs")
    with pytest.raises(plug.layers.LayerRuleError, match="not in this image"):
        plug.layers.resolve(infos, 0, lineart=7, hints=None)
    with pytest.raises(plug.layers.LayerRuleError, match='"Ink" is a layer group'):
        plug.layers.resolve(infos, 0, lineart=3, hints=0)
    # no layer named like hints: no hint layer (the AI chooses the colours), not an error
    line, hint = plug.layers.resolve(_infos(plug, "Line art", "Paper"), 0, None, None)
    assert (line.name, hint) == ("Line art", None)
    # "Hints: none" wins over a chosen or guessed hint layer, even one no longer in the image
    assert plug.layers.resolve(infos, 0, lineart=1, hints=2, no_hints=True)[1] is None
    assert plug.layers.resolve(infos, 0, lineart=1, hints=9, no_hints=True)[1] is None
    with pytest.raises(plug.layers.LayerRuleError, match="both the line art and the hints"):
        plug.layers.resolve(infos, 0, lineart=1, hints=1)


@pytest.mark.parametrize(
    ("painted", "inked", "dabs", "selection", "method", "expected"),
    [
        (True, True, True, False, "ai", None),
        (False, False, True, False, "ai", 'The line-art layer "Lines" is empty on the canvas.'),
        (True, False, True, False, "ai", 'The line-art layer "Lines" has no dark lines on the canvas.'),
        (True, True, False, False, "ai", None),  # no dabs: the AI chooses the colours
        (True, True, False, True, "ai", None),
        (True, True, False, False, "flats", "Flat colours fills each area"),
        (True, True, True, False, "flats", None),
    ],
)
def test_problem_uses_the_shared_messages(plug, painted, inked, dabs, selection, method, expected):
    line, hint = plug.layers.LayerInfo(1, "Lines"), plug.layers.LayerInfo(2, "Hints")
    message = plug.layers.problem(line, hint, lambda: (painted, inked), lambda: dabs, selection, method)
    rules = plug.layers.rules
    if expected is None:
        assert message is None
    else:
        assert message.startswith(expected)
        assert message in (
            rules.no_ink_message("Lines", blank=not painted),
            rules.flats_need_dabs_message("Hints", plug.layers.where(selection)),
        )


def test_hints_note_uses_the_shared_words(plug):
    rules, hint = plug.layers.rules, plug.layers.LayerInfo(2, "Hints")
    assert plug.layers.hints_note(hint, True, False) == ""
    assert plug.layers.hints_note(hint, False, True) == rules.no_hints_note("Hints", "inside the selection")
    assert plug.layers.hints_note(None, False, False) == rules.no_hints_note(None)
    line = plug.layers.LayerInfo(1, "Lines")
    assert plug.layers.problem(line, None, lambda: (True, True), lambda: True, False) is None
    assert plug.layers.problem(line, None, lambda: (True, True), lambda: True, False, "flats") == (
        rules.flats_need_dabs_message(None)
    )
    with pytest.raises(plug.layers.LayerRuleError):
        plug.layers.hints_note(None, False, False, "flats")


# ---------------------------------------------------------------------------------------------
# the result layer: placement and one undo step (GIMP's objects faked)


class _Item:
    def __init__(self, log, name, parent=None, visible=True):
        self.log, self.name, self.parent, self.visible = log, name, parent, visible

    def get_parent(self):
        return self.parent

    def get_visible(self):
        return self.visible

    def set_visible(self, visible):
        self.log.append(("set_visible", self.name, visible))
        self.visible = visible


class _Image:
    def __init__(self, log, *names):
        self.log = log
        self.layers = [_Item(log, n) for n in names]

    def get_layers(self):
        return self.layers

    def get_item_position(self, item):
        return self.layers.index(item)

    def undo_group_start(self):
        self.log.append("undo_group_start")

    def undo_group_end(self):
        self.log.append("undo_group_end")

    def insert_layer(self, layer, parent, position):
        self.log.append(("insert_layer", layer.name, position))
        self.layers.insert(position, layer)
        return True

    def remove_layer(self, layer):
        self.log.append(("remove_layer", layer.name))
        self.layers.remove(layer)


@pytest.mark.parametrize(("above", "position"), [(True, 1), (False, 2)])
def test_result_and_hidden_hints_are_one_undo_step(plug, above, position):
    log = []
    image = _Image(log, "Hints", "Line art", "Paper")
    hints, lines = image.layers[:2]
    new = plug.result.add_result(
        image, lines, hints, lambda: _Item(log, "AI Colorize"), lambda layer: log.append("fill"), above
    )
    assert log == [
        "undo_group_start",
        ("insert_layer", "AI Colorize", position),
        "fill",
        ("set_visible", "Hints", False),
        "undo_group_end",
    ]
    assert image.layers[position] is new and not hints.visible


def test_a_failed_fill_leaves_everything_as_it_was(plug):
    log = []
    image = _Image(log, "Hints", "Line art")
    hints, lines = image.layers

    def fill(layer):
        raise OSError("disk full")

    with pytest.raises(OSError):
        plug.result.add_result(image, lines, hints, lambda: _Item(log, "AI Colorize"), fill, True)
    assert [i.name for i in image.layers] == ["Hints", "Line art"] and hints.visible
    assert log[-2:] == [("set_visible", "Hints", True), "undo_group_end"]


def test_without_a_hint_layer_nothing_is_hidden(plug):
    log = []
    image = _Image(log, "Line art", "Paper")
    new = plug.result.add_result(
        image,
        image.layers[0],
        None,
        lambda: _Item(log, "AI Colorize"),
        lambda layer: log.append("fill"),
        False,
    )
    assert log == ["undo_group_start", ("insert_layer", "AI Colorize", 1), "fill", "undo_group_end"]
    assert image.layers[1] is new


def test_an_already_hidden_hint_layer_stays_hidden(plug):
    log = []
    image = _Image(log, "Hints", "Line art")
    image.layers[0].visible = False
    plug.result.add_result(
        image, image.layers[1], image.layers[0], lambda: _Item(log, "new"), lambda layer: None, False
    )
    assert not any(isinstance(e, tuple) and e[0] == "set_visible" for e in log)


def test_is_lowest(plug):
    image = _Image([], "Hints", "Line art", "Paper")
    assert plug.result.is_lowest(image, image.layers[2])
    assert not plug.result.is_lowest(image, image.layers[1])


def test_first_time_remembers_notes_beside_other_state(plug, tmp_path):
    state = str(tmp_path / "profile" / "inkhue-gimp.json")
    plug.result.save_state(state, {"hint-layer": "dabs"})
    assert plug.result.first_time(state, "The result is above the line art.")
    assert not plug.result.first_time(state, "The result is above the line art.")
    assert plug.result.first_time(state, "Another note.")
    assert plug.result.load_state(state)["hint-layer"] == "dabs"


def test_state_that_cannot_be_read_or_written_is_forgotten(plug, tmp_path):
    garbled = tmp_path / "garbled.json"
    garbled.write_text("[1, 2")
    assert plug.result.load_state(str(garbled)) == {}
    (tmp_path / "a-file").write_text("")
    blocked = str(tmp_path / "a-file" / "inkhue-gimp.json")  # its folder is a file
    plug.result.save_state(blocked, {"hint-layer": "x"})
    assert plug.result.load_state(blocked) == {}
    assert plug.result.first_time(blocked, "x") and plug.result.first_time(blocked, "x")  # told again


# ---------------------------------------------------------------------------------------------
# options, sizes, settings


def test_options_are_checked_by_the_engine_schema(plug):
    assert plug.engine.build_options(False, 256, 512) == {
        "compose_lines": False,
        "working_size": 256,
        "tile": 512,
        "method": "ai",
        "transparent": False,
    }
    with pytest.raises(plug.engine.PluginError, match="working_size"):
        plug.engine.build_options(True, 10, 0)
    with pytest.raises(plug.engine.PluginError, match="tile"):
        plug.engine.build_options(True, 0, 100)


def test_method_transparency_and_gap_options(plug):
    build = plug.engine.build_options
    opts = build(True, 0, 0, method="flats", transparent=True, gap=6)
    assert opts == {
        "compose_lines": True,
        "working_size": 0,
        "tile": 0,
        "method": "flats",
        "transparent": True,
        "gap": 6,
    }
    assert "gap" not in build(gap=0)  # 0: the engine's automatic gap, not sent
    assert build(mode="grayscale")["mode"] == "grayscale"  # a shaded grayscale layer
    assert "mode" not in build(mode="lineart") and "mode" not in build(method="flats", mode="grayscale")
    with pytest.raises(plug.engine.PluginError, match="mode"):
        build(mode="sepia")
    with pytest.raises(plug.engine.PluginError, match="method"):
        build(method="magic")
    with pytest.raises(plug.engine.PluginError, match="gap"):
        build(gap=300)


@pytest.mark.parametrize(
    ("method", "flats_layers", "split"),
    [("flats", True, True), ("flats", False, False), ("ai", True, False), ("ai", False, False)],
)
def test_one_layer_per_colour_asks_for_transparent_flats_without_lines(plug, method, flats_layers, split):
    opts = plug.engine.build_options(True, 0, 0, method=method, transparent=False, flats_layers=flats_layers)
    assert plug.engine.split_into_layers(opts, flats_layers) is split
    if split:  # the group is placed like flat colours (Multiply when above opaque lines)
        assert (opts["compose_lines"], opts["transparent"]) == (False, True)
    else:  # the artist's choices stand
        assert (opts["compose_lines"], opts["transparent"]) == (True, False)


def test_size_limits(plug):
    plug.engine.check_size(16, 16)
    with pytest.raises(plug.engine.PluginError, match="at least 16x16"):
        plug.engine.check_size(15, 400)
    with pytest.raises(plug.engine.PluginError, match="over the engine's limit of 1,000"):
        plug.engine.check_size(40, 30, max_pixels=1000)


def _settings(tmp_path: Path, **values) -> str:
    path = tmp_path / "plugin.json"
    path.write_text(json.dumps(values))
    return str(path)


def test_endpoint_follows_settings_and_overrides(plug, tmp_path):
    cfg = _settings(tmp_path, mode="remote", url="http://gpu:8000/", token="secret")
    assert plug.engine.endpoint("settings", "", cfg) == ("http://gpu:8000", "secret")
    assert plug.engine.endpoint("remote", "http://gpu:8000", cfg) == ("http://gpu:8000", "secret")
    # a different server never receives the configured token
    assert plug.engine.endpoint("settings", "http://other:9000", cfg) == ("http://other:9000", None)
    local = _settings(tmp_path, mode="remote", url="http://gpu:8000", inkhue=str(tmp_path / "missing"))
    with pytest.raises(plug.engine.client.EngineError, match="not installed") as err:
        plug.engine.endpoint("local", "", local)
    assert err.value.kind == "not_installed"
    with pytest.raises(plug.engine.PluginError, match="needs a server address"):
        plug.engine.endpoint("remote", "", _settings(tmp_path, mode="local"))
    with pytest.raises(plug.engine.PluginError, match="unknown engine mode"):
        plug.engine.endpoint("cloud", "", cfg)


def test_wait_for_ticks_while_working_and_passes_results_and_errors(plug):
    ticks = []
    assert plug.engine.wait_for(lambda: time.sleep(0.35) or 42, lambda: ticks.append(1), interval=0.05) == 42
    assert len(ticks) >= 3
    with pytest.raises(KeyError, match="boom"):
        plug.engine.wait_for(lambda: {}["boom"], lambda: None, interval=0.01)


# ---------------------------------------------------------------------------------------------
# against a real ``inkhue serve`` (flood-fill model: the answer is known)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    from tests.fixtures_models import fill_model

    model = fill_model(tmp_path_factory.mktemp("models") / "fill")
    port_file = tmp_path_factory.mktemp("serve") / "port"
    cmd = [sys.executable, "-m", "engine.cli", "serve", "--port", "0", "--port-file", str(port_file)]
    cmd += ["--token", TOKEN, "--model", str(model)]
    proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": str(REPO)}, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (port_file.is_file() and port_file.read_text().strip()):
            assert proc.poll() is None and time.monotonic() < deadline, "inkhue serve did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port_file.read_text().strip()}"
    finally:
        proc.terminate()
        proc.wait(10)


def _boxed(w: int = 48, h: int = 32) -> tuple[bytes, bytes]:
    line = np.zeros((h, w, 4), np.uint8)  # lines on transparency
    line[4:6, 4:44] = line[26:28, 4:44] = line[4:28, 4:6] = line[4:28, 42:44] = (0, 0, 0, 255)
    hints = np.zeros((h, w, 4), np.uint8)
    hints[14:18, 20:24] = (30, 160, 90, 255)
    return line.tobytes(), hints.tobytes()


def test_colorize_through_the_vendored_client(plug, server, tmp_path, monkeypatch):
    monkeypatch.setenv("INKHUE_CONFIG", _settings(tmp_path, mode="remote", url=server, token=TOKEN))
    line, hints = _boxed()
    ticks = []
    rgb = plug.engine.colorize(line, hints, 48, 32, plug.engine.build_options(), tick=lambda: ticks.append(1))
    out = np.frombuffer(rgb, np.uint8).reshape(32, 48, 3)
    assert (out[8:24, 8:40] == (30, 160, 90)).all()  # the boxed region takes the hint's colour
    assert (out[4:6, 4:44] == 0).all() and (out[0, 0] == 255).all()


def test_transparent_flats_through_the_vendored_client(plug, server, tmp_path, monkeypatch):
    monkeypatch.setenv("INKHUE_CONFIG", _settings(tmp_path, mode="remote", url=server, token=TOKEN))
    line, hints = _boxed()
    opts = plug.engine.build_options(True, 0, 0, method="flats", transparent=True, flats_layers=True)
    rgba = plug.engine.colorize(line, hints, 48, 32, opts)
    out = np.frombuffer(rgba, np.uint8).reshape(32, 48, 4)
    assert (out[8:24, 8:40] == (30, 160, 90, 255)).all()  # the exact dab colour inside the box
    assert (out[0, 0, 3] == 0) and (out[30, 46, 3] == 0)  # nothing painted outside: transparent
    ((colour, count, data),) = plug.pixels.split_colours(plug.pixels.result_to_rgba(rgba, 48 * 32))
    assert colour == (30, 160, 90) and count == int((out[..., 3] > 0).sum())


def test_engine_errors_become_plugin_errors(plug, server, tmp_path, monkeypatch):
    line, hints = _boxed()
    monkeypatch.setenv("INKHUE_CONFIG", _settings(tmp_path, mode="remote", url=server, token="wrong"))
    with pytest.raises(plug.engine.PluginError, match="refused the access token"):
        plug.engine.colorize(line, hints, 48, 32, {})
    monkeypatch.setenv("INKHUE_CONFIG", _settings(tmp_path, mode="remote", url=server, token=TOKEN))
    with pytest.raises(plug.engine.PluginError, match="at least 16x16"):
        plug.engine.colorize(line[: 48 * 8 * 4], None, 48, 8, {})


def test_local_mode_starts_the_managed_engine_once_and_reuses_it(plug, tmp_path, monkeypatch):
    from tests.fixtures_models import fill_model

    # an installed engine: an ``inkhue`` program whose default model is the flood-fill model
    fill_model(tmp_path / "models" / "fill", name="inkhue-default")
    exe = tmp_path / "bin" / "inkhue"
    exe.parent.mkdir()
    exe.write_text(f'#!/bin/sh\nexec {sys.executable} -m engine.cli "$@"\n')
    exe.chmod(0o755)
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("INKHUE_MODEL_PATH", str(tmp_path / "models"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("INKHUE_CONFIG", _settings(tmp_path, mode="local", inkhue=str(exe)))
    line, hints = _boxed()
    state = tmp_path / "state" / "inkhue" / "server.json"
    try:
        rgb = plug.engine.colorize(line, hints, 48, 32, {})
        first = json.loads(state.read_text())
        assert np.frombuffer(rgb, np.uint8).reshape(32, 48, 3)[16, 24].tolist() == [30, 160, 90]
        plug.engine.colorize(line, hints, 48, 32, {})
        assert json.loads(state.read_text())["pid"] == first["pid"]  # the same server answered
    finally:
        if state.is_file():
            os.kill(json.loads(state.read_text())["pid"], signal.SIGTERM)
