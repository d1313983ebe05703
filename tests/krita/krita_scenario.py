"""The pictures the real-Krita test paints into its documents, and what the result must show.

Line art: a frame split into three regions (left, right-top, right-bottom) plus the paper around
it, drawn on a transparent layer that reaches past the canvas on every side (with ink out there
that must be ignored). Hints: one dab per inner region on a layer smaller than the canvas.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import ndimage

WIDTH, HEIGHT = 160, 120
MARGIN = 8  # the ink layer extends this far past every canvas edge
HINT_BOX = (30, 25, 100, 70)  # x, y, w, h of the hint layer's pixels
SELECTION = (20, 30, 60, 60)  # x, y, w, h used in document B
DABS = {  # name: (x, y, rgb), 6x6 each
    "left": (40, 55, (230, 40, 40)),
    "right_top": (110, 30, (40, 80, 220)),
    "right_bottom": (110, 80, (40, 180, 60)),
}
# colours Krita converts into every model/depth for the format check: RGBA 8-bit
PROBE_COLORS = [
    (0, 0, 0, 255),
    (255, 255, 255, 255),
    (255, 0, 0, 255),
    (0, 128, 255, 255),
    (10, 200, 30, 128),
    (0, 0, 0, 0),
    (128, 128, 128, 255),
    (50, 100, 150, 255),
]


def ink_mask() -> np.ndarray:
    """H×W bool, True on the lines (canvas coordinates)."""
    m = np.zeros((HEIGHT, WIDTH), bool)
    m[10:13, 10:150] = m[107:110, 10:150] = True  # frame top, bottom
    m[10:110, 10:13] = m[10:110, 147:150] = True  # frame left, right
    m[10:110, 79:82] = True  # divider
    m[59:62, 80:150] = True  # right half split
    return m


def regions() -> tuple[np.ndarray, dict[str, int]]:
    """Labels of the line-enclosed regions and the label holding each dab."""
    labels, _ = ndimage.label(~ink_mask())
    return labels, {name: int(labels[y + 2, x + 2]) for name, (x, y, _) in DABS.items()}


def interior(labels: np.ndarray, label: int, erode: int = 3) -> np.ndarray:
    return ndimage.binary_erosion(labels == label, iterations=erode)


def lineart_rgba(transparent: bool) -> np.ndarray:
    """Black lines on a transparent layer (with MARGIN, plus ink outside the canvas), or on white
    paper (canvas size) when not ``transparent``."""
    if not transparent:
        rgba = np.full((HEIGHT, WIDTH, 4), 255, np.uint8)
        rgba[ink_mask(), :3] = 0
        return rgba
    rgba = np.zeros((HEIGHT + 2 * MARGIN, WIDTH + 2 * MARGIN, 4), np.uint8)
    inner = rgba[MARGIN:-MARGIN, MARGIN:-MARGIN]
    inner[ink_mask()] = (0, 0, 0, 255)
    rgba[2:5, :] = (0, 0, 0, 255)  # off-canvas ink above, and to the right
    rgba[:, -4:-2] = (0, 0, 0, 255)
    return rgba


def hints_rgba() -> np.ndarray:
    x0, y0, w, h = HINT_BOX
    rgba = np.zeros((h, w, 4), np.uint8)
    for x, y, rgb in DABS.values():
        rgba[y - y0 : y - y0 + 6, x - x0 : x - x0 + 6] = (*rgb, 255)
    return rgba


A4 = (1240, 1754)  # A4 at 150 dpi: the size whose results showed seams before the engine fix
A4_DABS = {  # name: (x, y, rgb), 14x14 each, one per region of a4_lineart
    "sky": (600, 150, (90, 160, 230)),
    "disc": (300, 700, (230, 60, 50)),
    "box": (880, 700, (60, 170, 80)),
    "ground": (600, 1450, (200, 150, 60)),
}


def a4_ink() -> np.ndarray:
    """H×W bool: a frame split into sky, middle band (a disc and a box in it) and ground."""
    w, h = A4
    m = np.zeros((h, w), bool)
    m[40:46, 40 : w - 40] = m[h - 46 : h - 40, 40 : w - 40] = True
    m[40 : h - 40, 40:46] = m[40 : h - 40, w - 46 : w - 40] = True
    m[400:406, 40 : w - 40] = m[1200:1206, 40 : w - 40] = True
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot(xx - 320, yy - 780)
    m |= (r >= 200) & (r < 206)
    m[560:566, 700:1060] = m[1000:1006, 700:1060] = True
    m[560:1006, 700:706] = m[560:1006, 1054:1060] = True
    return m


def a4_lineart_rgba() -> np.ndarray:
    """Dark lines on white paper, one opaque layer (a scan)."""
    rgba = np.full((*A4[::-1], 4), 255, np.uint8)
    rgba[a4_ink(), :3] = 20
    return rgba


def a4_hints_rgba() -> np.ndarray:
    rgba = np.zeros((*A4[::-1], 4), np.uint8)
    for x, y, rgb in A4_DABS.values():
        rgba[y : y + 14, x : x + 14] = (*rgb, 255)
    return rgba


GAP_SIZE = 512  # canvas side of the gap scene: the automatic gap is 512 / 64 = 8 px
GAP_BOX = (156, 156, 356, 356)  # x0, y0, x1, y1 of a square drawn 4 px wide
GAP_OPENING = (246, 252)  # rows of the 6 px break in its right side
GAP_DAB = (60, 60, (200, 60, 90))  # x, y, rgb: 8x8 on the paper around the square


def _outline(m: np.ndarray, box: tuple[int, int, int, int]) -> None:
    x0, y0, x1, y1 = box
    m[y0 : y0 + 4, x0:x1] = m[y1 - 4 : y1, x0:x1] = True
    m[y0:y1, x0 : x0 + 4] = m[y0:y1, x1 - 4 : x1] = True


def gap_ink() -> np.ndarray:
    """A square outline with a 6 px break in its right side (closed by gaps of 6 px and more) on
    open paper: a gap size that closes the break keeps the square a figure of its own, which the
    colour of a dab on the paper around never fills; a smaller one joins it to the background."""
    m = np.zeros((GAP_SIZE, GAP_SIZE), bool)
    _outline(m, GAP_BOX)
    m[GAP_OPENING[0] : GAP_OPENING[1], GAP_BOX[2] - 4 : GAP_BOX[2]] = False
    return m


def gap_inside() -> np.ndarray:
    """H×W bool: inside the square, off its lines."""
    x0, y0, x1, y1 = GAP_BOX
    m = np.zeros((GAP_SIZE, GAP_SIZE), bool)
    m[y0 + 4 : y1 - 4, x0 + 4 : x1 - 4] = True
    return m


def gap_outside() -> np.ndarray:
    """H×W bool: the paper around the square, 8 px clear of its lines and the break."""
    x0, y0, x1, y1 = GAP_BOX
    m = np.ones((GAP_SIZE, GAP_SIZE), bool)
    m[y0 - 8 : y1 + 8, x0 - 8 : x1 + 8] = False
    return m


def gap_lineart_rgba() -> np.ndarray:
    rgba = np.zeros((GAP_SIZE, GAP_SIZE, 4), np.uint8)
    rgba[gap_ink()] = (0, 0, 0, 255)
    return rgba


def gap_hints_rgba() -> np.ndarray:
    x, y, rgb = GAP_DAB
    rgba = np.zeros((GAP_SIZE, GAP_SIZE, 4), np.uint8)
    rgba[y : y + 8, x : x + 8] = (*rgb, 255)
    return rgba


def sketch_rgba() -> np.ndarray:
    rng = np.random.default_rng(5)
    rgba = np.zeros((HEIGHT, WIDTH, 4), np.uint8)
    rgba[..., :3] = 200
    rgba[..., 3] = (rng.random((HEIGHT, WIDTH)) < 0.05) * 255
    return rgba


def _layer(folder: Path, name: str, rgba: np.ndarray, x: int, y: int, **extra) -> dict:
    fname = f"{name.lower()}.rgba"
    (folder / fname).write_bytes(np.ascontiguousarray(rgba).tobytes())
    return {"name": name, "file": fname, "x": x, "y": y, "w": rgba.shape[1], "h": rgba.shape[0], **extra}


def write(folder: Path) -> dict:
    """Write the layer files into ``folder``; returns the scenario (without server addresses)."""
    folder.mkdir(parents=True, exist_ok=True)
    hx, hy, _, _ = HINT_BOX
    layers = [
        _layer(folder, "Sketch", sketch_rgba(), 0, 0, opacity=128, visible=False),
        _layer(folder, "Empty", np.zeros((HEIGHT, WIDTH, 4), np.uint8), 0, 0),
        _layer(folder, "Ink", lineart_rgba(True), -MARGIN, -MARGIN),
        _layer(folder, "Hints", hints_rgba(), hx, hy),
    ]
    layers_c = [_layer(folder, "Background", lineart_rgba(False), 0, 0), layers[-1]]
    layers_g = [_layer(folder, "Lines", lineart_rgba(True), -MARGIN, -MARGIN), layers[-1]]
    layers_e = [
        _layer(folder, "A4 lines", a4_lineart_rgba(), 0, 0),
        _layer(folder, "A4 hints", a4_hints_rgba(), 0, 0),
    ]
    layers_gap = [
        _layer(folder, "Gap lines", gap_lineart_rgba(), 0, 0),
        _layer(folder, "Gap hints", gap_hints_rgba(), 0, 0),
    ]
    return {
        "gap_size": GAP_SIZE,
        "layers_gap": layers_gap,
        "width": WIDTH,
        "height": HEIGHT,
        "a4": list(A4),
        "layers": layers,
        "layers_c": layers_c,
        "layers_g": layers_g,
        "layers_e": layers_e,
        "selection": list(SELECTION),
        "probe_colors": PROBE_COLORS,
    }


def srgb_from_linear(lin: np.ndarray) -> np.ndarray:
    lin = np.clip(lin, 0.0, 1.0)
    v = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * np.power(lin, 1 / 2.4) - 0.055)
    return np.clip(v * 255.0 + 0.5, 0, 255).astype(np.uint8)
