"""Inkhue for Krita: Filter > AI Colorize... colours line art from hint dabs into a new layer, and
the AI Colorize docker (Settings > Dockers) colours it live while the hints are painted.

Only the standard library, PyQt5 or PyQt6 (``qt.py``) and Krita's API are used here; the engine
client is a vendored copy (``installer/vendor.py``). Modules without a Krita import (pixels,
planning, job, live) are unit tested with plain pytest.
"""

try:
    from krita import Krita
except ImportError:  # imported outside Krita (unit tests)
    Krita = None

if Krita is not None:
    from krita import DockWidgetFactory, DockWidgetFactoryBase

    try:
        from .docker import DOCKER_ID, ColorizeDocker
        from .extension import InkhueExtension
        from .qt import enum
    except ImportError as e:  # copied without its vendored files: say which, and the fix
        if not (e.name or "").startswith(f"{__name__}.vendor"):
            raise
        import os

        from .vendorcheck import vendor_problem

        raise ImportError(vendor_problem(os.path.dirname(os.path.abspath(__file__)), e)) from e

    Krita.instance().addExtension(InkhueExtension(Krita.instance()))
    Krita.instance().addDockWidgetFactory(
        # Krita 6's bindings scope the enum (DockWidgetFactoryBase.DockPosition.DockRight)
        DockWidgetFactory(DOCKER_ID, enum(DockWidgetFactoryBase, "DockPosition", "DockRight"), ColorizeDocker)
    )
