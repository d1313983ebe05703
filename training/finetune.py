"""Fine-tune a shipped model on an artist's own images, on a CPU, in minutes.

The folder becomes a small corpus (same filter as the training corpus); a share of the images is
held out and never trained on. The model is measured on the held-out images before and after,
with the evaluation's own simulated hints (sparse and full), so the artist sees the gain. Both
stages are fine-tuned from the shipped weights: the draft first, then the refinement on drafts of
the fine-tuned draft (as in training), within one wall-time budget.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from engine.errors import ModelError
from engine.modelspec import ModelManifest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FinetuneConfig:
    minutes: float = 25.0  # training wall time, both stages together
    draft_share: float = 0.6  # of the minutes, for the draft stage
    holdout: float = 0.2  # share of the images measured, never trained on
    min_holdout: int = 1
    max_holdout: int = 24  # measuring is slow on a CPU: cap the held-out set
    lr: float = 1e-4
    l1_space: str = "lab"  # as the shipped model was trained (training.gan.L1_SPACES)
    batch: int = 4
    crop: int = 192
    max_side: int = 512
    seed: int = 0
    threads: int = 0
    densities: tuple[str, ...] = ("sparse", "full")


@dataclass
class FinetuneReport:
    out_dir: Path
    n_train: int
    n_holdout: int
    before: list[dict] = field(default_factory=list)
    after: list[dict] = field(default_factory=list)
    steps: dict[str, int] = field(default_factory=dict)

    def gain(self) -> dict[str, dict[str, float]]:
        """Per density: PSNR gain (dB, higher is better) and ΔE00 change (negative is better)."""
        out = {}
        for b in self.before:
            a = next(r for r in self.after if r["density"] == b["density"])
            out[b["density"]] = {"psnr": a["psnr"] - b["psnr"], "de00": a["de00"] - b["de00"]}
        return out

    def table(self) -> str:
        from training.evaluate import format_table

        rows = [{**r, "method": "before"} for r in self.before] + [
            {**r, "method": "after"} for r in self.after
        ]
        lines = [
            f"fine-tuned on {self.n_train} images, measured on {self.n_holdout} held-out images "
            f"(steps: {self.steps})",
            format_table(rows),
        ]
        for d, g in self.gain().items():
            lines.append(f"{d}: PSNR {g['psnr']:+.2f} dB, ΔE00 {g['de00']:+.2f}")
        return "\n".join(lines)


def _split(rows: list[dict], cfg: FinetuneConfig) -> list[dict]:
    """Deterministic hold-out by a hash of the image id (independent of file order)."""
    if len(rows) < 2:
        raise ValueError(
            f"fine-tuning needs at least 2 usable images (one to learn from, one to measure), "
            f"found {len(rows)}; add more coloured artwork to the folder"
        )
    ranked = sorted(rows, key=lambda r: hashlib.sha256(f"{cfg.seed}:{r['id']}".encode()).hexdigest())
    n_hold = min(cfg.max_holdout, max(cfg.min_holdout, round(cfg.holdout * len(rows))), len(rows) - 1)
    hold = {r["id"] for r in ranked[:n_hold]}
    return [{**r, "split": "val" if r["id"] in hold else "train"} for r in rows]


def make_corpus(images: str | Path, out_dir: Path, cfg: FinetuneConfig) -> Path:
    from training.corpus import build_corpus, load_manifest, write_manifest

    corpus = build_corpus(out_dir, sources=(), extra_dirs=(images,), max_side=cfg.max_side, seed=cfg.seed)
    rows = _split(load_manifest(corpus, None), cfg)
    write_manifest(corpus, rows)
    return corpus


def _stage_config(
    stage: str, manifest: ModelManifest, corpus: Path, cfg: FinetuneConfig, minutes: float, **extra
):
    """A stage's training config that starts from the shipped weights and spreads as they were trained."""
    from training import config as cfgmod

    spec, spread = manifest.stages[stage], manifest.spread

    base = cfgmod.default_config(stage, fill="fill_rgb" in spec.inputs, **extra)
    data = replace(
        base.data,
        corpus_dir=str(corpus),
        crop=cfg.crop,
        crops_per_image=2,
        working_max=cfg.max_side,
        spread_fade=spread.fade,
        spread_ink_cost=spread.ink_cost,
    )
    if stage == "refine":
        data = replace(data, reuse=4, pool=16)
    return replace(
        base,
        inputs=spec.inputs,
        generator=spec.generator,
        data=data,
        optim=replace(base.optim, lr=cfg.lr, l1_space=cfg.l1_space),
        batch=cfg.batch,
        steps=1_000_000,  # the wall-time budget ends the run
        max_minutes=minutes,
        seed=cfg.seed,
        threads=cfg.threads,
        val_images=4,
        log_every=5,
        sample_every=50,
        checkpoint_every=50,
        init_weights=str(manifest.path(spec.weights)),
    )


def finetune(
    images: str | Path,
    model: str | None = None,
    out: str | Path | None = None,
    name: str = "inkhue-finetuned",
    cfg: FinetuneConfig = FinetuneConfig(),
    work_dir: str | Path | None = None,
) -> FinetuneReport:
    """Fine-tune ``model`` on ``images``; writes a new model folder and returns the measurement."""
    from engine import models
    from training.evaluate import evaluate, inkhue_method
    from training.export import export_runs
    from training.train import train

    manifest = models.load(model)
    for stage, spec in manifest.stages.items():
        if not spec.weights:
            raise ModelError(
                f"model {manifest.name!r} ships no safetensors weights for {stage}: cannot fine-tune"
            )
    out_dir = Path(out) if out else models.user_models_dir() / name
    work = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="inkhue-finetune-"))
    work.mkdir(parents=True, exist_ok=True)

    corpus = make_corpus(images, work / "corpus", cfg)
    from training.corpus import load_manifest

    n_train, n_hold = len(load_manifest(corpus, "train")), len(load_manifest(corpus, "val"))
    log.info("fine-tuning on %d images, %d held out", n_train, n_hold)

    def measure(model_dir: Path) -> list[dict]:
        return evaluate(
            {"m": inkhue_method(model_dir)}, corpus, split="val", densities=cfg.densities, seed=cfg.seed
        )

    report = FinetuneReport(out_dir, n_train, n_hold)
    report.before = measure(manifest.directory)

    d_cfg = _stage_config("draft", manifest, corpus, cfg, cfg.minutes * cfg.draft_share)
    d_sum = train(d_cfg, work / "draft")
    r_cfg = _stage_config(
        "refine",
        manifest,
        corpus,
        cfg,
        cfg.minutes * (1.0 - cfg.draft_share),
        draft_checkpoint=str(work / "draft"),
    )
    r_sum = train(r_cfg, work / "refine")
    report.steps = {"draft": d_sum["step"], "refine": r_sum["step"]}

    export_runs(
        work / "draft",
        work / "refine",
        out_dir,
        name,
        f"{manifest.version}+ft",
        description=f"{manifest.name} fine-tuned on {n_train} images of {Path(images).name}",
        working_size=manifest.working_size,
        tile=manifest.tile,
        overlap=manifest.overlap,
        spread=asdict(manifest.spread),
    )
    report.after = measure(out_dir)
    (work / "report.md").write_text(report.table() + "\n")
    return report
