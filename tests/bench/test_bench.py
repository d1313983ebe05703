"""bench/: the Levin et al. baseline, the quality runner end to end, the report, the speed helpers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from bench import apps, levin, quality, report, speed
from training.corpus import write_manifest
from training.metrics import lab

RED, BLUE = (220, 30, 30), (30, 60, 220)


def _ring_scene(size: int = 64, closed: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(line art, hints, inside mask): a 2-px square ring, a red dot inside and a blue one outside."""
    la = np.full((size, size, 4), 255, np.uint8)
    inside = np.zeros((size, size), bool)
    a, b = size // 4, 3 * size // 4
    inside[a + 2 : b - 2, a + 2 : b - 2] = True
    if closed:
        ring = ndimage.binary_dilation(inside, iterations=2) & ~inside
        la[ring, :3] = 0
    hints = np.zeros((size, size, 4), np.uint8)
    hints[a + 4 : a + 7, a + 4 : a + 7] = (*RED, 255)  # near one corner of the inside
    hints[2:5, 2:5] = (*BLUE, 255)
    return la, hints, inside


def _mean_de(rgb: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int]) -> float:
    from skimage.color import deltaE_ciede2000

    ref = lab(np.array([[colour]], np.uint8))[0, 0]
    return float(deltaE_ciede2000(lab(rgb)[mask], ref[None]).mean())


def test_levin_fills_a_closed_region_and_stops_at_the_line():
    la, hints, inside = _ring_scene()
    out = levin.levin(la, hints)
    paper = la[..., 0] == 255
    far_inside = ndimage.binary_erosion(inside, iterations=3)
    outside = paper & ~ndimage.binary_dilation(inside, iterations=6)
    assert _mean_de(out, far_inside, RED) < 3.0  # the scribble's colour spread over the region
    assert _mean_de(out, outside, BLUE) < 3.0  # and did not cross the ring
    assert out.shape == (*la.shape[:2], 3) and out.dtype == np.uint8
    assert (out[~paper] < 40).all()  # lines composed on top


def test_levin_without_the_line_mixes_colours():
    la, hints, inside = _ring_scene(closed=False)
    out = levin.levin(la, hints)
    # same scribbles, no barrier: the inside is no longer the scribble's colour
    assert _mean_de(out, ndimage.binary_erosion(inside, iterations=3), RED) > 10.0


def test_levin_without_hints_is_white_paper():
    la, _, _ = _ring_scene()
    out = levin.levin(la, None)
    assert (out[la[..., 0] == 255] == 255).all()


def test_hint_marks_one_per_dot():
    _, hints, _ = _ring_scene()
    marks = apps.hint_marks(hints)
    assert sorted(m[2] for m in marks) == sorted([RED, BLUE])
    for x, y, rgb in marks:
        assert tuple(hints[y, x, :3]) == rgb and hints[y, x, 3] == 255


def test_apps_report_why_they_cannot_run(monkeypatch, tmp_path):
    monkeypatch.setenv("INKHUE_KRITA_ROOT", str(tmp_path / "none"))
    la, hints, _ = _ring_scene()
    run = apps.run_app("krita", [apps.Case("k", la, hints)])
    assert not run.outputs and "tests/krita/setup-chroot.sh" in run.reason
    with pytest.raises(ValueError, match="gimp"):
        apps.run_app("photoshop", [])


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory) -> Path:
    """Two generated flat-colour images with black outlines, both in the val split."""
    root = tmp_path_factory.mktemp("corpus")
    (root / "images").mkdir()
    rows = []
    for i in range(2):
        rng = np.random.default_rng(i)
        rgb = np.full((80, 96, 3), 255, np.uint8)
        yy, xx = np.mgrid[:80, :96]
        for _ in range(3):
            cy, cx, r = rng.integers(20, 60), rng.integers(20, 76), rng.integers(10, 18)
            disk = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
            rgb[disk] = rng.integers(30, 230, 3)
            rgb[ndimage.binary_dilation(disk, iterations=2) & ~disk] = 0
        image_id = f"{i:016x}"
        Image.fromarray(rgb).save(root / "images" / f"{image_id}.png")
        rows.append(
            {
                "id": image_id,
                "file": f"images/{image_id}.png",
                "source": "test",
                "split": "val",
                "width": 96,
                "height": 80,
            }
        )
    write_manifest(root, rows)
    return root


