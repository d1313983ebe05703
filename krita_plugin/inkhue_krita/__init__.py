"""Inkhue for Krita: Filter > AI Colorize... colours line art from hint dabs into a new layer.

Only the standard library, PyQt5 and Krita's API are used here; the engine client is a vendored
copy (``installer/vendor.py``). Modules without a Krita import (pixels, planning, job) are unit
tested with plain pytest.
"""

try:
    from krita import Krita
except ImportError:  # imported outside Krita (unit tests)
    Krita = None

if Krita is not None:
    from .extension import InkhueExtension

    Krita.instance().addExtension(InkhueExtension(Krita.instance()))
