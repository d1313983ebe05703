"""The local colorizer: draft at a working resolution, refinement tiled at full resolution."""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING

import numpy as np

from engine import channels
from engine.arrays import check_hints, check_lineart
from engine.backends import StageBackend, make_backend
from engine.flats import ai_alpha, ai_output, clear_beyond_reach, colorize_flats
from engine.held import Dabs
from engine.modelspec import ModelManifest
from engine.modes import ModeSwitch
from engine.options import merge_options
from engine.regions import find_regions, working_gap
from engine.snap import SNAP_CHANNELS, beside_lines, snap_canvas
from engine.stages import draft_planes, refine_planes, run_padded
from engine.tiling import plan, working_shape
from engine.underlines import under_lines
from engine.wire.schema import ColorizeOptions

if TYPE_CHECKING:
    from engine.preview import PreviewCache

log = logging.getLogger(__name__)


def flats_only(lineart: np.ndarray, hints: np.ndarray | None, opts: ColorizeOptions) -> np.ndarray:
    """The ``flats`` method, the inputs checked: no model involved."""
    lineart_rgba_u8 = check_lineart(lineart, opts.max_pixels)
    return colorize_flats(lineart_rgba_u8, check_hints(hints, lineart_rgba_u8.shape[:2]), opts)


class LocalColorizer:
    """The ``engine.colorizer.Colorizer`` that runs a model on this machine: keeps it loaded for
    repeated ``colorize`` calls; safe to share between threads."""

    def __init__(
        self,
        model: str | os.PathLike | None = None,
        backend: str = "onnx",
        device: str = "auto",
    ) -> None:
        from engine import models

        self.manifest: ModelManifest = models.load(model)
        self.backend: StageBackend = make_backend(backend, self.manifest, device)
        self._lock = threading.Lock()  # torch modules and some ORT providers are not re-entrant
        self._preview_cache: PreviewCache | None = None  # made on the first preview
        self._modes = ModeSwitch(self.manifest, self.backend, backend, device)

    def _preview(self, lineart: np.ndarray, hints: np.ndarray | None, opts: ColorizeOptions) -> np.ndarray:
        """``preview=True``: the draft alone, reusing the analysis of an unchanged line art."""
        from engine import preview

        if self._preview_cache is None:
            self._preview_cache = preview.PreviewCache()
        lineart_rgba_u8 = check_lineart(lineart, opts.max_pixels)
        hints_rgba_u8 = check_hints(hints, lineart_rgba_u8.shape[:2])
        if opts.method == "flats":
            return preview.preview_flats(lineart_rgba_u8, hints_rgba_u8, opts, self._preview_cache)
        return preview.preview_ai(self, lineart_rgba_u8, hints_rgba_u8, opts, self._preview_cache)

    @property
    def backend_name(self) -> str:
        return self.backend.name

    @property
    def device(self) -> str:
        return self.backend.device

    def _run(self, stage: str, chw_f32: np.ndarray) -> np.ndarray:
        """One stage on its stacked planes (C×H×W) -> H×W×3 (``stages.run_padded``)."""

        def net(x: np.ndarray) -> np.ndarray:
            with self._lock:
                return self.backend.run(stage, x)

        return run_padded(net, chw_f32, self.manifest.stages[stage].generator.divisor)

    def colorize(
        self,
        lineart: np.ndarray,
        hints: np.ndarray | None = None,
        options: ColorizeOptions | None = None,
        **overrides: object,
    ) -> np.ndarray:
        """Colour ``lineart`` (H×W, H×W×3 or H×W×4 uint8) following ``hints`` (H×W×4 uint8 RGBA).

        Returns H×W×3 uint8 RGB of exactly the input's size (H×W×4 RGBA with ``transparent=True``).
        Keyword overrides are ``ColorizeOptions`` fields, e.g. ``compose_lines=False`` for a flat
        colour layer, ``method="flats"`` for the region fill without the network.
        """
        opts = merge_options(options, overrides)
        gray = self._modes.grayscale_for(lineart, opts)
        if gray is not None:
            return gray.colorize(lineart, hints, opts)
        if opts.preview:
            return self._preview(lineart, hints, opts)
        if opts.method == "flats":
            return flats_only(lineart, hints, opts)
        lineart_rgba_u8 = check_lineart(lineart, opts.max_pixels)
        shape = lineart_rgba_u8.shape[:2]
        hints_rgba_u8 = check_hints(hints, shape)
        m = self.manifest
        prep = channels.prepare(lineart_rgba_u8, hints_rgba_u8)

        # stage 1: draft at the working resolution
        small_hw = working_shape(shape, opts.working_size or m.working_size)
        gap_small = working_gap(opts.gap, shape, small_hw)
        planes_small = draft_planes(prep, small_hw, m.stages["draft"].inputs, m.spread, gap_small)
        draft_hwc_f32 = self._run("draft", channels.stack(m.stages["draft"].inputs, planes_small))

        # stage 2: refinement at full resolution, tiles cross-faded so seams vanish
        divisor = m.stages["refine"].generator.divisor
        tile = max(divisor, (opts.tile or m.tile) // divisor * divisor)
        overlap = min(m.overlap, tile // 4)
        out_hwc_f32 = np.zeros((*shape, 3), np.float32)
        refine_inputs = m.stages["refine"].inputs
        for box, weight_hw_f32 in plan(shape, tile, overlap, divisor):
            planes = refine_planes(prep, box, refine_inputs, draft_hwc_f32)
            pred = self._run("refine", channels.stack(refine_inputs, planes))
            y0, y1, x0, x1 = box
            out_hwc_f32[y0:y1, x0:x1] += pred * weight_hw_f32[..., None]
        if all(c in m.stages["draft"].inputs for c in SNAP_CHANNELS):  # a draft that corrects the flats
            beside = beside_lines(prep.line_hw_f32, small_hw)
            dabs = Dabs.from_planes(planes_small, channels.barrier_line(planes_small))
            snap_canvas(out_hwc_f32, planes_small["flat_rgb"], planes_small["flat_mask"], beside, dabs)
        return ai_output(
            clear_beyond_reach(out_hwc_f32, planes_small),
            prep.line_hw_f32,
            under_lines(prep.line_hw_f32),
            opts,
            lambda: ai_alpha(
                planes_small, shape, lambda: find_regions(channels.barrier_line(planes_small), gap_small)
            ),
            over_paper="flat_mask" in planes_small,
        )
