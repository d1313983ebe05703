"""The training loop of one stage: data, steps, logs, sample grids, checkpoints, resume.

A run lives in one folder: ``config.toml``, ``ckpt-*.safetensors``, ``log.jsonl`` (one JSON line
per logged step), ``tb/`` (TensorBoard scalars and sample grids) and ``samples/*.png``.
Running again on the same folder resumes from its newest checkpoint.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from training import checkpoint, ddp
from training import config as config_mod
from training.batch import Examples, Synth, fixed_batch, loader
from training.config import TrainConfig, plane_offset
from training.gan import Gan
from training.images import ImageSource, training_source

log = logging.getLogger(__name__)

# fields that may change between a run and its resumption without changing what is learnt
RESUMABLE_CHANGES = ("steps", "max_minutes", "threads", "log_every", "sample_every", "checkpoint_every")
# the progress bar of a run with a wall-time budget: percent done, elapsed<remaining time, the step
TIME_BAR = "{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}{postfix}"


def _check_resume(saved: TrainConfig, cfg: TrainConfig, run_dir: Path) -> None:
    a = config_mod.to_dict(saved)
    b = config_mod.to_dict(cfg)
    a["data"].pop("workers")
    b["data"].pop("workers")
    diff = sorted(k for k in a if k not in RESUMABLE_CHANGES and a[k] != b[k])
    if diff:
        raise ValueError(
            f"{run_dir} holds a run with a different configuration ({', '.join(diff)}); "
            "use a new run folder, or the saved config.toml"
        )


def sample_grid(batch: dict[str, torch.Tensor], pred: torch.Tensor, cfg: TrainConfig, rows: int = 4):
    """H×W×3 uint8: per example, line | hints | flood fill or draft | prediction | truth."""
    x = batch["x"][:rows].numpy()
    inputs = cfg.inputs

    def planes(name: str) -> np.ndarray:
        i = plane_offset(inputs, name)
        return x[:, i : i + 3]

    line = np.repeat(x[:, plane_offset(inputs, "line")][:, None], 3, 1)
    mask = x[:, plane_offset(inputs, "hint_mask")][:, None]
    hints = planes("hint_rgb") * mask + (1 - mask)
    middle = (
        planes("draft_rgb")
        if "draft_rgb" in inputs
        else (planes("fill_rgb") if "fill_rgb" in inputs else line)
    )
    cols = [line, hints, middle, pred[:rows].cpu().numpy(), batch["y"][:rows].numpy()]
    tiles = np.concatenate([np.concatenate(list(c), 1) for c in cols], 2)  # 3 × (rows·H) × (5·W)
    return (np.clip(np.moveaxis(tiles, 0, -1), 0, 1) * 255 + 0.5).astype(np.uint8)


def _draft_loader(cfg: TrainConfig):
    if cfg.stage != "refine":
        return None
    path = cfg.draft_checkpoint

    def load():
        net, draft_cfg = checkpoint.load_generator(path)
        return net, draft_cfg.inputs, draft_cfg.data.spread

    return load


def _init_weights(gan: Gan, path: str, head_scale: float = 1.0) -> None:
    """Generator weights from a model's ``<stage>.safetensors`` or from a training checkpoint."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(path, framework="pt", device="cpu") as f:
        is_checkpoint = (f.metadata() or {}).get("format") == checkpoint.FORMAT
    if is_checkpoint:
        net, _ = checkpoint.load_generator(path)
        state = net.state_dict()
    else:
        state = load_file(path, device="cpu")
    _widen_inputs(gan.G, state)
    gan.G.load_state_dict(state)
    log.info("generator initialised from %s", path)
    if head_scale != 1.0:
        gan.G.shrink_head(head_scale)
        log.info("residual head scaled by %g", head_scale)


