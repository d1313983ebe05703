"""Which model colours a request: line art (the two-stage model) or shaded grayscale.

``ModeSwitch.grayscale_for(image, opts)`` returns the grayscale colorizer when the request is for
the grayscale mode (``mode="grayscale"``, or ``"auto"`` on an image ``looks_shaded`` calls shaded
grayscale, or the loaded model is itself a grayscale model), else None (the line-art pipeline).
The grayscale model is loaded on first use; ``auto`` falls back to line art when it is not
installed, an explicit ``grayscale`` says so.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

from engine.arrays import check_lineart
from engine.backends import StageBackend
from engine.errors import ModelError
from engine.grayscale import GRAYSCALE_MODEL, GrayscaleColorizer, looks_shaded
from engine.modelspec import ModelManifest
from engine.wire.schema import ColorizeOptions

log = logging.getLogger(__name__)


class ModeSwitch:
    def __init__(
        self, manifest: ModelManifest, backend: StageBackend, backend_name: str, device: str
    ) -> None:
        self._own = GrayscaleColorizer(manifest, backend) if manifest.kind == "grayscale" else None
        self._backend_name, self._device = backend_name, device
        self._gray: GrayscaleColorizer | None = None
        self._missing = False  # the grayscale model was looked for and is not installed
        self._lock = threading.Lock()

    def _load(self, required: bool) -> GrayscaleColorizer | None:
        with self._lock:
            if self._gray is None and (required or not self._missing):
                from engine import models
                from engine.backends import make_backend

                try:
                    manifest = models.load(GRAYSCALE_MODEL)
                except ModelError as e:
                    self._missing = True
                    if required:
                        raise ModelError(f"the grayscale mode needs the {GRAYSCALE_MODEL} model: {e}") from e
                    log.info("%s is not installed: colouring the image as line art", GRAYSCALE_MODEL)
                    return None
                self._gray = GrayscaleColorizer(
                    manifest, make_backend(self._backend_name, manifest, self._device)
                )
            return self._gray

    def grayscale_for(self, image: np.ndarray, opts: ColorizeOptions) -> GrayscaleColorizer | None:
        if self._own is not None:
            if opts.method == "flats":  # "lineart" is the default: a grayscale model means grayscale
                raise ModelError(
                    "this model colours shaded grayscale only; use mode 'grayscale' or another model"
                )
            return self._own
        if opts.method == "flats" or opts.mode == "lineart":
            return None
        if opts.mode == "grayscale":
            return self._load(required=True)
        if self._missing:
            return None
        if not looks_shaded(check_lineart(image, opts.max_pixels)):
            return None
        log.info("the image looks like shaded grayscale: grayscale mode")
        return self._load(required=False)
