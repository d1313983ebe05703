"""Where training images come from: in memory, a corpus split, or two sources mixed at a share.

A source is indexable (``image(i)``: H×W×3 uint8 RGB) and may hold the artist's own line art of an
image (``lineart(i)``, the corpus's artist-drawn pairs); ``training.batch`` turns them into examples.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from training.config import DataConfig


class ImageSource(Protocol):
    def __len__(self) -> int: ...

    def image(self, i: int) -> np.ndarray:
        """H×W×3 uint8 RGB."""
        ...


def lineart_of(source: ImageSource, i: int) -> np.ndarray | None:
    """The artist's own line art of image ``i`` (H×W×4 u8) when the source has one, else None."""
    get = getattr(source, "lineart", None)
    return None if get is None else get(i)


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

    def __init__(self, corpus_dir: str, split: str, exclude_sources: tuple[str, ...] = ()) -> None:
        from training.corpus import load_manifest

        self.corpus_dir = corpus_dir
        self.rows = [r for r in load_manifest(corpus_dir, split) if r["source"] not in exclude_sources]
        if not self.rows:
            raise ValueError(
                f"corpus {corpus_dir} has no {split!r} images; build it with 'inkhue-train corpus'"
            )

    def __len__(self) -> int:
        return len(self.rows)

    def image(self, i: int) -> np.ndarray:
        from training.corpus import load_image

        return load_image(self.corpus_dir, self.rows[i])

    def lineart(self, i: int) -> np.ndarray | None:
        from training.corpus import load_lineart

        return load_lineart(self.corpus_dir, self.rows[i])


class MixedImages:
    """Two sources as one, the second making up ``share`` of the indices (repeated as needed).

    The first ``len(first)`` indices are the first source; then the second source, cycled until it
    is ``share`` of the whole. Shuffled per pass by ``Examples``, every pass holds the exact share.
    """

    def __init__(self, first: ImageSource, second: ImageSource, share: float) -> None:
        if not 0.0 < share < 1.0:
            raise ValueError(f"share {share} must be strictly between 0 and 1 (else use one source)")
        self.first, self.second = first, second
        self.n_first = len(first)
        self.n_second = max(1, round(share / (1.0 - share) * self.n_first))

    def __len__(self) -> int:
        return self.n_first + self.n_second

    def _pick(self, i: int) -> tuple[ImageSource, int]:
        if i < self.n_first:
            return self.first, i
        return self.second, (i - self.n_first) % len(self.second)

    def image(self, i: int) -> np.ndarray:
        src, j = self._pick(i)
        return src.image(j)

    def lineart(self, i: int) -> np.ndarray | None:
        src, j = self._pick(i)
        return lineart_of(src, j)


def training_source(data: DataConfig, split: str = "train") -> ImageSource:
    """The images a run trains (``split`` "train") or validates on ("val"), as ``data`` mixes them.

    With ``data.real_share`` the artist-drawn pairs (real-train / real-val) make up that share; at 1
    they are the whole source.
    """
    real_split = f"real-{split}"
    if data.real_share <= 0.0:
        return CorpusImages(data.corpus_dir, split, data.exclude_sources)
    real = CorpusImages(data.corpus_dir, real_split, data.exclude_sources)
    if data.real_share >= 1.0:
        return real
    return MixedImages(CorpusImages(data.corpus_dir, split, data.exclude_sources), real, data.real_share)
