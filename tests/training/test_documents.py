"""Training pairs from an artist's layered files (training/documents.py) and the fine-tune on them."""

from __future__ import annotations

import io
import math
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from training import documents as docs

W, H = 128, 96


def scene(seed: int) -> dict[str, np.ndarray]:
    """Layers of one hand-made picture: black outlines on transparency, flat fills under them."""
    rng = np.random.default_rng(seed)
    lines = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    flats = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    dl, df = ImageDraw.Draw(lines), ImageDraw.Draw(flats)
    for _ in range(3):
        x0, y0 = int(rng.integers(4, W // 2)), int(rng.integers(4, H // 2))
        box = (x0, y0, x0 + int(rng.integers(24, W // 2)), y0 + int(rng.integers(20, H // 2)))
        colour = tuple(int(c) for c in rng.integers(30, 230, 3))
        (df.ellipse if rng.random() < 0.5 else df.rectangle)(box, fill=(*colour, 255))
        dl.rectangle(box, outline=(0, 0, 0, 255), width=2)
    hints = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    ImageDraw.Draw(hints).ellipse((10, 10, 16, 16), fill=(0, 255, 0, 255))
    shade = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    ImageDraw.Draw(shade).rectangle((0, H // 2, W, H), fill=(128, 128, 128, 255))
    return {
        "Hints": np.asarray(hints),
        "Lines": np.asarray(lines),
        "Flats": np.asarray(flats),
        "Sketch": np.asarray(shade),  # hidden: not part of the picture
        "Background": np.asarray(Image.new("RGBA", (W, H), (255, 255, 255, 255))),
    }


def _png(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "PNG")
    return buf.getvalue()


def write_ora(path: Path, layers: dict[str, np.ndarray], hidden=("Sketch",), group: str | None = None):
    """An OpenRaster file as Krita writes one (top to bottom); ``group`` wraps Flats in a group."""
    entries = []
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "image/openraster", compress_type=zipfile.ZIP_STORED)
        for i, (name, a) in enumerate(layers.items()):
            z.writestr(f"data/layer{i}.png", _png(a))
            vis = "hidden" if name in hidden else "visible"
            entry = (
                f'<layer name="{name}" src="data/layer{i}.png" x="0" y="0" visibility="{vis}" opacity="1.0"/>'
            )
            if name == "Flats" and group:
                entry = f'<stack name="{group}" visibility="visible">{entry}</stack>'
            entries.append(entry)
        stack = "".join(entries)
        z.writestr("stack.xml", f'<?xml version="1.0"?><image w="{W}" h="{H}"><stack>{stack}</stack></image>')
    return path


def expected_pair(layers: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Flats then lines over white (hints and the hidden sketch left out); the lines alone on white."""
    paper = Image.new("RGBA", (W, H), "white")
    colour = paper.copy()
    for name in ("Flats", "Lines"):
        colour.alpha_composite(Image.fromarray(layers[name]))
    lines = paper.copy()
    lines.alpha_composite(Image.fromarray(layers["Lines"]))
    return np.asarray(colour.convert("RGB")), np.asarray(lines.convert("L"))


def test_ora_layers_are_read_top_to_bottom_and_the_pair_follows_the_plugins_rules(tmp_path):
    layers = scene(0)
    doc = docs.read_ora(write_ora(tmp_path / "a.ora", layers))
    assert [lay.name for lay in doc.layers] == list(layers)
    assert [lay.visible for lay in doc.layers] == [True, True, True, False, True]
    line, colour = docs.choose_layers(doc)
    assert doc.layers[line].name == "Lines"
    assert [doc.layers[j].name for j in colour] == ["Flats", "Background"]
    rgb, luma = docs.document_pair(doc)
    want_rgb, want_luma = expected_pair(layers)
    assert np.abs(rgb.astype(int) - want_rgb).max() <= 1
    assert np.abs(luma.astype(int) - want_luma).max() <= 1


def test_named_layers_groups_and_clear_errors(tmp_path):
    layers = scene(1)
    renamed = {"Lines": "Ink layer 2", "Flats": "Colour"}
    layers = {renamed.get(k, k): v for k, v in layers.items()}
    doc = docs.read_ora(write_ora(tmp_path / "g.ora", layers, group=None))
    line, colour = docs.choose_layers(doc, "ink layer 2", ("Colour",))  # names match case-insensitively
    assert doc.layers[line].name == "Ink layer 2" and [doc.layers[j].name for j in colour] == ["Colour"]
    with pytest.raises(docs.DocumentError, match="no layer named 'Nope'.*Ink layer 2"):
        docs.choose_layers(doc, "Nope")
    grouped = scene(2)
    doc = docs.read_ora(write_ora(tmp_path / "h.ora", grouped, group="Colours"))
    assert [lay.name for lay in doc.layers][2:4] == ["Colours", "Flats"] and doc.layers[2].is_group
    line, colour = docs.choose_layers(doc, colour=("Colours",))  # a group: its paint layers
    assert [doc.layers[j].name for j in colour] == ["Flats"]
    (tmp_path / "bad.ora").write_bytes(b"not a zip")
    with pytest.raises(docs.DocumentError, match="not an OpenRaster"):
        docs.read_ora(tmp_path / "bad.ora")
    with zipfile.ZipFile(tmp_path / "bomb.ora", "w") as z:
        z.writestr(
            "stack.xml",
            '<?xml version="1.0"?><!DOCTYPE i [<!ENTITY a "aaaa">]><image w="9" h="9">&a;</image>',
        )
    with pytest.raises(docs.DocumentError, match="stack.xml cannot be read"):
        docs.read_ora(tmp_path / "bomb.ora")
    only_lines = {"Lines": scene(3)["Lines"]}
    with pytest.raises(docs.DocumentError, match="no colour layer under the line art"):
        docs.document_pair(docs.read_ora(write_ora(tmp_path / "l.ora", only_lines)))


def write_psd(path: Path, layers: dict[str, np.ndarray], hidden=("Sketch",)) -> Path:
    psd_tools = pytest.importorskip("psd_tools")
    from psd_tools.api.layers import PixelLayer

    psd = psd_tools.PSDImage.new("RGBA", (W, H))  # RGB would drop the layers' alpha
    for name, a in reversed(layers.items()):  # psd-tools appends bottom to top
        layer = PixelLayer.frompil(Image.fromarray(a), psd, name)
        layer.visible = name not in hidden
        psd.append(layer)
    psd.save(path)
    return path


def test_psd_gives_the_same_pair_as_ora(tmp_path):
    layers = scene(4)
    doc = docs.read_psd(write_psd(tmp_path / "a.psd", layers))
    assert [lay.name for lay in doc.layers] == list(layers)
    rgb, luma = docs.document_pair(doc)
    want_rgb, want_luma = expected_pair(layers)
    assert np.abs(rgb.astype(int) - want_rgb).max() <= 1
    assert np.abs(luma.astype(int) - want_luma).max() <= 1


def test_psd_without_psd_tools_says_what_to_install(tmp_path, monkeypatch):
    (tmp_path / "a.psd").write_bytes(b"8BPS")
    monkeypatch.setitem(sys.modules, "psd_tools", None)
    with pytest.raises(docs.DocumentError, match=r"needs psd-tools: pip install 'inkhue\[psd\]'"):
        docs.read_document(tmp_path / "a.psd")


def layered_folder(folder: Path, n: int, psd: bool = True) -> Path:
    """``n`` pictures: ORA files, a PSD (when psd-tools is installed) and a saved PNG pair."""
    folder.mkdir()
    for i in range(n):
        layers = scene(10 + i)
        if i == 0 and psd:
            try:
                write_psd(folder / f"art{i}.psd", layers)
                continue
            except pytest.skip.Exception:
                pass
        if i == 1:  # as the plug-ins' "Learn from this document" saves a pair
            rgb, luma = expected_pair(layers)
            Image.fromarray(rgb).save(folder / f"art{i}.colour.png")
            Image.fromarray(luma).save(folder / f"art{i}.lines.png")
            continue
        write_ora(folder / f"art{i}.ora", layers)
    (folder / "notes.txt").write_text("not a picture")
    (folder / "broken.ora").write_bytes(b"not a zip")  # skipped with a warning
    with zipfile.ZipFile(folder / "damaged.ora", "w") as z:  # a layer that is no PNG: skipped too
        z.writestr(
            "stack.xml", f'<image w="{W}" h="{H}"><stack><layer name="Lines" src="a.png"/></stack></image>'
        )
        z.writestr("a.png", b"not a png")
    return folder


def test_pair_rows_write_a_corpus_of_real_pairs(tmp_path):
    from training.corpus import load_image, load_lineart

    folder = layered_folder(tmp_path / "docs", 4)
    rows = docs.pair_rows(folder, tmp_path / "corpus", max_side=64)
    assert len(rows) == 4 and all(r["split"] == "real-train" and r["lineart"] for r in rows)
    assert {r["origin"].split(".")[0] for r in rows} == {"art0", "art1", "art2", "art3"}
    for r in rows:
        rgb, line = load_image(tmp_path / "corpus", r), load_lineart(tmp_path / "corpus", r)
        assert rgb.shape[:2] == line.shape[:2] and max(rgb.shape[:2]) <= 64
        assert (line[..., 0] < 128).any() and line[..., 3].min() == 255


def test_finetune_on_documents_measures_on_their_own_line_art(tmp_path):
    from engine.modelspec import load_manifest
    from training.corpus import load_manifest as corpus_rows
    from training.export import random_model
    from training.finetune import FinetuneConfig, finetune

    base = random_model(tmp_path / "base", name="base")
    folder = layered_folder(tmp_path / "docs", 5)
    cfg = FinetuneConfig(minutes=0.05, crop=64, batch=4, holdout=0.4, threads=1, keep="always")
    report = finetune(None, str(base), tmp_path / "out", "mine", cfg, tmp_path / "work", documents=folder)

    assert report.split == "real-val" and report.n_holdout == 2 and report.n_train == 3
    held = {r["id"] for r in corpus_rows(tmp_path / "work" / "corpus", "real-val")}
    trained = {r["id"] for r in corpus_rows(tmp_path / "work" / "corpus", "real-train")}
    assert len(held) == 2 and len(trained) == 3 and not held & trained
    assert report.steps["draft"] >= 1 and report.steps["refine"] >= 1
    for d, g in report.gain().items():
        assert all(math.isfinite(v) for v in g.values()), d
    assert report.kept and load_manifest(tmp_path / "out", verify=True).name == "mine"
    assert "the artist's own line art" in report.table() and "hint ΔE00" in report.table()


def test_finetune_keeps_the_model_only_when_it_is_better(tmp_path, monkeypatch):
    from training import finetune as ft
    from training.export import random_model

    base = random_model(tmp_path / "base", name="base")
    folder = layered_folder(tmp_path / "docs", 3, psd=False)
    scores = iter([0.0, 1.0])  # the measurement before, then after: PSNR down by 1 dB

    def fake_evaluate(methods, corpus, split, densities, seed):
        worse = next(scores)
        return [
            {"density": d, "n": 1, "psnr": 20.0 - worse, "de00": 5.0 + worse, "hint_de00": 3.0}
            | {"ssim": 0.9, "bleed": 0.1, "seconds": 0.1}
            for d in densities
        ]

    monkeypatch.setattr("training.evaluate.evaluate", fake_evaluate)
    cfg = ft.FinetuneConfig(minutes=0.02, crop=64, batch=4, holdout=0.34, threads=1)
    report = ft.finetune(None, str(base), tmp_path / "out", "mine", cfg, tmp_path / "work", documents=folder)
    assert not report.kept and not (tmp_path / "out").exists()
    assert "not kept" in report.verdict and "sparse PSNR -1.00 dB" in report.verdict
    assert (tmp_path / "work" / "model" / "manifest.json").is_file()


def test_hint_loss_pulls_towards_the_hint_colours():
    import torch

    from tests.training.test_training import tiny
    from training.gan import Gan

    cfg = tiny("draft", steps=1)
    gan = Gan(cfg)
    x = torch.zeros(2, cfg.generator.in_channels, 32, 32)
    from training.config import plane_offset

    m, c = plane_offset(cfg.inputs, "hint_mask"), plane_offset(cfg.inputs, "hint_rgb")
    x[:, m, 4:8, 4:8] = 1.0
    x[:, c : c + 3, 4:8, 4:8] = 0.5
    valid = torch.ones(2, 1, 32, 32)
    at_hint = torch.full((2, 3, 32, 32), 0.5)
    assert gan.hint_l1(x, at_hint, valid).item() == 0.0
    off = at_hint.clone()
    off[:, :, 4:8, 4:8] = 0.0
    assert gan.hint_l1(x, off, valid).item() == pytest.approx(0.5 * 16 / (32 * 32))  # a mean over pixels


def test_cli_finetune_needs_material_and_defaults_to_the_style_folder(monkeypatch, tmp_path, caplog):
    from training import cli

    assert cli.main(["finetune"]) == 2
    assert "needs --documents" in caplog.text
    seen = {}

    def fake_finetune(images, model, out, name, cfg, work_dir=None, documents=None, **kw):
        seen.update(documents=documents, keep=cfg.keep, hint_weight=cfg.hint_weight)
        raise ValueError("stop here")

    monkeypatch.setattr("training.finetune.finetune", fake_finetune)
    monkeypatch.setenv("INKHUE_STYLE_DIR", str(tmp_path))
    assert cli.main(["finetune", "--documents", "--keep-anyway", "--hint-weight", "3"]) == 2
    assert seen == {"documents": str(tmp_path), "keep": "always", "hint_weight": 3.0}