@pytest.fixture(scope="module")
def quality_run(tiny_corpus, random_model_dir, tmp_path_factory):
    from training.evaluate import inkhue_method

    out = tmp_path_factory.mktemp("bench")
    methods = {"inkhue": inkhue_method(random_model_dir, device="cpu"), **quality.classical_methods()}
    la, _, _ = _ring_scene()
    # an "application" output made elsewhere, for one image and density only
    first = sorted(p.stem for p in (tiny_corpus / "images").iterdir())[0]
    fake_app = {(first, "full"): (np.full((80, 96, 3), 255, np.uint8), 0.25)}
    records = quality.run(
        methods,
        tiny_corpus,
        limit=2,
        precomputed={"krita": fake_app},
        samples=[first],
        sample_dir=out / "samples",
    )
    meta = {
        "corpus": str(tiny_corpus),
        "split": "val",
        "seed": 0,
        "samples": 1,
        "sample_density": "sparse",
        "model": {"name": "inkhue-random", "version": "0.0.0", "random_weights": True},
        "apps": {"krita": {"ran": True, "cases": 1, "version": "test", "reason": "", "wall_s": 1.0}},
    }
    quality.write_results(out / "quality.json", records, meta)
    return out, records


def test_quality_scores_every_method_density_and_image(quality_run):
    out, records = quality_run
    methods = {"inkhue", "lineart", "flood_fill", "watershed", "flats", "levin"}
    assert len([r for r in records if r["method"] in methods]) == 2 * 3 * len(methods)
    assert [(r["density"], r["seconds"]) for r in records if r["method"] == "krita"] == [("full", 0.25)]
    hints = {
        d: {r["hints"] for r in records if r["density"] == d and r["image"] == records[0]["image"]}
        for d in ("none", "sparse", "full")
    }
    assert hints["none"] == {0} and 0 < min(hints["sparse"]) <= min(hints["full"])
    rows = {(r["method"], r["density"]): r for r in quality.aggregate(records)}
    assert rows[("krita", "full")]["n"] == 1 and rows[("levin", "full")]["n"] == 2
    assert math.isnan(rows[("levin", "none")]["hint_de00"])
    # hints are hard constraints of Levin's system; a dot in every area separates colours at the
    # lines, where bare line art (no colour at all) has no contrast; more hints, closer colours
    lv = {d: rows[("levin", d)] for d in ("sparse", "full")}
    assert lv["full"]["hint_de00"] < 1.0
    assert lv["full"]["bleed"] < 0.5 < rows[("lineart", "full")]["bleed"]
    assert lv["full"]["de00"] < lv["sparse"]["de00"]
    only_first = quality.aggregate(records, {records[0]["image"]})
    assert all(r["n"] == 1 for r in only_first)
    meta, again = quality.load_results(out / "quality.json")
    assert len(again) == len(records) and meta["model"]["random_weights"]
    names = {p.name for p in (out / "samples").iterdir()}
    assert {"0_truth.png", "0_in-lineart.png", "0_in-hints.png", "0_inkhue.png", "0_levin.png"} <= names


def test_an_exact_reproduction_counts_at_the_psnr_cap_after_a_json_round_trip(tmp_path):
    from bench import quality
    from training.evaluate import PSNR_CAP

    def record(image: str, psnr: float) -> dict:
        return {"image": image, "method": "flats", "density": "full", "hints": 3, "seconds": 0.1,
                "psnr": psnr, "de00": 0.0, "ssim": 1.0, "hint_de00": 0.0, "bleed": float("nan")}  # fmt: skip

    quality.write_results(tmp_path / "q.json", [record("a", math.inf), record("b", 20.0)], {})
    _, again = quality.load_results(tmp_path / "q.json")
    assert again[0]["psnr"] is None  # JSON has no infinity
    (row,) = quality.aggregate(again)
    assert row["psnr"] == (PSNR_CAP + 20.0) / 2  # not 20.0: the exact one is the best, not missing
    assert math.isnan(row["bleed"])  # a NaN score stays left out


def test_spread_subset_links_a_spread_of_the_split(tiny_corpus, tmp_path):
    from training.corpus import load_image, load_manifest

    sub = quality.spread_subset(tiny_corpus, "val", 1, tmp_path / "one")
    rows = load_manifest(sub, "val")
    assert len(rows) == 1 and load_image(sub, rows[0]).shape == (80, 96, 3)
    assert len(load_manifest(quality.spread_subset(tiny_corpus, "val", 5, tmp_path / "all"), "val")) == 2


