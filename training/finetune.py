"""Fine-tune a shipped model on an artist's own work, on a CPU, in minutes.

Two kinds of material: layered files or saved pairs (``--documents``: the artist's own line-art
layer and the colour under it, ``training.documents``) and colour-only pictures (``--images``: line
art is synthesised from them, as for the training corpus). Either becomes a small corpus; a share is
held out and never trained on (pairs in ``real-val``, pictures in ``val``). The model is measured on
the held-out part before and after, with the evaluation's own simulated hints (sparse and full) and,
for pairs, the artist's own line art: that is where the fine-tune has to help. Both stages are
fine-tuned from the shipped weights (the draft, then the refinement on drafts of the fine-tuned
draft) within one wall-time budget, with an extra L1 term pulling the output to the hint colours at
the hint pixels. The result is kept only when it is better on the held-out part (PSNR up, ΔE00 down
at every density, hint ΔE00 not up); the report says so either way.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from engine.errors import ModelError
from engine.modelspec import ModelManifest
from training.progress import Progress

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
    # the hint-colour L1 term (training.gan.Gan.hint_l1): per hint pixel, this many times the image's L1
    hint_weight: float = 10.0
    keep: str = "better"  # "better": write the model only if it beats the start; "always"
    steps: int = 0  # 0: the minutes alone end each stage; else at most this many steps per stage


KEEP = ("better", "always")
HINT_TOLERANCE = 0.05  # ΔE00: a rise of hint ΔE00 below this is measurement noise, not a loss
NEEDS_DATA = "fine-tuning needs --documents (layered files or saved pairs) or --images"


@dataclass
class FinetuneReport:
    out_dir: Path
    n_train: int
    n_holdout: int
    before: list[dict] = field(default_factory=list)
    after: list[dict] = field(default_factory=list)
    steps: dict[str, int] = field(default_factory=dict)
    split: str = "val"  # the held-out split measured: real-val (the artist's own line art) or val
    kept: bool = False  # the model was written to ``out_dir``
    verdict: str = ""

    def gain(self) -> dict[str, dict[str, float]]:
        """Per density: PSNR gain (dB, higher is better) and ΔE00 change (negative is better)."""
        out = {}
        for b in self.before:
            a = next(r for r in self.after if r["density"] == b["density"])
            out[b["density"]] = {
                "psnr": a["psnr"] - b["psnr"],
                "de00": a["de00"] - b["de00"],
                "hint_de00": a["hint_de00"] - b["hint_de00"],
            }
        return out

    def better(self) -> tuple[bool, str]:
        """(better at every density, why not): PSNR up, ΔE00 down, hint ΔE00 not up."""
        worse = []
        for d, g in self.gain().items():
            if not g["psnr"] > 0.0:
                worse.append(f"{d} PSNR {g['psnr']:+.2f} dB")
            if not g["de00"] < 0.0:
                worse.append(f"{d} ΔE00 {g['de00']:+.2f}")
            if g["hint_de00"] > HINT_TOLERANCE:
                worse.append(f"{d} hint ΔE00 {g['hint_de00']:+.2f}")
        return not worse, ", ".join(worse)

    def table(self) -> str:
        from training.evaluate import format_table

        rows = [{**r, "method": "before"} for r in self.before] + [
            {**r, "method": "after"} for r in self.after
        ]
        kind = "the artist's own line art" if self.split.startswith("real") else "synthesised line art"
        lines = [
            f"fine-tuned on {self.n_train} pictures, measured on {self.n_holdout} held-out ones "
            f"({self.split}, {kind}; steps: {self.steps})",
            format_table(rows),
        ]
        for d, g in self.gain().items():
            lines.append(
                f"{d}: PSNR {g['psnr']:+.2f} dB, ΔE00 {g['de00']:+.2f}, hint ΔE00 {g['hint_de00']:+.2f}"
            )
        if self.verdict:
            lines.append(self.verdict)
        return "\n".join(lines)


def _split(rows: list[dict], cfg: FinetuneConfig, what: str = "pictures", prefix: str = "") -> list[dict]:
    """Deterministic hold-out by a hash of the image id (independent of file order)."""
    if len(rows) < 2:
        raise ValueError(
            f"fine-tuning needs at least 2 usable {what} (one to learn from, one to measure), "
            f"found {len(rows)}; add more of your work to the folder"
        )
    ranked = sorted(rows, key=lambda r: hashlib.sha256(f"{cfg.seed}:{r['id']}".encode()).hexdigest())
    n_hold = min(cfg.max_holdout, max(cfg.min_holdout, round(cfg.holdout * len(rows))), len(rows) - 1)
    hold = {r["id"] for r in ranked[:n_hold]}
    return [{**r, "split": prefix + ("val" if r["id"] in hold else "train")} for r in rows]


def _weights(manifest: ModelManifest, stage: str) -> Path:
    """The safetensors file a stage starts from; a model that ships none cannot be fine-tuned."""
    weights = manifest.stages[stage].weights
    if not weights:
        raise ModelError(
            f"model {manifest.name!r} ships no safetensors weights for {stage}: cannot fine-tune"
        )
    return manifest.path(weights)


def make_corpus(
    images: str | Path | None,
    out_dir: Path,
    cfg: FinetuneConfig,
    documents: str | Path | None = None,
    lineart_layer: str | None = None,
    colour_layers: tuple[str, ...] = (),
) -> Path:
    """The fine-tune's corpus: pictures in train/val, the documents' pairs in real-train/real-val."""
    from training.corpus import build_corpus, load_manifest, write_manifest

    if images is None and documents is None:
        raise ValueError(NEEDS_DATA)
    rows: list[dict] = []
    out_dir.mkdir(parents=True, exist_ok=True)
    if images is not None:
        build_corpus(out_dir, sources=(), extra_dirs=(images,), max_side=cfg.max_side, seed=cfg.seed)
        rows += _split(load_manifest(out_dir, None), cfg)
    if documents is not None:
        from training.documents import pair_rows

        pairs = pair_rows(documents, out_dir, cfg.max_side, lineart_layer, colour_layers)
        rows += _split(pairs, cfg, "line-art/colour pairs", prefix="real-")
    write_manifest(out_dir, rows)
    return out_dir


def _stage_config(
    stage: str,
    manifest: ModelManifest,
    corpus: Path,
    cfg: FinetuneConfig,
    minutes: float,
    real_share: float = 0.0,
    **extra,
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
        real_share=real_share,
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
        steps=cfg.steps or 1_000_000,  # else the wall-time budget ends the run
        max_minutes=minutes,
        seed=cfg.seed,
        threads=cfg.threads,
        val_images=4,
        log_every=5,
        sample_every=50,
        checkpoint_every=50,
        init_weights=str(_weights(manifest, stage)),
    )


def finetune(
    images: str | Path | None = None,
    model: str | None = None,
    out: str | Path | None = None,
    name: str = "inkhue-finetuned",
    cfg: FinetuneConfig = FinetuneConfig(),
    work_dir: str | Path | None = None,
    documents: str | Path | None = None,
    lineart_layer: str | None = None,
    colour_layers: tuple[str, ...] = (),
    progress: Progress | None = None,
) -> FinetuneReport:
    """Fine-tune ``model`` on ``documents`` (pairs) and/or ``images``; returns the measurement.

    The new model folder is written to ``out`` (default: the user's models folder / ``name``) only
    when it is better on the held-out part, or always with ``cfg.keep == "always"``. ``progress``
    gets each phase and training step (``training.progress``; the caller writes the end).
    """
    from engine import models
    from training.corpus import load_manifest
    from training.evaluate import evaluate, inkhue_method
    from training.export import export_runs
    from training.train import train

    if cfg.keep not in KEEP:
        raise ValueError(f"keep must be one of {', '.join(KEEP)}, got {cfg.keep!r}")
    if cfg.steps < 0:
        raise ValueError(f"steps must be 0 (the minutes decide) or more, got {cfg.steps}")
    source = documents if documents is not None else images
    if source is None:
        raise ValueError(NEEDS_DATA)
    manifest = models.load(model)
    for stage in manifest.stages:
        _weights(manifest, stage)
    out_dir = Path(out) if out else models.user_models_dir() / name
    work = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="inkhue-finetune-"))
    work.mkdir(parents=True, exist_ok=True)

    say = progress.update if progress is not None else lambda *a, **k: None
    say("preparing", name=name)
    corpus = make_corpus(images, work / "corpus", cfg, documents, lineart_layer, colour_layers)
    pairs, pictures = documents is not None, images is not None
    real_share = 1.0 if not pictures else (0.5 if pairs else 0.0)
    split = "real-val" if pairs else "val"
    train_split = "real-train" if pairs else "train"
    n_train = len(load_manifest(corpus, "train")) + len(load_manifest(corpus, "real-train"))
    n_hold = len(load_manifest(corpus, split))
    log.info("fine-tuning on %d pictures, %d held out (%s)", n_train, n_hold, split)
    log.info("%d of them with the artist's own line art", len(load_manifest(corpus, train_split)))

    def measure(model_dir: Path) -> list[dict]:
        return evaluate(
            {"m": inkhue_method(model_dir)}, corpus, split=split, densities=cfg.densities, seed=cfg.seed
        )

    report = FinetuneReport(out_dir, n_train, n_hold, split=split)
    say("measuring", which="before", n_train=n_train, n_holdout=n_hold)
    report.before = measure(manifest.directory)

    def run_stage(phase: str, run_cfg) -> dict:
        if progress is not None:
            progress.stage(phase, run_cfg.max_minutes * 60)
        on_step = progress.step if progress is not None else None
        return train(run_cfg, work / phase, hint_weight=cfg.hint_weight, on_step=on_step)

    d_cfg = _stage_config("draft", manifest, corpus, cfg, cfg.minutes * cfg.draft_share, real_share)
    d_sum = run_stage("draft", d_cfg)
    r_cfg = _stage_config(
        "refine",
        manifest,
        corpus,
        cfg,
        cfg.minutes * (1.0 - cfg.draft_share),
        real_share,
        draft_checkpoint=str(work / "draft"),
    )
    r_sum = run_stage("refine", r_cfg)
    report.steps = {"draft": d_sum["step"], "refine": r_sum["step"]}
    say("exporting", steps=report.steps)

    what = Path(source).name
    candidate = work / "model"
    export_runs(
        work / "draft",
        work / "refine",
        candidate,
        name,
        f"{manifest.version}+ft",
        description=f"{manifest.name} fine-tuned on {n_train} pictures of {what}",
        working_size=manifest.working_size,
        tile=manifest.tile,
        overlap=manifest.overlap,
        spread=asdict(manifest.spread),
    )
    say("measuring", which="after")
    report.after = measure(candidate)
    better, why = report.better()
    report.kept = better or cfg.keep == "always"
    if report.kept:
        shutil.copytree(candidate, out_dir, dirs_exist_ok=True)
    if better:
        report.verdict = f"better on the held-out pictures: kept as {out_dir}"
    elif report.kept:
        report.verdict = f"not better on the held-out pictures ({why}); written anyway to {out_dir}"
    else:
        report.verdict = (
            f"not better on the held-out pictures ({why}): not kept; {manifest.name} stays as it was "
            f"(the candidate is in {candidate})"
        )
    log.info("%s", report.verdict)
    (work / "report.md").write_text(report.table() + "\n")
    return report
