"""Training examples: a colour image → synthetic line art and hints → the stage's input tensors.

Inputs are built exactly as the engine builds them at inference (``engine.channels.prepare`` →
``downsample`` for the draft, ``crop`` + the bilinearly upsampled draft for the refinement), so
training and inference agree. Every example is a pure function of (seed, index): runs are
reproducible and a resumed run sees the same batches it would have seen.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from engine import channels
from engine.pipeline import working_shape
from engine.resample import bilinear_crop, box_resize_hwc
from engine.tiling import pad_to_multiple
from training.config import TrainConfig

# (rgb_u8, rng) -> RGBA u8 line art / hints; defaults are the data helper's synthesisers
SynthFn = Callable[[np.ndarray, np.random.Generator], np.ndarray]
# stacked draft inputs C×H×W f32 -> draft H×W×3 f32 (the refinement stage's draft generator)
DraftFn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Synth:
    lines: SynthFn
    hints: SynthFn


def default_synth() -> Synth:
    from training.hints import synth_hints
    from training.lines import synth_lineart

    return Synth(synth_lineart, synth_hints)


class ImageSource(Protocol):
    def __len__(self) -> int: ...

    def image(self, i: int) -> np.ndarray:
        """H×W×3 uint8 RGB."""
        ...


class ArrayImages:
    """Images held in memory (tests, small fine-tuning sets)."""

    def __init__(self, images: Sequence[np.ndarray]) -> None:
        if not images:
            raise ValueError("no images")
        self.images = list(images)

    def __len__(self) -> int:
        return len(self.images)

    def image(self, i: int) -> np.ndarray:
        return self.images[i]


class CorpusImages:
    """One split of a corpus built by ``training.corpus`` (manifest.csv + images/)."""

    def __init__(self, corpus_dir: str, split: str) -> None:
        from training.corpus import load_manifest

        self.corpus_dir = corpus_dir
        self.rows = list(load_manifest(corpus_dir, split))
        if not self.rows:
            raise ValueError(
                f"corpus {corpus_dir} has no {split!r} images; build it with 'inkhue-train corpus'"
            )

    def __len__(self) -> int:
        return len(self.rows)

    def image(self, i: int) -> np.ndarray:
        from training.corpus import load_image

        return load_image(self.corpus_dir, self.rows[i])


def _crop_boxes(hw: tuple[int, int], crop: int, count: int, rng: np.random.Generator):
    h, w = hw
    for _ in range(count):
        y0 = int(rng.integers(0, max(0, h - crop) + 1))
        x0 = int(rng.integers(0, max(0, w - crop) + 1))
        yield y0, min(h, y0 + crop), x0, min(w, x0 + crop)


def _padded(chw_f32: np.ndarray, crop: int) -> np.ndarray:
    """Edge-pad to crop×crop (images smaller than the crop); the engine pads the same way."""
    out = pad_to_multiple(chw_f32, 1)
    h, w = out.shape[1:]
    if h < crop or w < crop:
        out = np.pad(out, ((0, 0), (0, crop - h), (0, crop - w)), mode="edge")
    return out


def _item(x_chw_f32: np.ndarray, y_hwc_f32: np.ndarray, crop: int) -> dict[str, np.ndarray]:
    h, w = y_hwc_f32.shape[:2]
    valid = np.zeros((1, crop, crop), np.float32)
    valid[:, :h, :w] = 1.0
    return {
        "x": _padded(x_chw_f32, crop),
        "y": _padded(np.ascontiguousarray(np.moveaxis(y_hwc_f32, -1, 0)), crop),
        "valid": valid,
    }


def synthesize(
    rgb_u8: np.ndarray, rng: np.random.Generator, synth: Synth
) -> tuple[np.ndarray, channels.Prepared]:
    """Line art and hints as an artist would give them, prepared as the engine prepares them."""
    if rng.random() < 0.5:  # mirror: free variety that keeps the artwork plausible
        rgb_u8 = np.ascontiguousarray(rgb_u8[:, ::-1])
    lineart_rgba_u8 = synth.lines(rgb_u8, rng)
    hints_rgba_u8 = synth.hints(rgb_u8, rng)
    return rgb_u8, channels.prepare(lineart_rgba_u8, hints_rgba_u8)


def draft_examples(
    rgb_u8: np.ndarray, rng: np.random.Generator, cfg: TrainConfig, synth: Synth
) -> list[dict[str, np.ndarray]]:
    """Crops at the draft's working resolution (the engine's ``downsample`` of the whole image)."""
    d = cfg.data
    rgb_u8, prep = synthesize(rgb_u8, rng, synth)
    size = int(rng.integers(d.working_min, d.working_max + 1))
    small_hw = working_shape(prep.shape, size)
    x_chw = channels.stack(cfg.inputs, channels.downsample(prep, small_hw))
    y_hwc = box_resize_hwc(rgb_u8.astype(np.float32) / 255.0, small_hw)
    items = []
    for y0, y1, x0, x1 in _crop_boxes(small_hw, d.crop, d.crops_per_image, rng):
        items.append(_item(x_chw[:, y0:y1, x0:x1], y_hwc[y0:y1, x0:x1], d.crop))
    return items


def refine_examples(
    rgb_u8: np.ndarray,
    rng: np.random.Generator,
    cfg: TrainConfig,
    synth: Synth,
    draft_fn: DraftFn,
    draft_in: tuple[str, ...],
) -> list[dict[str, np.ndarray]]:
    """Full-resolution crops with the draft generator's output upsampled as the engine does it."""
    d = cfg.data
    rgb_u8, prep = synthesize(rgb_u8, rng, synth)
    shape = prep.shape
    # the working grid is smaller than the image by a random ratio, as for large images at inference
    ratio = math.exp(rng.uniform(0.0, math.log(max(d.max_upscale, 1.0))))
    size = max(64, min(d.working_max, round(max(shape) / ratio)))
    small_hw = working_shape(shape, size)
    draft_hwc = draft_fn(channels.stack(draft_in, channels.downsample(prep, small_hw)))
    y_hwc = rgb_u8.astype(np.float32) / 255.0
    items = []
    for box in _crop_boxes(shape, d.crop, d.crops_per_image, rng):
        planes = channels.crop(prep, box)
        planes["draft_rgb"] = bilinear_crop(draft_hwc, shape, box)
        y0, y1, x0, x1 = box
        items.append(_item(channels.stack(cfg.inputs, planes), y_hwc[y0:y1, x0:x1], d.crop))
    return items


