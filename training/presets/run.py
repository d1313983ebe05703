"""Run presets end to end: train every arm for its share of the budget, score it on the val split.

``run_preset`` is what ``inkhue-train preset NAME`` and ``inkhue-train reproduce`` call. Each preset
gets ``minutes`` of training in all, split equally between its arms (a two-stage refinement's share
starts after its draft's, and drafts with the draft's halfway weights).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from training.presets import measure
from training.presets.loop import ArmRun, predict, train_arm
from training.presets.pool import Pool, load_images, val_examples
from training.presets.spec import Preset
from training.presets.targets import get_target

log = logging.getLogger(__name__)

SHEET_IMAGES = 4  # validation images shown in the sample sheet


@dataclass(frozen=True)
class Data:
    train: Pool
    val: Pool
    crop: int


@dataclass
class ArmResult:
    steps: int
    wall_s: float
    scores: dict[str, float]
    samples: list[np.ndarray] = field(default_factory=list)  # first SHEET_IMAGES predictions


def load_data(
    corpus: str,
    crop: int,
    train_images: int,
    val_images: int,
    ink: bool,
    seed: int = 0,
    val_split: str = "val",
) -> Data:
    train = Pool(load_images(corpus, "train", train_images, crop + crop // 8, seed), need_ink=ink, seed=seed)
    val = Pool(load_images(corpus, val_split, val_images, crop, seed), need_ink=ink, seed=seed + 1)
    return Data(train, val, crop)


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def evaluate_arm(run: ArmRun, data: Data, final_draft=None) -> ArmResult:
    target = get_target(run.arm.target)
    preds, truths = [], []
    for crop, ex in val_examples(data.val, run.arm.inputs, run.arm.target, data.crop):
        out = predict(run, ex["x"], final_draft)
        preds.append(target.decode(out, ex["l"]))
        truths.append(crop.rgb_u8)
    return ArmResult(run.steps, run.wall_s, measure.score_set(preds, truths), preds[:SHEET_IMAGES])


def run_preset(
    preset: Preset,
    data: Data,
    minutes: float,
    seed: int = 0,
    max_steps: int = 0,
    device: str | None = None,
) -> dict[str, ArmResult]:
    """Train and score every arm of ``preset`` (``minutes`` of training in all)."""
    if data.crop != preset.crop:
        raise ValueError(f"preset {preset.name} trains on {preset.crop} px crops, the data has {data.crop}")
    device = device or default_device()
    share = minutes / len(preset.arms)
    runs: dict[str, ArmRun] = {}
    for arm in preset.arms:
        drafting = runs.get(arm.draft_from)
        log.info("%s/%s: %.1f min", preset.name, arm.name, share)
        runs[arm.name] = train_arm(
            arm,
            data.train,
            share,
            preset.crop,
            preset.batch,
            seed,
            draft_half=drafting.half if drafting else None,
            draft_arm=drafting.arm if drafting else None,
            max_steps=max_steps,
            device=device,
        )
    results = {}
    for name, run in runs.items():
        final = runs[run.arm.draft_from].G if run.arm.draft_from else None
        results[name] = evaluate_arm(run, data, final)
        log.info("%s/%s: %s", preset.name, name, {k: round(v, 4) for k, v in results[name].scores.items()})
    return results


def baseline(data: Data) -> ArmResult:
    """ "Gray as is": the validation crops' luma, as the floor every colorization should beat."""
    truths = [data.val.images[i] for i in range(len(data.val))]
    preds = [measure.gray_as_is(t) for t in truths]
    return ArmResult(0, 0.0, measure.score_set(preds, truths), preds[:SHEET_IMAGES])


def write_json(results: dict[str, dict[str, ArmResult]], path: Path) -> Path:
    out = {
        preset: {arm: {"steps": r.steps, "wall_s": round(r.wall_s, 1), **r.scores} for arm, r in arms.items()}
        for preset, arms in results.items()
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    return path
