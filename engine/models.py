"""Where installed models live, and how a name or a path resolves to one."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from engine.errors import ModelError
from engine.modelspec import MANIFEST, ModelManifest, load_manifest
from engine.wire import folders

log = logging.getLogger(__name__)

DEFAULT_MODEL = "inkhue-default"
BUNDLED_DIR = Path(__file__).parent / "models"
ENV_PATH = folders.MODEL_PATH_ENV


def user_models_dir() -> Path:
    return Path(folders.models_dir())


def search_dirs() -> list[Path]:
    """Model folders, first match wins: $INKHUE_MODEL_PATH, the user's data folder, the package."""
    return [*map(Path, folders.model_path_dirs()), user_models_dir(), BUNDLED_DIR]


def available() -> dict[str, Path]:
    """Installed models by manifest name (directory name as a fallback), without verifying."""
    found: dict[str, Path] = {}
    for root in search_dirs():
        if not root.is_dir():
            continue
        try:
            candidates = [root] if (root / MANIFEST).is_file() else sorted(root.iterdir())
        except OSError as e:
            log.warning("skipping %s: %s", root, e)
            continue
        for d in candidates:
            if (d / MANIFEST).is_file():
                try:
                    name = load_manifest(d, verify=False).name
                except ModelError as e:
                    log.warning("skipping %s: %s", d, e)
                    continue
                found.setdefault(name, d)
    return found


def resolve(model: str | os.PathLike | None = None) -> Path:
    """A model directory from a name, a path, or None for the default model."""
    if model is not None and (Path(model) / MANIFEST).is_file():
        return Path(model)
    name = DEFAULT_MODEL if model is None else str(model)
    models = available()
    if name in models:
        return models[name]
    if not models:
        raise ModelError(
            "no model is installed: run installer/install.sh, train one with "
            f"'inkhue-train', or point {ENV_PATH} at a model folder"
        )
    raise ModelError(f"unknown model {name!r}; installed: {', '.join(sorted(models))}")


def load(model: str | os.PathLike | None = None) -> ModelManifest:
    """Resolve and load a model's manifest, verifying every file's checksum."""
    return load_manifest(resolve(model), verify=True)
