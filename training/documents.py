"""An artist's layered files as training pairs: their own line-art layer and the colour under it.

OpenRaster (``.ora``: a zip of ``stack.xml`` and PNG layers, as Krita, GIMP and MyPaint save it) is
read here with the standard library and Pillow; Photoshop (``.psd``) through psd-tools, an optional
extra imported only when a ``.psd`` is read. A folder may also hold PNG pairs as the plug-ins' "Learn
from this document" saves them: ``NAME.lines.png`` beside ``NAME.colour.png``.

The line-art layer is found by the plug-ins' own rules (``engine.wire.layer_rules``) unless named; the
colour is every visible paint layer under it (hint layers left out) unless named, composited over
white with the lines on top, as the artist sees the picture.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from engine.wire import layer_rules as rules

log = logging.getLogger(__name__)

DOCUMENT_SUFFIXES = (".ora", ".psd")
PAIR_LINES, PAIR_COLOUR = ".lines.png", ".colour.png"
MAX_PIXELS = 40_000_000  # as the corpus's MAX_SOURCE_PIXELS: a canvas beyond this is not worth it
MAX_XML_BYTES = 4 << 20


class DocumentError(ValueError):
    """A layered file cannot give a training pair; the message says why and what to do."""


@dataclass
class DocLayer:
    name: str
    rgba: np.ndarray | None  # canvas-sized H×W×4 u8; None for a group
    visible: bool = True  # the layer and all its groups are visible
    opacity: float = 1.0  # the layer's opacity times its groups'
    blend: str = "normal"  # normal or multiply (others are composited as normal)
    is_group: bool = False
    groups: tuple[str, ...] = ()  # names of the groups it is in, outermost first


@dataclass
class Document:
    path: Path
    width: int
    height: int
    layers: list[DocLayer]  # top to bottom as the Layers panel shows them, a group before its layers


def _place(img: Image.Image, x: int, y: int, w: int, h: int) -> np.ndarray:
    """A layer's pixels at (x, y) on a transparent w×h canvas (clipped to it)."""
    canvas = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    canvas.paste(img.convert("RGBA"), (x, y))
    return np.asarray(canvas)


# ---------------------------------------------------------------- OpenRaster


def _parse_xml(data: bytes):
    try:
        from defusedxml.ElementTree import fromstring
    except ImportError:  # pragma: no cover - defusedxml is in the train extra
        from xml.etree.ElementTree import fromstring  # expat >= 2.4.1 refuses entity bombs
    return fromstring(data)


def read_ora(path: str | Path) -> Document:
    """An OpenRaster file's layers (``stack.xml``: the first child of a stack is the topmost)."""
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise DocumentError(f"{path.name} is not an OpenRaster file (not a zip archive)") from e
    with zf:
        try:
            info = zf.getinfo("stack.xml")
        except KeyError as e:
            raise DocumentError(f"{path.name} has no stack.xml: not an OpenRaster file") from e
        if info.file_size > MAX_XML_BYTES:
            raise DocumentError(f"{path.name}: stack.xml is {info.file_size} bytes, too large")
        try:
            root = _parse_xml(zf.read(info))
        except Exception as e:  # noqa: BLE001 - ParseError, defusedxml's refusals of entities and DTDs
            raise DocumentError(f"{path.name}: stack.xml cannot be read ({type(e).__name__}: {e})") from e
        if root.tag != "image":
            raise DocumentError(f"{path.name}: stack.xml does not describe an image")
        w, h = int(root.get("w", 0)), int(root.get("h", 0))
        if not (0 < w and 0 < h and w * h <= MAX_PIXELS):
            raise DocumentError(f"{path.name}: canvas {w}x{h} is empty or too large")
        stack = root.find("stack")
        layers: list[DocLayer] = []
        if stack is not None:
            _ora_stack(zf, stack, w, h, layers, (), True, 1.0)
    return Document(path, w, h, layers)


def _ora_stack(zf, stack, w, h, out: list[DocLayer], groups, visible: bool, opacity: float) -> None:
    for el in stack:
        if el.tag not in ("layer", "stack"):
            continue
        name = el.get("name", "")
        vis = visible and el.get("visibility", "visible") != "hidden"
        op = opacity * float(el.get("opacity", "1.0"))
        if el.tag == "stack":
            out.append(DocLayer(name, None, vis, op, is_group=True, groups=groups))
            _ora_stack(zf, el, w, h, out, (*groups, name), vis, op)
            continue
        src = el.get("src", "")
        if not src.lower().endswith(".png"):
            log.info("%s: layer %r is not a PNG layer (%s): skipped", zf.filename, name, src or "no src")
            continue
        try:
            img = Image.open(io.BytesIO(zf.read(src)))
        except KeyError as e:
            raise DocumentError(f"{Path(zf.filename).name}: layer {name!r} points at missing {src}") from e
        if img.width * img.height > MAX_PIXELS:
            raise DocumentError(f"{Path(zf.filename).name}: layer {name!r} is too large")
        rgba = _place(img, int(float(el.get("x", 0))), int(float(el.get("y", 0))), w, h)
        blend = "multiply" if el.get("composite-op", "") == "svg:multiply" else "normal"
        out.append(DocLayer(name, rgba, vis, op, blend, groups=groups))


