"""Shared fixtures: tiny random-weight models built once per session, small test images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def random_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from training.export import random_model

    return random_model(tmp_path_factory.mktemp("models") / "inkhue-random")


@pytest.fixture(scope="session")
def model_copy_factory(random_model_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """Fresh copies of the random model, for tests that damage files."""
    import shutil

    def make() -> Path:
        dest = tmp_path_factory.mktemp("modelcopy") / "m"
        shutil.copytree(random_model_dir, dest)
        return dest

    return make


def lineart_and_hints(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Dark-on-white line art with a closed box and one red hint dot inside it."""
    line = np.full((h, w, 3), 255, np.uint8)
    y0, y1, x0, x1 = h // 4, 3 * h // 4, w // 4, 3 * w // 4
    line[y0 : y0 + 2, x0:x1] = 0
    line[y1 - 2 : y1, x0:x1] = 0
    line[y0:y1, x0 : x0 + 2] = 0
    line[y0:y1, x1 - 2 : x1] = 0
    hints = np.zeros((h, w, 4), np.uint8)
    cy, cx = h // 2, w // 2
    hints[cy - 2 : cy + 2, cx - 2 : cx + 2] = (220, 30, 30, 255)
    return line, hints
