"""The preview fast path: the draft alone, reusing the analysis of an unchanged line art.

A live preview re-colours the same line art many times while only the hints change. Everything
that depends on the line art alone is computed once and kept in a small ``PreviewCache`` keyed by
a hash of the line-art bytes, its size and the options that shape the analysis:

- the line plane and its ink-enclosed labels (for the region fill channels),
- the line plane and the labels at the draft's working resolution,
- the graph the spread channels walk (the costly part of ``channels.spread`` besides Dijkstra),
- for the ``flats`` method and for transparency, the gap-closed regions (``engine.regions``).

Per request only the hint-dependent work runs: the region colour table, the hint planes, the
spread's Dijkstra, the draft network at ≤ ``PREVIEW_SIZE`` px, and a bilinear upsample to the
full size. No refinement pass: that is what a normal request adds once painting pauses. The
planes are the ones ``channels.prepare``/``downsample``/``add_spread`` build (tests compare them).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from engine import channels
from engine.arrays import line_from_rgba
from engine.flats import ai_alpha, ai_output, clear_beyond_reach
from engine.held import Dabs
from engine.resample import bilinear_crop, box_resize, cell_reduce, centre_indices
from engine.snap import SNAP_CHANNELS, BesideLines, beside_lines, snap_canvas
from engine.tiling import working_shape
from engine.underlines import UnderLines, under_lines
from engine.wire.schema import ColorizeOptions

# the preview's draft works at most at this longest side: at 384 a 512² update takes about half the
# time of 512 (the network and the spread scale with the pixels), and on the real-val pictures its
# error against the artist's colouring is the same (``python -m bench.preview`` measures both)
PREVIEW_SIZE = 384
CACHE_ENTRIES = 4  # analyses kept (a few documents or selections at a time); LRU
CACHE_MAX_PIXELS = 64_000_000  # and at most this many full-resolution pixels over all entries
FADE_FLOOR = 1e-3  # the spread walks no further than where its fade weight falls below this


def line_key(lineart_rgba_u8: np.ndarray, *extra: object) -> str:
    """Hash of the line art's bytes and size plus the analysis options (``extra``)."""
    digest = hashlib.blake2b(np.ascontiguousarray(lineart_rgba_u8).data, digest_size=16)
    digest.update(repr((lineart_rgba_u8.shape, extra)).encode())
    return digest.hexdigest()


@dataclass
class LineAnalysis:
    """What a line art alone determines, at full and at the working resolution."""

    line_hw_f32: np.ndarray
    labels_hw_i32: np.ndarray  # ink-enclosed regions (``channels.prepare``)
    n_labels: int
    small_hw: tuple[int, int]
    line_small: np.ndarray
    line_dark_small: np.ndarray  # each cell's darkest pixel: the regions' barriers (channels.downsample)
    labels_small: np.ndarray  # ``labels_hw_i32`` sampled at the working grid's cell centres
    graph: object  # scipy CSR: the spread's path costs on the working grid
    gap: int  # the request's gap option (0: scaled to the canvas)
    _regions: dict = field(default_factory=dict)  # "small"/"full" -> engine.regions.Regions
    _fixed: dict = field(default_factory=dict)  # "small": region planes, "under", "beside"
    memos: dict = field(default_factory=dict)  # "small"/"full" -> the flats' split memo

    def region_planes(self) -> dict:
        """The working-size ``REGION_CHANNELS`` that do not depend on the hints; computed once."""
        if "small" not in self._fixed:
            self._fixed["small"] = channels.region_planes(self.regions("small"))
        return self._fixed["small"]

    def under(self) -> UnderLines | None:
        """Where the lines cover the paper, and the paper beside each pixel; computed once."""
        if "under" not in self._fixed:
            self._fixed["under"] = under_lines(self.line_hw_f32)
        return self._fixed["under"]

    def beside(self) -> BesideLines:
        """Paper beside the lines and each pixel's own working cell (``snap.beside_lines``); once."""
        if "beside" not in self._fixed:
            self._fixed["beside"] = beside_lines(self.line_hw_f32, self.small_hw)
        return self._fixed["beside"]

    def memo(self, which: str) -> dict:
        return self.memos.setdefault(which, {})

    @property
    def shape(self) -> tuple[int, int]:
        return self.line_hw_f32.shape  # type: ignore[return-value]

    def regions(self, which: str):
        """Gap-closed regions, full-size (flats) or at the working size (transparency); computed once."""
        if which not in self._regions:
            from engine.regions import find_regions, working_gap

            if which == "full":
                self._regions[which] = find_regions(self.line_hw_f32, self.gap)
            else:
                gap = working_gap(self.gap, self.shape, self.small_hw)
                self._regions[which] = find_regions(self.line_dark_small, gap)
        return self._regions[which]


