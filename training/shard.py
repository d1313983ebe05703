"""A corpus shard: a size-bounded subset of a corpus that travels with the working tree.

A lent GPU machine reaches no registry and no data: a training burst there reads a shard that was
cut here (``inkhue-train shard``) and carried along. A shard is itself a corpus (same manifest
columns, same splits), so every training and evaluation command reads it unchanged. Images are
re-encoded as lossless WebP (about 40 % smaller than the corpus's PNGs, the same pixels).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from training.corpus import load_manifest, write_manifest

log = logging.getLogger(__name__)

MIB = 1 << 20


@dataclass(frozen=True)
class ShardConfig:
    max_mib: float = 38.0  # the device's working-tree limit is 64 MiB, the repository included
    real_share: float = 0.6  # share of the bytes given to artist-drawn pairs (real-train)
    val_images: int = 8  # per validation split (val, real-val): the run's logged val batch
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.real_share <= 1.0:
            raise ValueError(f"real_share {self.real_share} is not in [0, 1]")
        if self.max_mib <= 0:
            raise ValueError(f"max_mib {self.max_mib} must be positive")


def _webp(path: Path, mode: str) -> bytes:
    buf = io.BytesIO()
    Image.open(path).convert(mode).save(buf, "WEBP", lossless=True, method=4)
    return buf.getvalue()


def _encode(corpus: Path, row: dict) -> dict[str, bytes]:
    """The row's files as shard-relative name -> bytes (image, and line art for a pair)."""
    files = {f"images/{row['id']}.webp": _webp(corpus / row["file"], "RGB")}
    if row.get("lineart"):
        files[f"lines/{row['id']}.webp"] = _webp(corpus / row["lineart"], "L")
    return files


def _order(rows: list[dict], seed: int) -> list[dict]:
    rows = sorted(rows, key=lambda r: r["id"])
    return [rows[i] for i in np.random.default_rng(seed).permutation(len(rows))]


def make_shard(corpus_dir: str | Path, out_dir: str | Path, cfg: ShardConfig = ShardConfig()) -> dict:
    """Cut a shard of at most ``cfg.max_mib`` MiB; returns image counts per split."""
    corpus, out = Path(corpus_dir), Path(out_dir)
    rows = load_manifest(corpus, None)
    by_split: dict[str, list[dict]] = {}
    for r in rows:
        by_split.setdefault(r["split"], []).append(r)
    budget = cfg.max_mib * MIB
    plan = [("val", cfg.val_images, None), ("real-val", cfg.val_images, None)]
    # the pairs take their share of the budget first; synthetic images fill what is left
    plan += [("real-train", None, cfg.real_share * budget), ("train", None, budget)]
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "lines").mkdir(exist_ok=True)
    kept: list[dict] = []
    used = 0
    for split, count, limit in plan:
        taken = 0
        for row in _order(by_split.get(split, []), cfg.seed):
            if count is not None and taken >= count:
                break
            files = _encode(corpus, row)
            size = sum(len(b) for b in files.values())
            if used + size > budget or (limit is not None and used + size > limit):
                if limit is not None and used + size > limit:
                    break
                continue
            for name, data in files.items():
                (out / name).write_bytes(data)
            new = dict(row, file=f"images/{row['id']}.webp")
            if row.get("lineart"):
                new["lineart"] = f"lines/{row['id']}.webp"
            kept.append(new)
            used += size
            taken += 1
    write_manifest(out, kept)
    counts: dict[str, int] = {}
    for r in kept:
        counts[r["split"]] = counts.get(r["split"], 0) + 1
    log.info("shard %s: %.1f MiB, %s", out, used / MIB, counts)
    return {"mib": round(used / MIB, 2), **counts}
