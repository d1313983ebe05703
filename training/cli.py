"""The ``inkhue-train`` command line: corpus, train, evaluate, export, finetune, config (and the
paper presets and grayscale model of ``training.commands``).

Multi-GPU: ``torchrun --nproc-per-node N -m training.cli train ...`` (each rank trains on its own
slice of every step's examples; rank 0 logs and writes checkpoints).
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace
from pathlib import Path

log = logging.getLogger("inkhue-train")

DEFAULT_CORPUS = "data/corpus"


def _cmd_corpus(args: argparse.Namespace) -> int:
    from training.corpus import build_corpus, load_manifest, summary

    kwargs = {
        "max_side": args.max_side,
        "seed": args.seed,
        "cache_dir": args.cache,
        "val_fraction": args.val,
        "real_val_fraction": args.real_val,
    }
    if args.sources:
        kwargs["sources"] = tuple(args.sources)
    if args.limit:
        kwargs["limit"] = args.limit
    out = build_corpus(
        args.out, extra_dirs=tuple(args.folder or ()), pairs_dirs=tuple(args.pairs_folder or ()), **kwargs
    )
    for source, counts in sorted(summary(load_manifest(out, None)).items()):
        real = f"  real-train {counts['real-train']:5d}  real-val {counts['real-val']:5d}"
        print(
            f"{source:28s} train {counts['train']:6d}  val {counts['val']:5d}"
            + (real if any(counts[s] for s in ("real-train", "real-val")) else "")
        )
    print(out)
    return 0


def _cmd_shard(args: argparse.Namespace) -> int:
    from training.shard import ShardConfig, make_shard

    cfg = ShardConfig(max_mib=args.max_mib, real_share=args.real_share, seed=args.seed)
    counts = make_shard(args.corpus, args.out, cfg)
    print(" ".join(f"{k} {v}" for k, v in counts.items()))
    print(args.out)
    return 0


def _train_config(args: argparse.Namespace):
    from training import config as cfgmod

    if args.config:
        cfg = cfgmod.load(args.config)
        if cfg.stage != args.stage:
            raise ValueError(f"{args.config} is a {cfg.stage!r} config, not {args.stage!r}")
    else:
        if args.stage == "refine" and not args.draft:
            raise ValueError("--stage refine needs --draft (a draft run folder or checkpoint)")
        extra = {"draft_checkpoint": args.draft} if args.stage == "refine" else {}
        if args.stage == "draft":
            extra.update(regions=args.regions)
        cfg = cfgmod.default_config(
            args.stage, fill=not args.no_fill, spread=not args.no_spread, near=args.near, **extra
        )
    data = cfg.data
    if args.corpus:
        data = replace(data, corpus_dir=args.corpus)
    if args.crop:
        data = replace(data, crop=args.crop)
    if args.workers is not None:
        data = replace(data, workers=args.workers)
    if args.exclude_source:
        data = replace(data, exclude_sources=tuple(args.exclude_source))
    over = {"data": data}
    for name in ("steps", "batch", "seed", "threads"):
        value = getattr(args, name)
        if value is not None:
            over[name] = value
    if args.minutes is not None:
        over["max_minutes"] = args.minutes
    if args.draft:
        over["draft_checkpoint"] = args.draft
    if args.init:
        over["init_weights"] = args.init
    if args.init_head_scale is not None:
        over["init_head_scale"] = args.init_head_scale
    return replace(cfg, **over)


def _cmd_train(args: argparse.Namespace) -> int:
    from training import config as cfgmod
    from training.train import train

    cfg = _train_config(args)
    run = Path(args.run or f"runs/{cfg.stage}")
    if args.dry_run:
        print(cfgmod.dumps(cfg), end="")
        return 0
    summary = train(cfg, run, resume=not args.no_resume)
    log.info("%s", summary)
    print(run)
    return 0


def _cmd_config(args: argparse.Namespace) -> int:
    from training import config as cfgmod

    fill = not args.no_fill
    if args.stage == "draft":
        cfg = cfgmod.default_config(
            "draft", fill, spread=not args.no_spread, near=args.near, regions=args.regions
        )
    else:
        cfg = cfgmod.default_config(args.stage, fill, draft_checkpoint="runs/draft")
    print(cfgmod.dumps(cfg), end="")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from engine import models
    from training.evaluate import (
        EVAL_SPLITS,
        baseline_methods,
        evaluate,
        format_table,
        inkhue_method,
        write_json,
    )

    methods = {}
    if not args.no_baselines:
        methods.update(baseline_methods())
    for model in [] if args.no_model else args.model or ["inkhue-default"]:
        path = models.resolve(model)
        methods[f"inkhue:{Path(path).name}"] = inkhue_method(path, backend=args.backend)
    from training.corpus import load_manifest

    results = []
    for split in args.split or EVAL_SPLITS:
        if not load_manifest(args.corpus, split):
            log.info("the corpus has no %s split: skipped", split)
            continue
        rows = evaluate(
            methods,
            args.corpus,
            split=split,
            densities=tuple(args.densities),
            limit=args.limit or None,
            seed=args.seed,
            scale=args.scale,
        )
        for r in rows:
            r["split"] = split
        kind = "line art drawn by artists" if split.startswith("real") else "synthesised line art"
        print(f"\n### {split} ({kind})")
        print(format_table(rows))
        results += rows
    if args.json:
        write_json(results, args.json)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from training.export import export_runs

    out = export_runs(
        args.draft, args.refine, Path(args.out), args.name, args.version, description=args.description
    )
    print(out)
    return 0


def _cmd_finetune(args: argparse.Namespace) -> int:
    from training.finetune import FinetuneConfig, finetune

    if args.documents == "":
        from engine.wire.folders import style_dir

        args.documents = style_dir()
    if not args.images and not args.documents:
        raise ValueError("finetune needs --documents (your layered files) and/or --images (colour pictures)")
    cfg = FinetuneConfig(
        minutes=args.minutes,
        holdout=args.holdout,
        seed=args.seed,
        threads=args.threads or 0,
        hint_weight=args.hint_weight,
        keep="always" if args.keep_anyway else "better",
    )
    report = finetune(
        args.images,
        args.model,
        args.out,
        args.name,
        cfg,
        work_dir=args.work,
        documents=args.documents,
        lineart_layer=args.lineart_layer,
        colour_layers=tuple(args.colour_layer or ()),
    )
    print(report.table())
    if report.kept:
        print(report.out_dir)
    return 0


def _stage_arguments(p: argparse.ArgumentParser) -> None:
    """The stage and its input channels: the same choices for 'train' and 'config'."""
    p.add_argument("--stage", choices=["draft", "refine"], required=True)
    p.add_argument("--no-fill", action="store_true", help="without the flood-fill input channels")
    p.add_argument("--no-spread", action="store_true", help="draft without the spread-hints channels")
    p.add_argument("--near", action="store_true", help="draft also sees the unfaded nearest-hint colour")
    p.add_argument(
        "--regions",
        action="store_true",
        help="draft sees the line-art analysis and corrects the flats (inkhue-default 1.0)",
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="inkhue-train", description="Build data, train, evaluate and export Inkhue models."
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("corpus", help="build the training corpus from offline packages and folders")
    c.add_argument("--out", default=DEFAULT_CORPUS)
    c.add_argument("--sources", nargs="*", help="package sources (default: all known)")
    c.add_argument("--folder", action="append", help="also take the images of this folder (repeatable)")
    c.add_argument(
        "--pairs-folder", action="append", help="SVG drawings whose own ink is their line art (repeatable)"
    )
    c.add_argument("--cache", default="data/cache", help="where downloaded packages are kept")
    c.add_argument("--max-side", type=int, default=512)
    c.add_argument("--limit", type=int, default=0, help="at most this many files per source (0: all)")
    c.add_argument("--val", type=float, default=0.07, help="validation fraction")
    c.add_argument(
        "--real-val",
        type=float,
        default=0.25,
        help="validation fraction of the artist-drawn pairs (real split)",
    )
    c.add_argument("--seed", type=int, default=0)
    c.set_defaults(func=_cmd_corpus)

    h = sub.add_parser("shard", help="cut a size-bounded corpus subset to carry to a GPU machine")
    h.add_argument("--corpus", default=DEFAULT_CORPUS)
    h.add_argument("--out", required=True)
    h.add_argument("--max-mib", type=float, default=38.0, help="size limit of the shard's files")
    h.add_argument("--real-share", type=float, default=0.6, help="share of the bytes for artist-drawn pairs")
    h.add_argument("--seed", type=int, default=0)
    h.set_defaults(func=_cmd_shard)

    t = sub.add_parser("train", help="train one stage (resumes the run folder's newest checkpoint)")
    _stage_arguments(t)
    t.add_argument("--config", help="TOML config (default: the stage's defaults; see 'inkhue-train config')")
    t.add_argument("--run", help="run folder (default runs/STAGE)")
    t.add_argument("--draft", help="refinement: the half-trained draft run folder or checkpoint")
    t.add_argument("--corpus", help=f"corpus folder (default {DEFAULT_CORPUS})")
    t.add_argument("--exclude-source", action="append", help="leave this corpus source out (repeatable)")
    t.add_argument("--init", help="start the generator from these weights (model .safetensors or checkpoint)")
    t.add_argument("--init-head-scale", type=float, help="shrink the --init generator's residual head (0-1)")
    t.add_argument("--steps", type=int)
    t.add_argument("--minutes", type=float, help="stop after this much wall time (resumable)")
    t.add_argument("--batch", type=int, help="per process")
    t.add_argument("--crop", type=int)
    t.add_argument("--seed", type=int)
    t.add_argument("--threads", type=int, help="torch threads per process")
    t.add_argument("--workers", type=int, help="data loader worker processes")
    t.add_argument(
        "--no-resume", action="store_true", help="start over even if the run folder has checkpoints"
    )
    t.add_argument("--dry-run", action="store_true", help="print the resolved config and exit")
    t.set_defaults(func=_cmd_train)

    g = sub.add_parser("config", help="print a stage's default config as TOML")
    _stage_arguments(g)
    g.set_defaults(func=_cmd_config)

    e = sub.add_parser("evaluate", help="score models and the classical baselines on the validation split")
    e.add_argument(
        "--model", action="append", help="model name or folder (repeatable; default inkhue-default)"
    )
    e.add_argument("--corpus", default=DEFAULT_CORPUS)
    e.add_argument(
        "--split", action="append", help="split to score (repeatable; default: real-val, then val)"
    )
    e.add_argument("--limit", type=int, default=0, help="at most this many images (0: all)")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--densities", nargs="+", default=["none", "sparse", "full"])
    e.add_argument(
        "--scale", type=float, default=1.0, help="enlarge the images by this factor (large-canvas test)"
    )
    e.add_argument("--backend", default="onnx", help="onnx (default) or torch")
    e.add_argument("--json", help="also write the rows to this JSON file")
    e.add_argument("--no-baselines", action="store_true")
    e.add_argument("--no-model", action="store_true", help="score the baselines alone")
    e.set_defaults(func=_cmd_evaluate)

    x = sub.add_parser("export", help="export a draft and a refinement run as an engine model (ONNX)")
    x.add_argument("--draft", required=True, help="draft run folder or checkpoint")
    x.add_argument("--refine", required=True, help="refinement run folder or checkpoint")
    x.add_argument("--out", required=True, help="model folder to write")
    x.add_argument("--name", default="inkhue-default")
    x.add_argument("--version", default="1.0.0")
    x.add_argument("--description", default="")
    x.set_defaults(func=_cmd_export)

    f = sub.add_parser("finetune", help="adapt a model to your own images (CPU friendly)")
    f.add_argument(
        "--documents",
        nargs="?",
        const="",
        help="folder of your layered files (.ora, .psd) or saved pairs (NAME.lines.png + NAME.colour.png); "
        "without a folder: the style folder the plug-ins' 'Learn from This Document' saves into",
    )
    f.add_argument("--lineart-layer", help="name of the line-art layer (default: found by its name)")
    f.add_argument(
        "--colour-layer",
        action="append",
        help="name of a colour layer or group (repeatable; default: every visible layer under the lines)",
    )
    f.add_argument("--images", help="folder of coloured pictures without line art of their own")
    f.add_argument("--model", default=None, help="model to start from (default inkhue-default)")
    f.add_argument("--out", default=None, help="model folder to write (default: your models folder / NAME)")
    f.add_argument("--name", default="inkhue-finetuned")
    f.add_argument("--minutes", type=float, default=25.0, help="training wall time, both stages together")
    f.add_argument("--holdout", type=float, default=0.2, help="share of your images kept aside to measure")
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--threads", type=int, default=0)
    f.add_argument("--work", default=None, help="folder for the runs (default: a temporary folder)")
    f.add_argument(
        "--hint-weight", type=float, default=10.0, help="weight of the hint-colour term per hint pixel"
    )
    f.add_argument(
        "--keep-anyway", action="store_true", help="write the model even if it is not better when measured"
    )
    f.set_defaults(func=_cmd_finetune)

    from training.commands import add_commands

    add_commands(sub)  # preset, reproduce, grayscale
    return p


def main(argv: list[str] | None = None) -> int:
    from engine.cli_support import run_command
    from engine.errors import InkhueError

    args = build_parser().parse_args(argv)
    return run_command("inkhue-train", args, {InkhueError: 3, (ValueError, FileNotFoundError): 2})


if __name__ == "__main__":
    sys.exit(main())
