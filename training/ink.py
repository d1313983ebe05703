"""Artists' own line art from vector artwork: the drawing with only its ink.

A vector drawing rendered twice, whole and with only its ink (dark strokes and dark outline shapes;
every other fill and stroke painted white), gives the artist's line art pixel-aligned with the
artist's colouring: open outlines, gaps, colour boundaries without a line, thick uniform outlines,
as drawn. Other paint turns white rather than vanishing because cartoon outlines are often a dark
shape under a coloured one: only the rim shows, and only the rim is line art.

``ink_only(svg_bytes)`` rewrites the document: every shape's fill and stroke are resolved through
SVG's inheritance (presentation attributes, ``style=``, groups, ``currentColor``, gradients by their
stops); ink keeps its paint, the rest becomes white. Rendering stays with cairosvg.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
SHAPES = frozenset({"path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text", "tspan"})
RASTER = frozenset({"image", "foreignObject"})
INHERITED = ("fill", "stroke", "color", "fill-opacity", "stroke-opacity", "stroke-width")
PAPER = "#ffffff"
NOT_PAINTED = frozenset({"clipPath", "mask", "pattern", "marker", "metadata"})  # geometry or masks
_URL = re.compile(r"url\(\s*['\"]?#([^'\")\s]+)['\"]?\s*\)")


class InkError(ValueError):
    """The drawing's ink cannot be told from its colour (the reason is the message)."""


@dataclass(frozen=True)
class InkConfig:
    max_value: float = 0.4  # every channel this dark or darker: ink (black, dark brown or grey lines)
    min_opacity: float = 0.8  # fainter paint (drop shadows, glazes) is shading, not ink


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _declarations(style: str) -> dict[str, str]:
    out = {}
    for decl in style.split(";"):
        if ":" in decl:
            k, v = decl.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def _style(el) -> dict[str, str]:
    """Presentation attributes overridden by ``style=`` declarations, as SVG specifies."""
    props = {k: v for k, v in el.attrib.items() if "}" not in k and k != "style"}
    props.update(_declarations(el.attrib.get("style", "")))
    return props


def _rgba(value: str, current: str) -> tuple[float, float, float, float] | None:
    """A paint as RGBA floats; None for 'none'. ``current`` resolves currentColor."""
    from cairosvg.colors import color

    value = value.strip()
    if value.lower() == "currentcolor":
        value = current
    if value in ("", "none", "transparent"):
        return None
    r, g, b, a = color(value)
    return float(r), float(g), float(b), float(a)


def _value(rgb: tuple[float, float, float]) -> float:
    """HSV value: a saturated red or blue is light by this measure, however low its luma."""
    return max(rgb)


class _Doc:
    def __init__(self, root, cfg: InkConfig) -> None:
        self.cfg = cfg
        self.by_id = {el.attrib["id"]: el for el in root.iter() if "id" in el.attrib}

    def _gradient_is_ink(self, el, seen: frozenset = frozenset()) -> bool:
        """A gradient is ink when every stop is dark and opaque (a fading ink stroke)."""
        stops = [s for s in el if _local(s.tag) == "stop"]
        href = el.attrib.get(XLINK_HREF) or el.attrib.get("href")
        if not stops and href and href.startswith("#") and href[1:] not in seen:
            ref = self.by_id.get(href[1:])
            return ref is not None and self._gradient_is_ink(ref, seen | {href[1:]})
        if not stops:
            return False
        for s in stops:
            st = _style(s)
            rgba = _rgba(st.get("stop-color", "black"), "black")
            opacity = float(st.get("stop-opacity", "1") or 1)
            if (
                rgba is None
                or _value(rgba[:3]) > self.cfg.max_value
                or rgba[3] * opacity < self.cfg.min_opacity
            ):
                return False
        return True

    def is_ink(self, paint: str, opacity: float, current: str) -> bool:
        m = _URL.search(paint)
        if m:
            ref = self.by_id.get(m.group(1))
            return ref is not None and _local(ref.tag).endswith("Gradient") and self._gradient_is_ink(ref)
        rgba = _rgba(paint, current)
        if rgba is None:
            return False
        return _value(rgba[:3]) <= self.cfg.max_value and rgba[3] * opacity >= self.cfg.min_opacity


def _number(value: str | None, default: float = 1.0) -> float:
    try:
        return float(str(value).strip().rstrip("%")) / (100.0 if str(value).strip().endswith("%") else 1.0)
    except (TypeError, ValueError):
        return default


def ink_only(svg_bytes: bytes, cfg: InkConfig = InkConfig()) -> tuple[bytes, int]:
    """The SVG with only its ink painted (other paint white), and how many shapes kept some ink.

    Raises ``InkError`` for documents whose colours are set in a way this does not resolve (CSS
    style sheets, which would leave every shape at its default black fill).
    """
    from xml.etree import ElementTree as StdET

    from defusedxml import ElementTree as ET

    StdET.register_namespace("", SVG_NS)  # keep the default namespace when writing it back
    from defusedxml import DefusedXmlException

    try:
        root = ET.fromstring(svg_bytes)
    except (StdET.ParseError, DefusedXmlException) as e:
        raise InkError(f"unreadable SVG ({type(e).__name__})") from e
    if any(_local(el.tag) == "style" and (el.text or "").strip() for el in root.iter()):
        raise InkError("colours set by a CSS style sheet")
    doc = _Doc(root, cfg)
    kept = 0
    removed: list[tuple[StdET.Element, StdET.Element]] = []

    def walk(el: StdET.Element, inherited: dict[str, str], opacity: float) -> None:
        nonlocal kept
        props = _style(el)
        computed = {**inherited, **{k: props[k] for k in INHERITED if k in props}}
        group_opacity = opacity * _number(props.get("opacity"))
        for child in list(el):
            name = _local(child.tag)
            if name in RASTER:
                removed.append((el, child))
            elif name in NOT_PAINTED:
                continue
            else:
                walk(child, computed, group_opacity)
        if _local(el.tag) not in SHAPES:
            return
        current = computed.get("color", "black")
        paint: dict[str, str] = {}
        for prop, default in (("fill", "black"), ("stroke", "none")):
            value = computed.get(prop, default)
            alpha = group_opacity * _number(computed.get(f"{prop}-opacity"))
            if _rgba(value, current) is None and not _URL.search(value):
                paint[prop] = "none"
            elif doc.is_ink(value, alpha, current):
                paint[prop] = value
            else:
                paint[prop] = PAPER  # hides the ink under it, as the colour did
        kept += any(v not in ("none", PAPER) for v in paint.values())
        decls = {k: v for k, v in _declarations(el.attrib.get("style", "")).items() if k not in paint}
        decls.update(paint)
        for k in paint:
            el.attrib.pop(k, None)
        el.set("style", ";".join(f"{k}:{v}" for k, v in decls.items()))

    walk(root, {}, 1.0)
    for parent, child in removed:
        parent.remove(child)
    return StdET.tostring(root), kept
