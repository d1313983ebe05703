"""What to say when the plug-in was copied without its vendored engine files (standard library).

The plug-in carries copies of ``engine/wire/client.py``, ``transport.py``, ``schema.py``,
``local_server.py``, ``layer_rules.py``, ``style_pairs.py`` and ``folders.py`` in its ``vendor``
folder, written by the installer (``installer/vendor.py``), not kept in git: a plug-in copied from
a source archive has none. This module must not import them.
The GIMP plug-in has the same function in ``inkhue_vendorcheck.py`` (a test keeps them equal).
"""

from __future__ import annotations

import os

VENDORED = (
    "__init__.py",
    "client.py",
    "transport.py",
    "schema.py",
    "local_server.py",
    "layer_rules.py",
    "style_pairs.py",
    "folders.py",
)


def vendor_problem(package_dir: str, error: object) -> str:
    """The message for an ``ImportError`` ``error`` of the vendored files under ``package_dir``."""
    folder = os.path.join(package_dir, "vendor")
    missing = [n for n in VENDORED if not os.path.isfile(os.path.join(folder, n))]
    if missing:
        what = f"its folder {folder} lacks {', '.join(missing)}"
    else:
        what = f"the files in {folder} do not fit this version of the plug-in ({error})"
    return (
        f"The Inkhue plug-in is incomplete: {what}. These are copies of the Inkhue engine's client "
        "and layer rules, added when the plug-in is installed. Fix: run the Inkhue installer "
        "(bash installer/install.sh), or copy them from an Inkhue checkout with "
        f"'python installer/vendor.py {package_dir}', then restart the application."
    )
