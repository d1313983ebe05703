"""Image files in and out through Pillow, with errors that say which file and why."""

from __future__ import annotations

import os
import tempfile
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
            # our own limit (max_pixels, from the header, before decoding) replaces Pillow's
            # fixed 89 M pixel bomb warning, so the documented limit is the one that applies
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(path)
            check_size(img.height, img.width, f"{what} {path.name}", max_pixels)
            img.load()
    except InputError:
        raise
    except Image.DecompressionBombError as e:  # over twice Pillow's limit: refused in open()
        raise InputError(
            f"{what} {path.name} is larger than the limit of {max_pixels:,} pixels ({e}); "
            "scale it down or colour a part of it"
        ) from e
    except UnidentifiedImageError as e:
        raise ImageReadError(f"{what} {path} is not an image Pillow can read: {e}") from e
    except OSError as e:
        raise ImageReadError(f"{what} {path} could not be read (truncated or corrupt?): {e}") from e
    except (ValueError, SyntaxError, EOFError, MemoryError) as e:
        # Pillow's own refusals: text or ICC chunks that inflate too far ("Decompressed Data Too
        # Large"), broken chunk structure, a header promising more than memory holds
        raise ImageReadError(f"{what} {path} could not be decoded (corrupt or hostile file?): {e}") from e
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


def check_output(
    path: str | Path, inputs: tuple[str | Path, ...] = (), force: bool = False, alpha: bool = False
) -> Path:
    """Refuse an output path that cannot be written, before any work is done on the image."""
    path = Path(path)
    if path.suffix.lower() not in WRITE_FORMATS:
        raise InputError(
            f"cannot write {path.name}: unknown extension; use one of {', '.join(sorted(WRITE_FORMATS))}"
        )
    if alpha and WRITE_FORMATS[path.suffix.lower()] == "JPEG":
        raise InputError(f"cannot write {path.name}: JPEG has no transparency; use .png, .webp or .tif")
    if path.is_dir():
        raise InputError(f"output {path} is a folder: give a file name, e.g. {path / 'colorized.png'}")
    if path.exists() and not path.is_file():
        raise InputError(f"output {path} exists and is not a regular file: choose another name")
    if not force and any(path.exists() and Path(i).exists() and path.samefile(i) for i in inputs):
        raise InputError(f"output {path} is one of the input images: choose another name, or pass --force")
    return path


def write_image(path: str | Path, rgb_u8: np.ndarray) -> Path:
    """Write an H×W×3 RGB or H×W×4 RGBA image atomically: a temporary file beside ``path``
    replaces it only once complete, so an interrupt or a full disk never leaves a truncated image
    or destroys the previous one."""
    path = check_output(path, force=True, alpha=rgb_u8.ndim == 3 and rgb_u8.shape[2] == 4)
    fmt = WRITE_FORMATS[path.suffix.lower()]
    kwargs = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            Image.fromarray(rgb_u8).save(f, fmt, **kwargs)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
        tmp = None
    except OSError as e:
        raise InputError(f"cannot write {path}: {e.strerror or e}") from e
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
