"""Training configuration: small frozen dataclasses, read from and written to TOML.

One ``TrainConfig`` describes a run completely; it is written as ``config.toml`` beside every
run's checkpoints so a run can be resumed or reproduced from its folder alone.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import tomli_w

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    # the train extra installs tomli on 3.10 only; pyright checks as 3.10 in any venv
    import tomli as tomllib  # pyright: ignore[reportMissingImports]

from engine.channels import CHANNELS, REGION_CHANNELS, SpreadParams, channel_count
from engine.modelspec import GeneratorConfig

STAGES = ("draft", "refine")
FILL_CHANNELS = ("fill_rgb", "fill_mask")
SPREAD_CHANNELS = ("spread_rgb", "spread_mask")
BASE_INPUTS = ("line", "hint_rgb", "hint_mask")


@dataclass(frozen=True)
class DataConfig:
    corpus_dir: str = "data/corpus"
    exclude_sources: tuple[str, ...] = ()  # corpus sources left out (e.g. kept unseen for a fine-tune test)
    crop: int = 256  # side of the square training crop, at the stage's resolution
    # the draft's working size (longest side) is drawn in [working_min, working_max] per example,
    # like the engine's downscale of images of different sizes to at most 512
    working_min: int = 256
    working_max: int = 512
    # refinement: full-resolution / working-resolution ratio drawn log-uniformly in [1, max_upscale]
    max_upscale: float = 3.0
    p_same_size: float = 0.3  # refinement: share of examples drafted at full size (small images)
    crops_per_image: int = 2  # crops taken from one synthesised example (amortises synthesis)
    # an example serves `reuse` batches (different crops) within a round of `pool` examples:
    # the refinement stage's examples each cost a draft forward pass
    reuse: int = 1
    pool: int = 64
    p_area_hints: float = 0.4  # share of examples hinted one dab per colour area (else random marks)
    # share of examples drawn from the corpus's artist-drawn pairs (real-train: the artist's own line
    # art, training.pairs) instead of synthetic line art from the colour images (train)
    real_share: float = 0.0
    # share of examples cropped so that the figure runs off the canvas (open at the border), as
    # artists' line art often is
    p_border_crop: float = 0.0
    workers: int = 0  # DataLoader worker processes (0: synthesise in the training process)
    # the draft's spread channels (engine.channels.SpreadParams); export writes them to the manifest
    spread_fade: float = 0.3
    spread_ink_cost: float = 2000.0

    def __post_init__(self) -> None:
        for name in ("real_share", "p_border_crop", "p_area_hints"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"data.{name} {getattr(self, name)} is not in [0, 1]")

    @property
    def spread(self) -> SpreadParams:
        return SpreadParams(self.spread_fade, self.spread_ink_cost)


@dataclass(frozen=True)
class OptimConfig:
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    adv_weight: float = 0.01  # λ of L1 + λ·adversarial (the two-stage paper's value)
    label_flip: float = 0.05  # probability of flipping each of D's real/fake targets
    compose_lines: bool = True  # L1 on the output multiplied by the line plane, as the engine shows it
    l1_space: str = "rgb"  # rgb or lab (training.gan.L1_SPACES)
    # > 0: the L1 counts this much more where the flats are right (painted, and within
    # flat_tolerance of the truth in the L1 space, mean over channels): the draft keeps them there
    flat_weight: float = 0.0
    flat_tolerance: float = 0.02


@dataclass(frozen=True)
class DiscriminatorConfig:
    # strided 4×4 convs; the last layer is a 1-channel patch map. Small: with λ = 0.01 the
    # adversarial term shapes textures, and D's cost is pure overhead on a CPU
    widths: tuple[int, ...] = (16, 32, 64)


@dataclass(frozen=True)
class TrainConfig:
    stage: str = "draft"
    inputs: tuple[str, ...] = (*BASE_INPUTS, *FILL_CHANNELS, *SPREAD_CHANNELS)
    generator: GeneratorConfig = field(default_factory=lambda: draft_generator(True))
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    batch: int = 8  # per process
    steps: int = 2000
    max_minutes: float = 0.0  # stop early after this wall time (0: no limit); resumable
    seed: int = 0
    threads: int = 0  # torch intra-op threads (0: torch's default)
    log_every: int = 10
    sample_every: int = 200
    checkpoint_every: int = 100
    val_images: int = 8  # fixed validation examples for the logged val L1 and sample grids
    draft_checkpoint: str = ""  # refinement: the (half-trained) draft generator's checkpoint
    init_weights: str = ""  # start the generator from these safetensors weights (fine-tuning)
    # < 1: shrink the started generator's residual head (bias zeroed) so it begins close to its
    # base channel and unlearns what no longer fits, e.g. after the spread channel changed
    init_head_scale: float = 1.0

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"unknown stage {self.stage!r}; valid: {', '.join(STAGES)}")
        for name in self.inputs:
            if name not in CHANNELS:
                raise ValueError(f"unknown input channel {name!r}; valid: {', '.join(CHANNELS)}")
        if channel_count(self.inputs) != self.generator.in_channels:
            raise ValueError(
                f"inputs {self.inputs} give {channel_count(self.inputs)} channels, the generator "
                f"expects {self.generator.in_channels}"
            )
        has_draft = "draft_rgb" in self.inputs
        if has_draft != (self.stage == "refine"):
            raise ValueError("draft_rgb is an input of the refinement stage and only of it")
        if self.stage == "refine" and not self.draft_checkpoint:
            raise ValueError("the refinement stage needs draft_checkpoint (a draft run's weights)")
        if not 0.0 <= self.init_head_scale <= 1.0:
            raise ValueError(f"init_head_scale {self.init_head_scale} is not in [0, 1]")
        if self.init_head_scale != 1.0 and not self.init_weights:
            raise ValueError("init_head_scale scales the head of init_weights; set init_weights too")
        if self.data.crop % self.generator.divisor:
            raise ValueError(f"crop {self.data.crop} is not a multiple of {self.generator.divisor}")
        if self.batch % self.data.crops_per_image:
            raise ValueError("batch must be a multiple of data.crops_per_image")


def plane_offset(inputs: tuple[str, ...], name: str) -> int:
    """Index of the first plane of channel ``name`` in the stacked inputs (-1 if absent)."""
    if name not in inputs:
        return -1
    return channel_count(inputs[: inputs.index(name)])


def draft_inputs(
    fill: bool, spread: bool = True, near: bool = False, regions: bool = False
) -> tuple[str, ...]:
    # near_rgb goes last so a model trained without it can be extended (zero weights for it)
    spread_part = (*SPREAD_CHANNELS, *(("near_rgb",) if near else ())) if spread else ()
    region_part = REGION_CHANNELS if regions else ()
    return (*BASE_INPUTS, *(FILL_CHANNELS if fill else ()), *region_part, *spread_part)


def refine_inputs(fill: bool) -> tuple[str, ...]:
    # the spread is a working-resolution channel: the refinement sees it through the draft
    return (*draft_inputs(fill, spread=False), "draft_rgb")


def draft_generator(
    fill: bool,
    spread: bool = True,
    widths: tuple[int, ...] = (32, 64, 128, 256),
    unshuffle: int = 4,
    near: bool = False,
    regions: bool = False,
) -> GeneratorConfig:
    """Draft U-Net refining a residual base: the flats, else the spread hints, else the flood fill.

    On the flats (``regions``) the net is a correction: where the flats paint, it starts from their
    exact hint colours; elsewhere (unhinted regions, no hints at all) from mid grey, which it can
    move to any colour as easily (a white start saturates the sigmoid).
    """
    inputs = draft_inputs(fill, spread, near, regions)
    cfg = GeneratorConfig(channel_count(inputs), widths=widths, unshuffle=unshuffle)
    if regions:
        return replace(
            cfg, base_rgb=plane_offset(inputs, "flat_rgb"), base_mask=plane_offset(inputs, "flat_mask")
        )
    if spread:
        return replace(cfg, base_rgb=plane_offset(inputs, "spread_rgb"))
    if fill:
        # unhinted regions start white, as the flood fill leaves them
        return replace(
            cfg,
            base_rgb=plane_offset(inputs, "fill_rgb"),
            base_mask=plane_offset(inputs, "fill_mask"),
            base_fallback=1.0,
        )
    return cfg


def refine_generator(fill: bool, widths: tuple[int, ...] = (32, 64, 128), unshuffle: int = 4):
    """Refinement U-Net: refines the upsampled draft (residual base).

    Without batch norm: a BN refinement trained briefly shifted colours at inference (running
    statistics of small crops disagree with whole images), while its training loss looked fine.
    """
    inputs = refine_inputs(fill)
    return GeneratorConfig(
        channel_count(inputs),
        widths=widths,
        unshuffle=unshuffle,
        norm="none",
        base_rgb=plane_offset(inputs, "draft_rgb"),
    )


def default_config(
    stage: str,
    fill: bool = True,
    spread: bool = True,
    near: bool = False,
    regions: bool = False,
    **overrides: object,
) -> TrainConfig:
    if stage == "draft":
        if near and not spread:
            raise ValueError("near_rgb comes from the spread: it needs the spread channels")
        base = TrainConfig(
            stage="draft",
            inputs=draft_inputs(fill, spread, near, regions),
            generator=draft_generator(fill, spread, near=near, regions=regions),
            data=DataConfig(crop=128, crops_per_image=4, reuse=2, pool=32),
        )
    elif stage == "refine":
        base = TrainConfig(
            stage="refine",
            inputs=refine_inputs(fill),
            generator=refine_generator(fill),
            data=DataConfig(crops_per_image=4, reuse=8),
            draft_checkpoint="(set me)",
        )
    else:
        raise ValueError(f"unknown stage {stage!r}; valid: {', '.join(STAGES)}")
    return replace(base, **overrides) if overrides else base


# ---- TOML ------------------------------------------------------------------------------------

_NESTED = {
    "generator": GeneratorConfig,
    "discriminator": DiscriminatorConfig,
    "data": DataConfig,
    "optim": OptimConfig,
}


def to_dict(cfg: TrainConfig) -> dict:
    return asdict(cfg)


def _build(cls: type, raw: dict, where: str):
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}; valid: {', '.join(known)}")
    kw = {}
    for key, value in raw.items():
        if isinstance(value, list):
            value = tuple(value)
        kw[key] = value
    return cls(**kw)


def from_dict(raw: dict) -> TrainConfig:
    raw = dict(raw)
    for key, cls in _NESTED.items():
        if key in raw:
            raw[key] = _build(cls, raw[key], f"[{key}]")
    return _build(TrainConfig, raw, "config")


def dumps(cfg: TrainConfig) -> str:
    return tomli_w.dumps(to_dict(cfg))


def loads(text: str) -> TrainConfig:
    return from_dict(tomllib.loads(text))


def save(cfg: TrainConfig, path: Path | str) -> Path:
    path = Path(path)
    path.write_text(dumps(cfg))
    return path


def load(path: Path | str) -> TrainConfig:
    path = Path(path)
    try:
        return loads(path.read_text())
    except (tomllib.TOMLDecodeError, TypeError, ValueError) as e:
        raise ValueError(f"config {path}: {e}") from e