def _widen_inputs(net: torch.nn.Module, state: dict) -> None:
    """Let weights trained with fewer input channels start a net with more, appended ones.

    The new channels get zero weights in the first convolution, so the widened net computes
    exactly what the old one did until training gives them a use.
    """
    key = "stem.0.0.weight"
    own = net.state_dict().get(key)
    old = state.get(key)
    if own is None or old is None or own.shape == old.shape:
        return
    if own.shape[0] != old.shape[0] or own.shape[2:] != old.shape[2:] or own.shape[1] < old.shape[1]:
        raise ValueError(f"cannot start a {tuple(own.shape)} input layer from {tuple(old.shape)} weights")
    wide = torch.zeros_like(own)
    wide[:, : old.shape[1]] = old  # pixel-unshuffle keeps each input channel's planes contiguous
    state[key] = wide
    log.info("input layer widened from %d to %d planes (new ones start at zero)", old.shape[1], own.shape[1])


def _start(
    cfg: TrainConfig, run_dir: Path, resume: bool, d: ddp.Dist, hint_weight: float
) -> tuple[Gan, float]:
    """The run folder's config checked (resume) and saved, the GAN made, resumed or initialised;
    returns it with the wall time the run had already spent."""
    cfg_path = run_dir / "config.toml"
    if resume and cfg_path.is_file():
        _check_resume(config_mod.load(cfg_path), cfg, run_dir)
    ddp.barrier(d)
    if d.main:
        run_dir.mkdir(parents=True, exist_ok=True)
        config_mod.save(cfg, cfg_path)

    gan = Gan(cfg, wrap=ddp.wrapper(d), device=d.device)
    gan.rank = d.rank
    gan.hint_weight = hint_weight
    wall_before = 0.0
    ckpt = checkpoint.latest(run_dir) if resume else None
    if ckpt is not None:
        checkpoint.load(gan, ckpt)
        wall_before = float(checkpoint.read(ckpt)[1].get("wall_s", 0.0))
        log.info("resumed %s at step %d", run_dir, gan.step_count)
    elif cfg.init_weights:
        _init_weights(gan, cfg.init_weights, cfg.init_head_scale)
    return gan, wall_before


class _Outputs:
    """The main rank's records of a run: the fixed validation batch, TensorBoard, ``samples/``,
    ``log.jsonl``."""

    def __init__(self, cfg: TrainConfig, run_dir: Path, val_batch: dict[str, torch.Tensor]) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.cfg, self.run_dir, self.val_batch = cfg, run_dir, val_batch
        self.writer = SummaryWriter(str(run_dir / "tb"))
        (run_dir / "samples").mkdir(exist_ok=True)
        self.log_file = open(run_dir / "log.jsonl", "a")  # noqa: SIM115 - closed by close()

    def validate_and_sample(self, gan: Gan) -> dict[str, float]:
        from PIL import Image

        val = gan.validate(self.val_batch)
        grid = sample_grid(self.val_batch, gan.predict(self.val_batch["x"]), self.cfg)
        self.writer.add_image("samples", grid, gan.step_count, dataformats="HWC")
        Image.fromarray(grid).save(self.run_dir / "samples" / f"{gan.step_count:07d}.png")
        return val

    def write(self, step: int, wall_s: float, scalars: dict[str, float]) -> None:
        for k, v in scalars.items():
            self.writer.add_scalar(f"{self.cfg.stage}/{k}", v, step)
        self.log_file.write(json.dumps({"step": step, "wall_s": round(wall_s, 1), **scalars}) + "\n")
        self.log_file.flush()

    def close(self) -> None:
        self.writer.close()
        self.log_file.close()


class _Progress:
    """The progress bar: steps, or with a wall-time budget the percentage towards whichever limit
    is nearer (finetune sets ``steps`` out of reach: never "12/1000000" steps)."""

    def __init__(self, cfg: TrainConfig, start_step: int) -> None:
        from tqdm import tqdm

        self.cfg = cfg
        if cfg.max_minutes:
            self.bar = tqdm(total=100, desc=cfg.stage, dynamic_ncols=True, bar_format=TIME_BAR)
        else:
            self.bar = tqdm(total=cfg.steps, initial=start_step, desc=cfg.stage, dynamic_ncols=True)

    def show(self, step: int, losses: dict[str, float], elapsed_s: float) -> None:
        shown = {"l1": f"{losses['l1']:.4f}", "d": f"{losses['d_loss']:.3f}"}
        if self.cfg.max_minutes:
            done = max(step / self.cfg.steps, elapsed_s / (self.cfg.max_minutes * 60))
            self.bar.update(min(100.0, 100.0 * done) - self.bar.n)
            self.bar.set_postfix({"step": step, **shown})
        else:
            self.bar.update(1)
            self.bar.set_postfix(shown)

    def close(self) -> None:
        self.bar.close()


