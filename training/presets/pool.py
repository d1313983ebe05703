"""Images held in memory for a preset run, and the batches cut from them.

``Pool`` loads a corpus split once, each image resized so its shorter side is ``side`` and cropped
to a centred square; training batches are random crops (and flips) of it, validation examples the
centred crop with a fixed seed per image, so every arm is scored on the same inputs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image

from training.presets import colour
from training.presets.inputs import Crop, get_input
from training.presets.targets import get_target

log = logging.getLogger(__name__)

# (rgb_u8 crop, rng) -> the gray plane (0..1) a grayscale input sees instead of the image's own L
GrayFn = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def square(rgb_u8: np.ndarray, side: int) -> np.ndarray:
    h, w = rgb_u8.shape[:2]
    k = side / min(h, w)
    size = (max(side, round(w * k)), max(side, round(h * k)))
    im = np.asarray(Image.fromarray(rgb_u8).resize(size, Image.Resampling.LANCZOS))
    y, x = (im.shape[0] - side) // 2, (im.shape[1] - side) // 2
    return np.ascontiguousarray(im[y : y + side, x : x + side])


def load_images(corpus_dir: str, split: str, count: int, side: int, seed: int = 0) -> list[np.ndarray]:
    from training.corpus import load_image, load_manifest

    rows = sorted(load_manifest(corpus_dir, split), key=lambda r: r["id"])
    if not rows:
        raise ValueError(f"corpus {corpus_dir} has no {split!r} images")
    order = np.random.default_rng(seed).permutation(len(rows))[:count]
    return [square(load_image(corpus_dir, rows[i]), side) for i in order]


class Pool:
    """Square u8 images (and the ink of their synthetic line art, when an arm needs it)."""

    def __init__(self, images: Sequence[np.ndarray], need_ink: bool = False, seed: int = 0) -> None:
        if not images:
            raise ValueError("no images")
        self.images = [np.asarray(im, np.uint8) for im in images]
        self.ink: list[np.ndarray] | None = None
        if need_ink:
            from training.lines import ink_plane

            rng = np.random.default_rng(seed)
            self.ink = [ink_plane(im, rng)[0].astype(np.float32) for im in self.images]

    def __len__(self) -> int:
        return len(self.images)

    def crop(self, i: int, box: tuple[int, int, int], flip: bool, gray: GrayFn | None, rng) -> Crop:
        y, x, s = box
        rgb = self.images[i][y : y + s, x : x + s]
        ink = None if self.ink is None else self.ink[i][y : y + s, x : x + s]
        if flip:
            rgb = rgb[:, ::-1]
            ink = None if ink is None else ink[:, ::-1]
        rgb = np.ascontiguousarray(rgb)
        g = None if gray is None else gray(rgb, rng)
        return Crop(rgb, colour.rgb_u8_to_lab(rgb), None if ink is None else np.ascontiguousarray(ink), g)


def example(crop: Crop, inputs: str, target: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    _, build = get_input(inputs)
    l_hw = crop.lab[..., 0] if crop.gray is None else crop.gray * 100.0
    return {"x": build(crop, rng), "y": get_target(target).encode(crop), "l": l_hw.astype(np.float32)}


def train_batch(
    pool: Pool,
    inputs: str,
    target: str,
    n: int,
    crop: int,
    rng: np.random.Generator,
    gray: GrayFn | None = None,
) -> dict[str, np.ndarray]:
    items = []
    for _ in range(n):
        i = int(rng.integers(len(pool)))
        h, w = pool.images[i].shape[:2]
        box = (int(rng.integers(0, h - crop + 1)), int(rng.integers(0, w - crop + 1)), crop)
        items.append(example(pool.crop(i, box, bool(rng.random() < 0.5), gray, rng), inputs, target, rng))
    return {k: np.stack([it[k] for it in items]) for k in items[0]}


def val_examples(
    pool: Pool, inputs: str, target: str, crop: int, seed: int = 0, gray: GrayFn | None = None
) -> list[tuple[Crop, dict[str, np.ndarray]]]:
    """The same examples on every call: the centred crop of each image, seeded per image."""
    out = []
    for i in range(len(pool)):
        rng = np.random.default_rng([seed, i])
        h, w = pool.images[i].shape[:2]
        c = pool.crop(i, ((h - crop) // 2, (w - crop) // 2, crop), False, gray, rng)
        out.append((c, example(c, inputs, target, rng)))
    return out
