"""One rank of the DDP test (run by torchrun): tiny draft training on stand-in images."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

from tests._train_fixtures import STANDIN, standin_images
from training import config as cfgmod
from training import ddp
from training.train import train


def tiny_config() -> cfgmod.TrainConfig:
    data = cfgmod.DataConfig(crop=64, working_min=64, working_max=128, crops_per_image=2)
    cfg = cfgmod.default_config(
        "draft",
        batch=4,
        steps=3,
        log_every=1,
        sample_every=3,
        checkpoint_every=3,
        val_images=2,
        threads=1,
        data=data,
    )
    return replace(cfg, generator=replace(cfg.generator, widths=(8, 16)))


def run(out: Path, d: ddp.Dist | None = None) -> dict:
    return train(tiny_config(), out, standin_images(4), standin_images(2, 1), STANDIN, dist=d, progress=False)


if __name__ == "__main__":
    out = Path(sys.argv[1])
    d = ddp.setup(backend="gloo", device="cpu")
    summary = run(out / "run", d)
    (out / f"rank{d.rank}.json").write_text(json.dumps({"world": d.world, **summary}))
    ddp.cleanup(d)