def _save(gan: Gan, cfg: TrainConfig, run_dir: Path, wall_s: float, main: bool) -> int:
    """A checkpoint (the main rank writes it, keeping the last three and every fifth); the step."""
    if main:
        path = checkpoint.checkpoint_path(run_dir, gan.step_count)
        checkpoint.save(gan, path, extra={"wall_s": f"{wall_s:.1f}"})
        checkpoint.prune(run_dir, keep_last=3, keep_every=cfg.checkpoint_every * 5)
    return gan.step_count


def train(
    cfg: TrainConfig,
    run_dir: Path | str,
    source: ImageSource | None = None,
    val_source: ImageSource | None = None,
    synth: Synth | None = None,
    resume: bool = True,
    dist: ddp.Dist | None = None,
    progress: bool = True,
    hint_weight: float = 0.0,
    on_step: Callable[[int, float], None] | None = None,
) -> dict:
    """Train ``cfg.stage`` until ``cfg.steps`` (or ``cfg.max_minutes``); returns a summary dict.

    ``hint_weight`` > 0 adds the hint-colour L1 term (``Gan.hint_l1``; fine-tuning keeps the hints).
    ``on_step(step, seconds)`` is called after every step (the fine-tune's progress file).
    """
    d = dist or ddp.setup()
    run_dir = Path(run_dir)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)  # identical initial weights on every rank
    gan, wall_before = _start(cfg, run_dir, resume, d, hint_weight)

    draft_loader = _draft_loader(cfg)
    train_src = source or training_source(cfg.data, "train")
    examples = Examples(cfg, train_src, synth, draft_loader)
    out = None
    if d.main:
        val_cfg = replace(cfg, data=replace(cfg.data, crops_per_image=1))
        val_src = val_source or training_source(cfg.data, "val")
        val_batch = fixed_batch(Examples(val_cfg, val_src, synth, draft_loader, salt=1), cfg.val_images)
        out = _Outputs(cfg, run_dir, val_batch)
    bar = _Progress(cfg, gan.step_count) if d.main and progress else None
    start_step = gan.step_count
    t0 = time.monotonic()
    last: dict[str, float] = {}
    saved_step = gan.step_count

    def wall() -> float:
        return wall_before + time.monotonic() - t0

    try:
        window: dict[str, list[float]] = {}
        for batch in loader(examples, start_step, cfg.steps, d.rank, d.world):
            losses = gan.step(batch)
            for k, v in losses.items():
                window.setdefault(k, []).append(v)
            step = gan.step_count
            if step % cfg.log_every == 0 or step == cfg.steps:
                # the mean since the last log line: single batches are noisy
                last = ddp.mean_scalars(d, {k: sum(v) / len(v) for k, v in window.items()})
                window = {}
                if out is not None:
                    if step % cfg.sample_every == 0 or step == cfg.steps:
                        last.update(out.validate_and_sample(gan))
                    out.write(step, wall(), last)
            if bar is not None:
                bar.show(step, losses, time.monotonic() - t0)
            if on_step is not None:
                on_step(step, time.monotonic() - t0)
            if step % cfg.checkpoint_every == 0:
                saved_step = _save(gan, cfg, run_dir, wall(), d.main)
            over = bool(cfg.max_minutes) and time.monotonic() - t0 > cfg.max_minutes * 60
            if ddp.broadcast_flag(d, over):
                log.info("wall-time limit reached at step %d", step)
                break
        if gan.step_count != saved_step:
            _save(gan, cfg, run_dir, wall(), d.main)
        summary = {"stage": cfg.stage, "step": gan.step_count, "wall_s": round(wall(), 1), **last}
        # equal on every rank when data parallelism keeps the replicas in step
        summary["g_param_sum"] = float(sum(p.detach().double().sum() for p in gan.G.parameters()))
        if out is not None:
            if "val_l1" not in last:
                summary.update(gan.validate(out.val_batch))
            (run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        return summary
    finally:
        if bar is not None:
            bar.close()
        if out is not None:
            out.close()
        ddp.barrier(d)