def test_report_writes_tables_and_plots(quality_run, random_model_dir, tmp_path):
    out, _ = quality_run
    from engine.modelspec import load_manifest

    manifest = load_manifest(random_model_dir)
    costs = {256: speed.hardware.model_cost(manifest, 256)}
    rows = [
        {
            "variant": "onnx",
            "kind": "engine",
            "device": "cpu",
            "fp16": False,
            "size": 256,
            "p50_s": 0.5,
            "p95_s": 0.6,
            "peak_rss_mb": 300.0,
            "repeats": 3,
        },
        {
            "variant": "flood_fill",
            "kind": "baseline",
            "device": "cpu",
            "fp16": False,
            "size": 256,
            "p50_s": 0.05,
            "p95_s": 0.06,
            "peak_rss_mb": 200.0,
            "repeats": 3,
        },
    ]
    rates = {"cpu": {"matmul_gflops": {"fp32": 50.0}, "copy_gbps": 10.0}}
    speed.add_floors_and_ratios(rows, costs, rates)
    assert rows[0]["x_flood_fill"] == pytest.approx(10.0)
    assert rows[0]["floor_s"] == pytest.approx(max(costs[256]["flops"] / 50e9, costs[256]["bytes"] / 10e9))
    speed_json = tmp_path / "speed.json"
    meta = {
        "model": {"name": "m", "version": "1", "random_weights": True},
        "machine": "test",
        "rates": rates,
        "costs": {"256": costs[256]},
        "skipped": {"onnx-cuda": "no GPU"},
    }
    speed_json.write_text(json.dumps({"meta": meta, "rows": rows}))
    # the same scores presented as the artist-drawn split: its section must come first
    data = json.loads((out / "quality.json").read_text())
    data["meta"]["split"] = "real-val"
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "quality.json").write_text(json.dumps(data))
    md = report.write_report(
        [out / "quality.json", tmp_path / "real" / "quality.json"],
        speed_json,
        tmp_path / "docs" / "benchmarks.md",
    ).read_text()
    assert md.index("## Quality: line art drawn by artists (`real-val`)") < md.index(
        "## Quality: synthesised line art (`val`)"
    )
    assert "RANDOM WEIGHTS" in md and "| density | method |" in md and "| variant | device |" in md
    assert "| sparse | levin | 2 |" in md and "### With the real applications (1 image)" in md
    assert "`onnx-cuda`: no GPU" in md
    for name in (
        "quality_vs_hints-real-val.png",
        "quality_vs_hints-val.png",
        "latency_vs_size.png",
        "samples-val.png",
    ):
        assert f"img/{name}" in md
        with Image.open(tmp_path / "docs" / "img" / name) as im:
            assert im.size[0] > 300 and im.size[1] > 150


def test_model_cost_counts_both_stages(random_model_dir):
    from engine.generator import flops_per_pixel
    from engine.modelspec import load_manifest

    m = load_manifest(random_model_dir)
    c = speed.hardware.model_cost(m, 256)
    expect = flops_per_pixel(m.stages["draft"].generator) * c["draft_px"]
    expect += flops_per_pixel(m.stages["refine"].generator) * c["refine_px"]
    assert c["flops"] == pytest.approx(expect) and c["bytes"] > 0
    assert c["refine_px"] >= 256 * 256  # tiles cover the canvas, overlaps counted
    assert speed.unavailable("onnx") is None and "valid" in speed.unavailable("tpu")


def test_regions_bench_times_every_step(tmp_path):
    from bench import regions

    assert regions.main(["--sizes", "64", "96", "--repeat", "1", "--json", str(tmp_path / "r.json")]) == 0
    rows = json.loads((tmp_path / "r.json").read_text())
    assert [r["side"] for r in rows] == [64, 96]
    assert all(r[k] > 0 for r in rows for k in ("regions", "regions+flats", "region channels"))
    assert "| 96² |" in regions.format_table(rows)