def spread_graph(line_hw_f32: np.ndarray, ink_cost: float):
    """The 4-neighbour path-cost graph of ``channels.spread``, each edge stored both ways: walked
    as a directed graph it needs no per-call transpose (scipy makes one for ``directed=False``)."""
    from scipy import sparse

    h, w = line_hw_f32.shape
    ink = (1.0 - np.clip(line_hw_f32, 0.0, 1.0)).ravel()
    idx = np.arange(h * w).reshape(h, w)
    a = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    b = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    cost = 1.0 + ink_cost * np.maximum(ink[a], ink[b])
    both = (np.concatenate([cost, cost]), (np.concatenate([a, b]), np.concatenate([b, a])))
    # float64 and canonical, as csgraph wants it: otherwise every walk starts with a converted copy
    graph = sparse.csr_matrix(both, shape=(h * w, h * w), dtype=np.float64)
    graph.sum_duplicates()
    return graph


def analyse(lineart_rgba_u8, small_hw: tuple[int, int], gap: int, ink_cost: float) -> LineAnalysis:
    line = line_from_rgba(lineart_rgba_u8)
    labels, n = ndimage.label(line >= channels.INK_THRESHOLD)
    labels = labels.astype(np.int32, copy=False)
    h, w = line.shape
    if small_hw == (h, w):
        line_small, labels_small, line_dark_small = line, labels, line
    else:
        ys = centre_indices(0, small_hw[0], small_hw[0], h)
        xs = centre_indices(0, small_hw[1], small_hw[1], w)
        line_small, labels_small = box_resize(line, small_hw), labels[np.ix_(ys, xs)]
        line_dark_small = cell_reduce(np.minimum, line, small_hw)
    graph = spread_graph(line_small, ink_cost)
    return LineAnalysis(line, labels, int(n), small_hw, line_small, line_dark_small, labels_small, graph, gap)


