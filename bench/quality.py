"""Quality benchmark: Inkhue against the colorizers an artist would otherwise use, in one run.

    python -m bench.quality --corpus DIR [--limit 40] [--model DIR] [--apps krita gimp]
                            [--app-limit 4] [--out runs/bench]

Every method sees exactly the same inputs: the validation images' synthetic line art and hints at
each density (``training.evaluate.eval_inputs``), and is scored against the true image with
``training.metrics``. The in-process methods run on every image; the real applications (Krita's
Colorize Mask, GIMP's bucket fill, see ``bench.apps``) run on the first ``--app-limit`` images in one
batch per application, and their in-app seconds are kept. Writes ``OUT/quality.json`` (every
per-image score, so the report can compare methods on the same subset) and a few sample images.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from bench.common import Method, classical_methods, default_model
from engine.errors import unknown_name
from training import metrics
from training.corpus import load_manifest
from training.evaluate import METRICS, PSNR_CAP, baseline_methods, eval_inputs, format_table, inkhue_method
from training.hints import DENSITIES

log = logging.getLogger(__name__)

SAMPLE_DENSITY = "sparse"
# more key colours than this hung Krita 5.2.9 for over 12 minutes while it made the key strokes
# (three shaded pictures, 1,700-4,000 colours); such cases are not given to Krita
KRITA_MAX_KEYS = 1000


def hint_count(hints_rgba_u8: np.ndarray | None) -> int:
    """Number of separate hint marks (connected hint pixels), the x axis of the report's plots."""
    if hints_rgba_u8 is None:
        return 0
    return int(ndimage.label(hints_rgba_u8[..., 3] > 0)[1])


def _timed(fn: Method, lineart: np.ndarray, hints: np.ndarray) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    pred = fn(lineart, hints)
    return pred, time.perf_counter() - t0


def _save_sample(out: Path, index: int, name: str, rgb_or_rgba: np.ndarray) -> None:
    out.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb_or_rgba).save(out / f"{index}_{name}.png")


def run(
    methods: dict[str, Method],
    corpus_dir: str | Path,
    split: str = "val",
    densities: tuple[str, ...] = tuple(DENSITIES),
    limit: int | None = None,
    seed: int = 0,
    precomputed: dict[str, dict[tuple[str, str], tuple[np.ndarray, float]]] | None = None,
    samples: list[str] | tuple[str, ...] = (),
    sample_dir: Path | None = None,
) -> list[dict]:
    """One record per image × density × method: scores, seconds and the number of hint marks.

    ``precomputed`` holds outputs made outside this process (the applications), keyed by
    ``(image id, density)`` with their own seconds; they are scored where present. The images
    whose ids are in ``samples`` are saved to ``sample_dir`` as ``{position in samples}_{name}.png``
    (inputs, truth and every method's result).
    """
    records: list[dict] = []
    precomputed = precomputed or {}
    for i, (row, rgb, lineart, hints) in enumerate(eval_inputs(corpus_dir, split, densities, limit, seed)):
        lab_truth = metrics.lab(rgb)
        keep = sample_dir if row["id"] in samples else None  # where this image's pictures go
        k = list(samples).index(row["id"]) if keep is not None else -1
        if keep is not None:
            _save_sample(keep, k, "truth", rgb)
            _save_sample(keep, k, "in-lineart", lineart)
            if SAMPLE_DENSITY in hints:
                _save_sample(keep, k, "in-hints", hints[SAMPLE_DENSITY])
        for d in densities:
            outputs = {name: _timed(fn, lineart, hints[d]) for name, fn in methods.items()}
            for name, table in precomputed.items():
                if (row["id"], d) in table:
                    outputs[name] = table[(row["id"], d)]
            n_hints = hint_count(hints[d])
            for name, (pred, dt) in outputs.items():
                if pred.shape != rgb.shape or pred.dtype != np.uint8:
                    raise ValueError(
                        f"method {name!r} returned {pred.dtype}{pred.shape}, expected uint8{rgb.shape}"
                    )
                s = metrics.score(pred, rgb, lineart, hints[d], lab_truth=lab_truth)
                records.append(
                    {"image": row["id"], "density": d, "method": name, "hints": n_hints, "seconds": dt, **s}
                )
                if keep is not None and d == SAMPLE_DENSITY:
                    _save_sample(keep, k, name, pred)
        log.info("image %d (%s) done", i + 1, row["id"])
    return records


