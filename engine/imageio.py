"""Image files in and out through Pillow, with errors that say which file and why."""

from __future__ import annotations

import os
import struct
import tempfile
import warnings
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.arrays import check_size
from engine.errors import ImageReadError, InputError
from engine.wire.schema import DEFAULT_MAX_PIXELS

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
            if img.format == "PNG":
                _check_png_complete(path, what)
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


# PNG colour type -> samples per pixel; Adam7 passes as (x start, y start, x step, y step)
_PNG_SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def _png_image_bytes(width: int, height: int, depth: int, colour: int, interlaced: bool) -> int:
    """Bytes of a PNG's filtered scanlines (one filter byte per row), all interlace passes."""
    samples = _PNG_SAMPLES.get(colour, 4)
    passes = _ADAM7 if interlaced else ((0, 0, 1, 1),)
    total = 0
    for x0, y0, dx, dy in passes:
        w, h = (width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy
        if w > 0 and h > 0:
            total += h * (1 + (w * samples * depth + 7) // 8)
    return total


def _check_png_complete(path: Path, what: str) -> None:
    """Refuse a PNG whose image data ends before its last row.

    Pillow reads a zlib stream that ends cleanly but early as a complete image, the missing rows
    transparent or black (also with ``ImageFile.LOAD_TRUNCATED_IMAGES`` off, and ``verify()``
    passes). The IDAT stream is inflated again here, counting and discarding the bytes, in 1 MiB
    steps: a few tenths of a second for a 100 M pixel image, no memory.
    """
    inflater, got, need = zlib.decompressobj(), 0, None
    with open(path, "rb") as f:
        f.seek(8)
        while True:
            head = f.read(8)
            if len(head) < 8:
                break
            length, kind = struct.unpack(">I4s", head)
            if kind == b"IHDR" and need is None:
                w, h, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", f.read(13))
                need = _png_image_bytes(w, h, depth, colour, interlace == 1)
                f.seek(length - 13 + 4, os.SEEK_CUR)
                continue
            if kind == b"IEND":
                break
            if kind != b"IDAT":
                f.seek(length + 4, os.SEEK_CUR)
                continue
            data = f.read(length)
            f.seek(4, os.SEEK_CUR)
            while data and not inflater.eof and got <= (need or 0):
                got += len(inflater.decompress(data, 1 << 20))
                data = inflater.unconsumed_tail
    if need is not None and got < need:
        raise ImageReadError(
            f"{what} {path} is truncated: its image data ends after {got:,} of {need:,} bytes "
            "(rows missing); save it again or use the original file"
        )


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
