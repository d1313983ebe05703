"""Where the offline corpus comes from: Debian and npm packages of openly licensed colour artwork.

Each source is fetched once into a cache folder with the registry's own client (``apt-get download``,
``npm pack``), unpacked without root (``dpkg-deb -x``, ``tarfile``), and yields image files plus the
package's version and licence. A user's own folder is a source too (licence "user").
"""

from __future__ import annotations

import glob
import json
import logging
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from engine.errors import unknown_name

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".svg")


@dataclass(frozen=True)
class Source:
    """One package of artwork: how to fetch it and which of its files are images we want."""

    name: str
    kind: str  # "deb" | "npm"
    package: str
    patterns: tuple[str, ...]  # globs inside the unpacked tree
    licence: str  # SPDX-style id, checked by hand against licence_file (see training/DATA.md)
    licence_file: str  # inside the unpacked tree
    pairs: bool = False  # vector drawings whose own ink is their line art (the "real" split)


SOURCES: dict[str, Source] = {
    # artist-drawn line art: each SVG rendered whole and with only its ink (training/ink.py)
    "openclipart-svg": Source(
        "openclipart-svg",
        "deb",
        "openclipart-svg",
        ("usr/share/openclipart/svg/**/*.svg",),
        "CC0-1.0 (public domain dedication, Open Clip Art Library)",
        "usr/share/doc/openclipart-svg/copyright",
        pairs=True,
    ),
    "openclipart-png": Source(
        "openclipart-png",
        "deb",
        "openclipart-png",
        ("usr/share/openclipart/png/**/*.png",),
        "CC0-1.0 (public domain dedication, Open Clip Art Library)",
        "usr/share/doc/openclipart-png/copyright",
    ),
    "tuxpaint-stamps-default": Source(
        "tuxpaint-stamps-default",
        "deb",
        "tuxpaint-stamps-default",
        ("usr/share/tuxpaint/stamps/**/*.png", "usr/share/tuxpaint/stamps/**/*.svg"),
        "GPL-2.0-or-later",
        "usr/share/doc/tuxpaint-stamps-default/copyright",
    ),
    "openmoji": Source(
        "openmoji",
        "npm",
        "openmoji",
        ("package/color/svg/*.svg",),
        "CC-BY-SA-4.0 (OpenMoji graphics)",
        "package/LICENSE.txt",
    ),
    "twemoji": Source(
        "twemoji",
        "npm",
        "@twemoji/svg",
        ("package/*.svg",),
        "CC-BY-4.0 (Twemoji graphics, Twitter Inc. and contributors; npm wrapper MIT)",
        "package/license",
    ),
    "fluentui-emoji": Source(
        "fluentui-emoji",
        "npm",
        "fluentui-emoji",
        ("package/icons/flat/*.svg",),
        "MIT (Microsoft Fluent Emoji, flat style)",
        "package/LICENSE",
    ),
}

DEFAULT_SOURCES: tuple[str, ...] = tuple(SOURCES)


@dataclass(frozen=True)
class Fetched:
    source: str
    package: str
    version: str
    licence: str
    root: Path  # unpacked tree
    files: tuple[Path, ...]  # sorted, so the corpus is reproducible
    pairs: bool = False  # see Source.pairs


def get_source(name: str) -> Source:
    if name not in SOURCES:
        raise ValueError(unknown_name("corpus source", name, SOURCES))
    return SOURCES[name]


def _run(cmd: list[str], cwd: Path) -> str:
    log.info("running %s in %s", " ".join(cmd), cwd)
    try:
        done = subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True)
    except FileNotFoundError as e:
        raise RuntimeError(f"{cmd[0]} is not installed; it is needed to fetch corpus packages") from e
    except subprocess.CalledProcessError as e:
        raise RuntimeError(f"{' '.join(cmd)} failed ({e.returncode}): {e.stderr.strip()[-500:]}") from e
    return done.stdout


def _fetch_deb(src: Source, cache: Path) -> tuple[Path, str]:
    debs = cache / "deb"
    debs.mkdir(parents=True, exist_ok=True)
    found = sorted(debs.glob(f"{src.package}_*.deb"))
    if not found:
        _run(["apt-get", "download", src.package], debs)
        found = sorted(debs.glob(f"{src.package}_*.deb"))
    if not found:
        raise RuntimeError(f"apt-get download {src.package} left no .deb in {debs}")
    deb = found[-1]
    version = _run(["dpkg-deb", "-f", str(deb), "Version"], debs).strip()
    root = cache / "unpacked" / src.name
    if not (root / ".done").exists():
        root.mkdir(parents=True, exist_ok=True)
        _run(["dpkg-deb", "-x", str(deb), str(root)], debs)
        (root / ".done").write_text(version)
    return root, version


def _fetch_npm(src: Source, cache: Path) -> tuple[Path, str]:
    tgzs = cache / "npm"
    tgzs.mkdir(parents=True, exist_ok=True)
    stem = src.package.lstrip("@").replace("/", "-")
    found = sorted(tgzs.glob(f"{stem}-[0-9]*.tgz"))
    if not found:
        _run(["npm", "pack", src.package], tgzs)
        found = sorted(tgzs.glob(f"{stem}-[0-9]*.tgz"))
    if not found:
        raise RuntimeError(f"npm pack {src.package} left no tarball in {tgzs}")
    root = cache / "unpacked" / src.name
    if not (root / ".done").exists():
        root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(found[-1]) as tar:
            tar.extractall(root, filter="data")  # refuses absolute paths and links outside root
        (root / ".done").write_text("ok")
    version = json.loads((root / "package" / "package.json").read_text())["version"]
    return root, version


def fetch(name: str, cache_dir: str | Path) -> Fetched:
    """Download (once) and unpack a named source; list its image files."""
    src = get_source(name)
    cache = Path(cache_dir).resolve()  # the package tools run inside it: a relative path broke
    root, version = (_fetch_deb if src.kind == "deb" else _fetch_npm)(src, cache)
    if not (root / src.licence_file).exists():
        raise RuntimeError(f"{src.name}: licence file {src.licence_file} missing from the package")
    files: set[Path] = set()
    for pattern in src.patterns:
        files.update(Path(p) for p in glob.glob(str(root / pattern), recursive=True))
    return Fetched(src.name, src.package, version, src.licence, root, tuple(sorted(files)), src.pairs)


def user_folder(path: str | Path, pairs: bool = False) -> Fetched:
    """An artist's own folder of images (recursive), licence "user"; with ``pairs``, the folder's
    SVG drawings, whose own ink is their line art (``training.pairs``)."""
    root = Path(path)
    if not root.is_dir():
        raise ValueError(f"image folder {root} does not exist or is not a folder")
    suffixes = (".svg",) if pairs else IMAGE_SUFFIXES
    files = tuple(sorted(p for p in root.rglob("*") if p.suffix.lower() in suffixes))
    return Fetched(f"{'pairs' if pairs else 'dir'}:{root.name}", str(root), "", "user", root, files, pairs)