# ---------------------------------------------------------------- Photoshop


def read_psd(path: str | Path) -> Document:
    """A Photoshop file's pixel layers, through psd-tools (the ``psd`` extra)."""
    path = Path(path)
    try:
        from psd_tools import PSDImage
    except ImportError as e:
        raise DocumentError(
            f"reading {path.name} needs psd-tools: pip install 'inkhue[psd]' (or pip install psd-tools), "
            "or save the file as OpenRaster (.ora) from Krita or GIMP"
        ) from e
    try:
        psd = PSDImage.open(path)
    except Exception as e:  # noqa: BLE001 - psd-tools raises many kinds on a damaged file
        raise DocumentError(f"{path.name} could not be read as a Photoshop file: {e}") from e
    w, h = psd.size
    if w * h > MAX_PIXELS:
        raise DocumentError(f"{path.name}: canvas {w}x{h} is too large")
    layers: list[DocLayer] = []
    _psd_group(psd, w, h, layers, (), True, 1.0)
    return Document(path, w, h, layers)


def _psd_group(group, w, h, out: list[DocLayer], groups, visible: bool, opacity: float) -> None:
    for layer in reversed(list(group)):  # psd-tools lists bottom to top
        vis = visible and bool(layer.visible)
        op = opacity * layer.opacity / 255.0
        if layer.is_group():
            out.append(DocLayer(layer.name, None, vis, op, is_group=True, groups=groups))
            _psd_group(layer, w, h, out, (*groups, layer.name), vis, op)
            continue
        img = layer.topil() if layer.kind in ("pixel", "shape", "type", "smartobject") else None
        if img is None:
            log.info("%s: layer %r (%s) holds no pixels: skipped", group, layer.name, layer.kind)
            continue
        blend = "multiply" if str(layer.blend_mode).endswith("MULTIPLY") else "normal"
        rgba = _place(img, layer.left, layer.top, w, h)
        out.append(DocLayer(layer.name, rgba, vis, op, blend, groups=groups))


def read_document(path: str | Path) -> Document:
    suffix = Path(path).suffix.lower()
    if suffix == ".ora":
        return read_ora(path)
    if suffix == ".psd":
        return read_psd(path)
    raise DocumentError(f"{Path(path).name}: not a layered file this reads ({', '.join(DOCUMENT_SUFFIXES)})")


# ---------------------------------------------------------------- the pair


def _find(doc: Document, name: str) -> int:
    names = [lay.name for lay in doc.layers]
    for i, n in enumerate(names):
        if n == name:
            return i
    for i, n in enumerate(names):
        if n.strip().casefold() == name.strip().casefold():
            return i
    raise DocumentError(f"{doc.path.name} has no layer named {name!r}; its layers: {', '.join(names)}")


def _members(doc: Document, i: int) -> list[int]:
    """A paint layer itself, or a group's paint layers."""
    lay = doc.layers[i]
    if not lay.is_group:
        return [i]
    inside = (*lay.groups, lay.name)
    return [
        j
        for j in range(i + 1, len(doc.layers))
        if doc.layers[j].groups[: len(inside)] == inside and not doc.layers[j].is_group
    ]


def choose_layers(
    doc: Document, lineart: str | None = None, colour: tuple[str, ...] = ()
) -> tuple[int, list[int]]:
    """(index of the line-art layer, indices of the colour layers top to bottom)."""
    if lineart:
        line = _find(doc, lineart)
        if doc.layers[line].is_group:
            raise DocumentError(f"{doc.path.name}: {lineart!r} is a group, not the line-art layer itself")
    else:
        infos = [
            rules.LayerInfo(i, lay.name, lay.is_group, not lay.is_group)
            for i, lay in enumerate(doc.layers)
            if lay.visible and lay.name != rules.PREVIEW_LAYER_NAME
        ]
        found, _ = rules.guess_layers(infos)
        if found is None:
            raise DocumentError(f"{doc.path.name}: no layer looks like line art; name it (--lineart-layer)")
        line = found.key
    if colour:
        picked = [j for name in colour for j in _members(doc, _find(doc, name))]
    else:
        picked = [
            j
            for j in range(line + 1, len(doc.layers))
            if not doc.layers[j].is_group
            and doc.layers[j].visible
            and not rules.is_hint_name(doc.layers[j].name)
            and doc.layers[j].name != rules.PREVIEW_LAYER_NAME
        ]
    picked = [j for j in dict.fromkeys(picked) if j != line]
    if not picked:
        raise DocumentError(
            f"{doc.path.name}: no colour layer under the line art {doc.layers[line].name!r}; "
            "name it with --colour-layer"
        )
    return line, picked