def torch_draft_fn(net: torch.nn.Module) -> DraftFn:
    """Run a draft generator like the engine's ``_run``: edge-pad to its divisor, crop back."""
    divisor = net.cfg.divisor

    def run(chw_f32: np.ndarray) -> np.ndarray:
        h, w = chw_f32.shape[1:]
        x = torch.from_numpy(pad_to_multiple(chw_f32, divisor)[None])
        with torch.inference_mode():
            y = net(x)[0, :, :h, :w].numpy()
        return np.ascontiguousarray(np.moveaxis(y, 0, -1))

    return run


class Examples(torch.utils.data.Dataset):
    """Index → ``crops_per_image`` crops of one synthesised example; a pure function of the index.

    Image order is a fresh permutation each pass over the source, drawn from the seed.
    """

    def __init__(
        self,
        cfg: TrainConfig,
        source: ImageSource,
        synth: Synth | None = None,
        draft_loader: Callable[[], tuple[torch.nn.Module, tuple[str, ...]]] | None = None,
        salt: int = 0,
    ) -> None:
        if cfg.stage == "refine" and draft_loader is None:
            raise ValueError("the refinement stage's examples need the draft generator")
        self.cfg = cfg
        self.source = source
        self.synth = synth
        self.draft_loader = draft_loader
        self.salt = salt
        self._draft_fn: DraftFn | None = None
        self._draft_in: tuple[str, ...] = ()
        self._perm: tuple[int, np.ndarray] | None = None

    def __len__(self) -> int:
        return 1 << 40  # virtual: indices are drawn by StepSampler

    def image_index(self, index: int) -> int:
        n = len(self.source)
        epoch = index // n
        if self._perm is None or self._perm[0] != epoch:
            self._perm = (epoch, np.random.default_rng([self.cfg.seed, self.salt, 1, epoch]).permutation(n))
        return int(self._perm[1][index % n])

    def __getitem__(self, index: int) -> list[dict[str, np.ndarray]]:
        if self.synth is None:
            self.synth = default_synth()
        rng = np.random.default_rng([self.cfg.seed, self.salt, 2, index])
        rgb_u8 = self.source.image(self.image_index(index))
        if self.cfg.stage == "draft":
            return draft_examples(rgb_u8, rng, self.cfg, self.synth)
        if self._draft_fn is None:
            net, self._draft_in = self.draft_loader()
            self._draft_fn = torch_draft_fn(net.eval())
        return refine_examples(rgb_u8, rng, self.cfg, self.synth, self._draft_fn, self._draft_in)


class StepSampler(torch.utils.data.Sampler):
    """Batches of example indices for steps [start, stop): step s on rank r takes a fixed slice."""

    def __init__(self, start: int, stop: int, groups: int, rank: int = 0, world: int = 1) -> None:
        self.start, self.stop, self.groups, self.rank, self.world = start, stop, groups, rank, world

    def __len__(self) -> int:
        return max(0, self.stop - self.start)

    def __iter__(self):
        for step in range(self.start, self.stop):
            first = (step * self.world + self.rank) * self.groups
            yield list(range(first, first + self.groups))


def collate(groups: list[list[dict[str, np.ndarray]]]) -> dict[str, torch.Tensor]:
    items = [item for group in groups for item in group]
    return {k: torch.from_numpy(np.stack([it[k] for it in items])) for k in items[0]}


def _worker_init(_: int) -> None:
    torch.set_num_threads(1)  # workers share the cores with the training process


def loader(dataset: Examples, start: int, stop: int, rank: int = 0, world: int = 1):
    cfg = dataset.cfg
    sampler = StepSampler(start, stop, cfg.batch // cfg.data.crops_per_image, rank, world)
    workers = cfg.data.workers
    return torch.utils.data.DataLoader(
        dataset,
        batch_sampler=sampler,
        collate_fn=collate,
        num_workers=workers,
        worker_init_fn=_worker_init if workers else None,
        persistent_workers=False,
        prefetch_factor=2 if workers else None,
    )


def fixed_batch(dataset: Examples, count: int) -> dict[str, torch.Tensor]:
    """``count`` crops for validation and sample grids: the same on every call."""
    groups, index = [], 0
    while sum(len(g) for g in groups) < count:
        groups.append(dataset[index])
        index += 1
    batch = collate(groups)
    return {k: v[:count] for k, v in batch.items()}
