"""A plug-in copied without its vendored engine files says exactly what is missing and the fix."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from installer.vendor import VENDORED, vendor_into

ROOT = Path(__file__).resolve().parents[2]
COPIES = {
    "krita": ROOT / "krita_plugin/inkhue_krita/vendorcheck.py",
    "gimp": ROOT / "gimp_plugin/inkhue_gimp/inkhue_vendorcheck.py",
}


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"vc_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("which", sorted(COPIES))
def test_names_the_missing_files_and_the_fix(which, tmp_path):
    vc = _load(COPIES[which])
    assert vc.VENDORED == ("__init__.py", *VENDORED)  # the installer's list
    pkg = tmp_path / "inkhue_plugin"
    pkg.mkdir()
    msg = vc.vendor_problem(str(pkg), ImportError("No module named 'vendor'"))
    assert str(pkg / "vendor") in msg
    assert "client.py, transport.py, schema.py, local_server.py, layer_rules.py" in msg
    assert "bash installer/install.sh" in msg and f"python installer/vendor.py {pkg}" in msg
    vendor_into(pkg)
    (pkg / "vendor" / "layer_rules.py").unlink()
    assert "lacks layer_rules.py." in vc.vendor_problem(str(pkg), ImportError("x"))
    vendor_into(pkg)
    stale = vc.vendor_problem(str(pkg), ImportError("cannot import name 'has_ink'"))
    assert "do not fit this version" in stale and "has_ink" in stale


def test_both_plugins_say_the_same():
    krita, gimp = (p.read_text().split('"""', 2)[2] for p in (COPIES["krita"], COPIES["gimp"]))
    assert krita == gimp
    assert "vendor_problem(" in (ROOT / "krita_plugin/inkhue_krita/session.py").read_text()
    assert "vendor_problem(" in (ROOT / "gimp_plugin/inkhue_gimp/inkhue_gimp.py").read_text()


def test_krita_plugin_without_vendor_explains_itself(tmp_path):
    """The Krita modules that need no Qt load without the vendor folder; ``_vendored`` explains."""
    pkg = tmp_path / "inkhue_krita"
    shutil.copytree(
        ROOT / "krita_plugin/inkhue_krita", pkg, ignore=shutil.ignore_patterns("vendor", "__pycache__")
    )
    vc = _load(pkg / "vendorcheck.py")
    assert "lacks __init__.py, client.py" in vc.vendor_problem(str(pkg), ImportError("vendor"))


def test_the_installer_vendors_the_whole_wire_folder():
    wire = sorted(p.name for p in (ROOT / "engine/wire").glob("*.py") if p.name != "__init__.py")
    assert sorted(VENDORED) == wire


KRITA_STUB = """
import sys, types
krita = types.ModuleType("krita")
class Krita:
    @staticmethod
    def instance():
        raise AssertionError("registered without its vendored files")
krita.Krita = Krita
krita.DockWidget = krita.DockWidgetFactory = krita.DockWidgetFactoryBase = object
sys.modules["krita"] = krita
sys.path.insert(0, sys.argv[1])
try:
    import inkhue_krita
except ImportError as e:
    print(e)
"""


def test_krita_plugin_without_vendor_fails_to_load_saying_why(tmp_path):
    """Inside Krita (a stub here), the plug-in's modules read the engine's schema from vendor/: a
    copy without it does not load, and the error Krita's Python Plugin Manager shows is the fix."""
    pkg = tmp_path / "inkhue_krita"
    shutil.copytree(
        ROOT / "krita_plugin/inkhue_krita", pkg, ignore=shutil.ignore_patterns("vendor", "__pycache__")
    )

    def load() -> str:
        run = subprocess.run(
            [sys.executable, "-c", KRITA_STUB, str(tmp_path)], capture_output=True, text=True, timeout=60
        )
        return run.stdout + run.stderr

    said = load()
    assert "The Inkhue plug-in is incomplete" in said and "lacks __init__.py, client.py" in said, said
    assert f"python installer/vendor.py {pkg}" in said
    vendor_into(pkg)  # complete: it gets past the vendored files (to Qt, which this Python may lack)
    assert "incomplete" not in load()
