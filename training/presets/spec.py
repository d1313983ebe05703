"""Paper presets: small frozen dataclasses read from ``training/presets/<name>.toml``.

A preset reproduces one paper's setup at a small budget. It has one or more *arms* (the variants the
paper compares, e.g. grayscale vs edge input), each a complete recipe: input planes, target space,
generator, losses. ``PRESET_FILES`` is the explicit registry; ``get_preset`` refuses unknown names
with the list of valid ones.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, fields
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # pyright: ignore[reportMissingImports]

from engine.errors import unknown_name

HERE = Path(__file__).parent

# the registry: preset name -> its TOML file beside this module
PRESET_FILES: dict[str, str] = {
    "two-stage": "two-stage.toml",
    "convnet-l2": "convnet-l2.toml",
    "cgan-l1": "cgan-l1.toml",
    "lab-gan": "lab-gan.toml",
    "luv-classes": "luv-classes.toml",
    "colouru": "colouru.toml",
}

ADVERSARIAL = ("", "bce", "lsgan")  # no discriminator, non-saturating BCE, least squares


@dataclass(frozen=True)
class Arm:
    """One trained variant of a preset."""

    name: str
    inputs: str  # training.presets.inputs.INPUTS key
    target: str  # training.presets.targets.TARGETS key
    net: str  # training.presets.nets.NETS key
    loss: str  # training.presets.losses.LOSSES key (the reconstruction term)
    rec_weight: float = 1.0  # weight of the reconstruction term (cGAN-L1: 100)
    adversarial: str = ""  # one of ADVERSARIAL
    adv_weight: float = 1.0
    label_flip: float = 0.0  # probability of flipping each of D's targets
    pretrain_share: float = 0.0  # share of the arm's time spent on the reconstruction term alone
    draft_from: str = ""  # two-stage refinement: the arm whose half-trained generator drafts
    lr: float = 2e-4
    beta1: float = 0.5
    width: int = 16  # the generator's first width (doubling per level, capped at 8×)

    def __post_init__(self) -> None:
        if self.adversarial not in ADVERSARIAL:
            raise ValueError(unknown_name("adversarial loss", self.adversarial, ADVERSARIAL))
        if not 0.0 <= self.pretrain_share < 1.0:
            raise ValueError(f"arm {self.name}: pretrain_share {self.pretrain_share} is not in [0, 1)")


@dataclass(frozen=True)
class Claim:
    """A direction a paper reported: ``better`` arm beats ``worse`` on ``metric``."""

    text: str
    better: str  # "preset:arm" (or "arm" within the preset)
    worse: str
    metric: str  # training.presets.measure.METRICS key


@dataclass(frozen=True)
class Preset:
    name: str
    paper: str  # who and what
    metric: str  # the paper's own metric (training.presets.measure.METRICS key)
    arms: tuple[Arm, ...]
    claims: tuple[Claim, ...] = ()
    keeps: str = ""  # what the shipped model keeps of the paper's ideas
    crop: int = 64  # training crop side (the papers used 256; CPU budget)
    batch: int = 8

    def __post_init__(self) -> None:
        names = [a.name for a in self.arms]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"preset {self.name}: arms must be present and uniquely named: {names}")
        for a in self.arms:
            if a.draft_from and a.draft_from not in names[: names.index(a.name)]:
                raise ValueError(
                    f"preset {self.name}: arm {a.name} drafts from an earlier arm, not {a.draft_from!r}"
                )

    def arm(self, name: str) -> Arm:
        for a in self.arms:
            if a.name == name:
                return a
        raise ValueError(unknown_name(f"arm of {self.name}", name, [a.name for a in self.arms]))


def _build(cls: type, raw: dict, where: str):
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}; valid: {', '.join(sorted(known))}")
    return cls(**raw)


def from_dict(raw: dict, where: str = "preset") -> Preset:
    raw = dict(raw)
    raw["arms"] = tuple(_build(Arm, a, f"{where} [[arms]]") for a in raw.get("arms", ()))
    raw["claims"] = tuple(_build(Claim, c, f"{where} [[claims]]") for c in raw.get("claims", ()))
    return _build(Preset, raw, where)


def load(path: Path | str) -> Preset:
    path = Path(path)
    try:
        return from_dict(tomllib.loads(path.read_text(encoding="utf-8")), str(path))
    except (tomllib.TOMLDecodeError, TypeError) as e:
        raise ValueError(f"preset {path}: {e}") from e


def get_preset(name: str) -> Preset:
    """The registered preset ``name`` (ValueError listing the valid names otherwise)."""
    if name not in PRESET_FILES:
        raise ValueError(unknown_name("preset", name, PRESET_FILES))
    preset = load(HERE / PRESET_FILES[name])
    if preset.name != name:
        raise ValueError(f"{PRESET_FILES[name]} names itself {preset.name!r}, registered as {name!r}")
    return preset


def all_presets() -> list[Preset]:
    return [get_preset(n) for n in PRESET_FILES]
