"""Image files in and out through Pillow, with errors that say which file and why."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.arrays import check_size
from engine.errors import ImageReadError, InputError
from engine.schema import DEFAULT_MAX_PIXELS

WRITE_FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}


def read_image(path: str | Path, what: str = "image", max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read ``path`` as uint8: H×W (gray), H×W×3 (RGB) or H×W×4 (RGBA), size-checked first."""
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"{what} file not found: {path}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(path)
            # the header is enough to refuse oversized files before decoding them
            check_size(img.height, img.width, f"{what} {path.name}", max_pixels)
            img.load()
    except InputError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageReadError(f"{what} {path} is not an image Pillow can read: {e}") from e
    except OSError as e:
        raise ImageReadError(f"{what} {path} could not be read (truncated or corrupt?): {e}") from e
    if img.mode in ("L", "RGB", "RGBA"):
        pass
    elif img.mode in ("LA", "P", "PA", "RGBa", "La") or "transparency" in img.info:
        img = img.convert("RGBA")
    elif img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I") else 1.0
        return np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
    else:
        img = img.convert("RGB")
    return np.asarray(img, dtype=np.uint8).copy()


def write_image(path: str | Path, rgb_u8: np.ndarray) -> Path:
    path = Path(path)
    fmt = WRITE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"cannot write {path.name}: unknown extension; use one of {', '.join(sorted(WRITE_FORMATS))}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    kwargs = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
    Image.fromarray(rgb_u8).save(path, fmt, **kwargs)
    return path
