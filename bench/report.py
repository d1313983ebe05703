"""docs/benchmarks.md with its plots and sample sheet, from the JSON that quality.py and speed.py wrote.

    python -m bench.report [--quality runs/bench-real/quality.json --quality runs/bench/quality.json]
                           [--speed runs/bench/speed.json] [--out docs/benchmarks.md]

One quality section per ``--quality`` file, the artist-drawn (``real-val``) split first.

Never edit the markdown by hand: regenerate it (quality.py, speed.py, then this) whenever the model
changes. Images go to ``img/`` beside the markdown, small PNGs only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from bench.quality import KRITA_MAX_KEYS, aggregate, load_results
from training.evaluate import format_table
from training.hints import DENSITIES

# display order and names; anything else follows alphabetically
METHOD_ORDER = ("inkhue", "flats", "krita", "gimp", "levin", "watershed", "flood_fill", "lineart")
LABELS: dict[str, str] = {
    "inkhue": "Inkhue",
    "flats": "Inkhue flats (no AI)",
    "krita": "Krita Colorize Mask",
    "gimp": "GIMP 3 bucket fill",
    "levin": "Levin et al. 2004",
    "watershed": "watershed",
    "flood_fill": "flood fill",
    "lineart": "line art only",
}
APP_METHODS = ("krita", "gimp")
# one colour per method in every panel (matplotlib's tab10, in display order)
COLOURS: dict[str, str] = dict(zip(METHOD_ORDER, ("C0", "C6", "C1", "C2", "C3", "C4", "C5", "C7")))
APP_HOW = {
    "krita": "Colorize Mask (lazy brush) through Krita 5.2's Python API, one key stroke per hint colour, "
    "Krita's default mask settings",
    "gimp": "`gimp-drawable-edit-bucket-fill` per hint mark, fill similar colours on the merged line art "
    "(threshold 0.5); GIMP 3.0's PDB has no line-art fill mode (GUI only)",
}
THUMB = 176  # sample sheet cell height, px


def _order(methods) -> list[str]:
    rank = {m: i for i, m in enumerate(METHOD_ORDER)}
    return sorted(set(methods), key=lambda m: (rank.get(m, len(rank)), m))


def _plt():
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def plot_quality(groups: list[tuple[str, list[dict]]], path: Path) -> Path:
    """Per group of rows (one image set each), four panels against the mean number of hint marks."""
    plt = _plt()
    panels = (("psnr", "PSNR (dB) ↑"), ("de00", "mean ΔE00 ↓"), ("ssim", "SSIM ↑"), ("bleed", "bleeding ↓"))
    fig, axes = plt.subplots(len(groups), 4, figsize=(15, 3.4 * len(groups)), dpi=80, squeeze=False)
    for (label, rows), row_axes in zip(groups, axes):
        for ax, (key, title) in zip(row_axes, panels):
            for m in _order(r["method"] for r in rows):
                pts = sorted((r["hints"], r[key]) for r in rows if r["method"] == m and math.isfinite(r[key]))
                if pts:
                    xs, ys = zip(*pts)
                    style = "--" if m in APP_METHODS else "-"
                    ax.plot(xs, ys, style, marker="o", color=COLOURS.get(m, "C9"), label=LABELS.get(m, m))
            ax.set_title(f"{title} — {label}", fontsize=9)
            ax.set_xlabel("hint marks per image (mean)")
            ax.grid(alpha=0.3)
        row_axes[0].legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    """Save as a small PNG: 8-bit palette (the plots and thumbnails need no more colours)."""
    import io

    plt = _plt()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    plt.close(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.open(buf).convert("RGB").quantize(256, dither=Image.Dither.NONE).save(path, optimize=True)
    return path


def plot_latency(rows: list[dict], path: Path) -> Path:
    """p50 latency against canvas side per variant (log-log); each device's floor dotted."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=80)
    for v in sorted({r["variant"] for r in rows}):
        rs = sorted((r for r in rows if r["variant"] == v), key=lambda r: r["size"])
        ax.plot([r["size"] for r in rs], [r["p50_s"] for r in rs], marker="o", label=v)
    for dev in sorted({r["device"] for r in rows if r.get("floor_s") and not r.get("fp16")}):
        floors = {
            r["size"]: r["floor_s"] for r in rows if r["device"] == dev and r.get("floor_s") and not r["fp16"]
        }
        xs = sorted(floors)
        ax.plot(xs, [floors[x] for x in xs], "k:", label=f"floor on {dev} (fp32)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("canvas side (px, square)")
    ax.set_ylabel("p50 latency (s)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return _save(fig, path)


def _thumb(img: Image.Image) -> Image.Image:
    w, h = img.size
    return img.convert("RGB").resize((max(1, round(w * THUMB / h)), THUMB), Image.Resampling.LANCZOS)


def _hints_view(lineart: Image.Image, hints_rgba: np.ndarray) -> Image.Image:
    """The line art with every hint mark drawn as a ringed dot big enough to see in a thumbnail."""
    from bench.apps import hint_marks

    view = _thumb(lineart)
    s = view.size[1] / lineart.size[1]
    d = ImageDraw.Draw(view)
    for x, y, rgb in hint_marks(hints_rgba):
        cx, cy = x * s, y * s
        d.ellipse([cx - 4, cy - 4, cx + 4, cy + 4], fill=rgb, outline=(0, 0, 0))
    return view


def sample_sheet(sample_dir: Path, n: int, methods: list[str], path: Path) -> Path | None:
    """Rows: sample images; columns: line art, hints, each method's result, the true image."""
    plt = _plt()
    rows = [i for i in range(n) if (sample_dir / f"{i}_truth.png").exists()]
    if not rows:
        return None
    # a method with no picture at all (application scores reused from an earlier run) gets no column
    methods = [m for m in methods if any((sample_dir / f"{i}_{m}.png").exists() for i in rows)]
    cols = ["line art", "hints", *[LABELS.get(m, m) for m in methods], "ground truth"]
    fig, axes = plt.subplots(
        len(rows), len(cols), figsize=(1.6 * len(cols), 1.75 * len(rows)), dpi=90, squeeze=False
    )
    for r, i in enumerate(rows):
        lineart = Image.open(sample_dir / f"{i}_in-lineart.png")
        hints = np.asarray(Image.open(sample_dir / f"{i}_in-hints.png").convert("RGBA"))
        cells: list[Image.Image | None] = [_thumb(lineart), _hints_view(lineart, hints)]
        for m in methods:
            f = sample_dir / f"{i}_{m}.png"
            cells.append(_thumb(Image.open(f)) if f.exists() else None)
        cells.append(_thumb(Image.open(sample_dir / f"{i}_truth.png")))
        for c, (ax, img) in enumerate(zip(axes[r], cells)):
            ax.set_xticks([])
            ax.set_yticks([])
            if img is not None:
                ax.imshow(np.asarray(img))
            else:
                ax.text(0.5, 0.5, "not run", ha="center", va="center", transform=ax.transAxes)
            if r == 0:
                ax.set_title(cols[c], fontsize=7)
    fig.tight_layout(pad=0.3)
    return _save(fig, path)


def _shown(path: str) -> str:
    """The corpus path as a reader's checkout has it (the project's default location)."""
    return "data/corpus" if Path(path).as_posix().endswith("/data/corpus") else path


def _n(count: int) -> str:
    return f"{count} image" if count == 1 else f"{count} images"


def _best(rows: list[dict]) -> str:
    """One line: the method with the lowest mean ΔE00 at each density."""
    parts = []
    for d in DENSITIES:
        if d == "none":  # without hints every classical method leaves the paper white: a tie
            continue
        rs = [r for r in rows if r["density"] == d and math.isfinite(r["de00"])]
        if rs:
            b = min(rs, key=lambda r: r["de00"])
            parts.append(f"{d}: {LABELS.get(b['method'], b['method'])} ({b['de00']:.2f})")
    return "Lowest mean ΔE00 with hints — " + "; ".join(parts) + "."


def _hint_means(rows: list[dict]) -> str:
    means = {r["density"]: r["hints"] for r in rows if r["method"] == "flood_fill"}
    return ", ".join(f"{d}: {means[d]:.1f}" for d in DENSITIES if d in means)


def _model_line(meta: dict, speed: bool = False) -> str:
    m = meta["model"]
    if m.get("random_weights") and speed:
        return (
            f"> **Model: `{m['name']}` {m['version']}**, random weights with the shipped architecture "
            "(the trained model has not landed); latency depends on the architecture, not the weights."
        )
    if m.get("random_weights"):
        return (
            f"> **Model: `{m['name']}` {m['version']} — RANDOM WEIGHTS**, a stand-in with the shipped "
            "architecture because the trained model has not landed yet. Inkhue's quality numbers below "
            "say nothing about the trained model; its speed numbers do (latency depends on the "
            "architecture only). Regenerate this page when the trained model is installed."
        )
    return f"> **Model:** `{m['name']}` {m['version']}."


def _is_real(meta: dict) -> bool:
    return str(meta.get("split", "")).startswith("real")


def quality_section(meta: dict, records: list[dict], img_dir: Path, rel: str) -> list[str]:
    rows = aggregate(records)
    images = sorted({r["image"] for r in records})
    real = _is_real(meta)
    tag = f"-{meta['split']}"
    lines_from = (
        "the artists' own line art (each drawing's ink, `training/pairs.py`)"
        if real
        else "synthetic line art (`training/lines.py`)"
    )
    out = [
        f"## Quality: {'line art drawn by artists' if real else 'synthesised line art'} (`{meta['split']}`)",
        "",
        _model_line(meta),
        "",
        f"Inputs: {_n(len(images))} spread evenly over the {meta.get('split_size', '?')} of the "
        f"`{meta['split']}` split of `{_shown(meta['corpus'])}` "
        f"(seed {meta['seed']}); {lines_from} and hints per colour area at three densities, the "
        f"same inputs for every method. Mean hint marks per image — {_hint_means(rows)}. "
        "Every method's colours are multiplied by the line plane (lines on top), as the engine does. "
        "Seconds per image on this machine (shared CPU, so timings are noisy).",
        "",
    ]
    in_process = [r for r in rows if r["method"] not in APP_METHODS]
    out += [f"### All methods in process ({_n(len(images))})", "", format_table(in_process), ""]
    out += [_best(in_process), ""]
    app_images = {r["image"] for r in records if r["method"] in APP_METHODS}
    groups = [(f"{_n(len(images))}, in process", in_process)]
    if app_images:
        app_rows = [r for r in aggregate(records, app_images) if r["density"] != "none"]
        groups.append((f"{_n(len(app_images))}, with the applications", app_rows))
        out += [
            f"### With the real applications ({_n(len(app_images))})",
            "",
            "Every method on the images the applications were given (hinted densities only: with no "
            "hint the applications have nothing to fill). Application seconds are measured inside "
            "the application around the fill itself (start-up excluded). Krita's Colorize Mask never "
            "finishes with fewer than two key colours: those cases are scored as the line art left "
            "as is.",
            "",
            format_table(app_rows),
            "",
        ]
    out += [
        "### Applications",
        "",
        "Cases are image × hinted density; wall time includes starting the application once.",
        "",
        "| application | how it is driven | ran | cases | version | wall (s) | note |",
        "|---|---|---|---:|---|---:|---|",
    ]
    for app, s in meta.get("apps", {}).items():
        note = (s.get("reason") or "").replace("|", "/").replace("\n", " ")[:300]
        if s.get("left_out"):
            cap = f"over {KRITA_MAX_KEYS} key colours"
            note = f"{s['left_out']} case(s) with {cap} left out (they hang Krita); {note}"
        if s.get("reused_from"):  # the same inputs scored by an earlier run (bench.quality --apps-from)
            note = f"scores of an earlier run on the same inputs ({_shown(s['reused_from'])}); {note}"
        ran = "yes" if s.get("ran") else "no"
        out.append(
            f"| {app} | {APP_HOW.get(app, '')} | {ran} | {s.get('cases', 0)} | {s.get('version', '')} "
            f"| {s.get('wall_s', '')} | {note} |"
        )
    if not meta.get("apps"):
        out.append("| – | not requested in this run (`--apps krita gimp`) | | | | | |")
    out.append("")
    plot_quality(groups, img_dir / f"quality_vs_hints{tag}.png")
    out += [f"![quality against the number of hints]({rel}/quality_vs_hints{tag}.png)", ""]
    methods = _order(r["method"] for r in records)
    sheet_path = img_dir / f"samples{tag}.png"
    sheet = sample_sheet(Path(meta["samples_dir"]), meta.get("samples", 0), methods, sheet_path)
    if sheet:
        out += [
            f"### Sample sheet ({meta.get('sample_density', 'sparse')} hints)",
            "",
            f"![line art, hints, each method's result and the true image]({rel}/{sheet_path.name})",
            "",
        ]
    return out


def speed_section(data: dict, img_dir: Path, rel: str) -> list[str]:
    from bench.speed import format_table as speed_table

    meta, rows = data["meta"], data["rows"]
    out = ["## Speed", "", _model_line(meta, speed=True), "", f"Machine: {meta['machine']}.", ""]
    for dev, r in meta.get("rates", {}).items():
        mm = ", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in r["matmul_gflops"].items())
        out.append(f"- measured on {dev}: dense matmul {mm}; copy bandwidth {r['copy_gbps']:.1f} GB/s")
    costs = meta.get("costs", {})
    if costs:
        out.append(
            "- model cost per canvas: "
            + ", ".join(
                f"{k}²: {v['flops'] / 1e9:.0f} GFLOP / {v['bytes'] / 1e9:.2f} GB" for k, v in costs.items()
            )
        )
    out += [
        "",
        "p50/p95 over the timed runs (`runs`; one warm-up run first up to 2048²), peak RSS of the "
        "measuring process, floor = max(FLOPs / matmul rate, activation bytes / copy bandwidth) on the "
        "row's device, and the ratio to the classical baselines at the same size in the same run. "
        "Above 2048² one run each (p95 = p50); Levin et al. only up to 1024², where one solve "
        "already takes seconds; the CPU is shared with other jobs, so expect ±30 % between runs.",
        "",
        speed_table(rows),
        "",
    ]
    if meta.get("skipped"):
        out += ["Not measured here:", ""]
        out += [f"- `{k}`: {v}" for k, v in meta["skipped"].items()]
        out.append("")
    plot_latency(rows, img_dir / "latency_vs_size.png")
    out += [f"![latency against canvas size]({rel}/latency_vs_size.png)", ""]
    return out


def write_report(quality: list[Path] | Path | None, speed: Path | None, out: Path) -> Path:
    import json

    img_dir = out.parent / "img"
    rel = "img"
    lines = [
        "# Benchmarks",
        "",
        f"_Generated by `python -m bench.report` on {dt.date.today().isoformat()} from `bench/quality.py` "
        "and `bench/speed.py` results. Do not edit by hand: regenerate when the model changes._",
        "",
    ]
    files = [quality] if isinstance(quality, Path) else list(quality or [])
    found = [(q, *load_results(q)) for q in files if q.exists()]
    found.sort(key=lambda f: not _is_real(f[1]))  # artist-drawn line art first
    regen = [
        "python -m bench.quality --corpus data/corpus --split real-val --limit 60 --apps krita gimp "
        "--app-limit 60 --out runs/bench-real",
        "python -m bench.quality --corpus data/corpus --limit 40 --apps krita gimp --out runs/bench",
    ]
    if found:
        regen = []
        for q, meta, records in found:
            apps = " ".join(meta.get("apps", {}))
            regen.append(
                f"python -m bench.quality --corpus {_shown(meta['corpus'])} --split {meta['split']} "
                f"--limit {meta.get('limit')} --seed {meta['seed']}"
                + (f" --apps {apps} --app-limit {meta.get('app_limit')}" if apps else "")
                + f" --samples {meta.get('samples', 0)} --out {_shown(str(q.parent))}"
            )
            meta.setdefault("samples_dir", str(q.parent / "samples"))
            lines += quality_section(meta, records, img_dir, rel)
    else:
        lines += ["## Quality", "", "Not run (`python -m bench.quality`).", ""]
    if speed and speed.exists():
        lines += speed_section(json.loads(speed.read_text(encoding="utf-8")), img_dir, rel)
    else:
        lines += ["## Speed", "", "Not run (`python -m bench.speed --json ...`).", ""]
    lines += [
        "## Regenerating",
        "",
        "```",
        *regen,
        "python -m bench.speed --json runs/bench/speed.json",
        "python -m bench.report --quality runs/bench-real/quality.json --quality runs/bench/quality.json "
        "--speed runs/bench/speed.json",
        "```",
        "",
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines), encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument(
        "--quality",
        type=Path,
        action="append",
        help="quality.json (repeatable; default: runs/bench-real, runs/bench)",
    )
    p.add_argument("--speed", type=Path, default=Path("runs/bench/speed.json"))
    p.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    args = p.parse_args(argv)
    quality = args.quality or [Path("runs/bench-real/quality.json"), Path("runs/bench/quality.json")]
    print(write_report(quality, args.speed, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