class PreviewCache:
    """A bounded LRU of ``LineAnalysis`` by line-art hash; safe to share between threads."""

    def __init__(self, entries: int = CACHE_ENTRIES, max_pixels: int = CACHE_MAX_PIXELS) -> None:
        self.entries, self.max_pixels = entries, max_pixels
        self._items: OrderedDict[str, LineAnalysis] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def _pixels(self) -> int:
        return sum(a.line_hw_f32.size for a in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def get(self, lineart_rgba_u8, small_hw: tuple[int, int], gap: int, ink_cost: float) -> LineAnalysis:
        key = line_key(lineart_rgba_u8, small_hw, gap, ink_cost)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return found
            self.misses += 1
        made = analyse(lineart_rgba_u8, small_hw, gap, ink_cost)  # outside the lock: slow
        with self._lock:
            self._items[key] = made
            self._items.move_to_end(key)
            while len(self._items) > self.entries or (
                len(self._items) > 1 and self._pixels() > self.max_pixels
            ):
                self._items.popitem(last=False)
        return made


def hint_planes_small(hints_rgba_u8: np.ndarray | None, shape: tuple[int, int], out_hw: tuple[int, int]):
    """(hint_rgb, hint_mask) at the working size, exactly as ``channels.downsample`` makes them."""
    if hints_rgba_u8 is None:
        return np.zeros((*out_hw, 3), np.float32), np.zeros(out_hw, np.float32)
    if out_hw == shape:
        from engine.arrays import hints_planes

        return hints_planes(hints_rgba_u8, shape)
    return channels.hint_cells(hints_rgba_u8, out_hw)


def spread_on(graph, hint_rgb: np.ndarray, hint_mask: np.ndarray, fade_share: float, near: bool = True):
    """``channels.spread`` on a prebuilt graph: (spread_rgb, spread_mask, near_rgb).

    Without ``near`` (the model does not read ``near_rgb``) the walk stops where the fade drops
    below ``FADE_FLOOR``: beyond that spread_rgb is paper and spread_mask 0 to within 1e-3, and
    the walk skips everything behind a line from every hint (about 2.5× faster at 512²).
    """
    from scipy.sparse import csgraph

    shape = hint_mask.shape
    seeds = np.flatnonzero(hint_mask > 0)
    if seeds.size == 0:
        white = np.ones((*shape, 3), np.float32)
        return white, np.zeros(shape, np.float32), white.copy()
    h, w = shape
    limit = np.inf if near else fade_share * max(h, w) * -np.log(FADE_FLOOR)
    dist, _, source = csgraph.dijkstra(
        graph, directed=True, indices=seeds, min_only=True, return_predecessors=True, limit=limit
    )
    reached = source >= 0
    colour = np.asarray(hint_rgb, np.float32).reshape(-1, 3)[np.where(reached, source, 0)]
    colour[~reached] = 1.0
    # unreached pixels have an infinite distance: their fade is exp(-inf) = 0
    fade = np.exp(dist.astype(np.float32) * np.float32(-1.0 / (fade_share * max(h, w))))
    rgb = colour - np.float32(1.0)
    rgb *= fade[:, None]
    rgb += np.float32(1.0)
    return rgb.reshape(h, w, 3), fade.reshape(shape), colour.reshape(h, w, 3)


def draft_planes(a: LineAnalysis, hints_rgba_u8: np.ndarray | None, inputs, spread_params) -> dict:
    """The draft stage's input planes for these hints on the analysed line art."""
    region_rgb, hinted = channels.region_fill_table(a.labels_hw_i32, a.n_labels, hints_rgba_u8)
    hint_rgb, hint_mask = hint_planes_small(hints_rgba_u8, a.shape, a.small_hw)
    planes = {
        "line": a.line_small,
        "line_dark": a.line_dark_small,
        "hint_rgb": hint_rgb,
        "hint_mask": hint_mask,
        "fill_rgb": region_rgb[a.labels_small],
        "fill_mask": hinted[a.labels_small],
    }
    if any(c in channels.SPREAD_CHANNELS for c in inputs):
        planes["spread_rgb"], planes["spread_mask"], planes["near_rgb"] = spread_on(
            a.graph, hint_rgb, hint_mask, spread_params.fade, near="near_rgb" in inputs
        )
    if any(c in channels.REGION_CHANNELS for c in inputs):  # cached: all but the changed regions' flats
        channels.add_regions(
            planes, regions=a.regions("small"), fixed=a.region_planes(), memo=a.memo("small")
        )
    return planes


def preview_ai(colorizer, lineart_rgba_u8, hints_rgba_u8, opts: ColorizeOptions, cache: PreviewCache):
    """The draft, upsampled to the line art's size: RGB, or RGBA with ``opts.transparent``."""
    m = colorizer.manifest
    size = opts.working_size or min(PREVIEW_SIZE, m.working_size)  # a size asked for is kept
    shape = lineart_rgba_u8.shape[:2]
    a = cache.get(lineart_rgba_u8, working_shape(shape, size), opts.gap, m.spread.ink_cost)
    inputs = m.stages["draft"].inputs
    planes = draft_planes(a, hints_rgba_u8, inputs, m.spread)
    draft = colorizer._run("draft", channels.stack(inputs, planes))
    h, w = shape
    out = bilinear_crop(draft, shape, (0, h, 0, w)) if draft.shape[:2] != shape else draft
    if all(c in inputs for c in SNAP_CHANNELS):  # as the full request does after its refinement
        dabs = Dabs.from_planes(planes, channels.barrier_line(planes))
        snap_canvas(out, planes["flat_rgb"], planes["flat_mask"], a.beside(), dabs)

    def alpha() -> np.ndarray:
        return ai_alpha(planes, a.shape, lambda: a.regions("small"))

    return ai_output(
        clear_beyond_reach(out, planes),
        a.line_hw_f32,
        a.under(),
        opts,
        alpha,
        over_paper="flat_mask" in planes,
    )


def preview_flats(lineart_rgba_u8, hints_rgba_u8, opts: ColorizeOptions, cache: PreviewCache):
    """The ``flats`` method with the gap-closed regions of an unchanged line art reused."""
    from engine.flats import flats, flats_rgba_u8

    a = cache.get(lineart_rgba_u8, (1, 1), opts.gap, 0.0)  # no working grid needed for flats
    f = flats(a.regions("full"), a.line_hw_f32, hints_rgba_u8, a.memo("full")).within_reach()
    f = f.under_lines(a.under())
    rgba = flats_rgba_u8(f, a.line_hw_f32, opts.transparent, opts.compose_lines)
    return rgba if opts.transparent else np.ascontiguousarray(rgba[..., :3])
