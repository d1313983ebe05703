"""The one request schema shared by the Python API, the CLI, the server and both plug-ins.

Standard library only: the plug-ins carry a copy of this file into Krita's and GIMP's Python.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

MODEL_NAME = "inkhue"  # the name served on the inference protocol: the server's own model
DEFAULT_MODEL = "inkhue-default"  # the installed model a server serves as MODEL_NAME unless told otherwise
MODEL_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
MAX_MODEL_NAME = 100
INPUT_LINEART = "LINEART"  # UINT8 [H, W, 4] RGBA line art
INPUT_HINTS = "HINTS"  # UINT8 [H, W, 4] RGBA hints, alpha marks hint pixels
OUTPUT_COLOR = "COLOR"  # UINT8 [H, W, 3] RGB result, [H, W, 4] RGBA with option "transparent"
METHODS = ("ai", "flats")  # "ai": the two-stage model; "flats": gap-closed regions in the hint colours
# what the input layer is: "lineart" (lines on paper), "grayscale" (a shaded grayscale drawing, coloured
# keeping its lightness), "auto" (the engine tells them apart)
MODES = ("auto", "lineart", "grayscale")
MAX_GAP = 256
MIN_SIDE = 16  # both sides of an image at least this many pixels (the plug-ins check before sending)

DEFAULT_MAX_PIXELS = 100_000_000  # a little over 8192 x 8192 x 1.4; configurable per call

# the server's bearer token from the environment (argv is visible to other users), or from a file
TOKEN_ENV = "INKHUE_TOKEN"
TOKEN_FILE_ENV = "INKHUE_TOKEN_FILE"  # a mounted secret (Kubernetes, Docker/Podman secrets)
LOCAL_HOST = "127.0.0.1"  # where the managed server and a default ``inkhue serve`` listen
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")  # hosts that never leave this machine


class OptionsError(ValueError):
    """An option has the wrong name, type or range."""


def check_model_name(name: str) -> str:
    """``name`` if it can name a model in a URL path (letters, digits, ``.``, ``_``, ``-``)."""
    if (
        not isinstance(name, str)
        or not 0 < len(name) <= MAX_MODEL_NAME
        or not set(name) <= MODEL_NAME_CHARS
        or name.startswith(".")
    ):
        raise OptionsError(
            f"{name!r} is not a model name: use 1 to {MAX_MODEL_NAME} letters, digits, '.', '_' or '-'"
        )
    return name


@dataclass(frozen=True)
class ColorizeOptions:
    """Per-request options. Every field has a safe default; unknown names are refused."""

    compose_lines: bool = True  # multiply the line art onto the result (False: flat colours only)
    working_size: int = 0  # draft stage's longest side; 0 = the model's own
    tile: int = 0  # refinement tile side; 0 = the model's own
    max_pixels: int = DEFAULT_MAX_PIXELS
    method: str = "ai"  # one of METHODS
    transparent: bool = False  # RGBA, alpha 0 where nothing is painted; else that layer over white
    gap: int = 0  # gaps in the lines up to this many pixels are closed; 0 = scaled to the canvas
    preview: bool = False  # the draft alone (<= 512 px, upsampled), reusing an unchanged line art's analysis
    # one of MODES; with method "ai" only (flats colours line art). Not "auto" by default: its
    # detector reads 4-6 % of line art (thick grey lines) as shaded (docs/benchmarks.md)
    mode: str = "lineart"

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            expected = {"bool": bool, bool: bool, "str": str, str: str}.get(f.type, int)
            if type(value) is not expected:  # bool is an int subclass: compare exactly
                raise OptionsError(
                    f"option {f.name!r} must be {expected.__name__}, got {type(value).__name__}"
                )
        if self.working_size and not 64 <= self.working_size <= 4096:
            raise OptionsError("option 'working_size' must be 0 (model default) or 64..4096")
        if self.tile and not 128 <= self.tile <= 8192:
            raise OptionsError("option 'tile' must be 0 (model default) or 128..8192")
        if self.max_pixels < 1:
            raise OptionsError("option 'max_pixels' must be positive")
        if self.method not in METHODS:
            raise OptionsError(f"unknown method {self.method!r}; valid: {', '.join(METHODS)}")
        if self.mode not in MODES:
            raise OptionsError(f"unknown mode {self.mode!r}; valid: {', '.join(MODES)}")
        if not 0 <= self.gap <= MAX_GAP:
            raise OptionsError(f"option 'gap' must be 0 (scaled to the canvas) or 1..{MAX_GAP} pixels")

    @property
    def channels(self) -> int:
        """Channels of the result: RGBA when transparent, else RGB."""
        return 4 if self.transparent else 3

    @classmethod
    def from_mapping(cls, values: dict | None) -> ColorizeOptions:
        values = dict(values or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise OptionsError(f"unknown option(s) {', '.join(unknown)}; valid: {', '.join(sorted(known))}")
        return cls(**values)

    def to_mapping(self) -> dict:
        return asdict(self)
