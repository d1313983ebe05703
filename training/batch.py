"""Training examples: a colour image → synthetic line art and hints → the stage's input tensors.

Inputs are built by the engine's own stage recipe (``engine.channels.prepare``, then
``engine.stages.draft_planes`` for the draft, ``refine_planes`` for the refinement, the draft run by
``run_padded``), so training sees what inference sees. Every example is a pure function of
(seed, index): runs are reproducible and a resumed run sees the same batches it would have seen.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from engine import channels
from engine.generator import UNetGenerator
from engine.resample import box_resize_hwc
from engine.stages import draft_planes, refine_planes, run_padded
from engine.tiling import pad_to_multiple, working_shape
from training.config import TrainConfig
from training.images import ImageSource, lineart_of

# (rgb_u8, rng) -> RGBA u8 line art / hints; defaults are the data helper's synthesisers
SynthFn = Callable[[np.ndarray, np.random.Generator], np.ndarray]
# stacked draft inputs C×H×W f32 -> draft H×W×3 f32 (the refinement stage's draft generator)
DraftFn = Callable[[np.ndarray], np.ndarray]
# the refinement's draft generator, its input channels and the spread parameters it was trained with
DraftLoader = Callable[[], tuple[UNetGenerator, tuple[str, ...], channels.SpreadParams]]


AREA_DENSITIES = ("sparse", "full")


@dataclass(frozen=True)
class Synth:
    lines: SynthFn
    hints: SynthFn
    # (rgb_u8, lineart_rgba_u8, density, rng) -> one dot per colour area (the evaluation's hints)
    area_hints: Callable[..., np.ndarray] | None = None
    # (the artist's own line art RGBA u8, rng) -> the line art as handed over (on white or clear)
    pair_lines: SynthFn | None = None


def default_synth() -> Synth:
    from training.hints import eval_hints, synth_hints
    from training.lines import pair_lineart, synth_lineart

    return Synth(synth_lineart, synth_hints, eval_hints, pair_lineart)


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


def border_crop(
    arrays: list[np.ndarray], rng: np.random.Generator, keep: tuple[float, float] = (0.55, 0.9)
) -> list[np.ndarray]:
    """The same random window of each array (H×W×C, equal H×W): the figure runs off the canvas."""
    h, w = arrays[0].shape[:2]
    ch = max(min(h, 32), round(h * rng.uniform(*keep)))
    cw = max(min(w, 32), round(w * rng.uniform(*keep)))
    y0 = int(rng.integers(0, h - ch + 1))
    x0 = int(rng.integers(0, w - cw + 1))
    return [np.ascontiguousarray(a[y0 : y0 + ch, x0 : x0 + cw]) for a in arrays]


def synthesize(
    rgb_u8: np.ndarray,
    rng: np.random.Generator,
    synth: Synth,
    p_area_hints: float = 0.0,
    lineart_rgba_u8: np.ndarray | None = None,
    p_border_crop: float = 0.0,
) -> tuple[np.ndarray, channels.Prepared]:
    """Line art and hints as an artist would give them, prepared as the engine prepares them.

    ``lineart_rgba_u8``: the artist's own line art of ``rgb_u8`` (a real pair), used instead of a
    synthetic one.
    """
    if lineart_rgba_u8 is not None and lineart_rgba_u8.shape[:2] != rgb_u8.shape[:2]:
        raise ValueError(f"line art {lineart_rgba_u8.shape[:2]} and image {rgb_u8.shape[:2]} differ in size")
    if rng.random() < 0.5:  # mirror: free variety that keeps the artwork plausible
        rgb_u8 = np.ascontiguousarray(rgb_u8[:, ::-1])
        if lineart_rgba_u8 is not None:
            lineart_rgba_u8 = np.ascontiguousarray(lineart_rgba_u8[:, ::-1])
    if p_border_crop > 0.0 and rng.random() < p_border_crop:
        both = border_crop([rgb_u8] if lineart_rgba_u8 is None else [rgb_u8, lineart_rgba_u8], rng)
        rgb_u8, lineart_rgba_u8 = both[0], (both[1] if len(both) > 1 else None)
    if lineart_rgba_u8 is None:
        lineart_rgba_u8 = synth.lines(rgb_u8, rng)
    elif synth.pair_lines is not None:
        lineart_rgba_u8 = synth.pair_lines(lineart_rgba_u8, rng)
    if synth.area_hints is not None and rng.random() < p_area_hints:
        # one dab per colour area, as artists (and the evaluation) place them
        hints_rgba_u8 = synth.area_hints(rgb_u8, lineart_rgba_u8, str(rng.choice(AREA_DENSITIES)), rng)
    else:
        hints_rgba_u8 = synth.hints(rgb_u8, rng)
    return rgb_u8, channels.prepare(lineart_rgba_u8, hints_rgba_u8)


@dataclass(frozen=True)
class DraftSource:
    """One synthesised example at the draft's working resolution, ready to be cropped."""

    x_chw_f32: np.ndarray
    y_hwc_f32: np.ndarray


