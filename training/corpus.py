"""The training corpus: colour artwork on white, filtered, deduplicated, split, with a manifest.

``build_corpus`` turns the packages of ``training.sources`` (and any user folders) into
``out_dir/images/<id>.png`` (RGB) and ``out_dir/manifest.csv``. The split is a hash of the image
id, so an image stays in the same split however the corpus is rebuilt or limited.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from training import sources as src_mod

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
MAX_SOURCE_PIXELS = 40_000_000  # a few openclipart PNGs are poster-sized; decoding them costs GBs
_LAPLACE = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


@dataclass(frozen=True)
class FilterConfig:
    """Thresholds that tell flat colour artwork from what is not (measured on u8 RGB on white)."""

    min_side: int = 64  # after trimming the white border
    min_content: float = 0.02  # fraction of non-white pixels below this = blank
    ink_level: int = 12  # a pixel differs from white by more than this = content
    chroma: int = 40  # max-min over RGB above this = a coloured pixel
    min_colourful: float = 0.04  # fraction of coloured content pixels below this = near-grayscale
    noise_level: float = 6.0  # |3x3 Laplacian| above this = a textured pixel (0 on flat fills/ramps)
    max_textured: float = 0.45  # fraction of textured content pixels above this = photo-like / noisy
    margin: float = 0.03  # white margin added around the trimmed artwork, per side


# ---------------------------------------------------------------- pixels


class TooLarge(ValueError):
    """A source image over MAX_SOURCE_PIXELS (decoding it would cost GBs for a 512 px result)."""


def load_rgba(path: str | Path, render_px: int = 512) -> np.ndarray:
    """Any raster file or SVG as H×W×4 uint8 (SVGs are rendered ``render_px`` wide)."""
    path = Path(path)
    if path.suffix.lower() == ".svg":
        import cairosvg  # lazily: only SVG sources need cairo

        png = cairosvg.svg2png(url=str(path), output_width=render_px)
        if png is None:  # only when asked to write to a file
            raise ValueError(f"cairosvg rendered nothing for {path}")
        img = Image.open(io.BytesIO(png))
    else:
        try:
            img = Image.open(path)
        except Image.DecompressionBombError as e:  # PIL's own limit, far above ours
            raise TooLarge(str(e)) from e
        if img.width * img.height > MAX_SOURCE_PIXELS:
            raise TooLarge(f"{img.width}x{img.height} is too large to be worth decoding")
        img.seek(0)
    return np.asarray(img.convert("RGBA"))


def over_white(rgba_u8: np.ndarray) -> np.ndarray:
    a = rgba_u8[..., 3:4].astype(np.float32) / 255.0
    rgb = rgba_u8[..., :3].astype(np.float32) * a + 255.0 * (1.0 - a)
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


def trim(rgb_u8: np.ndarray, ink_level: int) -> np.ndarray | None:
    """Crop to the bounding box of non-white pixels; None if there are none."""
    content = (255 - rgb_u8.min(axis=2)) > ink_level
    rows, cols = np.flatnonzero(content.any(1)), np.flatnonzero(content.any(0))
    if rows.size == 0:
        return None
    return rgb_u8[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def fit(rgb_u8: np.ndarray, max_side: int, margin: float) -> np.ndarray:
    """Scale down so the artwork plus a white margin fits ``max_side``; then add the margin."""
    h, w = rgb_u8.shape[:2]
    m = round(margin * min(max(h, w), max_side))
    scale = min(1.0, (max_side - 2 * m) / max(h, w))
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        rgb_u8 = np.asarray(Image.fromarray(rgb_u8).resize(size, Image.Resampling.LANCZOS))
    return np.pad(rgb_u8, ((m, m), (m, m), (0, 0)), constant_values=255)


def reject_reason(rgb_u8: np.ndarray, cfg: FilterConfig = FilterConfig()) -> str | None:
    """Why a trimmed image is not usable colour artwork, or None to keep it."""
    if min(rgb_u8.shape[:2]) < cfg.min_side:
        return "tiny"
    x = rgb_u8.astype(np.int16)
    content = (255 - x.min(axis=2)) > cfg.ink_level
    n = int(content.sum())
    if n < cfg.min_content * content.size:
        return "blank"
    chroma = x.max(axis=2) - x.min(axis=2)
    if (chroma[content] > cfg.chroma).sum() < cfg.min_colourful * n:
        return "grayscale"
    # the Laplacian vanishes on flat fills and linear gradients, so in clip art it fires only on
    # edges; photos, scans and JPEG noise fire nearly everywhere
    lap = np.max([np.abs(ndimage.convolve(x[..., c].astype(np.float32), _LAPLACE)) for c in range(3)], 0)
    if (lap[content] > cfg.noise_level).mean() > cfg.max_textured:
        return "photo"
    return None


def dhash(rgb_u8: np.ndarray, size: int = 16) -> np.ndarray:
    """Difference hash of the luma as ``size``×``size`` bits packed into uint64 words."""
    gray = Image.fromarray(rgb_u8).convert("L").resize((size + 1, size), Image.Resampling.BILINEAR)
    g = np.asarray(gray, np.int16)
    bits = (g[:, 1:] > g[:, :-1]).ravel()
    return np.packbits(bits).view(">u8").astype(np.uint64)


def thumb(rgb_u8: np.ndarray) -> np.ndarray:
    """4×4 colour thumbnail: separates recolourings that share a dHash."""
    return np.asarray(Image.fromarray(rgb_u8).resize((4, 4), Image.Resampling.BOX), np.int16).ravel()


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


@dataclass(frozen=True)
class _Job:
    path: str
    images_dir: str
    max_side: int
    cfg: FilterConfig
    pairs: bool = False  # render the drawing whole and as its own ink (training/pairs.py)


def _process(job: _Job) -> dict:
    """Worker: one file -> kept image written to disk, or a reject reason."""
    if job.pairs:
        from training.pairs import process_pair

        return process_pair(job)
    try:
        rgb = trim(over_white(load_rgba(job.path, render_px=job.max_side)), job.cfg.ink_level)
    except TooLarge:
        return {"path": job.path, "reason": "huge"}
    except Exception as e:  # noqa: BLE001 - one broken file must not stop a corpus build
        return {"path": job.path, "reason": f"unreadable: {type(e).__name__}"}
    if rgb is None:
        return {"path": job.path, "reason": "blank"}
    reason = reject_reason(fit(rgb, job.max_side, 0.0), job.cfg)
    if reason:
        return {"path": job.path, "reason": reason}
    rgb = fit(rgb, job.max_side, job.cfg.margin)
    return save_kept(job, rgb)


def save_kept(job: _Job, rgb: np.ndarray, line: np.ndarray | None = None) -> dict:
    """Write a kept image (and a pair's line art) under its content id; the worker's answer."""
    content = rgb.tobytes() + (b"" if line is None else line.tobytes()) + str(rgb.shape).encode()
    image_id = hashlib.sha256(content).hexdigest()[:16]
    Image.fromarray(rgb).save(Path(job.images_dir) / f"{image_id}.png", optimize=False)
    kept = {
        "path": job.path,
        "reason": None,
        "id": image_id,
        "height": rgb.shape[0],
        "width": rgb.shape[1],
        "hash": dhash(rgb),
        "thumb": thumb(rgb),
    }
    if line is not None:
        lines_dir = Path(job.images_dir).parent / "lines"
        lines_dir.mkdir(exist_ok=True)
        Image.fromarray(line).save(lines_dir / f"{image_id}.png", optimize=False)
        kept["lineart"] = f"lines/{image_id}.png"
    return kept


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
        jobs = [_Job(str(p), str(images), max_side, cfg, f.pairs) for p in files]
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