def test_preview_bench_reports_updates_in_process_and_served(tmp_path, random_model_dir, tiny_corpus):
    from bench import preview

    out = tmp_path / "p.json"
    argv = ["--sizes", "96", "--repeat", "2", "--drafts", "0", "64", "--model", str(random_model_dir)]
    argv += ["--corpus", str(tiny_corpus), "--split", "val", "--limit", "2", "--json", str(out)]
    assert preview.main(argv) == 0
    report = json.loads(out.read_text())
    default, small = report["latency"]
    assert [default["draft"], small["draft"]] == [0, 64]
    for row in (default, small):
        assert row["side"] == 96 and row["cache_misses"] == 1 and row["cache_hits"] == 7
        assert all(row[k][0] > 0 for k in ("update_ms", "moved_ms", "served_ms", "full_ms"))
    table = preview.format_table(report["latency"])
    assert f"| 96² | {preview_size()} px (default) |" in table and "| 96² | 64 px |" in table
    full, *drafts = report["quality"]
    assert full["draft"] == "full request" and [r["draft"] for r in drafts] == [0, 64]
    assert all(r["n"] == 2 and r["psnr"] > 0 and r["de00"] >= 0 for r in report["quality"])
    assert drafts[1]["de00_vs_full"] > 0  # a 64 px draft of a 96 px picture is not the full result
    assert "| 64 px | 2 |" in preview.format_quality(report["quality"])


def preview_size() -> int:
    from engine.preview import PREVIEW_SIZE

    return PREVIEW_SIZE


def test_application_scores_are_reused_only_from_a_run_of_the_same_inputs(tmp_path):
    import argparse
    import json

    from bench.quality import reused_app_records

    rows = [
        {"image": "a", "density": "full", "method": "krita", "psnr": 20.0},
        {"image": "a", "density": "full", "method": "inkhue", "psnr": 15.0},
    ]
    meta = {"split": "real-val", "limit": 60, "seed": 0, "app_limit": 60, "apps": {"krita": {"ran": True}}}
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"meta": meta, "records": rows}))
    args = argparse.Namespace(split="real-val", limit=60, seed=0)
    got, status, app_limit = reused_app_records(old, args, {"a", "b"})
    assert got == rows[:1] and status["krita"]["reused_from"] == str(old) and app_limit == 60
    with pytest.raises(SystemExit, match="seed"):
        reused_app_records(old, argparse.Namespace(split="real-val", limit=60, seed=1), {"a"})
    with pytest.raises(SystemExit, match="lacks"):
        reused_app_records(old, args, {"b"})


def test_krita_gets_the_cases_it_can_fill_and_no_stand_in_for_those_left_out(monkeypatch):
    la = np.full((16, 16, 4), 255, np.uint8)

    def case(key: str, colours: int) -> apps.Case:
        hints = np.zeros((16, 16, 4), np.uint8)
        for i in range(colours):
            hints[i, 0] = (10 * i, 0, 0, 255)
        return apps.Case(key, la, hints)

    cases = [case("a-sparse", 1), case("b-full", 3), case("c-full", 5)]
    monkeypatch.setattr(quality, "KRITA_MAX_KEYS", 4)
    given, as_lineart, left_out = quality.krita_cases(cases)
    assert [c.key for c in given] == ["b-full"]
    assert [c.key for c in as_lineart] == ["a-sparse"] and left_out == 1

    monkeypatch.setattr(quality, "eval_inputs", lambda *a: [])
    monkeypatch.setattr(
        apps,
        "run_app",
        lambda name, cs: apps.AppRun(name, {c.key: (np.zeros((16, 16, 3), np.uint8), 1.0) for c in cs}),
    )
    monkeypatch.setattr(quality, "_app_cases", lambda *a: cases)
    outputs, status = quality.app_outputs(["krita"], "corpus", "val", ("sparse", "full"), None, 0)
    assert set(outputs["krita"]) == {("a", "sparse"), ("b", "full")}  # nothing stands in for c
    assert outputs["krita"][("a", "sparse")][0].min() == 255  # the line art left as is
    assert status["krita"]["as_lineart"] == 1 and status["krita"]["left_out"] == 1


def test_quality_runs_only_the_methods_asked_for(tiny_corpus, tmp_path):
    out = tmp_path / "q"
    args = ["--corpus", str(tiny_corpus), "--limit", "2", "--samples", "0", "--out", str(out)]
    assert quality.main([*args, "--methods", "flats", "lineart"]) == 0
    _, records = quality.load_results(out / "quality.json")
    assert {r["method"] for r in records} == {"flats", "lineart"} and len(records) == 2 * 3 * 2
    with pytest.raises(SystemExit):
        quality.main([*args, "--methods", "photoshop"])
