"""The training corpus: colour artwork on white, filtered, deduplicated, split, with a manifest.

``build_corpus`` turns the packages of ``training.sources`` (and any user folders) into
``out_dir/images/<id>.png`` (RGB) and ``out_dir/manifest.csv``. The split is a hash of the image
id, so an image stays in the same split however the corpus is rebuilt or limited.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from training import sources as src_mod
from training.artwork import FilterConfig, Job, process_image
from training.pairs import process_pair

log = logging.getLogger(__name__)

MANIFEST_COLUMNS = (
    "id",
    "file",
    "source",
    "package",
    "version",
    "licence",
    "split",
    "width",
    "height",
    "origin",
    "lineart",  # the artist's own line art (pairs only; empty: synthesised from the colour image)
)
SPLITS = ("train", "val", "real-train", "real-val")  # real: artist-drawn line art (training/pairs.py)


def near_duplicate_of(
    hashes: np.ndarray, thumbs: np.ndarray, max_bits: int = 12, max_colour: int = 24, chunk: int = 256
) -> np.ndarray:
    """For each item, the first earlier item it duplicates (close dHash and colours), else -1."""
    n = len(hashes)
    first = np.full(n, -1, np.intp)
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        bits = np.bitwise_count(hashes[a:b, None, :] ^ hashes[None, :b, :]).sum(-1)
        col = np.abs(thumbs[a:b, None, :] - thumbs[None, :b, :]).max(-1)
        close = (bits <= max_bits) & (col <= max_colour)
        close &= np.arange(b)[None, :] < np.arange(a, b)[:, None]  # earlier items only
        first[a:b] = np.where(close.any(1), close.argmax(1), -1)
    return first


def near_duplicates(hashes: np.ndarray, thumbs: np.ndarray, **kwargs) -> np.ndarray:
    """Boolean mask: item j duplicates some earlier item."""
    return near_duplicate_of(hashes, thumbs, **kwargs) >= 0


def split_of(image_id: str, seed: int, val_fraction: float) -> str:
    h = int.from_bytes(hashlib.sha256(f"{seed}:{image_id}".encode()).digest()[:8], "big")
    return "val" if h / 2**64 < val_fraction else "train"


# ---------------------------------------------------------------- building


def _process(job: Job) -> dict:
    """Worker: one source file -> its kept artwork (and a pair's own line art), or a reject reason."""
    return process_pair(job) if job.pairs else process_image(job)


def build_corpus(
    out_dir: str | Path,
    sources: tuple[str, ...] | list[str] = src_mod.DEFAULT_SOURCES,
    extra_dirs: tuple[str | Path, ...] | list[str | Path] = (),
    max_side: int = 512,
    seed: int = 0,
    limit: int | None = None,
    cache_dir: str | Path = "data/cache",
    val_fraction: float = 0.07,
    workers: int | None = None,
    cfg: FilterConfig = FilterConfig(),
    real_val_fraction: float = 0.25,
    pairs_dirs: tuple[str | Path, ...] | list[str | Path] = (),
) -> Path:
    """Build the corpus; ``limit`` caps the files taken from each source (first in sorted order).

    Pair sources (artist-drawn line art) make the ``real-train`` / ``real-val`` splits. They are
    processed after the image sources, and a drawing that is also among the images (openclipart's
    PNG and SVG packages hold the same drawings) goes to the same side: held out by drawing.
    """
    out = Path(out_dir)
    images = out / "images"
    images.mkdir(parents=True, exist_ok=True)
    fetched = [src_mod.fetch(name, cache_dir) for name in sources]
    fetched += [src_mod.user_folder(d) for d in extra_dirs]
    fetched += [src_mod.user_folder(d, pairs=True) for d in pairs_dirs]
    fetched.sort(key=lambda f: f.pairs)  # images first: pairs are matched against them

    rows: list[dict] = []
    hashes: list[np.ndarray] = []
    thumbs: list[np.ndarray] = []
    reasons: Counter = Counter()
    workers = workers or os.cpu_count() or 1
    seen_ids: set[str] = set()
    n_files: list[int] = []
    for f in fetched:
        files = f.files[:limit] if limit is not None else f.files
        n_files.append(len(files))
        jobs = [Job(str(p), str(images), max_side, cfg, f.pairs) for p in files]
        if workers > 1 and len(jobs) > 8:
            with ProcessPoolExecutor(workers) as pool:
                results = list(pool.map(_process, jobs, chunksize=16))
        else:
            results = [_process(j) for j in jobs]
        for r in results:
            if r["reason"] is None and r["id"] in seen_ids:
                r["reason"] = "duplicate"  # byte-identical output of another file
            if r["reason"]:
                reasons[(f.source, r["reason"])] += 1
                continue
            seen_ids.add(r["id"])
            split = split_of(r["id"], seed, real_val_fraction if f.pairs else val_fraction)
            rows.append(
                {
                    "id": r["id"],
                    "file": f"images/{r['id']}.png",
                    "source": f.source,
                    "package": f.package,
                    "version": f.version,
                    "licence": f.licence,
                    "split": f"real-{split}" if f.pairs else split,
                    "width": r["width"],
                    "height": r["height"],
                    "origin": os.path.relpath(r["path"], f.root),
                    "lineart": r.get("lineart", ""),
                }
            )
            hashes.append(r["hash"])
            thumbs.append(r["thumb"])
        log.info("%s: %d files, %d kept so far", f.source, len(files), len(rows))

    if rows:
        dup_of = near_duplicate_of(np.stack(hashes), np.stack(thumbs))
        drop = np.zeros(len(rows), bool)
        for j, i in enumerate(dup_of):
            if i < 0:
                continue
            row, first = rows[j], rows[i]
            if bool(row["lineart"]) and not first["lineart"]:
                # the artist's line art of a drawing that is also an image: same side of the split
                row["split"] = "real-val" if first["split"] == "val" else "real-train"
                continue
            drop[j] = True
            reasons[(row["source"], "near-duplicate")] += 1
        rows = [row for row, d in zip(rows, drop, strict=True) if not d]
    keep = {row["id"] for row in rows}
    for stale in [*images.glob("*.png"), *(out / "lines").glob("*.png")]:  # an earlier build's leftovers
        if stale.stem not in keep:
            stale.unlink()
    write_manifest(out, rows)
    dropped: dict[str, dict[str, int]] = {}
    for (source, reason), count in sorted(reasons.items()):
        log.info("dropped %s: %s x%d", source, reason, count)
        dropped.setdefault(source, {})[reason] = count
    report = {
        "sources": [
            {"source": f.source, "package": f.package, "version": f.version, "licence": f.licence, "files": n}
            for f, n in zip(fetched, n_files, strict=True)
        ],
        "kept": summary(rows),
        "dropped": dropped,
        "settings": {
            "max_side": max_side,
            "seed": seed,
            "limit": limit,
            "val_fraction": val_fraction,
            "real_val_fraction": real_val_fraction,
        },
    }
    (out / "build.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return out


def write_manifest(corpus_dir: str | Path, rows: list[dict]) -> Path:
    path = Path(corpus_dir) / "manifest.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_COLUMNS)
        writer.writeheader()
        writer.writerows(sorted(rows, key=lambda r: (r["split"], r["source"], r["id"])))
    return path


def load_manifest(corpus_dir: str | Path, split: str | None = "train") -> list[dict]:
    """Rows of the manifest (all of them when ``split`` is None)."""
    if split is not None and split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; valid: {', '.join(SPLITS)}")
    path = Path(corpus_dir) / "manifest.csv"
    if not path.exists():
        raise FileNotFoundError(f"no corpus manifest at {path}; build it with `inkhue-train corpus`")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        row["width"], row["height"] = int(row["width"]), int(row["height"])
    return [r for r in rows if split is None or r["split"] == split]


def load_image(corpus_dir: str | Path, row: dict) -> np.ndarray:
    """The corpus image of a manifest row as H×W×3 uint8 RGB."""
    return np.asarray(Image.open(Path(corpus_dir) / row["file"]).convert("RGB"))


def load_lineart(corpus_dir: str | Path, row: dict) -> np.ndarray | None:
    """The artist's own line art of a pair row as H×W×4 RGBA (lines on white), else None."""
    if not row.get("lineart"):
        return None
    luma = np.asarray(Image.open(Path(corpus_dir) / row["lineart"]).convert("L"))
    return np.stack([luma, luma, luma, np.full_like(luma, 255)], -1)


def summary(rows: list[dict]) -> dict[str, dict[str, int]]:
    """Image counts per source and split."""
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        out.setdefault(r["source"], {s: 0 for s in SPLITS})[r["split"]] += 1
    return out