def _over(base: np.ndarray, lay: DocLayer) -> np.ndarray:
    """``lay`` composited onto the opaque float RGB ``base`` (0..1)."""
    if lay.rgba is None:
        raise DocumentError(f"layer {lay.name!r} is a group: only paint layers are composited")
    rgba = lay.rgba.astype(np.float32) / 255.0
    a = rgba[..., 3:4] * lay.opacity
    top = rgba[..., :3] * base if lay.blend == "multiply" else rgba[..., :3]
    return base * (1.0 - a) + top * a


def _u8(x: np.ndarray) -> np.ndarray:
    return np.clip(x * 255.0 + 0.5, 0, 255).astype(np.uint8)


def document_pair(
    doc: Document, lineart: str | None = None, colour: tuple[str, ...] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """(colour RGB u8: the colour layers then the lines over white, line art luma u8 on white)."""
    line, picked = choose_layers(doc, lineart, colour)
    log.info(
        "%s: line art %r, colour %s",
        doc.path.name,
        doc.layers[line].name,
        ", ".join(repr(doc.layers[j].name) for j in picked),
    )
    paper = np.ones((doc.height, doc.width, 3), np.float32)
    rgb = paper
    for j in reversed(picked):  # bottom first
        rgb = _over(rgb, doc.layers[j])
    rgb = _over(rgb, doc.layers[line])
    lines = _u8(_over(paper, doc.layers[line]))
    luma = np.asarray(Image.fromarray(lines).convert("L"))
    if not rules.has_ink(np.dstack([lines, np.full(luma.shape, 255, np.uint8)]).tobytes()):
        name = doc.layers[line].name
        raise DocumentError(f"{doc.path.name}: the line-art layer {name!r} has no dark lines")
    return _u8(rgb), luma


def png_pair(lines_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A saved pair ``NAME.lines.png`` / ``NAME.colour.png``: (colour RGB on white, line luma on white)."""
    colour_path = lines_path.with_name(lines_path.name[: -len(PAIR_LINES)] + PAIR_COLOUR)
    if not colour_path.is_file():
        raise DocumentError(f"{lines_path.name} has no {colour_path.name} beside it")
    from training.artwork import load_rgba, over_white

    colour, lines = over_white(load_rgba(colour_path)), over_white(load_rgba(lines_path))
    if colour.shape != lines.shape:
        raise DocumentError(f"{lines_path.name} and {colour_path.name} differ in size")
    return colour, np.asarray(Image.fromarray(lines).convert("L"))


def find_sources(folder: str | Path) -> list[Path]:
    """The layered files and saved PNG pairs in ``folder`` (and its subfolders), sorted."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"no folder {root}")
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and (p.suffix.lower() in DOCUMENT_SUFFIXES or p.name.lower().endswith(PAIR_LINES))
    )


def folder_pairs(
    folder: str | Path, lineart: str | None = None, colour: tuple[str, ...] = ()
) -> Iterator[tuple[Path, np.ndarray, np.ndarray]]:
    """(file, colour RGB u8, line art luma u8) for every usable file; unusable ones are logged."""
    for path in find_sources(folder):
        try:
            if path.name.lower().endswith(PAIR_LINES):
                yield (path, *png_pair(path))
            else:
                yield (path, *document_pair(read_document(path), lineart, colour))
        except DocumentError as e:
            if "needs psd-tools" in str(e):
                raise
            log.warning("skipped: %s", e)
        except Exception as e:  # noqa: BLE001 - one damaged file must not stop the others
            log.warning("skipped: %s is damaged (%s: %s)", path.name, type(e).__name__, e)


def pair_rows(
    folder: str | Path,
    corpus_dir: str | Path,
    max_side: int = 512,
    lineart: str | None = None,
    colour: tuple[str, ...] = (),
) -> list[dict]:
    """Write the folder's pairs into a corpus (``images/``, ``lines/``) as the artist-drawn pairs of
    ``training.corpus`` are: cropped to the drawing, fitted to ``max_side``; their manifest rows
    (split ``real-train``; the caller holds some out)."""
    from training.artwork import FilterConfig, Job, fit, save_kept, trim

    images = Path(corpus_dir) / "images"
    images.mkdir(parents=True, exist_ok=True)
    fcfg = FilterConfig()
    job = Job("", str(images), max_side, fcfg, pairs=True)
    rows, seen = [], set()
    for path, rgb, luma in folder_pairs(folder, lineart, colour):
        both = trim(np.concatenate([rgb, luma[..., None]], -1), fcfg.ink_level)
        if both is None:
            log.warning("skipped: %s is blank", path.name)
            continue
        rgb = fit(both[..., :3], max_side, fcfg.margin)
        luma = fit(np.repeat(both[..., 3:], 3, -1), max_side, fcfg.margin)[..., 0]
        kept = save_kept(job, rgb, luma)
        if kept["id"] in seen:
            continue
        seen.add(kept["id"])
        rows.append(
            {
                "id": kept["id"],
                "file": f"images/{kept['id']}.png",
                "source": "documents",
                "package": "",
                "version": "",
                "licence": "the artist's own",
                "split": "real-train",
                "width": kept["width"],
                "height": kept["height"],
                "origin": path.relative_to(folder).as_posix(),
                "lineart": kept["lineart"],
            }
        )
    return rows
