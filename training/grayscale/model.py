"""Train, export and score ``inkhue-grayscale``: CIELAB a, b from L and hint dabs.

The generator is the engine's U-Net (``engine-unet``: widths 32-64-128-256, pixel-unshuffle 2,
batch norm) over four planes: L / 100, the hints' a and b, the hint mask (``gray_l``,
``hint_ab``, ``hint_mask`` in ``engine.channels``). Training images are the corpus's colour images;
their grayscale input is their own L, or with probability ``p_tone`` L with screentone
(``screentone.tone_gray``). The loss is L1 on a, b. A run folder keeps ``ckpt.pt`` (resumable).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from training.grayscale.screentone import tone_gray
from training.presets.spec import Arm

log = logging.getLogger(__name__)

MODEL_NAME = "inkhue-grayscale"
INPUTS = ("gray_l", "hint_ab", "hint_mask")


@dataclass(frozen=True)
class GrayscaleConfig:
    corpus: str = "data/corpus"
    minutes: float = 35.0
    train_images: int = 1200
    side: int = 192  # the pool's images: shorter side, before random crops
    crop: int = 128
    batch: int = 12
    width: int = 32
    lr: float = 2e-4
    p_tone: float = 0.4  # share of examples whose tones are screened
    seed: int = 0
    max_steps: int = 0  # 0: until the time budget

    def arm(self) -> Arm:
        return Arm(
            name="grayscale",
            inputs="gray-hints",
            target="ab",
            net="engine-unet",
            loss="l1",
            lr=self.lr,
            width=self.width,
        )


def train(cfg: GrayscaleConfig, run_dir: Path | str, device: str = "cpu"):
    """Train (resuming ``run_dir/ckpt.pt``); returns the ``ArmRun``."""
    import numpy as np

    from training.presets.loop import train_arm
    from training.presets.pool import Pool, load_images

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(json.dumps(asdict(cfg), indent=2) + "\n")
    pool = Pool(load_images(cfg.corpus, "train", cfg.train_images, cfg.side, cfg.seed))
    p = cfg.p_tone

    def gray(rgb_u8: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return tone_gray(rgb_u8, rng, p)

    run = train_arm(
        cfg.arm(),
        pool,
        cfg.minutes,
        cfg.crop,
        cfg.batch,
        cfg.seed,
        ckpt=run_dir / "ckpt.pt",
        max_steps=cfg.max_steps,
        gray=gray,
        device=device,
    )
    (run_dir / "summary.json").write_text(
        json.dumps(
            {"steps": run.steps, "wall_s": round(run.wall_s, 1), "last_loss": run.losses[-50:]}, indent=1
        )
        + "\n"
    )
    return run


def export(run_dir: Path | str, out_dir: Path | str, version: str = "1.0.0", description: str = "") -> Path:
    """The run's generator as an engine model folder (ONNX, safetensors, manifest of kind grayscale)."""
    import torch

    from engine.modelspec import write_manifest
    from training.export import export_onnx, parity, save_weights
    from training.presets.nets import build_net

    run_dir, out_dir = Path(run_dir), Path(out_dir)
    cfg = GrayscaleConfig(**json.loads((run_dir / "config.json").read_text()))
    net = build_net("engine-unet", 4, 2, cfg.width, "sigmoid")
    net.load_state_dict(torch.load(run_dir / "ckpt.pt", weights_only=True)["G"])
    net.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    export_onnx(net, out_dir / "chroma.onnx")  # type: ignore[arg-type]
    gap = parity(net, out_dir / "chroma.onnx")  # type: ignore[arg-type]
    if gap > 1e-3:
        raise ValueError(f"ONNX and torch disagree by {gap:.2e}")
    save_weights(net, out_dir / "chroma.safetensors")
    stage = {"inputs": INPUTS, "generator": net.cfg, "onnx": "chroma.onnx", "weights": "chroma.safetensors"}
    return write_manifest(
        out_dir,
        MODEL_NAME,
        version,
        {"chroma": stage},
        kind="grayscale",
        working_size=512,
        description=description or "Shaded grayscale (manga) colorizer: CIELAB a, b from L and colour hints",
    )
