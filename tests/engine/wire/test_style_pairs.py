"""The plug-ins' "Learn from this document" rules and files (engine/wire/style_pairs.py, stdlib only)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.wire import style_pairs as sp
from engine.wire.layer_rules import LayerInfo, LayerRuleError


def infos(*names):
    return [
        LayerInfo(n, n, is_group=n.startswith("group"), is_paint=not n.startswith("group")) for n in names
    ]


def test_choose_takes_the_line_art_and_the_visible_colour_under_it():
    layers = infos("Hints", "Shine", "Lines", "group colours", "Flats", "Sketch", "Hints 2", "Background")
    line, colour = sp.choose(layers, {"Sketch": False})
    assert line.name == "Lines"
    assert [i.name for i in colour] == ["Flats", "Background"]  # no group, hidden or hint layer


def test_choose_says_what_to_do():
    with pytest.raises(LayerRuleError, match="no colour under the line art"):
        sp.choose(infos("Hints", "Lines"))
    with pytest.raises(LayerRuleError, match="Name your line-art layer"):
        sp.choose(infos("group a"))


def test_png_pair_is_read_back_exactly(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (5, 7, 4), dtype=np.uint8)
    b = rng.integers(0, 256, (5, 7, 4), dtype=np.uint8)
    lines, colour = sp.save_pair(str(tmp_path), "My Picture.kra", 7, 5, a.tobytes(), b.tobytes())
    assert lines.endswith(".lines.png") and colour.endswith(".colour.png") and "My-Picture-" in lines
    assert np.array_equal(np.asarray(Image.open(lines)), a)
    assert np.array_equal(np.asarray(Image.open(colour)), b)
    again, _ = sp.save_pair(str(tmp_path), "My Picture.kra", 7, 5, a.tobytes(), b.tobytes())
    assert again != lines and sp.count_pairs(str(tmp_path)) == 2  # never overwritten
    with pytest.raises(ValueError, match="not 7x5 RGBA"):
        sp.png_bytes(7, 5, b"\0" * 10)


def test_style_dir_and_size(monkeypatch, tmp_path):
    monkeypatch.setenv(sp.STYLE_ENV, str(tmp_path))
    assert sp.style_dir() == str(tmp_path)
    monkeypatch.delenv(sp.STYLE_ENV)
    assert sp.style_dir().endswith("inkhue/style") or sp.style_dir().endswith("inkhue\\style")
    assert sp.scaled_size(4000, 2000) == (1024, 512) and sp.scaled_size(300, 200) == (300, 200)
