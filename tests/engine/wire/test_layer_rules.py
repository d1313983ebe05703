"""The layer rules both plug-ins carry (engine/wire/layer_rules.py): guesses, checks, placement."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine.wire import layer_rules as rules
from engine.wire.layer_rules import LayerInfo, LayerRuleError


def stack(*names: str, groups: tuple[str, ...] = ()) -> list[LayerInfo]:
    """Layers top to bottom, keyed by their position."""
    return [LayerInfo(i, n, is_group=n in groups, is_paint=n not in groups) for i, n in enumerate(names)]


@pytest.mark.parametrize("name", ["Hints", "hint", "Colour hints", "HINTS #2", "my_hints", "color-hint"])
def test_hint_names(name):
    assert rules.is_hint_name(name) and not rules.is_lineart_name(name)


@pytest.mark.parametrize("name", ["Hintergrund", "Highlights", "Background", "Paint", "Ink", "Behind"])
def test_not_hint_names(name):
    assert not rules.is_hint_name(name)


@pytest.mark.parametrize("name", ["Lines", "Line art", "lineart", "Ink", "Inking", "Outline", "clean_lines"])
def test_lineart_names(name):
    assert rules.is_lineart_name(name)


@pytest.mark.parametrize("name", ["Background", "Flats", "Hints", "Shading", "Linen texture", "Sky"])
def test_not_lineart_names(name):
    assert not rules.is_lineart_name(name)


def test_named_lines_win_over_an_active_background():
    layers = stack("Hints", "Lines", "Background")
    line, hint = rules.guess_layers(layers, active=2)
    assert (line.name, hint.name) == ("Lines", "Hints")


def test_active_layer_is_the_line_art_when_no_name_tells():
    layers = stack("Hints", "Drawing", "Sketch", "Background")
    assert rules.guess_layers(layers, active=2)[0].name == "Sketch"


@pytest.mark.parametrize("active", [0, 3, None])
def test_active_hint_or_background_falls_back_to_topmost_drawing(active):
    layers = stack("Hints", "Drawing", "Sketch", "Background")
    assert rules.guess_layers(layers, active=active)[0].name == "Drawing"


def test_hintergrund_is_never_the_hint_layer():
    line, hint = rules.guess_layers(stack("Zeichnung", "Hintergrund"), active=0)
    assert line.name == "Zeichnung" and hint is None


def test_groups_are_never_guessed_and_remembered_hint_name_wins():
    layers = stack("Colour", "Hints", "Dabs", "Lines", "Background", groups=("Colour",))
    line, hint = rules.guess_layers(layers, active=0, remembered_hints="Dabs")
    assert (line.name, hint.name) == ("Lines", "Dabs")
    assert rules.guess_layers(layers, active=0, remembered_hints="Gone")[1].name == "Hints"


def test_line_art_opened_as_background_is_the_line_art_and_nothing_else_is_guessed():
    line, hint = rules.guess_layers(stack("Hints", "Background"), active=0)
    assert (line.name, hint.name) == ("Background", "Hints")
    line, hint = rules.guess_layers(stack("Background"), active=0)
    assert line.name == "Background" and hint is None
    rules.check_choice(line, hint)  # no hint layer: the AI chooses the colours
    assert rules.guess_layers(stack("Hints"), active=0)[0] is None  # never the hints as line art
    with pytest.raises(LayerRuleError, match="line art"):
        rules.check_choice(None, None)


def test_check_choice_messages():
    lines, hints = LayerInfo(1, "Lines"), LayerInfo(2, "Hints")
    group = LayerInfo(3, "Ink", is_group=True, is_paint=False)
    rules.check_choice(lines, hints)
    rules.check_choice(lines, None)  # "(none: AI suggests tones)" is a choice, not an error
    with pytest.raises(LayerRuleError, match="both the line art and the hints"):
        rules.check_choice(lines, LayerInfo(1, "Lines"))
    with pytest.raises(LayerRuleError, match='"Ink" is a layer group'):
        rules.check_choice(group, hints)
    with pytest.raises(LayerRuleError, match='"Ink" is a layer group: choose the hint layer'):
        rules.check_choice(lines, group)


def test_no_dabs_is_a_note_not_an_error_except_for_flat_colours():
    assert rules.check_hints("Hints", True) == ""
    assert rules.check_hints("Hints", True, "flats") == ""
    note = rules.check_hints("Hints", False, "ai", "inside the selection")
    assert note == (
        'No colour dabs on "Hints" inside the selection: AI Colorize will suggest light, muted tones '
        "by itself. "
        "Paint a dab inside an area to choose its colour."
    )
    assert note == rules.no_hints_note("Hints", "inside the selection")
    none = rules.check_hints(None, False)  # no hint layer at all
    assert none.startswith("No hint layer: AI Colorize will suggest light, muted tones by itself.")
    assert rules.check_hints(None, True) == none  # without a layer there are no dabs
    with pytest.raises(LayerRuleError) as e:
        rules.check_hints("Hints", False, "flats")
    assert str(e.value) == rules.flats_need_dabs_message("Hints", "on the canvas")
    assert '"Hints" has no colour dabs on the canvas' in str(e.value) and "AI colours" in str(e.value)
    with pytest.raises(LayerRuleError, match="no hint layer is chosen"):
        rules.check_hints(None, False, "flats")
    assert rules.NO_HINTS_CHOICE == "(none: AI suggests tones)"


@pytest.mark.parametrize(
    ("opaque", "lowest", "drawn_in", "above", "multiply"),
    [
        (False, False, True, False, False),
        (False, False, False, False, False),
        (True, False, True, True, False),
        (True, False, False, True, True),  # lines on white, flat colours: multiply keeps the lines
        (False, True, False, True, True),
        (True, True, True, True, False),
    ],
)
def test_placement_keeps_lines_visible(opaque, lowest, drawn_in, above, multiply):
    p = rules.place_result(opaque, lowest, drawn_in)
    assert (p.above, p.multiply) == (above, multiply)
    assert bool(p.reason) == above


def test_rules_are_stdlib_only_and_vendored(tmp_path):
    from installer.vendor import vendor_into

    vendor_into(tmp_path / "plugin")
    (tmp_path / "plugin" / "__init__.py").write_text("")
    code = (
        "import sys; sys.modules['numpy'] = None\n"
        "from plugin.vendor import layer_rules as r\n"
        "print(r.is_hint_name('Hintergrund'), r.is_background_name('Hintergrund'))"
    )
    out = subprocess.run(
        [sys.executable, "-E", "-s", "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True"]


def _px(*pixels: tuple[int, int, int, int], n: int = 1000, base=(0, 0, 0, 0)) -> bytes:
    out = bytearray(bytes(base) * n)
    for i, p in enumerate(pixels):
        out[4 * (i * 37 % n) : 4 * (i * 37 % n) + 4] = bytes(p)
    return bytes(out)


def test_has_ink_one_rule_for_both_plugins(monkeypatch):
    has_ink = rules.has_ink
    assert not has_ink(_px())  # fully transparent
    assert not has_ink(_px(base=(255, 255, 255, 255)))  # blank white
    assert not has_ink(_px((0, 0, 0, 20)))  # a nearly invisible speck
    assert not has_ink(_px((250, 250, 240, 255)))  # off-white is paper
    assert has_ink(_px((0, 0, 0, 255)))  # one black pixel on transparency
    assert has_ink(_px((200, 30, 30, 255)))  # a red line counts
    assert has_ink(_px((0, 0, 255, 255), base=(255, 255, 255, 255)))  # blue line on paper
    # a mid-grey pencil layer is line art for both plug-ins (Krita used to refuse it)
    assert has_ink(_px((150, 150, 150, 255), base=(255, 255, 255, 255)))
    assert has_ink(_px((128, 128, 128, 160)))  # pencil on a transparent layer
    monkeypatch.setattr(rules, "INK_CHUNK", 64)
    blank = bytearray(bytes((255, 255, 255, 255)) * 1000)
    assert not has_ink(bytes(blank))
    blank[-4:] = bytes((0, 0, 0, 255))  # one dark pixel in the last, partial chunk
    assert has_ink(bytes(blank))


def test_both_plugins_check_ink_with_the_shared_rule():
    root = Path(__file__).resolve().parents[3]
    krita = (root / "krita_plugin/inkhue_krita/request.py").read_text()
    gimp = (root / "gimp_plugin/inkhue_gimp/inkhue_gimp.py").read_text()
    assert "rules.has_ink(" in krita and "from vendor.layer_rules import has_ink" in gimp
    for plugin in ("krita_plugin/inkhue_krita", "gimp_plugin/inkhue_gimp"):
        for path in (root / plugin).glob("*.py"):
            assert "def has_ink" not in path.read_text(), path
            assert 'startswith("hint' not in path.read_text().lower(), path
