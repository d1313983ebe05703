"""Corpus filter, dedup, manifest and split on a handful of generated images (no network)."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image, ImageDraw

from training import artwork, corpus, sources
from training.artwork import FilterConfig, reject_reason
from training.corpus import build_corpus, load_image, load_manifest


def flat_art(seed: int, size: int = 200) -> Image.Image:
    """Flat-colour shapes with dark outlines on white, like clip art."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (size, size), "white")
    d = ImageDraw.Draw(img)
    for _ in range(4):
        x0, y0 = rng.integers(10, size // 2, 2)
        x1, y1 = x0 + rng.integers(30, size // 2), y0 + rng.integers(30, size // 2)
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            d.ellipse((x0, y0, x1, y1), fill=fill, outline=(20, 20, 20), width=3)
        else:
            d.rectangle((x0, y0, x1, y1), fill=fill, outline=(20, 20, 20), width=3)
    return img


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("art")
    for i in range(6):
        flat_art(i).save(root / f"art{i}.png")
    # transparent background: must be composited onto white and kept
    rgba = Image.new("RGBA", (180, 160), (0, 0, 0, 0))
    ImageDraw.Draw(rgba).ellipse((20, 20, 160, 140), fill=(30, 160, 60, 255), outline=(0, 0, 0, 255), width=4)
    rgba.save(root / "transparent.png")
    # a near duplicate: art0 re-encoded as JPEG at high quality and slightly scaled
    flat_art(0).resize((210, 210), Image.BILINEAR).save(root / "dup.jpg", quality=95)
    gray = flat_art(1).convert("L").convert("RGB")
    gray.save(root / "gray.png")
    Image.new("RGB", (300, 300), "white").save(root / "blank.png")
    flat_art(2).resize((40, 40)).save(root / "tiny.png")
    rng = np.random.default_rng(9)
    ramp = np.linspace(40, 220, 256)[None, :, None] * np.array([1.0, 0.6, 0.3])
    noisy = np.clip(ramp + rng.normal(0, 25, (256, 256, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(noisy).save(root / "photo.png")
    return root


def test_reject_reason_classifies_generated_images():
    cfg = FilterConfig()
    art = np.asarray(flat_art(3))
    assert reject_reason(art, cfg) is None
    assert reject_reason(np.asarray(flat_art(3).convert("L").convert("RGB")), cfg) == "grayscale"
    assert reject_reason(np.full((200, 200, 3), 255, np.uint8), cfg) == "blank"
    assert reject_reason(art[:50, :50], cfg) == "tiny"
    noisy = np.clip(art.astype(float) + np.random.default_rng(0).normal(0, 30, art.shape), 0, 255)
    assert reject_reason(noisy.astype(np.uint8), cfg) == "photo"


def test_trim_and_fit_keep_aspect_and_bound_size():
    rgb = np.full((300, 900, 3), 255, np.uint8)
    rgb[100:200, 100:700] = (200, 30, 30)
    t = artwork.trim(rgb, 12)
    assert t.shape == (100, 600, 3)
    f = artwork.fit(t, 256, 0.03)
    assert max(f.shape[:2]) <= 256
    inner = artwork.trim(f, 12)
    assert abs(inner.shape[1] / inner.shape[0] - 6.0) < 0.3  # the artwork keeps its aspect
    assert inner.shape[1] < f.shape[1] and inner.shape[0] < f.shape[0]
    assert (f[0] == 255).all() and (f[:, 0] == 255).all()  # white margin


def test_build_corpus_filters_dedups_and_writes_manifest(folder, tmp_path):
    out = build_corpus(tmp_path / "c", sources=(), extra_dirs=(folder,), max_side=128, workers=1)
    with open(out / "manifest.csv", newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == corpus.MANIFEST_COLUMNS
        rows = list(reader)
    origins = {r["origin"] for r in rows}
    assert origins == {f"art{i}.png" for i in range(6)} | {"transparent.png"}
    assert {r["licence"] for r in rows} == {"user"}
    assert {r["split"] for r in rows} <= {"train", "val"}
    for r in load_manifest(out, None):
        img = load_image(out, r)
        assert img.dtype == np.uint8 and img.shape == (r["height"], r["width"], 3)
        assert max(img.shape[:2]) <= 128
    assert len(list((out / "images").glob("*.png"))) == len(rows)  # dropped files are removed
    report = json.loads((out / "build.json").read_text())
    dropped = next(iter(report["dropped"].values()))
    assert dropped == {"grayscale": 1, "blank": 1, "tiny": 1, "photo": 1, "near-duplicate": 1}
    transparent = next(r for r in load_manifest(out, None) if r["origin"] == "transparent.png")
    img = load_image(out, transparent)
    assert (img[0, 0] == 255).all()  # transparency composited onto white, not black


def test_split_is_deterministic_and_rebuild_identical(folder, tmp_path):
    a = build_corpus(tmp_path / "a", sources=(), extra_dirs=(folder,), max_side=128, workers=1)
    b = build_corpus(tmp_path / "b", sources=(), extra_dirs=(folder,), max_side=128, workers=1)
    assert (a / "manifest.csv").read_text() == (b / "manifest.csv").read_text()
    ids = [f"{i:016x}" for i in range(4000)]
    splits = [corpus.split_of(i, 0, 0.07) for i in ids]
    assert splits == [corpus.split_of(i, 0, 0.07) for i in ids]
    assert 0.05 < splits.count("val") / len(ids) < 0.09
    assert splits != [corpus.split_of(i, 1, 0.07) for i in ids]  # the seed reshuffles


def test_load_manifest_rejects_unknown_split(tmp_path):
    with pytest.raises(ValueError, match="valid: train, val"):
        load_manifest(tmp_path, "test")
    with pytest.raises(FileNotFoundError):
        load_manifest(tmp_path, "train")


def test_near_duplicates_marks_later_copies_only():
    rng = np.random.default_rng(0)
    imgs = [np.asarray(flat_art(i)) for i in range(3)]
    imgs.append(np.clip(imgs[1].astype(int) + rng.integers(-3, 4, imgs[1].shape), 0, 255).astype(np.uint8))
    recoloured = imgs[0].copy()
    recoloured[..., [0, 1, 2]] = recoloured[..., [2, 0, 1]]  # same shapes, other colours: keep
    imgs.append(recoloured)
    dup = corpus.near_duplicates(
        np.stack([artwork.dhash(i) for i in imgs]), np.stack([artwork.thumb(i) for i in imgs])
    )
    assert dup.tolist() == [False, False, False, True, False]


SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200">{}</svg>'


def svg_art(seed: int) -> str:
    """Coloured shapes with black outlines, some outlines left open (a path, not closed)."""
    rng = np.random.default_rng(seed)
    parts = []
    for _ in range(4):
        x, y = (int(v) for v in rng.integers(10, 100, 2))
        w, h = (int(v) for v in rng.integers(40, 90, 2))
        fill = "#" + bytes(int(v) for v in rng.integers(110, 240, 3)).hex()  # light enough not to be ink
        parts.append(
            f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}" stroke="#111" stroke-width="3"/>'
        )
    return SVG.format("".join(parts))


@pytest.fixture(scope="module")
def pairs_folder(tmp_path_factory):
    pytest.importorskip("cairosvg", reason="the train extra renders SVGs")
    root = tmp_path_factory.mktemp("pairs")
    for i in range(5):
        (root / f"art{i}.svg").write_text(svg_art(10 + i))
    (root / "silhouette.svg").write_text(SVG.format('<circle cx="100" cy="100" r="90" fill="black"/>'))
    (root / "no_ink.svg").write_text(SVG.format('<rect x="20" y="20" width="150" height="150" fill="#3c8"/>'))
    eyes = '<circle cx="100" cy="100" r="80" fill="#e8a"/>' + "".join(
        f'<circle cx="{x}" cy="90" r="6"/>' for x in (80, 120)
    )
    (root / "eyes.svg").write_text(SVG.format(eyes))  # ink that outlines nothing: not line art
    (root / "css.svg").write_text(SVG.format("<style>rect{fill:red}</style><rect width='99' height='99'/>"))
    return root


def test_pairs_make_the_real_split_with_aligned_line_art(pairs_folder, tmp_path):
    import cairosvg

    images = tmp_path / "images"
    images.mkdir()
    # the same drawing as art0.svg among the images: its pair must land on the image's side
    cairosvg.svg2png(bytestring=svg_art(10).encode(), write_to=str(images / "twin.png"))
    flat_art(1).save(images / "other.png")
    out = build_corpus(
        tmp_path / "c", sources=(), extra_dirs=(images,), pairs_dirs=(pairs_folder,), workers=1, max_side=256
    )
    rows = load_manifest(out, None)
    real = [r for r in rows if r["split"].startswith("real")]
    assert {r["origin"] for r in real} == {f"art{i}.svg" for i in range(5)}
    dropped = json.loads((out / "build.json").read_text())["dropped"][f"pairs:{pairs_folder.name}"]
    assert dropped == {
        "dark background": 1,  # the silhouette
        "ink does not outline the colours": 1,
        "no ink": 1,
        "ink unknown: colours set by a CSS style sheet": 1,
    }
    twin = next(r for r in rows if r["origin"] == "twin.png")
    assert next(r for r in real if r["origin"] == "art0.svg")["split"] == f"real-{twin['split']}"
    for r in real:
        colour = load_image(out, r)
        lineart = corpus.load_lineart(out, r)
        assert lineart.shape[:2] == colour.shape[:2] and lineart.shape[2] == 4
        ink = lineart[..., 0] < 128
        # the lines are where the colour image is near black, and only there
        dark = colour.max(axis=2) < 100
        assert (ink & dark).sum() > 0.8 * ink.sum() and (ink & dark).sum() > 0.8 * dark.sum()
    assert all(not r["lineart"] for r in rows if not r["split"].startswith("real"))
    assert (
        load_manifest(out, "real-val") + load_manifest(out, "real-train")
        == sorted(real, key=lambda r: (r["split"] != "real-val", r["id"]))
        or len(real) == 5
    )
    # evaluation scores the artist's own line art on the real splits
    from training.evaluate import eval_inputs

    row, rgb, lineart, hints = next(eval_inputs(out, real[0]["split"], ("full",)))
    np.testing.assert_array_equal(lineart, corpus.load_lineart(out, row))
    assert hints["full"][..., 3].any()


def test_evaluate_command_reports_real_before_synthetic(pairs_folder, tmp_path, capsys):
    from training.cli import main

    out = build_corpus(
        tmp_path / "c",
        sources=(),
        extra_dirs=(pairs_folder,),  # the SVGs as colour images too: a synthetic split beside the real one
        pairs_dirs=(pairs_folder,),
        workers=1,
        max_side=128,
        val_fraction=0.5,
        real_val_fraction=0.5,
    )
    splits = [r["split"] for r in load_manifest(out, None)]
    assert main(["evaluate", "--corpus", str(out), "--no-model", "--densities", "full"]) == 0
    printed = capsys.readouterr().out
    headers = [line for line in printed.splitlines() if line.startswith("### ")]
    expected = [s for s in ("real-val", "val") if s in splits]
    assert [h.split()[1] for h in headers] == expected and expected


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb (Debian/Ubuntu) builds the package")
def test_fetch_unpacks_a_deb_through_a_relative_cache_folder(tmp_path, monkeypatch):
    # the documented rebuild passes cache_dir='data/cache'; the package tools run inside the cache
    pkg = tmp_path / "pkg"
    (pkg / "DEBIAN").mkdir(parents=True)
    (pkg / "DEBIAN" / "control").write_text(
        "Package: inkhue-test-art\nVersion: 1.2-3\nArchitecture: all\nMaintainer: t <t@t>\nDescription: t\n"
    )
    art = pkg / "usr" / "share" / "art"
    art.mkdir(parents=True)
    Image.new("RGB", (8, 8), (200, 30, 30)).save(art / "a.png")
    (art / "COPYING").write_text("CC0")
    work = tmp_path / "work"
    (work / "cache" / "deb").mkdir(parents=True)
    deb = work / "cache" / "deb" / "inkhue-test-art_1.2-3_all.deb"
    subprocess.run(
        ["dpkg-deb", "--build", "--root-owner-group", str(pkg), str(deb)], check=True, capture_output=True
    )
    src = sources.Source(
        "test-art", "deb", "inkhue-test-art", ("usr/share/art/*.png",), "CC0-1.0", "usr/share/art/COPYING"
    )
    monkeypatch.setitem(sources.SOURCES, "test-art", src)
    monkeypatch.chdir(work)
    got = sources.fetch("test-art", "cache")
    assert got.version == "1.2-3"
    assert [p.name for p in got.files] == ["a.png"] and got.files[0].is_file()
