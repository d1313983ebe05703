"""``inkhue-train`` commands of the paper presets and the grayscale model.

``preset NAME``: one paper preset end to end; ``reproduce``: every preset for the same budget and
``docs/reproductions.md``; ``grayscale train|export|evaluate``: the ``inkhue-grayscale`` model.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger("inkhue-train")


def _cmd_preset(args: argparse.Namespace) -> int:
    from training.presets.run import load_data, run_preset, write_json
    from training.presets.spec import get_preset

    preset = get_preset(args.name)
    data = load_data(args.corpus, preset.crop, args.train_images, args.val_images, preset.name == "two-stage")
    results = run_preset(preset, data, args.budget, args.seed, args.max_steps)
    out = write_json({preset.name: results}, Path(args.out) / f"{preset.name}.json")
    for arm, r in results.items():
        print(
            f"{preset.name}/{arm}: {r.steps} steps, PSNR {r.scores['psnr']:.2f}, ΔE00 {r.scores['de00']:.2f}"
        )
    print(out)
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from training.presets.report import reproduce

    doc = reproduce(
        args.corpus,
        args.budget,
        Path(args.doc),
        train_images=args.train_images,
        val_images=args.val_images,
        seed=args.seed,
        max_steps=args.max_steps,
        only=tuple(args.only or ()),
    )
    print(doc)
    return 0


def _cmd_grayscale(args: argparse.Namespace) -> int:
    from training.grayscale import model

    if args.action == "train":
        cfg = model.GrayscaleConfig(corpus=args.corpus, minutes=args.minutes, max_steps=args.max_steps)
        run = model.train(cfg, args.run)
        print(f"{run.steps} steps in {run.wall_s:.0f} s")
    elif args.action == "export":
        print(model.export(args.run, args.out))
    else:
        from training.grayscale.evaluate import evaluate, format_table

        rows = evaluate(args.out, args.corpus, limit=args.limit, seed=args.seed)
        print(format_table(rows))
    return 0


def add_commands(sub) -> None:
    """Add the commands to ``inkhue-train``'s subparsers."""
    from training.presets.spec import PRESET_FILES

    def data_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--corpus", default="data/corpus")
        p.add_argument("--budget", type=float, default=4.0, help="training minutes per preset (all its arms)")
        p.add_argument("--train-images", type=int, default=600, help="training images held in memory")
        p.add_argument("--val-images", type=int, default=32, help="val-split images scored")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument(
            "--max-steps", type=int, default=0, help="stop each arm after this many steps (0: budget)"
        )

    p = sub.add_parser("preset", help="train and score one paper preset end to end")
    p.add_argument("name", choices=list(PRESET_FILES))
    p.add_argument("--out", default="runs/presets", help="folder for the scores (JSON)")
    data_args(p)
    p.set_defaults(func=_cmd_preset)

    r = sub.add_parser("reproduce", help="every paper preset for the same budget -> docs/reproductions.md")
    r.add_argument("--doc", default="docs/reproductions.md")
    r.add_argument("--only", action="append", help="only this preset (repeatable)")
    data_args(r)
    r.set_defaults(func=_cmd_reproduce)

    g = sub.add_parser("grayscale", help="train, export or score the inkhue-grayscale model")
    g.add_argument("action", choices=["train", "export", "evaluate"])
    g.add_argument("--corpus", default="data/corpus")
    g.add_argument("--run", default="runs/grayscale")
    g.add_argument("--out", default="engine/models/inkhue-grayscale", help="model folder (export, evaluate)")
    g.add_argument("--minutes", type=float, default=35.0)
    g.add_argument("--max-steps", type=int, default=0)
    g.add_argument("--limit", type=int, default=0, help="evaluate: at most this many val images (0: all)")
    g.add_argument("--seed", type=int, default=0)
    g.set_defaults(func=_cmd_grayscale)