def aggregate(records: Iterable[dict], images: set[str] | None = None) -> list[dict]:
    """Mean scores per method × density (``format_table``'s rows), over ``images`` if given.

    PSNR is capped as in ``training.evaluate`` (an exact reproduction would be infinite; JSON stores
    it as null, which here is the cap, not a missing score); NaN scores (no hints, no line between
    two colours) are left out of their mean.
    """
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in records:
        if images is None or r["image"] in images:
            groups.setdefault((r["method"], r["density"]), []).append(r)
    rows = []
    for (method, density), rs in groups.items():
        row: dict = {"method": method, "density": density, "n": len({r["image"] for r in rs})}
        for k in (*METRICS, "seconds", "hints"):
            if k == "psnr":  # never NaN: null is an infinite PSNR, written to JSON (write_results)
                v = np.minimum([PSNR_CAP if r[k] is None else float(r[k]) for r in rs], PSNR_CAP)
            else:
                v = np.array([_num(r[k]) for r in rs], np.float64)
            row[k] = float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")
        rows.append(row)
    return rows


def _num(v: float | None) -> float:
    return float("nan") if v is None else float(v)


def _clean(v: object) -> object:
    return None if isinstance(v, float) and not math.isfinite(v) else v


def write_results(path: Path, records: list[dict], meta: dict) -> Path:
    """``{"meta": ..., "records": [...]}`` as JSON (NaN and inf as null, JSON has neither)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    clean = [{k: _clean(v) for k, v in r.items()} for r in records]
    path.write_text(json.dumps({"meta": meta, "records": clean}, indent=1) + "\n", encoding="utf-8")
    return path


def load_results(path: Path) -> tuple[dict, list[dict]]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return data["meta"], data["records"]


def spread_subset(corpus_dir: str | Path, split: str, n: int, out_dir: Path) -> Path:
    """A corpus folder of ``n`` images spread evenly over ``split`` (the manifest is sorted by source,
    so its first rows would all come from one source). Same images, linked, not copied."""
    from training.corpus import write_manifest

    rows = load_manifest(corpus_dir, split)
    if n < len(rows):
        rows = [rows[i] for i in np.linspace(0, len(rows) - 1, n).round().astype(int)]
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [r["file"] for r in rows] + [r["lineart"] for r in rows if r.get("lineart")]
    for sub in {Path(f).parts[0] for f in files}:
        if not (out_dir / sub).exists():
            (out_dir / sub).symlink_to(Path(corpus_dir).resolve() / sub)
    write_manifest(out_dir, rows)
    return out_dir


def app_outputs(
    apps: list[str],
    corpus_dir: str | Path,
    split: str,
    densities: tuple[str, ...],
    limit: int | None,
    seed: int,
) -> tuple[dict, dict[str, dict]]:
    """Run each application once on the first ``limit`` images' hinted inputs.

    Returns (outputs per app keyed by (image id, density), status per app: ran or why not).
    """
    from bench import apps as apps_mod

    cases = _app_cases(corpus_dir, split, densities, limit, seed)
    outputs, status = {}, {}
    for app in apps:
        given, as_lineart, left_out = krita_cases(cases) if app == "krita" else (cases, [], 0)
        result = apps_mod.run_app(app, given)
        status[app] = {**result.status(), "as_lineart": len(as_lineart), "left_out": left_out}
        table = {tuple(k.rsplit("-", 1)): v for k, v in result.outputs.items()}
        if result.outputs:
            for c in as_lineart:
                table[tuple(c.key.rsplit("-", 1))] = (
                    baseline_methods()["lineart"](c.lineart_rgba_u8, None),
                    0.0,
                )
            outputs[app] = table
    return outputs, status


def _app_cases(
    corpus_dir: str | Path, split: str, densities: tuple[str, ...], limit: int | None, seed: int
) -> list:
    """One ``bench.apps.Case`` per image and hinted density: with no hint the applications have
    nothing to fill."""
    from bench import apps as apps_mod

    return [
        apps_mod.Case(f"{row['id']}-{d}", lineart, hints[d])
        for row, _rgb, lineart, hints in eval_inputs(corpus_dir, split, densities, limit, seed)
        for d in densities
        if hint_count(hints[d])
    ]


def krita_cases(cases: list) -> tuple[list, list, int]:
    """(the cases Krita is given, those scored as the line art left as is, how many are left out).

    Krita's Colorize Mask never finishes with fewer than two key colours: the artist is left with
    the line art. With more than ``KRITA_MAX_KEYS`` (a shaded picture, one dab per colour area) it
    hangs while the keys are made: left out, no score."""
    from bench import apps as apps_mod

    n = [len(apps_mod.hint_colours(c.hints_rgba_u8)) for c in cases]
    given = [c for c, k in zip(cases, n) if 2 <= k <= KRITA_MAX_KEYS]
    return given, [c for c, k in zip(cases, n) if k < 2], sum(k > KRITA_MAX_KEYS for k in n)


def reused_app_records(path: Path, args: argparse.Namespace, images: set[str]) -> tuple[list, dict, int]:
    """The application rows of an earlier run on the same inputs, and its application status.

    The inputs are a pure function of (split, limit, seed) and the corpus's images: an earlier run
    with the same three on the same images scored the applications on exactly these inputs.
    """
    old = json.loads(Path(path).read_text())
    meta = old["meta"]
    for key in ("split", "limit", "seed"):
        if meta[key] != getattr(args, key):
            raise SystemExit(f"{path}: {key} {meta[key]!r} differs from this run's {getattr(args, key)!r}")
    apps = meta.get("apps") or {}
    rows = [r for r in old["records"] if r["method"] in apps]
    missing = {r["image"] for r in rows} - images
    if not rows or missing:
        raise SystemExit(f"{path}: no application rows, or rows for images this run lacks ({len(missing)})")
    status = {name: {**s, "reused_from": str(path)} for name, s in apps.items()}
    return rows, status, meta.get("app_limit", 0)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("--corpus", required=True, help="corpus folder with manifest.csv")
    p.add_argument("--split", default="val")
    p.add_argument("--limit", type=int, default=40, help="number of images, spread over the split")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", help="model folder or name (default: installed default, else random)")
    p.add_argument("--apps", nargs="*", default=[], help="real applications to drive: krita gimp")
    p.add_argument(
        "--methods",
        nargs="*",
        help="in-process methods to run (default: all); none with --apps scores the applications alone, "
        "for later runs' --apps-from",
    )
    p.add_argument("--app-limit", type=int, default=4, help="images given to the applications")
    p.add_argument("--samples", type=int, default=3, help="images kept for the sample sheet")
    p.add_argument(
        "--apps-from",
        type=Path,
        help="take the applications' scores from this earlier quality.json of the same inputs "
        "(corpus split, limit, seed) instead of driving them again: their results do not depend "
        "on the model",
    )
    p.add_argument("--out", type=Path, default=Path("runs/bench"))
    args = p.parse_args(argv)
    if args.apps_from and args.apps:
        p.error("--apps and --apps-from exclude each other")
    classical = classical_methods()
    chosen = ["inkhue", *classical] if args.methods is None else args.methods
    for m in chosen:  # before the applications run, which may take an hour
        if m != "inkhue" and m not in classical:
            p.error(unknown_name("method", m, ["inkhue", *classical]))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    densities = tuple(DENSITIES)
    t0 = time.perf_counter()
    shutil.rmtree(args.out / "samples", ignore_errors=True)  # a previous run's samples
    with tempfile.TemporaryDirectory() as tmp:
        corpus = spread_subset(args.corpus, args.split, args.limit, Path(tmp) / "corpus")
        # the applications' images and the sample sheet's: a few spread over the sources, too
        pre, app_status, samples = {}, {}, []
        if args.apps and args.app_limit > 0:
            few = spread_subset(corpus, args.split, args.app_limit, Path(tmp) / "apps")
            pre, app_status = app_outputs(args.apps, few, args.split, densities, None, args.seed)
            samples = [r["id"] for r in load_manifest(few, args.split)]
        if len(samples) < args.samples:
            few = spread_subset(corpus, args.split, args.samples, Path(tmp) / "samples")
            samples += [r["id"] for r in load_manifest(few, args.split) if r["id"] not in samples]
        samples = samples[: args.samples]
        model, random_weights = (args.model, False) if args.model else default_model(Path(tmp))
        methods = {m: inkhue_method(model, device="cpu") if m == "inkhue" else classical[m] for m in chosen}
        from engine import models

        manifest = models.load(model)
        records = run(
            methods, corpus, args.split, densities, None, args.seed, pre, samples, args.out / "samples"
        )
    if args.apps_from:
        app_records, app_status, args.app_limit = reused_app_records(
            args.apps_from, args, {r["image"] for r in records}
        )
        records += app_records
    meta = {
        "corpus": str(args.corpus),
        "split": args.split,
        "limit": args.limit,
        "split_size": len(load_manifest(args.corpus, args.split)),
        "seed": args.seed,
        "model": {"name": manifest.name, "version": manifest.version, "random_weights": random_weights},
        "apps": app_status,
        "app_limit": args.app_limit,
        "samples": len(samples),
        "sample_density": SAMPLE_DENSITY,
        "wall_s": time.perf_counter() - t0,
    }
    path = write_results(args.out / "quality.json", records, meta)
    print(format_table(aggregate(records)))
    print(f"\n{len({r['image'] for r in records})} images; results in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