@dataclass(frozen=True)
class RefineSource:
    """One synthesised example at full resolution with its draft, ready to be cropped."""

    rgb_u8: np.ndarray
    prep: channels.Prepared
    draft_hwc_f32: np.ndarray


def draft_source(
    rgb_u8: np.ndarray,
    rng: np.random.Generator,
    cfg: TrainConfig,
    synth: Synth,
    lineart_rgba_u8: np.ndarray | None = None,
) -> DraftSource:
    """The engine's ``downsample`` of the whole synthesised image to a random working size."""
    d = cfg.data
    rgb_u8, prep = synthesize(rgb_u8, rng, synth, d.p_area_hints, lineart_rgba_u8, d.p_border_crop)
    size = int(rng.integers(d.working_min, d.working_max + 1))
    small_hw = working_shape(prep.shape, size)
    x_chw = channels.stack(cfg.inputs, draft_planes(prep, small_hw, cfg.inputs, d.spread))
    return DraftSource(x_chw, box_resize_hwc(rgb_u8.astype(np.float32) / 255.0, small_hw))


def draft_crops(src: DraftSource, rng: np.random.Generator, cfg: TrainConfig) -> list[dict[str, np.ndarray]]:
    d = cfg.data
    items = []
    for y0, y1, x0, x1 in _crop_boxes(src.y_hwc_f32.shape[:2], d.crop, d.crops_per_image, rng):
        items.append(_item(src.x_chw_f32[:, y0:y1, x0:x1], src.y_hwc_f32[y0:y1, x0:x1], d.crop))
    return items


def refine_source(
    rgb_u8: np.ndarray,
    rng: np.random.Generator,
    cfg: TrainConfig,
    synth: Synth,
    draft_fn: DraftFn,
    draft_in: tuple[str, ...],
    draft_spread: channels.SpreadParams = channels.DEFAULT_SPREAD,
    lineart_rgba_u8: np.ndarray | None = None,
) -> RefineSource:
    """The draft generator run on the engine's working-size planes, as at inference."""
    d = cfg.data
    rgb_u8, prep = synthesize(rgb_u8, rng, synth, d.p_area_hints, lineart_rgba_u8, d.p_border_crop)
    shape = prep.shape
    # the working grid is smaller than the image by a random ratio, as for large images at inference
    ratio = math.exp(rng.uniform(0.0, math.log(max(d.max_upscale, 1.0))))
    if rng.random() < d.p_same_size:
        ratio = 1.0
    size = max(64, min(d.working_max, round(max(shape) / ratio)))
    small_hw = working_shape(shape, size)
    draft_hwc = draft_fn(channels.stack(draft_in, draft_planes(prep, small_hw, draft_in, draft_spread)))
    return RefineSource(rgb_u8, prep, draft_hwc)


def refine_crops(
    src: RefineSource, rng: np.random.Generator, cfg: TrainConfig
) -> list[dict[str, np.ndarray]]:
    """Full-resolution crops with the draft upsampled bilinearly, exactly as the engine's tiles."""
    d = cfg.data
    shape = src.prep.shape
    items = []
    for box in _crop_boxes(shape, d.crop, d.crops_per_image, rng):
        planes = refine_planes(src.prep, box, cfg.inputs, src.draft_hwc_f32)
        y0, y1, x0, x1 = box
        y = src.rgb_u8[y0:y1, x0:x1].astype(np.float32) / 255.0
        items.append(_item(channels.stack(cfg.inputs, planes), y, d.crop))
    return items


def draft_examples(rgb_u8, rng, cfg: TrainConfig, synth: Synth) -> list[dict[str, np.ndarray]]:
    return draft_crops(draft_source(rgb_u8, rng, cfg, synth), rng, cfg)


