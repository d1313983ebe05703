"""The two editor plug-ins as file trees: what to copy where, and whether an installed copy is current.

Each installed plug-in is the repository's plug-in folder plus ``vendor/`` (the engine's stdlib
client, written by :func:`installer.vendor.vendor_into`), without caches.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from installer.locations import GIMP_PLUGIN, KRITA_PLUGIN
from installer.vendor import ENGINE, VENDORED, vendor_into

IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "vendor")


@dataclass(frozen=True)
class KritaSource:
    desktop: Path  # pykrita/<name>.desktop: how Krita discovers the plug-in
    package: Path  # pykrita/<name>/
    actions: tuple[Path, ...]  # actions/*.action: menu text and shortcut of the plug-in's actions


def krita_source(repo: Path) -> KritaSource:
    root = repo / "krita_plugin"
    return KritaSource(
        desktop=root / f"{KRITA_PLUGIN}.desktop",
        package=root / KRITA_PLUGIN,
        actions=tuple(sorted(root.glob("*.action"))),
    )


def gimp_source(repo: Path) -> Path:
    return repo / "gimp_plugin" / GIMP_PLUGIN


def gimp_entry(plugin_dir: Path) -> Path:
    """GIMP runs ``plug-ins/<name>/<name>.py``, and only with its run bit set."""
    return plugin_dir / f"{plugin_dir.name}.py"


def missing_sources(repo: Path) -> dict[str, str]:
    """Editors whose plug-in is absent from this checkout, with what is missing."""
    out = {}
    k = krita_source(repo)
    lacking = [str(p) for p in (k.desktop, k.package) if not p.exists()]
    if lacking:
        out["krita"] = ", ".join(lacking)
    g = gimp_source(repo)
    if not gimp_entry(g).is_file():
        out["gimp"] = str(gimp_entry(g))
    return out


def build_package(src: Path, dest: Path) -> None:
    """Copy a plug-in package to ``dest`` (must not exist) and vendor the client into it."""
    shutil.copytree(src, dest, ignore=IGNORED)
    vendor_into(dest)


def build_gimp(src: Path, dest: Path) -> None:
    build_package(src, dest)
    entry = gimp_entry(dest)
    entry.chmod(entry.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _expected_files(src: Path) -> dict[str, Path]:
    """Relative path -> source file, for an installed copy of the package at ``src``."""
    out: dict[str, Path] = {}
    for root, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs if d not in ("__pycache__", "vendor")]
        for f in files:
            if not f.endswith(".pyc"):
                p = Path(root) / f
                out[p.relative_to(src).as_posix()] = p
    for name in VENDORED:
        if (ENGINE / name).is_file():
            out[f"vendor/{name}"] = ENGINE / name
    return out


def tree_status(src: Path, dest: Path) -> str:
    """'ok', 'missing', or 'outdated' (a file differs from, or is absent next to, the repository's)."""
    if not dest.is_dir():
        return "missing"
    for rel, srcfile in _expected_files(src).items():
        got = dest / rel
        if not got.is_file() or got.read_bytes() != srcfile.read_bytes():
            return "outdated"
    return "ok"


def file_status(src: Path, dest: Path) -> str:
    if not dest.is_file():
        return "missing"
    return "ok" if dest.read_bytes() == src.read_bytes() else "outdated"


def is_executable(path: Path) -> bool:
    return path.is_file() and (os.name == "nt" or os.access(path, os.X_OK))
