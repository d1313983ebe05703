"""Copy the engine's wire package (``engine/wire/``, standard library only) into a plug-in's ``vendor``.

Krita's and GIMP's Python cannot import the engine's environment, so each plug-in carries its own
copy of ``engine/wire/``: the schema and protocol constants, the HTTP transport and client, the
managed local server, the layer rules, the style pairs and the user's folders. The installer and
the tests call this; the repository keeps one source of truth. ``VENDORED`` is the whole folder (a
test checks), and both plug-ins' ``vendorcheck`` lists name the same files.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parent.parent / "engine" / "wire"
VENDORED = (
    "client.py",
    "transport.py",
    "schema.py",
    "local_server.py",
    "layer_rules.py",
    "style_pairs.py",
    "folders.py",
)


def vendor_into(plugin_pkg: Path) -> Path:
    """Write ``plugin_pkg/vendor/`` (``__init__.py`` and ``VENDORED``); returns the vendor folder."""
    dest = Path(plugin_pkg) / "vendor"
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "__init__.py").write_text('"""Copied from the inkhue engine by installer/vendor.py."""\n')
    for name in VENDORED:
        src = ENGINE / name
        if src.is_file():
            shutil.copyfile(src, dest / name)
    return dest


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(vendor_into(Path(arg)))