def refine_examples(
    rgb_u8,
    rng,
    cfg: TrainConfig,
    synth: Synth,
    draft_fn: DraftFn,
    draft_in,
    draft_spread=channels.DEFAULT_SPREAD,
) -> list[dict]:
    return refine_crops(refine_source(rgb_u8, rng, cfg, synth, draft_fn, draft_in, draft_spread), rng, cfg)


def torch_draft_fn(net: UNetGenerator) -> DraftFn:
    """Run a draft generator as the engine runs a stage (``engine.stages.run_padded``)."""

    def forward(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return net(torch.from_numpy(x)).numpy()

    def run(chw_f32: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(run_padded(forward, chw_f32, net.cfg.divisor))

    return run


class Examples(torch.utils.data.Dataset):
    """Index → ``crops_per_image`` crops of one synthesised example; a pure function of the index.

    Synthesis (and for the refinement stage, the draft) is the expensive part, so an example can
    serve ``data.reuse`` indices: indices come in rounds of ``pool × reuse``, in which index ``i``
    uses example ``i mod pool`` of the round with its own crops. The round's examples are memoised.
    Image order is a fresh permutation each pass over the source, drawn from the seed.
    """

    def __init__(
        self,
        cfg: TrainConfig,
        source: ImageSource,
        synth: Synth | None = None,
        draft_loader: DraftLoader | None = None,
        salt: int = 0,
    ) -> None:
        if cfg.stage == "refine" and draft_loader is None:
            raise ValueError("the refinement stage's examples need the draft generator")
        self.cfg = cfg
        self.source = source
        self.synth = synth
        self.draft_loader = draft_loader
        self.salt = salt
        self._draft: tuple[DraftFn, tuple[str, ...], channels.SpreadParams] | None = None
        self._perm: tuple[int, np.ndarray] | None = None
        self._cache: dict[int, DraftSource | RefineSource] = {}

    def __len__(self) -> int:
        return 1 << 40  # virtual: indices are drawn by StepSampler

    def example_of(self, index: int) -> int:
        d = self.cfg.data
        if d.reuse <= 1:
            return index
        span = d.pool * d.reuse
        return (index // span) * d.pool + index % d.pool

    def image_index(self, example: int) -> int:
        n = len(self.source)
        epoch = example // n
        if self._perm is None or self._perm[0] != epoch:
            self._perm = (epoch, np.random.default_rng([self.cfg.seed, self.salt, 1, epoch]).permutation(n))
        return int(self._perm[1][example % n])

    def draft_stage(self) -> tuple[DraftFn, tuple[str, ...], channels.SpreadParams]:
        """The refinement's draft generator as a function, its inputs and spread (loaded once)."""
        if self._draft is None:
            if self.draft_loader is None:
                raise ValueError("the refinement stage's examples need the draft generator")
            net, inputs, spread = self.draft_loader()
            self._draft = (torch_draft_fn(net.eval()), inputs, spread)
        return self._draft

    def source_of(self, example: int) -> DraftSource | RefineSource:
        if example in self._cache:
            return self._cache[example]
        if self.synth is None:
            self.synth = default_synth()
        rng = np.random.default_rng([self.cfg.seed, self.salt, 2, example])
        i = self.image_index(example)
        rgb_u8, lineart = self.source.image(i), lineart_of(self.source, i)
        if self.cfg.stage == "draft":
            src = draft_source(rgb_u8, rng, self.cfg, self.synth, lineart)
        else:
            draft_fn, draft_in, draft_spread = self.draft_stage()
            src = refine_source(rgb_u8, rng, self.cfg, self.synth, draft_fn, draft_in, draft_spread, lineart)
        if self.cfg.data.reuse > 1:
            first = (example // self.cfg.data.pool) * self.cfg.data.pool
            for old in [k for k in self._cache if k < first]:  # an earlier round's examples
                del self._cache[old]
            self._cache[example] = src
        return src

    def __getitem__(self, index: int) -> list[dict[str, np.ndarray]]:
        src = self.source_of(self.example_of(index))
        rng = np.random.default_rng([self.cfg.seed, self.salt, 3, index])
        if isinstance(src, DraftSource):
            return draft_crops(src, rng, self.cfg)
        return refine_crops(src, rng, self.cfg)


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
